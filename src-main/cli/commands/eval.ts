import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';
import { RunFiles } from '../../store/run-store.ts';
import { decodeCheckpoint } from '../../train/checkpoint.ts';
import { runEnvSource } from '../../train/config.ts';
import { selectRunBackend, setUpRun } from '../../train/run-setup.ts';
import { evaluatePolicy } from '../../train/evaluate.ts';
import { evaluatePolicyFile } from '../../export/evaluate.ts';
import { makeOutput } from '../output.ts';

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      "Evaluate a run's newest intact checkpoint, or an exported policy (--policy): N deterministic episodes (no exploration noise)",
    )
    .argument('[run-dir]', 'the run folder (or --policy)')
    .option('--episodes <n>', 'episodes to run', '10')
    .option(
      '--policy <path>',
      'an exported policy (.onnx, TF.js or JSON export) instead of a run; a pixel policy sees frames drawn by the render host (headless Chromium)',
    )
    .option('--env <id>', 'with --policy: env id or path (default: the env the policy was trained on)')
    .option('--json', 'print JSON only', false)
    .action(async (runDir: string | undefined, opts: { episodes: string; policy?: string; env?: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const episodes = Number(opts.episodes);
      if (!/^\d+$/.test(opts.episodes) || episodes < 1)
        throw new UserError({ field: '--episodes', message: `'${opts.episodes}' is not a whole number of at least 1` });
      if (opts.policy !== undefined) {
        if (runDir !== undefined) throw new UserError({ field: '--policy', message: 'give a run folder or --policy, not both' });
        const r = await evaluatePolicyFile({ policy: opts.policy, ...(opts.env !== undefined ? { env: opts.env } : {}), episodes });
        out.result(
          { eval_return: r.evalReturn, episodes, returns: r.returns, policy: opts.policy, env: r.env },
          `eval return ${r.evalReturn.toFixed(2)} over ${episodes} episodes (exported policy on ${r.env})`,
        );
        return;
      }
      if (runDir === undefined) throw new UserError({ field: 'run-dir', message: 'give a run folder or --policy PATH' });
      if (opts.env !== undefined) throw new UserError({ field: '--env', message: 'only with --policy (a run evaluates on its own env)' });
      const run = RunFiles.open(runDir);
      const { config } = run.readConfig();
      const { checkpoint, problems } = run.latestCheckpoint();
      for (const p of problems) out.info(`warning: ${p.file}: ${p.message}`);
      if (!checkpoint) throw new UserError({ file: run.dir, message: 'the run has no intact checkpoint to evaluate' });
      await selectRunBackend();
      const setup = await setUpRun(config, runEnvSource(run), 1);
      const [env] = setup.envs;
      const agent = setup.agent;
      try {
        agent.setState(decodeCheckpoint(checkpoint.meta, checkpoint.arrays).agent);
        const r = await evaluatePolicy(env, agent, { episodes, runSeed: config.seed, step: checkpoint.step, record: false });
        out.result(
          { eval_return: r.evalReturn, episodes, returns: r.returns, step: checkpoint.step, run_dir: run.dir },
          `eval return ${r.evalReturn.toFixed(2)} over ${episodes} episodes (checkpoint at step ${checkpoint.step})`,
        );
      } finally {
        await setup.close();
      }
    });
}
