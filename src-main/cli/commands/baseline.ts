/**
 * `rl-studio baseline --env ID`: an env's reference scores (random policy and the true-model
 * planner), printed, and with --save kept in references.json beside the env for `report`.
 */
import type { Command } from 'commander';
import { makeOutput } from '../output.ts';
import { UserError } from '../../util/errors.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { computeBaseline, saveReference } from '../../reference/baseline.ts';
import type { PlannerOptions } from '../../reference/planner.ts';

function wholeNumber(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UserError({ field: flag, message: `'${text}' is not a whole number of at least ${min}` });
  return Number(text);
}

function positiveNumber(flag: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new UserError({ field: flag, message: `'${text}' is not a positive number` });
  return v;
}

export function registerBaseline(program: Command): void {
  program
    .command('baseline')
    .description('Reference scores of an env: uniformly random actions (score 0) and MPPI on the true MuJoCo model (score 1)')
    .requiredOption('--env <id>', 'env id or path')
    .option('--episodes <n>', 'planner episodes (each costs samples x horizon simulated steps per control step)', '1')
    .option('--random-episodes <n>', 'random-policy episodes', '10')
    .option('--samples <n>', 'planner: action sequences per control step')
    .option('--horizon <n>', 'planner: look-ahead in agent steps (default: one second of simulated time)')
    .option('--noise <x>', 'planner: action noise (std, in [-1, 1] action units)')
    .option('--iterations <n>', 'planner: sampling rounds per control step')
    .option('--noise-every <n>', 'planner: agent steps between independent noise draws (default: a tenth of the horizon)')
    .option(
      '--explore <how>',
      "planner: what to follow while no sample scores: 'novelty' (the sample reaching the least visited observation) or 'follow' (one perturbed sample)",
    )
    .option('--save', 'write the result into references.json beside the env', false)
    .option('--json', 'print JSON only', false)
    .action(
      async (opts: {
        env: string;
        episodes: string;
        randomEpisodes: string;
        samples?: string;
        horizon?: string;
        noise?: string;
        iterations?: string;
        noiseEvery?: string;
        explore?: string;
        save: boolean;
        json: boolean;
      }) => {
        const out = makeOutput(opts.json);
        const plannerEpisodes = wholeNumber('--episodes', opts.episodes, 0);
        const randomEpisodes = wholeNumber('--random-episodes', opts.randomEpisodes, 1);
        const planner: Partial<PlannerOptions> = {};
        if (opts.samples !== undefined) planner.samples = wholeNumber('--samples', opts.samples, 2);
        if (opts.horizon !== undefined) planner.horizon = wholeNumber('--horizon', opts.horizon, 1);
        if (opts.noise !== undefined) planner.noise = positiveNumber('--noise', opts.noise);
        if (opts.iterations !== undefined) planner.iterations = wholeNumber('--iterations', opts.iterations, 1);
        if (opts.noiseEvery !== undefined) planner.noiseEvery = wholeNumber('--noise-every', opts.noiseEvery, 1);
        if (opts.explore !== undefined) {
          if (opts.explore !== 'novelty' && opts.explore !== 'follow')
            throw new UserError({ field: '--explore', message: `'${opts.explore}' is not one of novelty, follow` });
          planner.explore = opts.explore;
        }
        const env = resolveEnv(opts.env);
        const r = await computeBaseline(env, { randomEpisodes, plannerEpisodes, planner, log: out.info });
        let saved: string | null = null;
        if (opts.save) saved = saveReference(env, r, new Date().toISOString().slice(0, 10));
        out.result(
          { ...r, ...(saved ? { saved } : {}) },
          `${r.env}: random ${r.random_return.toFixed(1)} (${randomEpisodes} episodes), planner ${r.planner_return === null ? '-' : r.planner_return.toFixed(1)} (${plannerEpisodes} episodes, ${r.planner.samples} samples x ${r.planner.horizon} steps` +
            `${r.seconds_per_control_step === null ? '' : `, ${(r.seconds_per_control_step * 1000).toFixed(1)} ms per control step`})${saved ? `\nsaved in ${saved}` : ''}`,
        );
      },
    );
}
