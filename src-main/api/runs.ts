/**
 * Runs as the studio sees them: status, summaries, metric records and recorded episodes, as they
 * are stored under `<runs dir>/<run id>/` and as they cross to the renderer.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';
import { findAlgorithmSpec } from '../learn/algos/specs.ts';

/**
 * queued: waiting for a free slot; running; paused (by the user, or by the studio when the disk
 * refused a write: see `reason`); stopped (by the user, resumable); done (reached its steps);
 * failed (a fault, see `reason`); interrupted (found 'running' on disk with no process behind it:
 * the studio or the machine died; resumable from the last checkpoint).
 */
export const RUN_STATUSES = ['queued', 'running', 'paused', 'stopped', 'done', 'failed', 'interrupted'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a run id');

export const EvalSummarySchema = z.object({
  step: z.number().int(),
  /** Mean return of the deterministic evaluation episodes. */
  evalReturn: z.number(),
});
export type EvalSummary = z.infer<typeof EvalSummarySchema>;

/** status.json: written by the trainer (atomically) whenever the status changes and at checkpoints. */
export const StatusFileSchema = z.object({
  status: RunStatusSchema,
  /** Environment steps done. */
  step: z.number().int().min(0),
  /** Environment steps the run trains for. */
  steps: z.number().int().min(1),
  latestEval: EvalSummarySchema.nullable(),
  bestEval: EvalSummarySchema.nullable(),
  /** Why the run is paused or failed, in the user's words. */
  reason: z.string().nullable(),
  /** Step of the newest checkpoint, or null before the first. */
  checkpointStep: z.number().int().nullable(),
  /** Process that wrote 'running' (to tell a live run from one left by a dead process). */
  pid: z.number().int().nullable(),
  updatedAt: z.string(),
});
export type StatusFile = z.infer<typeof StatusFileSchema>;

/** meta.json: what the user edits (kept apart from status.json so the trainer and the UI never race on one file). */
export const RunMetaSchema = z.object({
  name: z.string().max(200),
  tags: z.array(z.string().max(64)).max(32),
  archived: z.boolean(),
  /** Runs of one seed sweep share this id. */
  experiment: z.string().nullable(),
});
export type RunMeta = z.infer<typeof RunMetaSchema>;

export const RunSummarySchema = z.object({
  id: RunIdSchema,
  dir: z.string(),
  name: z.string(),
  tags: z.array(z.string()),
  archived: z.boolean(),
  experiment: z.string().nullable(),
  env: z.string(),
  algo: z.string(),
  obs: z.string(),
  seed: z.number().int(),
  status: RunStatusSchema,
  step: z.number().int(),
  steps: z.number().int(),
  latestEval: EvalSummarySchema.nullable(),
  bestEval: EvalSummarySchema.nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

/**
 * One line of metrics.jsonl. `step` is the env step the record belongs to; `time` seconds since the
 * run was created (wall clock, continuing across resumes). Per kind:
 * - episode: episode_return, episode_length, diverged (bool), diverged_episodes (running count)
 * - update: the agent's update metrics, each the mean over the window (whatever names its algorithm
 *   reports: learn/algos/<id>/spec.ts `metrics`, e.g. critic_loss, actor_loss, q and the learning
 *   diagnostics), updates (running count), steps_per_s
 * - eval: eval_return, eval_return_min / _max / _std (over its episodes), eval_returns (per episode),
 *   episodes (ids of the recordings)
 */
export const MetricRecordSchema = z
  .object({
    step: z.number().int().min(0),
    time: z.number(),
    kind: z.enum(['episode', 'update', 'eval', 'note']),
  })
  .catchall(z.unknown());
export type MetricRecord = z.infer<typeof MetricRecordSchema> & Record<string, unknown>;

/** How the studio titles and explains a metric. */
export interface MetricInfo {
  label: string;
  description: string;
}

/** The metrics the training loop writes for every algorithm, in chart order (train/trainer.ts). */
const LOOP_METRICS: Record<string, MetricInfo> = {
  episode_return: { label: 'Episode return', description: 'return of a training episode (with exploration)' },
  eval_return: { label: 'Eval return', description: 'mean return of the deterministic evaluation episodes' },
};
const LOOP_METRICS_AFTER: Record<string, MetricInfo> = {
  steps_per_s: { label: 'Steps/s', description: 'environment steps per second over the logging window' },
  episode_length: { label: 'episode_length', description: 'steps of a training episode' },
  diverged_episodes: { label: 'diverged_episodes', description: 'training episodes cut because the simulation diverged (running count)' },
};

/**
 * The metrics a run of `algo` logs, in chart order: the returns, the algorithm's update metrics as
 * its spec declares them, then the loop's speed and counts. An algorithm no longer registered (an
 * old run) has the loop's only; its other metrics chart under their logged names.
 */
export function metricInfo(algo: string): Record<string, MetricInfo> {
  const declared = findAlgorithmSpec(algo)?.metrics ?? {};
  const own = Object.fromEntries(
    Object.entries(declared).map(([name, m]) => [name, { label: m.label ?? name, description: m.description }]),
  );
  return { ...LOOP_METRICS, ...own, ...LOOP_METRICS_AFTER };
}

/** A problem found while reading a run's files (reported, never fatal for the rest of the run). */
export interface StoreProblem {
  file: string;
  message: string;
}

export interface MetricsRead {
  records: MetricRecord[];
  /** Lines read (the next `sinceLine`). */
  lines: number;
  problems: StoreProblem[];
}

/** episodes/<id>.json: a recorded evaluation episode; frames live in episodes/<id>.bin. */
export const EpisodeMetaSchema = z.object({
  id: z.string(),
  /** Env step of the evaluation it belongs to. */
  step: z.number().int(),
  /** Index among that evaluation's episodes. */
  index: z.number().int(),
  env: z.string(),
  nq: z.number().int().min(0),
  actionSize: z.number().int().min(0),
  /** Frames recorded (episode length + 1: the initial state and one per step). */
  frames: z.number().int().min(0),
  /** Seconds per frame (the env's control timestep). */
  dt: z.number(),
  episodeReturn: z.number(),
  diverged: z.boolean(),
  /** The observation recorded per frame (the low-dimensional one for pixel runs); absent in episodes recorded before it was. */
  observation: z
    .object({
      size: z.number().int().min(0),
      parts: z.array(z.object({ name: z.string(), offset: z.number().int(), size: z.number().int() })),
    })
    .optional(),
  /** The reward's top-level terms recorded per step (sim/reward-terms.ts); absent in older episodes. */
  rewardTerms: z.object({ labels: z.array(z.string()), combine: z.enum(['sum', 'product', 'min', 'max', 'one']) }).optional(),
  /**
   * Layout of the .bin file: qpos Float64 frames x nq, then actions Float32 (frames-1) x actionSize,
   * then rewards Float32 frames-1, then (when recorded) observations Float32 frames x observation.size
   * and reward terms Float32 (frames-1) x rewardTerms.labels.length.
   */
  layout: z.object({
    qposOffset: z.number().int(),
    actionsOffset: z.number().int(),
    rewardsOffset: z.number().int(),
    observationsOffset: z.number().int().optional(),
    termsOffset: z.number().int().optional(),
    byteLength: z.number().int(),
  }),
});
export type EpisodeMeta = z.infer<typeof EpisodeMetaSchema>;

/** An episode read back for replay. */
export interface EpisodeData {
  meta: EpisodeMeta;
  /** frames x nq, row-major. */
  qpos: Float64Array;
  /** (frames - 1) x actionSize. */
  actions: Float32Array;
  rewards: Float32Array;
  /** frames x meta.observation.size, when recorded. */
  observations?: Float32Array;
  /** (frames - 1) x meta.rewardTerms.labels.length, when recorded. */
  rewardTerms?: Float32Array;
}

export interface RunDetail {
  summary: RunSummary;
  /** config.json as stored (config, versions, backend). */
  config: unknown;
  metrics: MetricsRead;
  checkpoints: { step: number; file: string; ok: boolean; problem?: string }[];
}
