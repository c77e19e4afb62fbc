import type { Rng } from '../../util/rng.ts';
import { Arena } from './simd.ts';

/**
 * One flat Float32Array of parameters per network, with a named view per weight and bias.
 *
 * Why flat and in JS rather than tf.Variables: on the wasm backend every elementwise op over
 * ~130k parameters costs ~0.3 ms plus op overhead, so a per-tensor Adam is ~50 ops and several ms
 * per network. Here the optimizer, the L2 decay and the soft target update are single loops over
 * the flat vector (see Adam, softUpdate) and the networks' kernels read it in place. It also keeps
 * checkpoints trivial (one array per network) and works on every backend.
 *
 * The values live in a WebAssembly Arena (simd.ts): an agent puts all its networks, moments,
 * gradients and scratch in one arena so the SIMD kernels (GEMM, Adam, soft update) run on them in
 * place. `values` is re-read from the arena on every access (a growing arena detaches old views):
 * do not keep it across allocations.
 */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** Initialisation: uniform in [-bound, bound]. */
  bound: number;
  /** Whether the critic's L2 weight decay applies (weights yes, biases no). */
  decay: boolean;
  /** Initialise to this constant instead (batch-norm scales and statistics). */
  fill?: number;
  /** A running statistic, not a trained weight: no gradient, no decay, no exploration noise. */
  stat?: boolean;
}

interface Slot extends ParamSpec {
  offset: number;
  size: number;
}

export class FlatParams {
  readonly arena: Arena;
  /** Whether this object made its arena (and so releases it on dispose). */
  private readonly ownsArena: boolean;
  private readonly key: string;
  private readonly length: number;
  readonly slots: readonly Slot[];
  private readonly byName = new Map<string, Slot>();

  constructor(specs: ParamSpec[], arena?: Arena) {
    let offset = 0;
    const slots: Slot[] = [];
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const slot = { ...s, offset, size };
      slots.push(slot);
      this.byName.set(s.name, slot);
      offset += size;
    }
    this.slots = slots;
    this.length = offset;
    this.ownsArena = !arena;
    this.arena = arena ?? new Arena(offset * 4 + 256);
    this.key = Arena.uid('params');
    this.arena.get(this.key, offset);
  }

  get values(): Float32Array {
    return this.arena.get(this.key, this.length);
  }

  get size(): number {
    return this.length;
  }

  /** Fills every slot uniformly in [-bound, bound] from the given generator, in slot order. */
  init(rng: Rng): void {
    for (const s of this.slots) {
      const v = this.view(s.name);
      if (s.fill !== undefined) v.fill(s.fill);
      else for (let i = 0; i < v.length; i++) v[i] = rng.range(-s.bound, s.bound);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  slot(name: string): Slot {
    const s = this.byName.get(name);
    if (!s) throw new Error(`no parameter '${name}'`);
    return s;
  }

  view(name: string): Float32Array {
    const s = this.slot(name);
    return this.values.subarray(s.offset, s.offset + s.size);
  }

  copyFrom(other: FlatParams): void {
    this.values.set(other.values);
  }

  dispose(): void {
    if (this.ownsArena) this.arena.dispose();
  }
}

/** target <- (1 - tau) target + tau source, in one pass (DDPG's soft target update). */
export function softUpdate(target: FlatParams, source: FlatParams, tau: number): void {
  if (target.arena === source.arena) {
    target.arena.lerp(target.values, source.values, 1 - tau, tau);
    return;
  }
  const t = target.values;
  const s = source.values;
  const keep = 1 - tau;
  for (let i = 0; i < t.length; i++) t[i] = keep * t[i] + tau * s[i];
}

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  t: number;
}

/**
 * Adam (Kingma & Ba 2015) over a flat parameter vector, fused with L2 weight decay: one SIMD loop
 * (simd.ts adamKernel, float32) updates the moments and the parameters in the params' arena. Decay
 * adds `l2 * w` to the gradient of weights (not biases), i.e. the gradient of (l2 / 2) * ||W||^2,
 * as DDPG's critic regulariser.
 */
export class Adam {
  t = 0;
  private readonly key = Arena.uid('adam');

  constructor(
    readonly params: FlatParams,
    public lr: number,
    readonly l2 = 0,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    const ar = params.arena;
    ar.get(`${this.key}.m`, params.size);
    ar.get(`${this.key}.v`, params.size);
    // Per-parameter decay coefficient: l2 on weights, 0 on biases.
    const d = ar.get(`${this.key}.d`, params.size);
    if (l2 !== 0) for (const s of params.slots) if (s.decay) d.fill(l2, s.offset, s.offset + s.size);
  }

  get m(): Float32Array {
    return this.params.arena.get(`${this.key}.m`, this.params.size);
  }

  get v(): Float32Array {
    return this.params.arena.get(`${this.key}.v`, this.params.size);
  }

  /** Per-parameter L2 decay coefficients (l2 on weights, 0 on biases). */
  get decay(): Float32Array {
    return this.params.arena.get(`${this.key}.d`, this.params.size);
  }

  /** One step with gradient g (same layout as the parameters; best a view of the params' arena). */
  step(g: Float32Array): void {
    this.t++;
    const { beta1: b1, beta2: b2, eps } = this;
    const ar = this.params.arena;
    const n = this.params.size;
    if (!ar.owns(g)) {
      const copy = ar.get(`${this.key}.g`, n);
      copy.set(g.subarray(0, n));
      g = copy;
    }
    // Bias corrections folded into the step size (Adam, Algorithm 1, last lines).
    const stepSize = (this.lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    const epsHat = eps * Math.sqrt(1 - Math.pow(b2, this.t));
    const d = ar.get(`${this.key}.d`, n);
    ar.adam(this.params.values, g, this.m, this.v, d, b1, 1 - b1, b2, 1 - b2, stepSize, epsHat);
  }

  getState(): AdamState {
    return { m: this.m.slice(), v: this.v.slice(), t: this.t };
  }

  setState(s: AdamState): void {
    this.m.set(s.m);
    this.v.set(s.v);
    this.t = s.t;
  }
}

/** DDPG supplement: hidden layers U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. */
export function fanInBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}
