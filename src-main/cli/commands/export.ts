import type { Command } from 'commander';
import { EXPORT_FORMATS, exportPolicyTo, parseExportFormat } from '../../export/index.ts';
import { UserError } from '../../util/errors.ts';
import { makeOutput } from '../output.ts';

interface ExportOpts {
  format?: string;
  out?: string;
  checkpoint: string;
  json: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("Export a run's policy (obs -> action in actuator units, with normalisation and scaling) as TF.js, ONNX or JSON")
    .argument('<run-dir>', 'run folder (runs/<id>)')
    .option('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option('--out <path>', 'ONNX: the .onnx file (or a folder for policy.onnx); TF.js and JSON: the folder to write')
    .option('--checkpoint <which>', 'best (highest eval return among kept checkpoints), latest, a step, or a checkpoint file name', 'best')
    .option('--json', 'print JSON lines only', false)
    .action(async (runDir: string, opts: ExportOpts) => {
      const out = makeOutput(opts.json);
      if (!opts.format) throw new UserError({ field: '--format', message: `missing (choose ${EXPORT_FORMATS.join(', ')})` });
      const format = parseExportFormat(opts.format);
      if (!opts.out) throw new UserError({ field: '--out', message: 'missing: where to write the export' });
      const { paths, meta } = await exportPolicyTo(runDir, format, opts.out, opts.checkpoint);
      const evalText = meta.evalReturn === null ? 'not evaluated' : `eval return ${+meta.evalReturn.toFixed(3)}`;
      out.result(
        {
          ok: true,
          format,
          files: paths,
          run: meta.run.id,
          env: meta.env.id,
          algo: meta.algo,
          checkpoint: meta.checkpoint.name,
          step: meta.checkpoint.step,
          eval_return: meta.evalReturn,
        },
        [
          `exported the ${meta.algo} policy of ${meta.run.id} on ${meta.env.id} (${meta.checkpoint.name}, step ${meta.checkpoint.step}, ${evalText}) as ${format}:`,
          ...paths.map((p) => `  ${p}`),
        ].join('\n'),
      );
    });
}
