/**
 * The DDPG paper's scores (Lillicrap et al. 2015, section 4 and Table 1): returns normalised so that
 * a random policy scores 0 and a planner with the true model scores 1, reported as R_av and R_best.
 * One place for the reference-score data (references.json beside the envs), the arithmetic, and the
 * table rows the CLI report and the studio's Report view both show.
 *
 * Definitions used here (the paper gives no formula beyond "average and best observed across 5
 * runs"): per run, R_av = the mean of its evaluation returns over training and R_best = its best
 * evaluation return; over the seeds of one task x algorithm x observation, R_av is the mean of the
 * runs' R_av and R_best the best of the runs' R_best.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';

/** How a planner reference was computed (stated beside every number). */
export const PlannerSettingsSchema = z.object({
  method: z.string(),
  samples: z.number().int().min(1),
  horizon: z.number().int().min(1),
  noise: z.number().min(0),
  temperature: z.number().positive(),
  iterations: z.number().int().min(1),
  noiseEvery: z.number().int().min(1),
  /** What the planner followed while no sample scored (see reference/planner.ts); references made before 'novelty' existed followed one perturbed sample. */
  explore: z.enum(['follow', 'novelty']).default('follow'),
});
export type PlannerSettings = z.infer<typeof PlannerSettingsSchema>;

/** One env's reference scores. */
export const EnvReferenceSchema = z.object({
  random_return: z.number(),
  random_episodes: z.number().int().min(1),
  planner_return: z.number(),
  planner_episodes: z.number().int().min(1),
  planner: PlannerSettingsSchema,
  /** Agent steps simulated by the planner per control step, and wall seconds per control step. */
  sim_steps_per_control_step: z.number(),
  seconds_per_control_step: z.number(),
  measured: z.string(),
});
export type EnvReference = z.infer<typeof EnvReferenceSchema>;

/** references.json, beside the envs it describes. */
export const ReferencesFileSchema = z.object({
  format: z.literal(1),
  /** How these numbers were made (the command), and what they are. */
  note: z.string(),
  envs: z.record(z.string(), EnvReferenceSchema),
});
export type ReferencesFile = z.infer<typeof ReferencesFileSchema>;

/**
 * (R - random) / (planner - random): 0 is a random policy, 1 the planner. Null without references,
 * and where the planner did no better than random (the scale would be meaningless or inverted).
 */
export function normalise(ret: number, ref: { random_return: number; planner_return: number } | null | undefined): number | null {
  if (!ref) return null;
  const span = ref.planner_return - ref.random_return;
  if (!(span > 1e-9)) return null;
  return (ret - ref.random_return) / span;
}

/** One run's evaluation curve: (env step, mean eval return) in step order. */
export interface EvalCurve {
  steps: number[];
  returns: number[];
}

/** R_av (mean eval return over training) and R_best (best eval return) of one run; null with no evals. */
export function runScores(curve: EvalCurve): { rAv: number; rBest: number } | null {
  if (curve.returns.length === 0) return null;
  let sum = 0;
  let best = -Infinity;
  for (const r of curve.returns) {
    sum += r;
    if (r > best) best = r;
  }
  return { rAv: sum / curve.returns.length, rBest: best };
}

/** Seeds of one cell combined: R_av = mean of the runs' R_av, R_best = best of their R_best. */
export function combineSeeds(scores: { rAv: number; rBest: number }[]): { rAv: number; rBest: number } | null {
  if (scores.length === 0) return null;
  return { rAv: scores.reduce((s, x) => s + x.rAv, 0) / scores.length, rBest: Math.max(...scores.map((x) => x.rBest)) };
}

/**
 * Mean and band (min..max) over seeds of several eval curves on a common step grid: each curve is
 * read at every step any curve evaluated at, holding its last value (a run that stopped early does
 * not pull the mean down after its end: it drops out there).
 */
export function meanOverSeeds(curves: EvalCurve[]): { steps: number[]; mean: number[]; low: number[]; high: number[] } {
  const steps = [...new Set(curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
  const mean: number[] = [];
  const low: number[] = [];
  const high: number[] = [];
  const at = curves.map(() => -1);
  for (const s of steps) {
    const values: number[] = [];
    curves.forEach((c, i) => {
      while (at[i] + 1 < c.steps.length && c.steps[at[i] + 1] <= s) at[i]++;
      if (at[i] >= 0 && s <= c.steps[c.steps.length - 1]) values.push(c.returns[at[i]]);
    });
    if (values.length === 0) continue;
    mean.push(values.reduce((a, b) => a + b, 0) / values.length);
    low.push(Math.min(...values));
    high.push(Math.max(...values));
  }
  return { steps: steps.slice(0, mean.length), mean, low, high };
}

/** A published number for comparison, with where it comes from. */
export interface PublishedScore {
  source: string;
  value: string;
}

/** One row of the report table: a task x algorithm x observation over its seeds. */
export const ReportRowSchema = z.object({
  env: z.string(),
  algo: z.string(),
  obs: z.string(),
  seeds: z.array(z.number().int()),
  runs: z.array(z.string()),
  /** Largest env step reached among the runs, and the steps each run was set to train for. */
  steps: z.number().int(),
  targetSteps: z.number().int(),
  rAvRaw: z.number().nullable(),
  rBestRaw: z.number().nullable(),
  rAv: z.number().nullable(),
  rBest: z.number().nullable(),
  finalRaw: z.number().nullable(),
  reference: EnvReferenceSchema.nullable(),
  published: z.array(z.object({ source: z.string(), value: z.string() })),
  curve: z.object({ steps: z.array(z.number()), mean: z.array(z.number()), low: z.array(z.number()), high: z.array(z.number()) }),
});
export type ReportRow = z.infer<typeof ReportRowSchema>;

export const ReportSchema = z.object({
  rows: z.array(ReportRowSchema),
  /** Runs given but left out (no evaluations yet, unreadable), with why. */
  skipped: z.array(z.object({ run: z.string(), reason: z.string() })),
});
export type Report = z.infer<typeof ReportSchema>;
