/**
 * Reference scores of one env (`rl-studio baseline`): the mean return of uniformly random actions
 * (score 0) and of the true-model planner (score 1), and where they are kept: references.json in the
 * folder the env's files live in (resources/envs/ for the built-in suite, the user's library or the
 * env's own folder otherwise), so a report needs no planner run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReferencesFileSchema, type EnvReference, type PlannerSettings, type ReferencesFile } from '../api/scores.ts';
import { createEnv } from '../sim/env.ts';
import type { ResolvedEnv } from '../sim/registry.ts';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { UserError, zodDetails } from '../util/errors.ts';
import { plannerEpisode, PLANNER_DEFAULTS, randomEpisode, type PlannerOptions } from './planner.ts';

export const REFERENCES_FILE = 'references.json';

/** Planner settings for an env: a look-ahead of one second of simulated time unless told otherwise. */
export function plannerOptionsFor(controlTimestep: number, overrides: Partial<PlannerOptions> = {}): PlannerOptions {
  const horizon = overrides.horizon ?? Math.max(10, Math.round(1 / controlTimestep));
  return { ...PLANNER_DEFAULTS, noiseEvery: Math.max(1, Math.round(horizon / 10)), ...overrides, horizon };
}

export interface BaselineResult {
  env: string;
  random_return: number;
  random_returns: number[];
  planner_return: number | null;
  planner_returns: number[];
  planner: PlannerSettings;
  sim_steps_per_control_step: number | null;
  seconds_per_control_step: number | null;
}

/**
 * Random episodes (seeds 0..n-1) then planner episodes (seeds 1000..), each from the env's own
 * initial-state distribution. `plannerEpisodes` 0 skips the planner.
 */
export async function computeBaseline(
  source: ResolvedEnv,
  opts: { randomEpisodes: number; plannerEpisodes: number; planner?: Partial<PlannerOptions>; log?: (text: string) => void },
): Promise<BaselineResult> {
  const env = await createEnv(source);
  try {
    const options = plannerOptionsFor(env.info.controlTimestep, opts.planner);
    const randomReturns = Array.from({ length: opts.randomEpisodes }, (_, i) => randomEpisode(env, i));
    const plannerReturns: number[] = [];
    let simulated = 0;
    let seconds = 0;
    let controlSteps = 0;
    for (let i = 0; i < opts.plannerEpisodes; i++) {
      const r = plannerEpisode(env, options, 1000 + i, (step, ret) => {
        if (step % 100 === 0)
          opts.log?.(`${source.id}: planner episode ${i + 1}/${opts.plannerEpisodes}, step ${step}, return so far ${ret.toFixed(1)}`);
      });
      plannerReturns.push(r.episodeReturn);
      simulated += r.stats.simulatedSteps;
      seconds += r.stats.seconds;
      controlSteps += r.stats.controlSteps;
    }
    return {
      env: source.id,
      random_return: mean(randomReturns),
      random_returns: randomReturns,
      planner_return: plannerReturns.length ? mean(plannerReturns) : null,
      planner_returns: plannerReturns,
      planner: { method: 'mppi', ...options },
      sim_steps_per_control_step: controlSteps ? simulated / controlSteps : null,
      seconds_per_control_step: controlSteps ? seconds / controlSteps : null,
    };
  } finally {
    env.dispose();
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The references file of a folder of envs; an absent file is empty, a damaged one a UserError naming it. */
export function readReferences(dir: string): ReferencesFile {
  const file = join(dir, REFERENCES_FILE);
  if (!existsSync(file)) return { format: 1, note: '', envs: {} };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError({ file, message: `not JSON: ${(e as Error).message}` });
  }
  const r = ReferencesFileSchema.safeParse(json);
  if (!r.success) throw new UserError(zodDetails(file, r.error.issues));
  return r.data;
}

/** The stored references of an env, or null when it has none. */
export function referenceFor(env: { id: string; dir: string }): EnvReference | null {
  return readReferences(env.dir).envs[env.id] ?? null;
}

/** Writes (or replaces) one env's entry in the references file beside it. */
export function saveReference(env: { id: string; dir: string }, result: BaselineResult, measured: string): string {
  if (result.planner_return === null || result.sim_steps_per_control_step === null || result.seconds_per_control_step === null) {
    throw new UserError({ field: '--planner-episodes', message: 'saving references needs at least one planner episode' });
  }
  const file = readReferences(env.dir);
  file.envs[env.id] = {
    random_return: result.random_return,
    random_episodes: result.random_returns.length,
    planner_return: result.planner_return,
    planner_episodes: result.planner_returns.length,
    planner: result.planner,
    sim_steps_per_control_step: result.sim_steps_per_control_step,
    seconds_per_control_step: result.seconds_per_control_step,
    measured,
  };
  if (!file.note) file.note = REFERENCES_NOTE;
  const sorted: ReferencesFile = { ...file, envs: Object.fromEntries(Object.entries(file.envs).sort(([a], [b]) => a.localeCompare(b))) };
  const path = join(env.dir, REFERENCES_FILE);
  writeFileAtomicSync(path, JSON.stringify(sorted, null, 2) + '\n');
  return path;
}

/** The note a new references file starts with (the suite's own file states exactly what was run). */
export const REFERENCES_NOTE =
  "Reference scores of the DDPG paper's normalisation (random policy = 0, planner with the true model = 1). " +
  'random: mean return of uniformly random actions over random_episodes episodes (seeds 0..n-1). ' +
  "planner: MPPI on MuJoCo itself (copied simulator states, the task's own reward), not the paper's iLQG; " +
  'settings and cost per env below. Made with: nice -n 10 npx rl-studio baseline --env ID --save ' +
  'with the planner options it printed.';
