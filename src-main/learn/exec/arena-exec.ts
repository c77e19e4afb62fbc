import { Arena } from '../nets/simd.ts';
import { Adam, FlatParams, softUpdate, type ParamSpec } from '../nets/params.ts';
import {
  activationBackward,
  backToInput,
  backToPre,
  denseBackward,
  denseForward,
  denseFromPre,
  normalizeInput,
  transpose,
  type Activation,
  type Layer,
  type NormCtx,
} from '../nets/mlp.ts';
import { squashedGaussian, squashedGaussianBackward } from './squashed-gaussian.ts';
import { nafQuadratic } from './naf-head.ts';
import { tensorValues } from './tensor-values.ts';
import * as tf from '@tensorflow/tfjs';
import type { AdamOptimizer, AdamState, Buf, DenseGrads, Executor, Params } from './executor.ts';

/**
 * The `wasm` executor: the primitives of executor.ts on one WebAssembly SIMD Arena (simd.ts), with
 * the dense kernels of mlp.ts. A buffer is a named arena region; reading it is a view (zero copy);
 * an update allocates no arena memory once its regions exist (agents lay them out up front).
 *
 * Layouts kept from mlp.ts for speed: a layer's input gradient is left transposed ([in x rows],
 * what the next activation backward reads), and an activation backward asked `forInput` also
 * writes dpre^T next to dpre, so no weight matrix and no gradient is ever transposed on the way.
 */
class ArenaBuf implements Buf {
  /** Stored as its transpose [cols x rows] (a backward pass's input gradient). */
  transposed: { rows: number; cols: number } | null = null;
  /** dpre^T is valid in the companion region `${name}~T`. */
  hasT = false;
  constructor(
    readonly name: string,
    readonly n: number,
  ) {}
}

class ArenaParams implements Params {
  constructor(
    readonly specs: readonly ParamSpec[],
    readonly flat: FlatParams,
  ) {}
  get size(): number {
    return this.flat.size;
  }
}

class ArenaAdam implements AdamOptimizer {
  constructor(
    readonly params: ArenaParams,
    readonly impl: Adam,
  ) {}
  get lr(): number {
    return this.impl.lr;
  }
  set lr(v: number) {
    this.impl.lr = v;
  }
  get l2(): number {
    return this.impl.l2;
  }
  get t(): number {
    return this.impl.t;
  }
  set t(v: number) {
    this.impl.t = v;
  }
}

const NO_GRADS = new Float32Array(0);

export class ArenaExecutor implements Executor {
  readonly name = 'wasm' as const;
  readonly syncRead = true;
  private readonly bufs = new Map<string, ArenaBuf>();

  constructor(readonly ar: Arena) {}

  /** An executor on a new arena of `bytes` (it grows as regions are asked for). */
  static create(bytes: number): ArenaExecutor {
    return new ArenaExecutor(new Arena(bytes));
  }

  buffer(name: string, n: number): Buf {
    let b = this.bufs.get(name);
    if (!b || b.n !== n) {
      b = new ArenaBuf(name, n);
      this.bufs.set(name, b);
      // Lays the region out now (the arena may grow here, never inside an op).
      this.ar.get(name, n);
    }
    return b;
  }

  /** The arena view of a buffer (row-major unless a backward pass left it transposed). */
  view(b: Buf): Float32Array {
    return this.ar.get(b.name, b.n);
  }

  write(dst: Buf, src: Float32Array): void {
    (dst as ArenaBuf).transposed = null;
    this.view(dst).set(src.length > dst.n ? src.subarray(0, dst.n) : src);
  }

  fill(dst: Buf, value: number): void {
    (dst as ArenaBuf).transposed = null;
    this.view(dst).fill(value);
  }

  read(src: Buf): Float32Array {
    const b = src as ArenaBuf;
    if (!b.transposed) return this.view(b);
    const rowsView = this.ar.get(`${b.name}~rows`, b.n);
    transpose(this.view(b), b.transposed.cols, b.transposed.rows, rowsView);
    return rowsView;
  }

  readAsync(src: Buf): Promise<Float32Array> {
    return Promise.resolve(this.read(src));
  }

  params(specs: ParamSpec[]): Params {
    return new ArenaParams(specs, new FlatParams(specs, this.ar));
  }

  /** The FlatParams behind a parameter set (the arena-only parts: batch norm, tests). */
  flat(p: Params): FlatParams {
    return (p as ArenaParams).flat;
  }

  readParams(p: Params): Float32Array {
    return this.flat(p).values;
  }

  readParamsAsync(p: Params): Promise<Float32Array> {
    return Promise.resolve(this.readParams(p));
  }

  writeParams(p: Params, values: Float32Array): void {
    this.flat(p).values.set(values.subarray(0, p.size));
  }

  copyParams(dst: Params, src: Params): void {
    this.flat(dst).copyFrom(this.flat(src));
  }

  softUpdate(target: Params, source: Params, tau: number): void {
    softUpdate(this.flat(target), this.flat(source), tau);
  }

  adam(params: Params, lr: number, l2 = 0): AdamOptimizer {
    return new ArenaAdam(params as ArenaParams, new Adam(this.flat(params), lr, l2));
  }

  adamStep(opt: AdamOptimizer, grads: Params): void {
    (opt as ArenaAdam).impl.step(this.flat(grads).values);
  }

  readAdam(opt: AdamOptimizer): AdamState {
    return (opt as ArenaAdam).impl.getState();
  }

  readAdamAsync(opt: AdamOptimizer): Promise<AdamState> {
    return Promise.resolve(this.readAdam(opt));
  }

  writeAdam(opt: AdamOptimizer, state: AdamState): void {
    (opt as ArenaAdam).impl.setState(state);
  }

  /** The decay coefficient per parameter of an optimizer (diagnostics). */
  decay(opt: AdamOptimizer): Float32Array {
    return (opt as ArenaAdam).impl.decay;
  }

  denseForward(p: Params, L: Layer, x: Buf, rows: number, y: Buf, extra?: Buf, pre?: Buf, norm?: NormCtx): void {
    (y as ArenaBuf).transposed = null;
    denseForward(this.ar, this.flat(p), L, this.view(x), rows, this.view(y), extra && this.view(extra), pre && this.view(pre), norm);
  }

  denseFromPre(p: Params, L: Layer, pre: Buf, e: Buf, rows: number, y: Buf): void {
    (y as ArenaBuf).transposed = null;
    denseFromPre(this.ar, this.flat(p), L, this.view(pre), this.view(e), rows, this.view(y));
  }

  normalizeInput(p: Params, L: Layer, x: Buf, rows: number, norm: NormCtx): Buf {
    normalizeInput(this.ar, this.flat(p), L, this.view(x), rows, norm);
    return this.buffer(`${norm.scratch}.x`, rows * L.in);
  }

  activationBackward(dy: Buf, y: Buf, rows: number, cols: number, act: Activation, dpre: Buf, forInput: boolean): void {
    const d = dpre as ArenaBuf;
    d.transposed = null;
    d.hasT = forInput && cols > 1;
    activationBackward(
      this.view(dy),
      (dy as ArenaBuf).transposed !== null,
      this.view(y),
      rows,
      cols,
      act,
      this.view(dpre),
      d.hasT ? this.ar.get(`${d.name}~T`, d.n) : null,
    );
  }

  backToPre(p: Params, g: Params, L: Layer, dy: Buf, y: Buf, rows: number, dpre: Buf, forInput: boolean, scratch: string): void {
    if (!L.bn) return this.activationBackward(dy, y, rows, L.out, L.act, dpre, forInput);
    if (!(dy as ArenaBuf).transposed) throw new Error('backToPre: the gradient is not a backward pass output');
    const d = dpre as ArenaBuf;
    d.transposed = null;
    d.hasT = forInput && L.out > 1;
    backToPre(
      this.ar,
      this.flat(p),
      this.flat(g).values,
      L,
      this.view(dy),
      this.view(y),
      rows,
      this.view(dpre),
      d.hasT ? this.ar.get(`${d.name}~T`, d.n) : null,
      scratch,
    );
  }

  backToInput(p: Params, g: Params, L: Layer, dIn: Buf, rows: number, dx: Buf | null, scratch: string): Buf | null {
    if (!(dIn as ArenaBuf).transposed) throw new Error('backToInput: the gradient is not a backward pass output');
    if (dx) (dx as ArenaBuf).transposed = null;
    backToInput(this.ar, this.flat(p), this.flat(g).values, L, this.view(dIn), rows, dx && this.view(dx), scratch);
    return dx;
  }

  /** dpre^T: the companion written by activationBackward, dpre itself for one unit, else a transpose now. */
  private dpreT(dpre: ArenaBuf, rows: number, cols: number): Float32Array {
    if (cols === 1) return this.view(dpre);
    const t = this.ar.get(`${dpre.name}~T`, dpre.n);
    if (!dpre.hasT) {
      transpose(this.view(dpre), rows, cols, t);
      dpre.hasT = true;
    }
    return t;
  }

  denseBackward(p: Params, g: Params | null, L: Layer, x: Buf, e: Buf | null, rows: number, dpre: Buf, out: DenseGrads): void {
    const d = dpre as ArenaBuf;
    const wantT = out.dIn !== null || out.dExtra !== null;
    const dpreT = wantT ? this.dpreT(d, rows, L.out) : null;
    if (out.dIn) (out.dIn as ArenaBuf).transposed = { rows, cols: L.in };
    if (out.dExtra) (out.dExtra as ArenaBuf).transposed = null;
    const scratch = out.dExtra ? this.ar.get(`${d.name}~eT`, rows * L.extra!) : null;
    denseBackward(
      this.ar,
      this.flat(p),
      g ? this.flat(g).values : NO_GRADS,
      L,
      this.view(x),
      e && this.view(e),
      rows,
      this.view(dpre),
      dpreT,
      { weights: g !== null, dExtra: out.dExtra && this.view(out.dExtra), dInT: out.dIn && this.view(out.dIn) },
      scratch,
    );
  }

  tdTarget(y: Buf, rewards: Buf, discounts: Buf, qA: Buf, qB: Buf | null, rows: number, entropy?: { logp: Buf; alpha: number }): void {
    const yv = this.view(y);
    const r = this.view(rewards);
    const d = this.view(discounts);
    const a = this.view(qA);
    const b = qB ? this.view(qB) : a;
    if (!entropy) {
      for (let i = 0; i < rows; i++) yv[i] = r[i] + d[i] * Math.min(a[i], b[i]);
      return;
    }
    const lp = this.view(entropy.logp);
    for (let i = 0; i < rows; i++) yv[i] = r[i] + d[i] * (Math.min(a[i], b[i]) - entropy.alpha * lp[i]);
  }

  squashedGaussian(out: Buf, eps: Buf, rows: number, A: number, actions: Buf, logp: Buf, sigma: Buf): void {
    for (const b of [actions, logp, sigma]) (b as ArenaBuf).transposed = null;
    squashedGaussian(
      this.view(out),
      this.view(eps),
      rows,
      A,
      this.view(actions),
      this.view(logp),
      this.ar.get(`${actions.name}~u`, rows * A),
      this.view(sigma),
    );
  }

  squashedGaussianBackward(
    dOut: Buf,
    out: Buf,
    eps: Buf,
    actions: Buf,
    sigma: Buf,
    qA: Buf,
    qB: Buf,
    dA: Buf,
    dB: Buf,
    alpha: number,
    rows: number,
    A: number,
  ): void {
    (dOut as ArenaBuf).transposed = null;
    const v = (b: Buf) => this.view(b);
    squashedGaussianBackward(
      { out: v(out), eps: v(eps), actions: v(actions), sigma: v(sigma), qA: v(qA), qB: v(qB), dA: v(dA), dB: v(dB), alpha, rows, A },
      v(dOut),
    );
  }

  squaredErrorGrad(dq: Buf, q: Buf, y: Buf, weights: Buf | null, rows: number): void {
    const out = this.view(dq);
    const qv = this.view(q);
    const yv = this.view(y);
    const w = weights ? this.view(weights) : null;
    for (let i = 0; i < rows; i++) out[i] = (2 * (w ? w[i] : 1) * (qv[i] - yv[i])) / rows;
  }

  nafQuadratic(heads: Buf, actions: Buf, y: Buf, weights: Buf | null, rows: number, n: number, dHeads: Buf, q: Buf): void {
    for (const b of [dHeads, q]) (b as ArenaBuf).transposed = null;
    const v = (b: Buf) => this.view(b);
    nafQuadratic(v(heads), n, rows, v(actions), v(y), weights && v(weights), v(dHeads), v(q));
  }

  column(src: Buf, rows: number, cols: number, c: number, dst: Buf): void {
    (dst as ArenaBuf).transposed = null;
    const s = this.view(src);
    const d = this.view(dst);
    for (let r = 0; r < rows; r++) d[r] = s[r * cols + c];
  }

  addClamped(a: Buf, noise: Buf, n: number, lo: number, hi: number): void {
    const av = this.view(a);
    const nv = this.view(noise);
    for (let i = 0; i < n; i++) av[i] = Math.max(lo, Math.min(hi, av[i] + nv[i]));
  }

  axpy(y: Buf, x: Buf, alpha: number, n: number, margin = 0): void {
    if ((y as ArenaBuf).transposed || (x as ArenaBuf).transposed) throw new Error('axpy: a backward pass output is not row-major');
    // y's transposed copy (an activation backward's dpre^T) no longer matches it.
    (y as ArenaBuf).hasT = false;
    const yv = this.view(y);
    const xv = this.view(x);
    if (margin === 0) {
      for (let i = 0; i < n; i++) yv[i] += alpha * xv[i];
      return;
    }
    for (let i = 0; i < n; i++) {
      const v = xv[i];
      if (v > margin) yv[i] += alpha * (v - margin);
      else if (v < -margin) yv[i] += alpha * (v + margin);
    }
  }

  fromTensor(dst: Buf, t: tf.Tensor): void {
    this.write(dst, tensorValues(t));
  }

  toTensor(src: Buf, rows: number, cols: number): tf.Tensor2D {
    return tf.tensor2d(this.read(src).slice(0, rows * cols), [rows, cols]);
  }

  dispose(): void {
    this.ar.dispose();
  }
}
