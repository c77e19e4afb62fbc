import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { RunSummary } from '../../api/runs.ts';
import { defaultRunsDir } from '../../util/paths.ts';
import { RunFiles } from '../../store/run-store.ts';
import { RunManager } from '../../train/run-manager.ts';
import { makeOutput } from '../output.ts';

function evalText(s: RunSummary): string {
  return s.latestEval ? `${s.latestEval.evalReturn.toFixed(1)} @${s.latestEval.step}` : '-';
}

/** A run given as a folder path, or as an id inside the runs folder. */
function locate(ref: string, runsDir: string | undefined): { manager: RunManager; id: string } {
  if (existsSync(resolve(ref, 'config.json'))) {
    const run = RunFiles.open(ref);
    return { manager: new RunManager({ runsDir: dirname(run.dir) }), id: basename(run.dir) };
  }
  const manager = new RunManager({ runsDir: resolve(runsDir ?? defaultRunsDir()) });
  manager.store.open(ref);
  return { manager, id: ref };
}

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('List and inspect training runs');

  runs
    .command('list')
    .description('List the runs in the runs folder (one line each)')
    .option('--runs-dir <dir>', 'runs folder (default: the user data folder)')
    .option('--all', 'include archived runs', false)
    .option('--json', 'print JSON lines only', false)
    .action((opts: { runsDir?: string; all: boolean; json: boolean }) => {
      const out = makeOutput(opts.json);
      const manager = new RunManager({ runsDir: resolve(opts.runsDir ?? defaultRunsDir()) });
      const list = manager.list({ includeArchived: opts.all });
      if (!list.length && !opts.json) out.info(`no runs in ${manager.store.root}`);
      for (const s of list) {
        out.result(
          { ...s },
          `${s.id}  ${s.status.padEnd(11)} ${`${s.step}/${s.steps}`.padStart(15)}  eval ${evalText(s).padEnd(16)} ${s.experiment ? `exp ${s.experiment}` : ''}${s.tags.length ? ` [${s.tags.join(', ')}]` : ''}`,
        );
      }
    });

  runs
    .command('show')
    .description('Show one run: config, status, evaluations, checkpoints and any damaged files')
    .argument('<run>', 'run folder, or run id in the runs folder')
    .option('--runs-dir <dir>', 'runs folder (default: the user data folder)')
    .option('--json', 'print JSON only', false)
    .action((ref: string, opts: { runsDir?: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const { manager, id } = locate(ref, opts.runsDir);
      const d = manager.get(id);
      const s = d.summary;
      const evals = d.metrics.records.filter((r) => r.kind === 'eval');
      const episodes = d.metrics.records.filter((r) => r.kind === 'episode');
      const problems = [
        ...d.metrics.problems,
        ...d.checkpoints.filter((c) => !c.ok).map((c) => ({ file: c.file, message: c.problem ?? 'damaged' })),
      ];
      const text = [
        `${s.name} (${s.id})`,
        `  ${s.algo} on ${s.env} (${s.obs}), seed ${s.seed}${s.experiment ? `, experiment ${s.experiment}` : ''}`,
        `  status ${s.status}${s.reason ? ` (${s.reason})` : ''}: step ${s.step} of ${s.steps}`,
        `  eval return: latest ${evalText(s)}, best ${s.bestEval ? `${s.bestEval.evalReturn.toFixed(1)} @${s.bestEval.step}` : '-'}`,
        `  ${episodes.length} training episodes, ${evals.length} evaluations, ${d.checkpoints.length} checkpoints (newest ${d.checkpoints[0]?.step ?? '-'})`,
        `  folder ${s.dir}`,
        ...problems.map((p) => `  problem: ${p.file}: ${p.message}`),
      ].join('\n');
      out.result(
        {
          ...s,
          config: d.config,
          evals: evals.map((r) => ({ step: r.step, eval_return: r.eval_return })),
          episodes: episodes.length,
          checkpoints: d.checkpoints,
          problems,
        },
        text,
      );
    });
}
