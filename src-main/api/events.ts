/**
 * Training events: what a run reports while it trains (worker thread -> RunManager -> IPC or
 * WebSocket -> renderer; the same objects become the CLI's JSON lines). Each carries the run id.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';
import { RunStatusSchema } from './runs.ts';

const base = { runId: z.string() };

export const ProgressEventSchema = z.object({
  ...base,
  type: z.literal('progress'),
  step: z.number().int(),
  steps: z.number().int(),
  /** Environment steps per second over the last report interval. */
  stepsPerS: z.number(),
  /** Gradient updates done so far. */
  updates: z.number().int(),
  /** Return of the last finished training episode (with exploration), null before the first. */
  episodeReturn: z.number().nullable(),
  episodes: z.number().int(),
  /**
   * The agent's update metrics (losses, Q, diagnostics: whatever names its algorithm reports, as in
   * metrics.jsonl), each the mean over the last logging window; empty before learning starts.
   */
  metrics: z.record(z.string(), z.number()),
  divergedEpisodes: z.number().int(),
});

export const EvalEventSchema = z.object({
  ...base,
  type: z.literal('eval'),
  step: z.number().int(),
  evalReturn: z.number(),
  returns: z.array(z.number()),
  /** Ids of the recorded episodes (listEpisodes / readEpisode). */
  episodes: z.array(z.string()),
});

export const CheckpointEventSchema = z.object({
  ...base,
  type: z.literal('checkpoint'),
  step: z.number().int(),
  path: z.string(),
});

export const StatusEventSchema = z.object({
  ...base,
  type: z.literal('status'),
  status: RunStatusSchema,
  step: z.number().int(),
  reason: z.string().nullable(),
});

/** A frame of the training env (the current policy acting), throttled to ~30/s, only while watched. */
export const FrameEventSchema = z.object({
  ...base,
  type: z.literal('frame'),
  step: z.number().int(),
  qpos: z.array(z.number()),
});

/** Something the user should know that does not stop the run (a corrupt file skipped, a resume cut an episode). */
export const WarningEventSchema = z.object({
  ...base,
  type: z.literal('warning'),
  message: z.string(),
});

export const TrainEventSchema = z.discriminatedUnion('type', [
  ProgressEventSchema,
  EvalEventSchema,
  CheckpointEventSchema,
  StatusEventSchema,
  FrameEventSchema,
  WarningEventSchema,
]);

export type ProgressEvent = z.infer<typeof ProgressEventSchema>;
export type EvalEvent = z.infer<typeof EvalEventSchema>;
export type CheckpointEvent = z.infer<typeof CheckpointEventSchema>;
export type StatusEvent = z.infer<typeof StatusEventSchema>;
export type FrameEvent = z.infer<typeof FrameEventSchema>;
export type WarningEvent = z.infer<typeof WarningEventSchema>;
export type TrainEvent = z.infer<typeof TrainEventSchema>;
export type TrainEventType = TrainEvent['type'];
