import type { Algo } from '../api/hyperparams.ts';

/**
 * The agent interface the trainer drives. DDPG, TD3 and NAF implement it over TensorFlow.js;
 * the replay buffer and noise are shared pieces.
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

/** Scalars reported after an update; names follow the metric names in metrics.jsonl. */
export interface UpdateStats {
  criticLoss: number;
  actorLoss?: number;
  /** Mean Q of the batch. */
  q: number;
  /** New priorities (|TD error|) for prioritized replay. */
  tdErrors?: Float32Array;
  /**
   * Further named scalars of this update (metric names as in metrics.jsonl, e.g. the learning
   * diagnostics of learn/diagnostics.ts); the trainer averages each over its logging window.
   */
  diagnostics?: Record<string, number>;
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
  readonly algo: Algo;
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
