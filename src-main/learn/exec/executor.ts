import type * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../nets/params.ts';
import type { Activation, Layer, NormCtx } from '../nets/mlp.ts';

/**
 * The device-neutral network primitives the agents' updates are written against, over opaque
 * handles: float buffers (Buf), parameter sets (Params) and Adam optimizers. Two executors
 * implement them:
 * - `wasm` (arena-exec.ts): the hand-written WebAssembly SIMD arena (simd.ts). Buffers are named
 *   regions of one memory, reads are zero-copy views, an update allocates nothing.
 * - TF.js (tf-exec.ts) on whichever TF.js backend is active (`webgpu`, `tensorflow`, `cpu`): every
 *   buffer holds one tensor, replaced (and the old one disposed) by each op writing it, so nothing
 *   leaks and no tf.tidy scope spans an update.
 *
 * Writes are destination-passing (the caller names the output buffer) so that the arena keeps its
 * fixed layout. Dense layers carry the same `Layer` description as mlp.ts; the input gradient a
 * backward pass produces is an executor's own layout (the arena keeps it transposed, which makes
 * the next GEMM free): only pass it on to activationBackward/backToPre/backToInput, or read it.
 */
export type ExecutorName = 'wasm' | 'tensorflow' | 'webgpu' | 'cpu';

/** A float buffer of one executor; `n` floats. */
export interface Buf {
  readonly name: string;
  readonly n: number;
}

/** A network's parameters, one tensor per ParamSpec (weights [in x out], biases [out]). */
export interface Params {
  readonly specs: readonly ParamSpec[];
  /** Total floats, the length of readParams(). */
  readonly size: number;
}

/** Adam (Kingma & Ba 2015) state of one parameter set; L2 decay `l2` on slots with `decay`. */
export interface AdamOptimizer {
  readonly params: Params;
  lr: number;
  readonly l2: number;
  /** Steps taken. */
  t: number;
}

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  t: number;
}

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;

/** What a backward pass through one dense layer should produce besides (optionally) weight gradients. */
export interface DenseGrads {
  /** dL/dx (the executor's layout), or null. */
  dIn: Buf | null;
  /** dL/de of the extra input, row-major [rows x extra], or null. */
  dExtra: Buf | null;
}

export interface Executor {
  readonly name: ExecutorName;
  /** Whether read() can answer synchronously (Dawn in Node reads GPU memory only asynchronously). */
  readonly syncRead: boolean;

  /** The named buffer of n floats (zeros when new; the same buffer for the same name). */
  buffer(name: string, n: number): Buf;
  /** dst[0..src.length) <- src. */
  write(dst: Buf, src: Float32Array): void;
  fill(dst: Buf, value: number): void;
  /** The buffer's values, row-major. The arena hands out its view: copy what you keep. */
  read(src: Buf): Float32Array;
  readAsync(src: Buf): Promise<Float32Array>;

  /** A parameter set, zero-filled. */
  params(specs: ParamSpec[]): Params;
  /** All values, slot after slot in spec order (the checkpoint layout). */
  readParams(p: Params): Float32Array;
  readParamsAsync(p: Params): Promise<Float32Array>;
  writeParams(p: Params, values: Float32Array): void;
  copyParams(dst: Params, src: Params): void;
  /** target <- (1 - tau) target + tau source (DDPG's soft target update). */
  softUpdate(target: Params, source: Params, tau: number): void;
  adam(params: Params, lr: number, l2?: number): AdamOptimizer;
  /** One Adam step with gradients `grads` (a Params of the same specs), fused with L2 decay. */
  adamStep(opt: AdamOptimizer, grads: Params): void;
  readAdam(opt: AdamOptimizer): AdamState;
  readAdamAsync(opt: AdamOptimizer): Promise<AdamState>;
  writeAdam(opt: AdamOptimizer, state: AdamState): void;

  /** y = act(x W + b [+ e A]) (or act(BN(x W + b)) for a layer with `bn`); `pre` gets x W + b. */
  denseForward(p: Params, L: Layer, x: Buf, rows: number, y: Buf, extra?: Buf, pre?: Buf, norm?: NormCtx): void;
  /** y = act(pre + e A): the second half of denseForward from a saved `pre`. */
  denseFromPre(p: Params, L: Layer, pre: Buf, e: Buf, rows: number, y: Buf): void;
  /** The batch-normalised input of a first layer with `bnIn`. */
  normalizeInput(p: Params, L: Layer, x: Buf, rows: number, norm: NormCtx): Buf;
  /**
   * dpre = dy * act'(y), y [rows x cols]; dy row-major or as a backward pass left it. `forInput`:
   * the caller will ask denseBackward for dIn or dExtra from this dpre.
   */
  activationBackward(dy: Buf, y: Buf, rows: number, cols: number, act: Activation, dpre: Buf, forInput: boolean): void;
  /** From dL/dy of layer L (denseBackward's dIn of the layer above) to its dpre, through its batch norm when it has one. */
  backToPre(p: Params, g: Params, L: Layer, dy: Buf, y: Buf, rows: number, dpre: Buf, forInput: boolean, scratch: string): void;
  /** From a first layer's dIn to dL/dx row-major (into dx; null drops it), through its input normalisation. */
  backToInput(p: Params, g: Params, L: Layer, dIn: Buf, rows: number, dx: Buf | null, scratch: string): Buf | null;
  /** Weight gradients into g (null: none), and the input/extra-input gradients asked for. */
  denseBackward(p: Params, g: Params | null, L: Layer, x: Buf, e: Buf | null, rows: number, dpre: Buf, out: DenseGrads): void;

  /**
   * y = r + discount * (min(qA, qB) - alpha logp) (qB null: qA; entropy absent: no alpha term), per
   * row: the TD target (SAC's soft one with `entropy`).
   */
  tdTarget(y: Buf, rewards: Buf, discounts: Buf, qA: Buf, qB: Buf | null, rows: number, entropy?: { logp: Buf; alpha: number }): void;
  /** dq = 2 w (q - y) / rows: the gradient of mean w (q - y)^2 (weights null: 1). */
  squaredErrorGrad(dq: Buf, q: Buf, y: Buf, weights: Buf | null, rows: number): void;
  /**
   * SAC's squashed Gaussian (exec/squashed-gaussian.ts): from actor outputs [rows x 2A] and noise
   * eps [rows x A], actions tanh(mu + sigma eps), sigma [rows x A] and log pi [rows].
   */
  squashedGaussian(out: Buf, eps: Buf, rows: number, A: number, actions: Buf, logp: Buf, sigma: Buf): void;
  /** dL/d(out) [rows x 2A] of mean(alpha log pi - min(qA, qB)) given each critic's d(-mean Q)/da (dA, dB). */
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
  ): void;
  /**
   * NAF's quadratic head (exec/naf-head.ts): from head outputs [rows x H] (V | pre-tanh mu | packed
   * L) and actions [rows x n], Q per row into q and dLoss/dHeads (row-major) into dHeads, for the
   * loss mean w (Q - y)^2 (weights null: 1).
   */
  nafQuadratic(heads: Buf, actions: Buf, y: Buf, weights: Buf | null, rows: number, n: number, dHeads: Buf, q: Buf): void;
  /** dst[r] <- src[r * cols + c] for r < rows: one column of a row-major matrix. */
  column(src: Buf, rows: number, cols: number, c: number, dst: Buf): void;
  /** a <- clamp(a + noise, lo, hi) over n floats. */
  addClamped(a: Buf, noise: Buf, n: number, lo: number, hi: number): void;
  /**
   * y <- y + alpha shrink(x) over n floats, shrink(x) = sign(x) max(|x| - margin, 0) (the soft
   * threshold; margin 0: y + alpha x).
   */
  axpy(y: Buf, x: Buf, alpha: number, n: number, margin?: number): void;

  /**
   * dst <- a TF.js tensor's values (a pixel torso's features). The TF.js executor takes the tensor
   * itself, on the device; the arena copies its values in. Call inside tf.tidy.
   */
  fromTensor(dst: Buf, t: tf.Tensor): void;
  /** The first rows x cols values of src (row-major) as a TF.js tensor, e.g. the feature gradient a torso trains on. Call inside tf.tidy. */
  toTensor(src: Buf, rows: number, cols: number): tf.Tensor2D;

  /** Releases everything this executor holds. */
  dispose(): void;
}

/**
 * Reads wanted at the end of a step (buffers, or whole parameter sets), and what to make of them:
 * lets one code path run synchronously or, where the device reads only asynchronously, awaited.
 */
export interface Pending<T> {
  reads: (Buf | Params)[];
  finish(values: Float32Array[]): T;
}

const isParams = (x: Buf | Params): x is Params => 'specs' in x;

export function resolve<T>(exec: Executor, p: Pending<T>): T {
  return p.finish(p.reads.map((x) => (isParams(x) ? exec.readParams(x) : exec.read(x))));
}

export async function resolveAsync<T>(exec: Executor, p: Pending<T>): Promise<T> {
  return p.finish(await Promise.all(p.reads.map((x) => (isParams(x) ? exec.readParamsAsync(x) : exec.readAsync(x)))));
}

export function specSize(s: ParamSpec): number {
  return s.shape.reduce((a, b) => a * b, 1);
}
