import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { Arena } from './simd.ts';

/**
 * One flat Float32Array of parameters per network, with a named view per weight and bias.
 *
 * Why flat and in JS rather than tf.Variables: on the wasm backend every elementwise op over
 * ~130k parameters costs ~0.3 ms plus op overhead, so a per-tensor Adam is ~50 ops and several ms
 * per network. Here the optimizer, the L2 decay and the soft target update are single JS loops over
 * the flat vector (see Adam, softUpdate), and the tensors the kernels read are uploaded once per
 * change. It also keeps checkpoints trivial (one array per network) and works on every backend.
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
  /** Bumped on every change; tensors are re-uploaded lazily when it moves. */
  private version = 0;
  private cachedVersion = -1;
  private cache = new Map<string, tf.Tensor>();
  private cacheT = new Map<string, tf.Tensor>();

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
    this.touch();
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

  /** Marks the values as changed (after an in-place edit). */
  touch(): void {
    this.version++;
  }

  copyFrom(other: FlatParams): void {
    this.values.set(other.values);
    this.touch();
  }

  /** The parameter as a tensor; valid until the next change. Kept out of any enclosing tf.tidy. */
  tensor(name: string): tf.Tensor {
    this.sync();
    let t = this.cache.get(name);
    if (!t) {
      const s = this.slot(name);
      t = tf.keep(tf.tensor(this.view(name), s.shape, 'float32'));
      this.cache.set(name, t);
    }
    return t;
  }

  /**
   * The transpose of a 2-D weight, built in JS: the wasm backend has no fast transposed matMul and
   * its Transpose kernel is slower than this loop for weight-sized matrices.
   */
  tensorT(name: string): tf.Tensor2D {
    this.sync();
    let t = this.cacheT.get(name);
    if (!t) {
      const s = this.slot(name);
      const [rows, cols] = s.shape;
      const src = this.view(name);
      const dst = new Float32Array(s.size);
      for (let i = 0; i < rows; i++) {
        const r = i * cols;
        for (let j = 0; j < cols; j++) dst[j * rows + i] = src[r + j];
      }
      t = tf.keep(tf.tensor2d(dst, [cols, rows]));
      this.cacheT.set(name, t);
    }
    return t as tf.Tensor2D;
  }

  private sync(): void {
    if (this.cachedVersion === this.version) return;
    this.release();
    this.cachedVersion = this.version;
  }

  private release(): void {
    for (const t of this.cache.values()) t.dispose();
    for (const t of this.cacheT.values()) t.dispose();
    this.cache.clear();
    this.cacheT.clear();
  }

  /** Copies gradient tensors (by parameter name) into one flat gradient vector. */
  gather(grads: Record<string, tf.Tensor>, out: Float32Array): Float32Array {
    for (const s of this.slots) {
      const g = grads[s.name];
      if (!g) {
        out.fill(0, s.offset, s.offset + s.size);
        continue;
      }
      out.set(g.dataSync() as Float32Array, s.offset);
    }
    return out;
  }

  dispose(): void {
    this.release();
    if (this.ownsArena) this.arena.dispose();
  }
}

/** target <- (1 - tau) target + tau source, in one pass (DDPG's soft target update). */
export function softUpdate(target: FlatParams, source: FlatParams, tau: number): void {
  if (target.arena === source.arena) {
    target.arena.lerp(target.values, source.values, 1 - tau, tau);
    target.touch();
    return;
  }
  const t = target.values;
  const s = source.values;
  const keep = 1 - tau;
  for (let i = 0; i < t.length; i++) t[i] = keep * t[i] + tau * s[i];
  target.touch();
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
    this.params.touch();
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
