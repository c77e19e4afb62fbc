import type { EvalSummary } from '../api/runs.ts';
import type { AgentState } from '../learn/types.ts';
import { ReplayBuffer, type ReplayArrays, type ReplayMeta } from '../learn/replay/replay.ts';
import { PixelReplay, type PixelReplayArrays, type PixelReplayMeta } from '../learn/replay/pixel-replay.ts';
import type { RngState } from '../util/rng.ts';
import { CorruptFileError, encodeTensorFile, type StoredArray } from '../store/tensor-file.ts';

/** The trainer's own counters, saved beside the agent so a resumed run continues its curves. */
export interface TrainerState {
  /** Environment steps done. */
  step: number;
  /** Training episodes finished. */
  episodes: number;
  /** Training episodes started (the env seed of the next one derives from it). */
  episodeIndex: number;
  divergedEpisodes: number;
  updates: number;
  /** Seconds spent training (all sessions; pauses and downtime excluded): the metrics' `time`. */
  elapsed: number;
  latestEval: EvalSummary | null;
  bestEval: EvalSummary | null;
  /** Replay sampling and warm-up actions. */
  rng: RngState;
}

export interface Checkpoint {
  trainer: TrainerState;
  agent: AgentState;
  /** Absent when the run does not store its buffer (it refills after resume). */
  replay: ReplayBuffer | PixelReplay | null;
}

/** What a checkpoint needs of a replay buffer (low-dim or pixel): its state as JSON and arrays. */
export interface SavableReplay {
  save(): { meta: unknown; arrays: object };
}

/** Kind tag of a pixel replay in the checkpoint's JSON (a low-dim one has none, as before pixels). */
const PIXEL_REPLAY = 'pixels';
/** The pixel replay's arrays and their types; the optional ones belong to one frame layout or the other (PixelReplayMeta). */
const PIXEL_ARRAYS: Record<keyof PixelReplayArrays, { type: 'u8' | 'f64' | 'i32' | 'f32'; optional?: true }> = {
  frames: { type: 'u8' },
  frameIds: { type: 'f64', optional: true },
  frameLengths: { type: 'i32', optional: true },
  slotId: { type: 'f64', optional: true },
  obsIds: { type: 'f64' },
  nextIds: { type: 'f64' },
  actions: { type: 'f32' },
  rewards: { type: 'f32' },
  dones: { type: 'f32' },
};
const ARRAY_TYPES = { u8: Uint8Array, f64: Float64Array, i32: Int32Array, f32: Float32Array } as const;

const KIND = 'rl-studio-checkpoint';

/** Networks, optimizer moments, noise and RNG state (inside the agent state), trainer counters, and optionally the replay buffer. */
export function encodeCheckpoint(trainer: TrainerState, agent: AgentState, replay: SavableReplay | null): Uint8Array {
  const arrays: Record<string, StoredArray> = {};
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(agent.tensors)) {
    arrays[`agent:${name}`] = t.data;
    shapes[name] = t.shape;
  }
  let replayMeta: unknown = null;
  if (replay) {
    const saved = replay.save();
    replayMeta = saved.meta;
    for (const [name, a] of Object.entries(saved.arrays as Record<string, StoredArray | undefined>)) if (a) arrays[`replay:${name}`] = a;
  }
  const replayKind = replay instanceof PixelReplay ? { replayKind: PIXEL_REPLAY } : {};
  return encodeTensorFile(
    { kind: KIND, trainer, agent: { algo: agent.algo, meta: agent.meta, shapes }, replay: replayMeta, ...replayKind },
    arrays,
  );
}

/** Rebuilds a checkpoint from a decoded file; a file of another kind or with missing parts is corrupt. */
export function decodeCheckpoint(meta: unknown, arrays: Record<string, StoredArray>): Checkpoint {
  const m = meta as {
    kind?: string;
    trainer?: TrainerState;
    agent?: { algo: string; meta: Record<string, unknown>; shapes: Record<string, number[]> };
    replay?: ReplayMeta | PixelReplayMeta | null;
    replayKind?: string;
  };
  if (m?.kind !== KIND || !m.trainer || !m.agent) throw new CorruptFileError('not a training checkpoint');
  const tensors: AgentState['tensors'] = {};
  for (const [name, shape] of Object.entries(m.agent.shapes)) {
    const data = arrays[`agent:${name}`];
    if (!(data instanceof Float32Array)) throw new CorruptFileError(`agent tensor '${name}' is missing`);
    tensors[name] = { shape, data };
  }
  let replay: ReplayBuffer | PixelReplay | null = null;
  if (m.replay && m.replayKind === PIXEL_REPLAY) {
    const pa: Record<string, StoredArray> = {};
    for (const [name, { type, optional }] of Object.entries(PIXEL_ARRAYS)) {
      const a = arrays[`replay:${name}`];
      if (a === undefined && optional) continue;
      if (!(a instanceof ARRAY_TYPES[type])) throw new CorruptFileError(`pixel replay array '${name}' is missing`);
      pa[name] = a;
    }
    try {
      replay = PixelReplay.load(m.replay as PixelReplayMeta, pa as unknown as PixelReplayArrays);
    } catch (e) {
      throw new CorruptFileError(`pixel replay buffer: ${(e as Error).message}`);
    }
  } else if (m.replay) {
    const get = (n: string) => arrays[`replay:${n}`] as Float32Array | undefined;
    const ra: ReplayArrays = {
      obs: get('obs')!,
      actions: get('actions')!,
      rewards: get('rewards')!,
      nextObs: get('nextObs')!,
      dones: get('dones')!,
    };
    const pr = get('priorities');
    if (pr) ra.priorities = pr;
    try {
      replay = ReplayBuffer.load(m.replay as ReplayMeta, ra);
    } catch (e) {
      throw new CorruptFileError(`replay buffer: ${(e as Error).message}`);
    }
  }
  return { trainer: m.trainer, agent: { algo: m.agent.algo, tensors, meta: m.agent.meta }, replay };
}
