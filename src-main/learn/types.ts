import type { CommonHyperparams } from './algos/spec.ts';
import type { Trajectory } from './model/dynamics.ts';
import type { RunningObsNorm } from './nets/obs-norm.ts';

/**
 * The agent interface the trainer drives and the exporter reads; every algorithm module
 * (learn/algos/<id>/) makes agents of it. The replay buffer and noise are shared pieces.
 */

/** A sampled minibatch, flat row-major typed arrays (batch x dim). */
export interface Batch {
  size: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  /** 1 where the episode terminated (no bootstrap), 0 otherwise. */
  dones: Float32Array;
  /**
   * Bootstrap factor per row for n-step returns (gamma^n (1 - done)), set by a replay that sums
   * rewards over n steps; absent: gamma (1 - done) with the agent's gamma.
   */
  discounts?: Float32Array;
  /** Importance-sampling weights (prioritized replay); absent means all ones. */
  weights?: Float32Array;
  /** Buffer indices of the rows, for priority updates. */
  indices?: Int32Array;
}

/** What an update reports. */
export interface UpdateStats {
  /**
   * Named scalars of this update under their metrics.jsonl names, as the algorithm's spec declares
   * them (critic_loss, actor_loss, q, the learning diagnostics of learn/algos/diagnostics.ts, ...). A name
   * may be absent from an update (an actor step every other update): the trainer averages each name
   * over the updates of its logging window that reported it.
   */
  metrics: Record<string, number>;
  /** New priorities (|TD error|) for prioritized replay. */
  tdErrors?: Float32Array;
}

/**
 * What an algorithm may add to the shared off-policy loop (train/trainer.ts), each optional. NAF
 * with model-based acceleration (Gu et al. 2016) uses all four: iLQG exploration from its fitted
 * model, model fits on finished episodes, imagination rounds, and imagined minibatches.
 */
export interface AgentHooks {
  /** The exploring action at step t of the training episode, in place of act(obs, true). */
  exploreAt?(obs: Float32Array, t: number): Float32Array;
  /** After every training env step. */
  afterEnvStep?(): void;
  /** A finished training episode (the trainer records trajectories only for agents with this hook). */
  onEpisodeEnd?(trajectory: Trajectory): void;
  /** After the replay updates of a step, up to updatesPerStep extra minibatches; null when none is ready. */
  extraBatch?(): Batch | null;
}

/** Everything needed to continue training bit for bit: weights, optimizer moments, counters. */
export interface AgentState {
  algo: string;
  /** Named weight tensors as flat arrays with shapes. */
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
  /** Small JSON-able counters (update count, rng state, ...). */
  meta: Record<string, unknown>;
}

export interface Agent {
  /** Id of the algorithm module that made it (learn/algos/<id>/). */
  readonly algo: string;
  /** Its hyperparameters: at least the fields the trainer and the replay read. */
  readonly hp: CommonHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  /** Running observation normalisation applied before the networks (exported with the policy), if on. */
  readonly obsNorm: RunningObsNorm | null;
  /** Additions to the training loop, if the algorithm has any. */
  readonly hooks?: AgentHooks | null;
  /** Where its networks run and why (learn/exec/select.ts), for agents written over the executor. */
  readonly executorNote?: string;
  /**
   * False when the networks' results can be read only asynchronously (webgpu through Dawn): the
   * trainer, evaluation, checkpoints and the exporter then await the *Async counterparts below
   * (learn/agent-reads.ts). Absent or true: act/update/getState answer synchronously.
   */
  readonly syncRead?: boolean;
  actAsync?(obs: Float32Array, explore: boolean): Promise<Float32Array>;
  updateAsync?(batch: Batch): Promise<UpdateStats>;
  getStateAsync?(): Promise<AgentState>;
  /** Reads the networks into the host views the exporter reads (the policy's FlatParams). */
  refreshHostViews?(): Promise<void>;
  /** Action in [-1, 1]^n for one observation; explore adds the configured exploration noise. */
  act(obs: Float32Array, explore: boolean): Float32Array;
  /** Called at episode start (resets OU noise, parameter noise, ...). */
  resetEpisode(): void;
  /** One gradient update on a minibatch (critic, actor, soft target update). */
  update(batch: Batch): UpdateStats;
  getState(): AgentState;
  setState(state: AgentState): void;
  dispose(): void;
}
