import type { Command } from 'commander';
import { makeOutput } from '../output.ts';
import { UserError } from '../../util/errors.ts';

import type { BenchSuite } from '../bench/suite.ts';

const SUITES: Record<string, () => Promise<{ run: BenchSuite }>> = {
  envs: () => import('../bench/envs.ts'),
  updates: () => import('../bench/updates.ts'),
  render: () => import('../bench/render.ts'),
  train: () => import('../bench/train.ts'),
  learning: () => import('../bench/learning.ts'),
  viewer: () => import('../bench/viewer.ts'),
  models: () => import('../bench/models.ts'),
  planner: () => import('../bench/planner.ts'),
  sweep: () => import('../bench/sweep.ts'),
  probe: () => import('../bench/probe.ts'),
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(`Measure speed: ${Object.keys(SUITES).join(' | ')} (one line per case; JSON lines with --json)`)
    .argument('<suite>', `which benchmark: ${Object.keys(SUITES).join(', ')}`)
    .option('--quick', 'shorter measurement windows (noisier figures)', false)
    .option('--json', 'print JSON lines only', false)
    .action(async (suite: string, opts: { quick: boolean; json: boolean }) => {
      const load = SUITES[suite];
      if (!load)
        throw new UserError({ field: 'suite', message: `unknown benchmark '${suite}' (choose one of ${Object.keys(SUITES).join(', ')})` });
      const out = makeOutput(opts.json);
      const { run } = await load();
      for await (const row of run({ quick: opts.quick, log: out.info })) {
        out.result(
          row,
          Object.entries(row)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`)
            .join('  '),
        );
      }
    });
}
