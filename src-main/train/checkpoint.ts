import type { EvalSummary } from '../api/runs.ts';
import type { AgentState } from '../learn/types.ts';
import { ReplayBuffer, type ReplayArrays, type ReplayMeta } from '../learn/replay.ts';
import type { RngState } from '../learn/rng.ts';
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
  replay: ReplayBuffer | null;
}

const KIND = 'rl-studio-checkpoint';

/** Networks, optimizer moments, noise and RNG state (inside the agent state), trainer counters, and optionally the replay buffer. */
export function encodeCheckpoint(trainer: TrainerState, agent: AgentState, replay: ReplayBuffer | null): Uint8Array {
  const arrays: Record<string, StoredArray> = {};
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(agent.tensors)) {
    arrays[`agent:${name}`] = t.data;
    shapes[name] = t.shape;
  }
  let replayMeta: ReplayMeta | null = null;
  if (replay) {
    const saved = replay.save();
    replayMeta = saved.meta;
    for (const [name, a] of Object.entries(saved.arrays)) if (a) arrays[`replay:${name}`] = a;
  }
  return encodeTensorFile({ kind: KIND, trainer, agent: { algo: agent.algo, meta: agent.meta, shapes }, replay: replayMeta }, arrays);
}

/** Rebuilds a checkpoint from a decoded file; a file of another kind or with missing parts is corrupt. */
export function decodeCheckpoint(meta: unknown, arrays: Record<string, StoredArray>): Checkpoint {
  const m = meta as { kind?: string; trainer?: TrainerState; agent?: { algo: string; meta: Record<string, unknown>; shapes: Record<string, number[]> }; replay?: ReplayMeta | null };
  if (m?.kind !== KIND || !m.trainer || !m.agent) throw new CorruptFileError('not a training checkpoint');
  const tensors: AgentState['tensors'] = {};
  for (const [name, shape] of Object.entries(m.agent.shapes)) {
    const data = arrays[`agent:${name}`];
    if (!(data instanceof Float32Array)) throw new CorruptFileError(`agent tensor '${name}' is missing`);
    tensors[name] = { shape, data };
  }
  let replay: ReplayBuffer | null = null;
  if (m.replay) {
    const get = (n: string) => arrays[`replay:${n}`] as Float32Array | undefined;
    const ra: ReplayArrays = { obs: get('obs')!, actions: get('actions')!, rewards: get('rewards')!, nextObs: get('nextObs')!, dones: get('dones')! };
    const pr = get('priorities');
    if (pr) ra.priorities = pr;
    try {
      replay = ReplayBuffer.load(m.replay, ra);
    } catch (e) {
      throw new CorruptFileError(`replay buffer: ${(e as Error).message}`);
    }
  }
  return { trainer: m.trainer, agent: { algo: m.agent.algo, tensors, meta: m.agent.meta }, replay };
}
