import type { Batch } from '../types.ts';
import type { Rng } from '../../util/rng.ts';

/**
 * Experience replay: a preallocated typed-array ring (DDPG supplement 7: 10^6 transitions), uniform
 * sampling, and optionally proportional prioritized replay (Schaul et al. 2016) over a sum tree with
 * importance-sampling weights. Sampling writes into a caller-owned Batch, so steady-state training
 * allocates nothing here.
 */
export interface ReplayOptions {
  capacity: number;
  obsSize: number;
  actionSize: number;
  /** Proportional prioritization; absent = uniform. */
  prioritized?: { alpha: number; beta: number; eps?: number };
}

/** Plain JSON next to the arrays when saving (the trainer writes both into a checkpoint). */
export interface ReplayMeta {
  capacity: number;
  obsSize: number;
  actionSize: number;
  size: number;
  next: number;
  prioritized: { alpha: number; beta: number; eps: number; maxPriority: number } | null;
}

export interface ReplayArrays {
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  dones: Float32Array;
  /** Leaf priorities (p^alpha) of the stored rows, prioritized buffers only. */
  priorities?: Float32Array;
}

export class ReplayBuffer {
  readonly capacity: number;
  readonly obsSize: number;
  readonly actionSize: number;
  private readonly obs: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly nextObs: Float32Array;
  private readonly dones: Float32Array;
  private next = 0;
  private count = 0;
  private readonly tree: SumTree | null;
  private readonly alpha: number;
  /** Importance-sampling exponent; the trainer anneals it towards 1 (Schaul et al. 2016, section 3.4). */
  beta: number;
  private readonly eps: number;
  private maxPriority = 1;

  constructor(opts: ReplayOptions) {
    if (!(opts.capacity >= 1)) throw new Error('replay capacity must be at least 1');
    this.capacity = opts.capacity;
    this.obsSize = opts.obsSize;
    this.actionSize = opts.actionSize;
    this.obs = new Float32Array(opts.capacity * opts.obsSize);
    this.nextObs = new Float32Array(opts.capacity * opts.obsSize);
    this.actions = new Float32Array(opts.capacity * opts.actionSize);
    this.rewards = new Float32Array(opts.capacity);
    this.dones = new Float32Array(opts.capacity);
    this.tree = opts.prioritized ? new SumTree(opts.capacity) : null;
    this.alpha = opts.prioritized?.alpha ?? 0;
    this.beta = opts.prioritized?.beta ?? 0;
    this.eps = opts.prioritized?.eps ?? 1e-6;
  }

  get size(): number {
    return this.count;
  }

  get prioritized(): boolean {
    return this.tree !== null;
  }

  /** Stores one transition; `done` means terminated (no bootstrap), not a time-limit cut. */
  add(obs: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObs: ArrayLike<number>, done: boolean): void {
    const i = this.next;
    this.obs.set(obs, i * this.obsSize);
    this.nextObs.set(nextObs, i * this.obsSize);
    this.actions.set(action, i * this.actionSize);
    this.rewards[i] = reward;
    this.dones[i] = done ? 1 : 0;
    // New transitions get the largest priority seen, so each is replayed at least once (Schaul et al.).
    if (this.tree) this.tree.set(i, this.maxPriority);
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** A reusable Batch of the given size to sample into. */
  makeBatch(size: number): Batch {
    return {
      size,
      obs: new Float32Array(size * this.obsSize),
      actions: new Float32Array(size * this.actionSize),
      rewards: new Float32Array(size),
      nextObs: new Float32Array(size * this.obsSize),
      dones: new Float32Array(size),
      indices: new Int32Array(size),
      ...(this.tree ? { weights: new Float32Array(size) } : {}),
    };
  }

  /** Samples `out.size` rows (uniform, or proportional to priority) into `out`. */
  sample(rng: Rng, out: Batch): Batch {
    if (this.count === 0) throw new Error('cannot sample an empty replay buffer');
    const n = out.size;
    const indices = out.indices ?? (out.indices = new Int32Array(n));
    if (this.tree) {
      // Stratified sampling: one draw per equal slice of the total priority mass.
      const total = this.tree.total();
      const seg = total / n;
      const weights = out.weights ?? (out.weights = new Float32Array(n));
      const minP = this.tree.min() / total;
      const maxW = Math.pow(this.count * minP, -this.beta);
      for (let k = 0; k < n; k++) {
        const idx = this.tree.find(Math.min(seg * (k + rng.uniform()), total * (1 - 1e-7)), this.count);
        indices[k] = idx;
        const p = this.tree.get(idx) / total;
        weights[k] = Math.pow(this.count * p, -this.beta) / maxW;
      }
    } else {
      for (let k = 0; k < n; k++) indices[k] = rng.int(this.count);
    }
    const o = this.obsSize;
    const a = this.actionSize;
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      out.obs.set(this.obs.subarray(i * o, i * o + o), k * o);
      out.nextObs.set(this.nextObs.subarray(i * o, i * o + o), k * o);
      out.actions.set(this.actions.subarray(i * a, i * a + a), k * a);
      out.rewards[k] = this.rewards[i];
      out.dones[k] = this.dones[i];
    }
    return out;
  }

  /** New priorities |delta| + eps for sampled rows (UpdateStats.tdErrors). */
  updatePriorities(indices: Int32Array, tdErrors: Float32Array): void {
    if (!this.tree) return;
    for (let k = 0; k < indices.length; k++) {
      const p = Math.pow(Math.abs(tdErrors[k]) + this.eps, this.alpha);
      this.tree.set(indices[k], p);
      if (p > this.maxPriority) this.maxPriority = p;
    }
  }

  /** The stored rows (oldest slot order as in memory) as plain arrays plus JSON meta. */
  save(): { meta: ReplayMeta; arrays: ReplayArrays } {
    const n = this.count;
    const arrays: ReplayArrays = {
      obs: this.obs.slice(0, n * this.obsSize),
      actions: this.actions.slice(0, n * this.actionSize),
      rewards: this.rewards.slice(0, n),
      nextObs: this.nextObs.slice(0, n * this.obsSize),
      dones: this.dones.slice(0, n),
    };
    if (this.tree) {
      const pr = new Float32Array(n);
      for (let i = 0; i < n; i++) pr[i] = this.tree.get(i);
      arrays.priorities = pr;
    }
    return {
      meta: {
        capacity: this.capacity,
        obsSize: this.obsSize,
        actionSize: this.actionSize,
        size: n,
        next: this.next,
        prioritized: this.tree ? { alpha: this.alpha, beta: this.beta, eps: this.eps, maxPriority: this.maxPriority } : null,
      },
      arrays,
    };
  }

  /** Rebuilds a buffer saved by save(); shapes are checked against the meta. */
  static load(meta: ReplayMeta, arrays: ReplayArrays): ReplayBuffer {
    const buf = new ReplayBuffer({
      capacity: meta.capacity,
      obsSize: meta.obsSize,
      actionSize: meta.actionSize,
      ...(meta.prioritized
        ? { prioritized: { alpha: meta.prioritized.alpha, beta: meta.prioritized.beta, eps: meta.prioritized.eps } }
        : {}),
    });
    const n = meta.size;
    const check = (name: string, arr: Float32Array | undefined, len: number) => {
      if (!arr || arr.length !== len) throw new Error(`replay '${name}' has ${arr?.length ?? 0} values, expected ${len}`);
    };
    check('obs', arrays.obs, n * meta.obsSize);
    check('nextObs', arrays.nextObs, n * meta.obsSize);
    check('actions', arrays.actions, n * meta.actionSize);
    check('rewards', arrays.rewards, n);
    check('dones', arrays.dones, n);
    buf.obs.set(arrays.obs);
    buf.nextObs.set(arrays.nextObs);
    buf.actions.set(arrays.actions);
    buf.rewards.set(arrays.rewards);
    buf.dones.set(arrays.dones);
    buf.count = n;
    buf.next = meta.next;
    if (buf.tree && meta.prioritized) {
      check('priorities', arrays.priorities, n);
      for (let i = 0; i < n; i++) buf.tree.set(i, arrays.priorities![i]);
      buf.maxPriority = meta.prioritized.maxPriority;
    }
    return buf;
  }
}

/** Binary sum tree (plus a min tree for the largest importance weight) over `capacity` leaves. */
export class SumTree {
  private readonly leaves: number;
  private readonly sum: Float64Array;
  private readonly mins: Float64Array;

  constructor(capacity: number) {
    let l = 1;
    while (l < capacity) l *= 2;
    this.leaves = l;
    this.sum = new Float64Array(2 * l);
    this.mins = new Float64Array(2 * l).fill(Infinity);
  }

  set(i: number, p: number): void {
    let k = i + this.leaves;
    this.sum[k] = p;
    this.mins[k] = p;
    for (k >>= 1; k >= 1; k >>= 1) {
      this.sum[k] = this.sum[2 * k] + this.sum[2 * k + 1];
      this.mins[k] = Math.min(this.mins[2 * k], this.mins[2 * k + 1]);
    }
  }

  get(i: number): number {
    return this.sum[i + this.leaves];
  }

  total(): number {
    return this.sum[1];
  }

  min(): number {
    return this.mins[1];
  }

  /** Leaf whose cumulative-priority interval contains `mass`, limited to the first `count` leaves. */
  find(mass: number, count: number): number {
    let k = 1;
    while (k < this.leaves) {
      const left = 2 * k;
      if (mass < this.sum[left]) k = left;
      else {
        mass -= this.sum[left];
        k = left + 1;
      }
    }
    return Math.min(k - this.leaves, count - 1);
  }
}
