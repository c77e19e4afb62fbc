/**
 * `rl-studio report`: the DDPG paper's Table 1 for a set of runs (given as folders, or a sweep's
 * runs), written as report.md + report.json + learning-curve figures (SVG and PNG).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { makeOutput } from '../output.ts';
import { UserError } from '../../util/errors.ts';
import { defaultRunsDir } from '../../util/paths.ts';
import { RunFiles } from '../../store/run-store.ts';
import { buildReport, sweepRuns } from '../../report/build.ts';
import { writeReport } from '../../report/write.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      "Normalised scores (random = 0, planner = 1) as in the DDPG paper's Table 1: report.md, report.json and learning-curve figures (SVG, PNG)",
    )
    .argument('[run-dirs...]', 'run folders (their seeds are grouped by task, algorithm and observation)')
    .option('--sweep <id>', "a sweep's runs: the runs in --runs-dir whose experiment is this id")
    .option('--runs-dir <dir>', 'runs folder for --sweep (default: the user data folder)')
    .requiredOption('--out <dir>', 'folder to write the report into')
    .option('--json', 'print JSON only', false)
    .action(async (runDirs: string[], opts: { sweep?: string; runsDir?: string; out: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      if (opts.sweep !== undefined && runDirs.length)
        throw new UserError({ field: '--sweep', message: 'give run folders or --sweep, not both' });
      if (opts.sweep === undefined && runDirs.length === 0)
        throw new UserError({ field: 'run-dirs', message: 'give at least one run folder, or --sweep ID' });
      const runs =
        opts.sweep !== undefined ? sweepRuns(opts.runsDir ?? defaultRunsDir(), opts.sweep) : runDirs.map((d) => RunFiles.open(d));
      const report = buildReport(runs);
      if (report.rows.length === 0)
        throw new UserError({
          field: 'run-dirs',
          message: `none of the runs has an evaluation yet (${report.skipped.map((s) => `${s.run}: ${s.reason}`).join('; ')})`,
        });
      const written = await writeReport(report, resolve(opts.out), { command: ['rl-studio report', ...process.argv.slice(3)].join(' ') });
      out.result(
        {
          ok: true,
          out: written.dir,
          report: written.markdown,
          json: written.json,
          figures: written.figures,
          rows: report.rows.map(({ curve: _curve, ...r }) => r),
          skipped: report.skipped,
        },
        `wrote ${written.markdown} (${report.rows.length} rows, ${written.figures.length} figures${report.skipped.length ? `, ${report.skipped.length} runs left out` : ''})`,
      );
    });
}
