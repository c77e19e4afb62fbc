import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';
import { RunFiles } from '../../store/run-store.ts';
import { selectBackend } from '../../learn/backend.ts';
import { createAgent } from '../../learn/factory.ts';
import { createEnv } from '../../sim/env.ts';
import { decodeCheckpoint } from '../../train/checkpoint.ts';
import { runEnvSource } from '../../train/config.ts';
import { evaluatePolicy } from '../../train/evaluate.ts';
import { makeOutput } from '../output.ts';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description("Evaluate a run's newest intact checkpoint: N deterministic episodes (no exploration noise)")
    .argument('<run-dir>', 'the run folder')
    .option('--episodes <n>', 'episodes to run', '10')
    .option('--json', 'print JSON only', false)
    .action(async (runDir: string, opts: { episodes: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const episodes = Number(opts.episodes);
      if (!/^\d+$/.test(opts.episodes) || episodes < 1) throw new UserError({ field: '--episodes', message: `'${opts.episodes}' is not a whole number of at least 1` });
      const run = RunFiles.open(runDir);
      const { config } = run.readConfig();
      const { checkpoint, problems } = run.latestCheckpoint();
      for (const p of problems) out.info(`warning: ${p.file}: ${p.message}`);
      if (!checkpoint) throw new UserError({ file: run.dir, message: 'the run has no intact checkpoint to evaluate' });
      await selectBackend();
      const env = await createEnv(runEnvSource(run), { seed: config.seed });
      const agent = createAgent(config.algo, env.info.obs.size, env.info.action, { ...config.hyperparams }, config.seed);
      try {
        agent.setState(decodeCheckpoint(checkpoint.meta, checkpoint.arrays).agent);
        const r = evaluatePolicy(env, agent, { episodes, runSeed: config.seed, step: checkpoint.step, record: false });
        out.result(
          { eval_return: r.evalReturn, episodes, returns: r.returns, step: checkpoint.step, run_dir: run.dir },
          `eval return ${r.evalReturn.toFixed(2)} over ${episodes} episodes (checkpoint at step ${checkpoint.step})`,
        );
      } finally {
        agent.dispose();
        env.dispose();
      }
    });
}
