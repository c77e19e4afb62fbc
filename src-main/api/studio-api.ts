/**
 * StudioApi: the single contract between the renderer and the engine. The same methods travel over
 * Electron IPC (preload) and over WebSocket (browser mode, `rl-studio serve`); every request is
 * validated against these zod schemas on the engine side before it is handled.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';
import type { SceneModel } from './scene.ts';
import type { EnvStarter, EnvSummary, EnvValidation } from './task-spec.ts';
import type { EpisodeMeta, MetricInfo, MetricsRead, RunDetail, RunSummary, StoreProblem } from './runs.ts';
import type { ProgressEvent, TrainEvent } from './events.ts';
import type { Report } from './scores.ts';
import type { SweepView } from './sweeps.ts';

export const PROTOCOL_VERSION = 1;

/** A file handed over by the renderer (drag-in): text files as utf8, binary (meshes) as base64. */
export const InFileSchema = z.object({
  name: z.string().min(1).max(255),
  encoding: z.enum(['utf8', 'base64']),
  content: z.string(),
});
export type InFile = z.infer<typeof InFileSchema>;

export const SettingsSchema = z.object({
  /** Folder holding one directory per run. */
  runsDir: z.string().min(1),
  /** Backend preference for new runs; `auto` tries tensorflow → webgpu → wasm → cpu (webgpu: refused by the service until runs can await it). */
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']),
  theme: z.enum(['dark', 'light', 'system']),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** Most points per curve one getMetricSeries answer holds. */
export const MAX_SERIES_POINTS = 20_000;

const RunId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a run id');
const EpisodeId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not an episode id');

/** Request schemas, one per method. */
export const RequestSchemas = {
  info: z.object({}),
  listEnvs: z.object({}),
  getEnv: z.object({ id: z.string().min(1).max(256) }),
  validateEnv: z.object({ files: z.array(InFileSchema).min(1).max(64) }),
  /** `id` names the env in the library; default: the task spec's file stem. */
  addEnv: z.object({ files: z.array(InFileSchema).min(1).max(64), id: z.string().min(1).max(64).optional() }),
  /** Removes an env from the user's library (built-in envs stay; runs keep their own copy of their env). */
  removeEnv: z.object({ id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'not an env id') }),
  listRuns: z.object({ includeArchived: z.boolean().optional() }),
  /** `metrics: 'none'` leaves the metric records out (their line count stays): a long run's curves come from getMetricSeries. */
  getRun: z.object({ id: RunId, metrics: z.enum(['records', 'none']).optional() }),
  getMetrics: z.object({ id: RunId, sinceLine: z.number().int().min(0).optional() }),
  /**
   * Curves downsampled by the engine: per metric (default: every numeric field of the records) at
   * most `points` points over the x range [from, to] of `x` (default: the whole run, by step).
   */
  getMetricSeries: z.object({
    id: RunId,
    keys: z.array(z.string().min(1).max(64)).max(64).optional(),
    points: z.number().int().min(16).max(MAX_SERIES_POINTS).optional(),
    x: z.enum(['step', 'time']).optional(),
    from: z.number().optional(),
    to: z.number().optional(),
  }),
  /** One run, or a seed sweep (seeds > 1) as one experiment; queued to train unless start is false. */
  createRun: z.object({ config: z.unknown(), seeds: z.number().int().min(1).max(32).optional(), start: z.boolean().optional() }),
  controlRun: z.object({ id: RunId, action: z.enum(['start', 'pause', 'resume', 'stop']) }),
  updateRun: z.object({
    id: RunId,
    name: z.string().max(200).optional(),
    tags: z.array(z.string().max(64)).max(32).optional(),
    archived: z.boolean().optional(),
  }),
  deleteRun: z.object({ id: RunId }),
  /** The 3D scene of the env a run trains on (its own copy), for the live view. */
  getRunScene: z.object({ id: RunId }),
  listEpisodes: z.object({ id: RunId }),
  getEpisode: z.object({ id: RunId, episode: EpisodeId }),
  exportPolicy: z.object({ id: RunId, format: z.enum(['tfjs', 'onnx', 'json']), checkpoint: z.string().max(128).optional() }),
  getSettings: z.object({}),
  setSettings: z.object({ settings: SettingsSchema.partial() }),
  watchLive: z.object({ id: RunId, on: z.boolean() }),
  /** The DDPG paper's Table 1 for these runs: normalised R_av / R_best and mean curves per task x algorithm x observation. */
  getReport: z.object({ ids: z.array(RunId).min(1).max(500) }),
  /** A sweep file (api/sweep.ts) trained by the studio's own pool, or as BullMQ jobs when `queue` is redis://HOST:PORT. */
  createSweep: z.object({ file: z.unknown(), queue: z.string().max(300).optional() }),
  listSweeps: z.object({}),
  getSweep: z.object({ id: z.string().regex(/^sweep-[A-Za-z0-9-]{1,100}$/, 'not a sweep id') }),
} as const;

export type Method = keyof typeof RequestSchemas;
export type Params<M extends Method> = z.infer<(typeof RequestSchemas)[M]>;

/** Envelope of a request over WebSocket (IPC carries `method` and `params` the same way). */
export const RequestEnvelopeSchema = z.object({
  id: z.number().int(),
  method: z.string(),
  params: z.unknown(),
});

export interface ErrorPayload {
  /** true for mistakes the user can fix (bad file, invalid value); false for studio faults. */
  user: boolean;
  errors: { file?: string; field?: string; message: string }[];
}

export type ResponseEnvelope = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ErrorPayload };

/** A pushed event (training progress, status change, live frames). */
export interface EventEnvelope {
  event: string;
  data: unknown;
}

export interface BackendInfo {
  name: string;
  reason: string;
  /** Where the run's networks ran and why, when not on the backend itself (learn/exec/select.ts). */
  networks?: string;
}

export interface StudioInfo {
  version: string;
  mode: 'electron' | 'browser';
  /** The backend in use: the one the newest run trained on, or before any run the one the setting gives. */
  backend: BackendInfo;
  /** The backend setting new runs follow (`auto`: tensorflow → webgpu → wasm → cpu). */
  backendSetting: Settings['backend'];
  runsDir: string;
  cores: number;
}

/**
 * Float32 data crossing the boundary as base64 of its little-endian bytes: a tenth of the size of a
 * JSON number array and the same over IPC and WebSocket. Decode with decodeF32 (below).
 */
export type F32Base64 = string;

/** Decodes an F32Base64 string (works in the renderer and in Node). */
export function decodeF32(b64: F32Base64): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, bytes.length >> 2);
}

/** listEnvs: one entry per built-in and library env; a broken library env carries its error. */
export type EnvListEntry = EnvSummary & { error?: string };

/** What getEnv and a successful validateEnv return: the env, its 3D scene and its initial pose. */
export interface EnvPreview {
  summary: EnvSummary & { obsParts: { name: string; offset: number; size: number }[]; actuators: string[] };
  scene: SceneModel;
  /** Body poses (nbody x 7: x y z qw qx qy qz) after reset with seed 0. */
  poses: F32Base64;
}

/**
 * validateEnv: the validation, plus the preview when the env is valid. A bare MJCF (no task spec
 * among the files) is validated with the starter spec `envs init` would write, which comes back in
 * `starter` for the studio to show and to add with the model.
 */
export type EnvCheck = EnvValidation & { preview?: EnvPreview; starter?: EnvStarter };

/**
 * Set on runs created with start=false and not started since: their status reads 'queued' (how the
 * run store creates runs) though nothing queues them, so the studio offers Start, not Pause.
 */
export interface NotStarted {
  notStarted?: true;
}

/** listRuns: a run summary with its hyperparameters (for optional table columns). */
export type RunRow = RunSummary & { hyperparams: Record<string, unknown> } & NotStarted;

/** getRun: the stored run, its live progress and the TF.js backend its latest session used. */
/**
 * getRun: the run's detail, its live progress, and how to title and explain each metric its
 * algorithm logs (api/runs.ts metricInfo), so a metric a new algorithm adds charts with no renderer change.
 */
export type RunView = RunDetail & {
  progress: ProgressEvent | null;
  backend: BackendInfo | null;
  metricInfo: Record<string, MetricInfo>;
} & NotStarted;

/** getMetrics */
export type MetricsChunk = MetricsRead;

/** One curve of getMetricSeries: parallel arrays in x order, and how many points its range held. */
export interface MetricSeries {
  step: number[];
  time: number[];
  value: number[];
  /** Points of this curve inside the range before downsampling. */
  count: number;
}

/** getMetricSeries */
export interface MetricSeriesSet {
  series: Record<string, MetricSeries>;
  /** Lines of metrics.jsonl read: getMetrics from this line on gives what came after. */
  lines: number;
  /** Some curve held more points than `points` and was downsampled. */
  downsampled: boolean;
  problems: StoreProblem[];
}

/** listEpisodes */
export interface EpisodeList {
  episodes: EpisodeMeta[];
  problems: StoreProblem[];
}

/** getEpisode: a recorded episode ready to replay: the run's own scene and one pose frame per step. */
export interface EpisodeReplay {
  meta: EpisodeMeta;
  scene: SceneModel;
  /** frames x nbody x 7 */
  poses: F32Base64;
  /** (frames - 1) x actionSize */
  actions: F32Base64;
  /** frames - 1 */
  rewards: F32Base64;
  /** Actuator names in action order (the action traces' labels). */
  actuators: string[];
  /** frames x size: the observation per frame, with its named parts; null for episodes recorded without it. */
  observations: { size: number; parts: { name: string; offset: number; size: number }[]; values: F32Base64 } | null;
  /** (frames - 1) x labels: the reward's top-level terms per step (a sum's add up to the reward); null for episodes recorded without them. */
  rewardTerms: { labels: string[]; combine: 'sum' | 'product' | 'min' | 'max' | 'one'; values: F32Base64 } | null;
}

/** exportPolicy: the trained policy as one self-contained file, for a save dialog or a download. */
export interface PolicyExport {
  name: string;
  /** The file's bytes, base64. */
  base64: string;
  /** What was exported: checkpoint step, algorithm, observation and action sizes (export/meta.ts). */
  meta: Record<string, unknown>;
}

/** Result type of each method, for typed calls in the renderer. */
export interface Results {
  info: StudioInfo;
  listEnvs: EnvListEntry[];
  getEnv: EnvPreview;
  validateEnv: EnvCheck;
  addEnv: { id: string };
  removeEnv: { id: string };
  listRuns: RunRow[];
  getRun: RunView;
  getMetrics: MetricsChunk;
  getMetricSeries: MetricSeriesSet;
  createRun: RunSummary[];
  controlRun: RunSummary;
  updateRun: RunSummary;
  deleteRun: { id: string };
  getRunScene: SceneModel;
  listEpisodes: EpisodeList;
  getEpisode: EpisodeReplay;
  exportPolicy: PolicyExport;
  getSettings: Settings;
  setSettings: Settings;
  watchLive: { id: string; on: boolean };
  getReport: Report;
  createSweep: SweepView;
  listSweeps: SweepView[];
  getSweep: SweepView;
}

/**
 * Pushed events (EventEnvelope.event -> data):
 * - `run`: a TrainEvent of any run (progress, eval, checkpoint, status, warning; not frames)
 * - `runs`: the list of runs changed (created, deleted, renamed, tagged, archived)
 * - `live`: one frame of a watched run's training env
 * - `envs`: the environment library changed
 * - `settings`: the settings changed
 */
export interface Events {
  run: Exclude<TrainEvent, { type: 'frame' }>;
  runs: { ids: string[] };
  live: LiveFrame;
  envs: { id: string };
  settings: Settings;
}

export interface LiveFrame {
  runId: string;
  step: number;
  /** nbody x 7 */
  poses: F32Base64;
}
