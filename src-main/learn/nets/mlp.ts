import type { Arena } from './simd.ts';
import { fanInBound, type FlatParams, type ParamSpec } from './params.ts';
import { bnBackward, bnForward, bnSpecs, type NormMode } from './batch-norm.ts';

/**
 * Dense layers with hand-written backward passes on the WebAssembly SIMD kernels of simd.ts: the
 * networks of DDPG, TD3 and NAF. Every array is a view of the agent's Arena (parameters, gradients
 * and scratch), so an update creates no tensors and copies nothing.
 *
 * Layout: activations row-major [rows x units]. The wasm kernels read A with any strides but want B
 * contiguous along its rows, so x^T dpre (weight gradients) costs nothing, and the input gradient
 * dpre W^T is computed transposed, dh^T = W dpre^T: the activation backward writes dpre and dpre^T
 * in one loop, and the next layer's activation backward reads dh^T. No weight matrix is ever
 * transposed. Checked against finite differences in test/unit/learn/gradients.test.ts.
 */
export type Activation = 'relu' | 'linear' | 'tanh';

export interface Layer {
  /** Parameter names of the weight [in x out] and bias [out]. */
  W: string;
  b: string;
  /** Optional second input (DDPG's action entering a critic layer): weight [extra x out]. */
  A?: string;
  in: number;
  extra?: number;
  out: number;
  act: Activation;
  /** Batch normalisation (batch-norm.ts, parameter prefix) of the layer's input x. */
  bnIn?: string;
  /** Batch normalisation of the pre-activation x W + b (not with an extra input). */
  bn?: string;
}

/** Where a forward pass keeps batch-norm scratch, and which statistics it uses (batch-norm.ts). */
export interface NormCtx {
  mode: NormMode;
  scratch: string;
}

/**
 * y = act(x W + b [+ e A]) for `rows` rows, or act(BN(x W + b)) for a layer with `bn`; `pre`
 * (optional) receives x W + b before e A is added. A layer's input normalisation (`bnIn`) is the
 * caller's (normalizeInput).
 */
export function denseForward(
  ar: Arena,
  p: FlatParams,
  L: Layer,
  x: Float32Array,
  rows: number,
  y: Float32Array,
  extra?: Float32Array,
  pre?: Float32Array,
  norm?: NormCtx,
): void {
  const W = p.view(L.W);
  const b = p.view(L.b);
  const n = L.out;
  for (let r = 0; r < rows; r++) y.set(b, r * n);
  ar.gemm(rows, n, L.in, x, L.in, 1, W, n, y, n, true);
  if (pre) pre.set(y.subarray(0, rows * n));
  if (extra && L.A) ar.gemm(rows, n, L.extra!, extra, L.extra!, 1, p.view(L.A), n, y, n, true);
  if (L.bn) bnForward(ar, p, L.bn, y, rows, n, norm?.mode ?? 'infer', norm?.scratch ?? '');
  activate(y, rows * n, L.act);
}

/** The normalised input of a layer with `bnIn`: a copy of x in the arena, normalised in place. */
export function normalizeInput(ar: Arena, p: FlatParams, L: Layer, x: Float32Array, rows: number, norm: NormCtx): Float32Array {
  const xn = ar.get(`${norm.scratch}.x`, rows * L.in);
  xn.set(x.subarray(0, rows * L.in));
  bnForward(ar, p, L.bnIn!, xn, rows, L.in, norm.mode, norm.scratch);
  return xn;
}

/**
 * From dL/dy of layer `L` (transposed, [out x rows], as denseBackward's dInT) to its dpre and
 * dpre^T: through the activation, and through the layer's batch norm when it has one (which also
 * writes the norm's gamma/beta gradients into g).
 */
export function backToPre(
  ar: Arena,
  p: FlatParams,
  g: Float32Array,
  L: Layer,
  dyT: Float32Array,
  y: Float32Array,
  rows: number,
  dpre: Float32Array,
  dpreT: Float32Array | null,
  scratch: string,
): void {
  if (!L.bn) return activationBackward(dyT, true, y, rows, L.out, L.act, dpre, dpreT);
  activationBackward(dyT, true, y, rows, L.out, L.act, dpre, null);
  bnBackward(ar, p, g, L.bn, dpre, false, rows, L.out, scratch, dpreT);
}

/**
 * From dL/dx^T [in x rows] of a first layer to dL/dx [rows x in] (into dIn, or dropped when
 * null): through its input normalisation when it has one (writing that norm's gradients into g),
 * else a transpose.
 */
export function backToInput(
  ar: Arena,
  p: FlatParams,
  g: Float32Array,
  L: Layer,
  dInT: Float32Array,
  rows: number,
  dIn: Float32Array | null,
  scratch: string,
): Float32Array | null {
  if (L.bnIn) {
    bnBackward(ar, p, g, L.bnIn, dInT, true, rows, L.in, scratch, dIn);
    return dIn;
  }
  if (dIn) transpose(dInT, L.in, rows, dIn);
  return dIn;
}

/** y = act(pre + e A): the second half of denseForward, from a saved `pre`. */
export function denseFromPre(ar: Arena, p: FlatParams, L: Layer, pre: Float32Array, e: Float32Array, rows: number, y: Float32Array): void {
  const n = L.out;
  y.set(pre.subarray(0, rows * n));
  ar.gemm(rows, n, L.extra!, e, L.extra!, 1, p.view(L.A!), n, y, n, true);
  activate(y, rows * n, L.act);
}

function activate(y: Float32Array, n: number, act: Activation): void {
  if (act === 'relu') {
    for (let i = 0; i < n; i++) if (!(y[i] > 0)) y[i] = 0;
  } else if (act === 'tanh') {
    for (let i = 0; i < n; i++) y[i] = Math.tanh(y[i]);
  }
}

/**
 * dpre = dy * act'(y) for y [rows x cols]; dy row-major, or transposed ([cols x rows]) when
 * `dyT`. Writes dpre (row-major) and, when given, dpreT (its transpose).
 */
export function activationBackward(
  dy: Float32Array,
  dyT: boolean,
  y: Float32Array,
  rows: number,
  cols: number,
  act: Activation,
  dpre: Float32Array,
  dpreT: Float32Array | null,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      let g = dyT ? dy[j * rows + r] : dy[o + j];
      const v = y[o + j];
      if (act === 'relu') g = v > 0 ? g : 0;
      else if (act === 'tanh') g *= 1 - v * v;
      dpre[o + j] = g;
      if (dpreT) dpreT[j * rows + r] = g;
    }
  }
}

export interface BackwardOut {
  /** Weight/bias gradients into g (laid out as the parameters); false: skip them. */
  weights: boolean;
  /** Gradient of the extra input (e.g. dQ/da), row-major [rows x extra], or null. */
  dExtra: Float32Array | null;
  /** dL/dx, transposed [in x rows] (what the previous layer's activationBackward reads), or null. */
  dInT: Float32Array | null;
}

/**
 * Backward through one layer given dpre (and dpre^T when an input gradient is wanted): weight
 * gradient x^T dpre, bias gradient (column sums), extra-input weight gradient e^T dpre, dx^T = W
 * dpre^T, de^T = A dpre^T.
 */
export function denseBackward(
  ar: Arena,
  p: FlatParams,
  g: Float32Array,
  L: Layer,
  x: Float32Array,
  e: Float32Array | null,
  rows: number,
  dpre: Float32Array,
  dpreT: Float32Array | null,
  out: BackwardOut,
  scratch: Float32Array | null,
): void {
  const n = L.out;
  if (out.weights) {
    const sw = p.slot(L.W);
    ar.gemm(L.in, n, rows, x, 1, L.in, dpre, n, g.subarray(sw.offset, sw.offset + sw.size), n, false);
    const sb = p.slot(L.b);
    const gb = g.subarray(sb.offset, sb.offset + sb.size);
    gb.fill(0);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      for (let j = 0; j < n; j++) gb[j] += dpre[o + j];
    }
    if (L.A && e) {
      const sa = p.slot(L.A);
      ar.gemm(L.extra!, n, rows, e, 1, L.extra!, dpre, n, g.subarray(sa.offset, sa.offset + sa.size), n, false);
    }
  }
  if (out.dInT) ar.gemm(L.in, rows, n, p.view(L.W), n, 1, dpreT!, rows, out.dInT, rows, false);
  if (out.dExtra && L.A) {
    // de^T [extra x rows] = A dpre^T, then transposed into dExtra.
    const E = L.extra!;
    ar.gemm(E, rows, n, p.view(L.A), n, 1, dpreT!, rows, scratch!, rows, false);
    for (let i = 0; i < E; i++) for (let r = 0; r < rows; r++) out.dExtra[r * E + i] = scratch![i * rows + r];
  }
}

/** Transposes src [rows x cols] into dst [cols x rows]. */
export function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) dst[j * rows + r] = src[r * cols + j];
}

/**
 * A chain of dense layers (actor, NAF torso + heads) with its scratch in the arena under `name`.
 * forward() keeps each layer's output for backward().
 */
export class Chain {
  constructor(
    readonly ar: Arena,
    readonly layers: Layer[],
    readonly name: string,
  ) {}

  private buf(what: string, i: number, n: number): Float32Array {
    return this.ar.get(`${this.name}.${what}${i}`, n);
  }

  /** Output of layer i from the last forward (rows x out). */
  output(i: number, rows: number): Float32Array {
    return this.buf('y', i, rows * this.layers[i].out);
  }

  /**
   * Runs the chain on x [rows x in]; returns the last layer's output. `mode` picks the statistics
   * of batch-normalised layers ('update' for the online network's pass in a training update).
   */
  forward(p: FlatParams, x: Float32Array, rows: number, mode: NormMode = 'infer'): Float32Array {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const L = this.layers[i];
      if (L.bnIn) h = normalizeInput(this.ar, p, L, h, rows, { mode, scratch: `${this.name}.in` });
      const y = this.output(i, rows);
      denseForward(this.ar, p, L, h, rows, y, undefined, undefined, { mode, scratch: `${this.name}.bn${i}` });
      h = y;
    }
    return h;
  }

  /**
   * Gradients into g given dL/d(output) of the last layer (row-major); returns dL/dx [rows x in]
   * when wantInput, else null. Uses the outputs of the last forward() on the same x.
   */
  backward(p: FlatParams, g: Float32Array, x: Float32Array, dOut: Float32Array, rows: number, wantInput: boolean): Float32Array | null {
    const ls = this.layers;
    const top = ls.length - 1;
    if (ls[top].bn) throw new Error('the output layer of a chain is not batch-normalised');
    // Layer i needs dL/d(its input) when a layer or a normalisation lies below it.
    const needIn = (i: number) => i > 0 || wantInput || !!ls[i].bnIn;
    let dpre = this.buf('dpre', top, rows * ls[top].out);
    let dpreT: Float32Array | null = needIn(top) ? this.buf('dpreT', top, rows * ls[top].out) : null;
    activationBackward(dOut, false, this.output(top, rows), rows, ls[top].out, ls[top].act, dpre, dpreT);
    for (let i = top; i >= 0; i--) {
      const L = ls[i];
      const input = i > 0 ? this.output(i - 1, rows) : L.bnIn ? this.ar.get(`${this.name}.in.x`, rows * L.in) : x;
      const dInT = needIn(i) ? this.buf('dhT', i, rows * L.in) : null;
      denseBackward(this.ar, p, g, L, input, null, rows, dpre, dpreT, { weights: true, dExtra: null, dInT }, null);
      if (i > 0) {
        dpre = this.buf('dpre', i - 1, rows * L.in);
        dpreT = needIn(i - 1) ? this.buf('dpreT', i - 1, rows * L.in) : null;
        backToPre(this.ar, p, g, ls[i - 1], dInT!, input, rows, dpre, dpreT, `${this.name}.bn${i - 1}`);
      } else if (dInT) {
        return backToInput(this.ar, p, g, L, dInT, rows, wantInput ? this.buf('dIn', 0, rows * L.in) : null, `${this.name}.in`);
      }
    }
    return null;
  }
}

/**
 * A plain MLP, obs -> hidden (ReLU) -> head: its parameters `l{i}.W/b` and `{head}.W/b` with the
 * DDPG supplement's inits (hidden U(+-1/sqrt(fan_in)), head U(+-finalInit)), and its layers.
 * DDPG/TD3's actor (head `out`, tanh) and NAF's network (head `heads`, linear) are both this.
 */
export function mlpSpecs(
  obs: number,
  hidden: number[],
  head: string,
  out: number,
  finalInit: number | null,
  batchNorm = false,
): ParamSpec[] {
  const specs: ParamSpec[] = batchNorm ? bnSpecs('bnIn', obs) : [];
  let fan = obs;
  hidden.forEach((h, i) => {
    specs.push({ name: `l${i}.W`, shape: [fan, h], bound: fanInBound(fan), decay: true });
    specs.push({ name: `l${i}.b`, shape: [h], bound: fanInBound(fan), decay: false });
    if (batchNorm) specs.push(...bnSpecs(`bn${i}`, h));
    fan = h;
  });
  const fb = finalInit ?? fanInBound(fan);
  specs.push({ name: `${head}.W`, shape: [fan, out], bound: fb, decay: true });
  specs.push({ name: `${head}.b`, shape: [out], bound: fb, decay: false });
  return specs;
}

/**
 * The layers of mlpSpecs; with batchNorm (DDPG's actor) the input and every hidden pre-activation
 * are normalised (parameters bnIn.*, bn{i}.*), the output layer is not.
 */
export function mlpLayers(obs: number, hidden: number[], head: string, out: number, act: Activation, batchNorm = false): Layer[] {
  const ls: Layer[] = [];
  let fan = obs;
  hidden.forEach((h, i) => {
    ls.push({ W: `l${i}.W`, b: `l${i}.b`, in: fan, out: h, act: 'relu', ...(batchNorm ? { bn: `bn${i}` } : {}) });
    fan = h;
  });
  ls.push({ W: `${head}.W`, b: `${head}.b`, in: fan, out, act });
  if (batchNorm) ls[0].bnIn = 'bnIn';
  return ls;
}
