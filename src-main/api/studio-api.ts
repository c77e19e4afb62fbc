/**
 * StudioApi: the single contract between the renderer and the engine. The same methods travel over
 * Electron IPC (preload) and over WebSocket (browser mode, `rl-studio serve`); every request is
 * validated against these zod schemas on the engine side before it is handled.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';

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
  /** Backend preference for new runs; `auto` tries tensorflow → wasm → cpu. */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']),
  theme: z.enum(['dark', 'light', 'system']),
});
export type Settings = z.infer<typeof SettingsSchema>;

const RunId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a run id');
const EpisodeId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not an episode id');

/** Request schemas, one per method. */
export const RequestSchemas = {
  info: z.object({}),
  listEnvs: z.object({}),
  getEnv: z.object({ id: z.string().min(1).max(256) }),
  validateEnv: z.object({ files: z.array(InFileSchema).min(1).max(64) }),
  addEnv: z.object({ files: z.array(InFileSchema).min(1).max(64) }),
  listRuns: z.object({ includeArchived: z.boolean().optional() }),
  getRun: z.object({ id: RunId }),
  getMetrics: z.object({ id: RunId, sinceLine: z.number().int().min(0).optional() }),
  createRun: z.object({ config: z.unknown(), seeds: z.number().int().min(1).max(32).optional() }),
  controlRun: z.object({ id: RunId, action: z.enum(['start', 'pause', 'resume', 'stop']) }),
  updateRun: z.object({
    id: RunId,
    name: z.string().max(200).optional(),
    tags: z.array(z.string().max(64)).max(32).optional(),
    archived: z.boolean().optional(),
  }),
  deleteRun: z.object({ id: RunId }),
  listEpisodes: z.object({ id: RunId }),
  getEpisode: z.object({ id: RunId, episode: EpisodeId }),
  exportPolicy: z.object({ id: RunId, format: z.enum(['tfjs', 'onnx', 'json']), checkpoint: z.string().max(128).optional() }),
  getSettings: z.object({}),
  setSettings: z.object({ settings: SettingsSchema.partial() }),
  watchLive: z.object({ id: RunId, on: z.boolean() }),
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

export type ResponseEnvelope =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ErrorPayload };

/** A pushed event (training progress, status change, live frames). */
export interface EventEnvelope {
  event: string;
  data: unknown;
}

export interface BackendInfo {
  name: string;
  reason: string;
}

export interface StudioInfo {
  version: string;
  mode: 'electron' | 'browser';
  backend: BackendInfo;
  runsDir: string;
  cores: number;
}
