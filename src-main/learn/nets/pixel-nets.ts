import * as tf from '@tensorflow/tfjs';
import type { EncoderFactory, ObsEncoder } from './encoder.ts';
import { Adam, FlatParams, fanInBound, softUpdate, type ParamSpec } from './params.ts';
import { Rng } from '../../util/rng.ts';
import { col2im, convBackwardGemm, convDims, convForwardGemm, transposeMatrix, type ConvDims } from './conv.ts';
import { Arena } from './simd.ts';
import { CONV_TORSOS, DEFAULT_CONV_TORSO, type ConvLayerSpec } from './conv-torsos.ts';
import { TfExecutor, setTfParamTensor, tfParamTensor } from '../exec/tf-exec.ts';
import { tensorValues } from '../exec/tensor-values.ts';
import type { AdamOptimizer, AdamState, Params } from '../exec/executor.ts';

/**
 * The DDPG paper's pixel networks (Lillicrap et al. 2015, supplement 7): 3 convolutional layers of
 * 32 filters without pooling, then 2 fully connected layers of 200 units; actions enter the critic
 * at the fully connected layers; final layer U(-3e-4, 3e-4); minibatch 16. The conv layers are the
 * pluggable torso (ObsEncoder) of the learn engine's DDPG/TD3/NAF; the fully connected layers are
 * the agents' own dense heads with the sizes of their pixel defaults (learn/algos/<id>/spec.ts).
 *
 * Kernel sizes and strides are not given by the paper. The defaults (PIXEL_CONV_DEFAULTS, the 'fast'
 * torso of conv-torsos.ts: 4x4 stride 4, 3x3 stride 2, 3x3 stride 1; on 64x64: 16x16 -> 7x7 -> 5x5
 * x 32 = 800 features) were picked for speed on the wasm backend (then four conv forwards and two
 * backwards per DDPG update): measured on this machine under load, 3x3/2, 3x3/2, 3x3/1 (5408
 * features) made an update ~3.5x slower. They are a configuration, not the paper's; a run picks
 * its torso with `pixels.conv`.
 *
 * Deviation, written down: by default DDPG's actor has no conv torso of its own but reads the
 * critic's, detached (DetachedEncoder, as DrQ-v2 and SAC-AE), where the paper trains a separate
 * actor torso by the actor's gradient (actorEncoder 'own' keeps that, and TD3's twin critics then
 * own a torso each).
 *
 * Optional feature trunk (`trunk` units; off by default, not in the paper): a dense layer + tanh on
 * the flattened conv output, part of the torso (so the actor reads it detached, as SAC-AE's
 * encoder). Without it the heads' first layers see ~800 unbounded conv features, and Adam, whose
 * step per weight is about the learning rate whatever the gradient's size, moves their outputs by
 * ~lr x sum|features| per update: measured with a reward of -0.2 a^2 alone, the pixel actor swung
 * between 0.07 and 0.96 every 100 updates where the state actor settled at 0; with a 50-unit trunk
 * it settles like the state actor.
 *
 * Observations are rows of height x width x channels values in [0, 1] (NHWC; channels = 3 RGB x
 * the number of stacked frames).
 */
export type { ConvLayerSpec } from './conv-torsos.ts';

export interface PixelShape {
  height: number;
  width: number;
  /** 3 x stacked frames (the paper: 9). */
  channels: number;
}

export interface PixelEncoderConfig extends PixelShape {
  layers: readonly ConvLayerSpec[];
  /** Adam learning rate when the agent does not say which network the encoder belongs to. */
  lr: number;
  /** Seed of the encoders' weight initialisation (each encoder made forks its own stream). */
  seed: number;
  /** Units of the feature trunk after the conv layers (dense + tanh); 0: none (see PixelEncoder). */
  trunk?: number;
  /** LayerNorm in the trunk (dense -> LN -> tanh). */
  trunkNorm?: boolean;
  /**
   * Which conv kernels: 'native' (TensorFlow.js's, TensorConvEncoder) or 'arena' (the GEMMs of
   * PixelEncoder). Default: native on the tensorflow (tfjs-node, -gpu) and webgpu backends, arena elsewhere.
   */
  kernels?: 'native' | 'arena';
}

/** Which network an encoder serves, so it trains at that network's learning rate. */
export interface EncoderRole {
  network: 'actor' | 'critic' | 'q';
  lr: number;
  /** L2 decay on the conv weights (the critic's, when the agent wants it applied). */
  l2?: number;
}

/** Paper: 3 conv layers x 32 filters, no pooling. Kernels/strides: our choice (see file comment). */
export const PIXEL_CONV_DEFAULTS: readonly ConvLayerSpec[] = CONV_TORSOS[DEFAULT_CONV_TORSO];

/** The conv stack's per-layer geometry for an input shape; throws when the input is too small. */
export function pixelConvDims(shape: PixelShape, layers: readonly ConvLayerSpec[]): ConvDims[] {
  const dims: ConvDims[] = [];
  let h = shape.height;
  let w = shape.width;
  let c = shape.channels;
  for (const l of layers) {
    const d = convDims({ inH: h, inW: w, inC: c, kernel: l.kernel, stride: l.stride, outC: l.filters });
    dims.push(d);
    h = d.outH;
    w = d.outW;
    c = l.filters;
  }
  return dims;
}

/** Variance epsilon of the trunk's LayerNorm (PyTorch's default); the exported graphs use the same. */
export const LAYER_NORM_EPS = 1e-5;

/** A conv torso's geometry and parameter slots (the same layout on every executor and in checkpoints). */
export interface ConvTorsoLayout {
  dims: ConvDims[];
  /** Flattened size of the last conv layer's output. */
  convOut: number;
  outSize: number;
  inSize: number;
  specs: ParamSpec[];
}

export function convTorsoLayout(shape: PixelShape, layers: readonly ConvLayerSpec[], trunk: number, trunkNorm: boolean): ConvTorsoLayout {
  const dims = pixelConvDims(shape, layers);
  const last = dims[dims.length - 1];
  const convOut = last.outH * last.outW * last.outC;
  const specs: ParamSpec[] = [];
  dims.forEach((d, i) => {
    // DDPG supplement 7: U(-1/sqrt(fan_in), +) for hidden layers; stored [K, cout] (the filter's memory order).
    specs.push({ name: `c${i}.W`, shape: [d.K, d.outC], bound: fanInBound(d.K), decay: true });
    specs.push({ name: `c${i}.b`, shape: [d.outC], bound: fanInBound(d.K), decay: false });
  });
  if (trunk > 0) {
    specs.push({ name: 't.W', shape: [convOut, trunk], bound: fanInBound(convOut), decay: true });
    specs.push({ name: 't.b', shape: [trunk], bound: fanInBound(convOut), decay: false });
    if (trunkNorm) {
      specs.push({ name: 'ln.g', shape: [trunk], bound: 0, decay: false, fill: 1 });
      specs.push({ name: 'ln.b', shape: [trunk], bound: 0, decay: false, fill: 0 });
    }
  }
  return { dims, convOut, outSize: trunk > 0 ? trunk : convOut, inSize: shape.height * shape.width * shape.channels, specs };
}

/** A torso's checkpoint state: its weights and Adam moments, flat in the parameter layout. */
function torsoState(params: Float32Array, adam: AdamState): Record<string, { shape: number[]; data: Float32Array }> {
  const n = params.length;
  return {
    params: { shape: [n], data: params },
    'adam.m': { shape: [n], data: adam.m },
    'adam.v': { shape: [n], data: adam.v },
    'adam.t': { shape: [1], data: Float32Array.of(adam.t) },
  };
}

/** A torso's checkpoint state checked against its parameter count. */
function checkTorsoState(
  state: Record<string, { shape: number[]; data: Float32Array }>,
  n: number,
): { params: Float32Array; adam: AdamState } {
  const get = (k: string, len: number) => {
    const t = state[k];
    if (!t || t.data.length !== len)
      throw new Error(`pixel encoder state '${k}' is missing or has the wrong size (the conv layers differ?)`);
    return t.data;
  };
  return { params: get('params', n), adam: { m: get('adam.m', n), v: get('adam.v', n), t: get('adam.t', 1)[0] } };
}

/**
 * A conv torso: PixelEncoder (arena GEMMs) or TensorConvEncoder (TF.js tensors on the device); the
 * same network, parameter layout and checkpoint state.
 */
export interface ConvEncoder extends ObsEncoder {
  readonly shape: PixelShape;
  readonly inSize: number;
  readonly dims: ConvDims[];
  readonly convOut: number;
  readonly params: { readonly size: number };
  /**
   * Features for a reader that does not train this torso (DetachedEncoder): when the torso's last
   * fresh forward was of these observations it is returned even if one optimizer step of the
   * torso came after it (DrQ-v2: the actor reads the features the critic step was computed from).
   */
  encodeDetached(obs: tf.Tensor2D): tf.Tensor2D;
  /** The weights, flat in the parameter layout (a copy, read synchronously). */
  readParams(): Float32Array;
  /** dL/dW for the batch given dL/d(features), flat in the parameter layout (read synchronously). */
  gradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D, out?: Float32Array): Float32Array;
}

/**
 * Conv torso as an ObsEncoder: weights in one FlatParams (flat Adam, soft updates and checkpoints
 * as the dense heads) in the encoder's own Arena, where forward and backward run as GEMMs (conv.ts)
 * without tensors. The forward of the last encode() stays in the arena (input copy and layer
 * outputs): applyGradient() on the same observations reuses it, and so does a
 * DetachedEncoder reading this torso (see there).
 */
export class PixelEncoder implements ConvEncoder {
  readonly syncReads = 'the arena conv torso reads its input tensors synchronously (kernels: native runs it on the device)';
  /** False at learning rate 0 (a frozen torso): the agent then skips its input gradient. */
  readonly trainable: boolean;
  readonly outSize: number;
  readonly inSize: number;
  readonly dims: ConvDims[];
  /** Flattened size of the last conv layer's output. */
  readonly convOut: number;
  readonly params: FlatParams;
  readonly opt: Adam;
  private readonly ar: Arena;
  private readonly key = Arena.uid('conv');
  private rowsCap = 0;
  /** Rows of the forward held in the arena; 0: none. */
  private held = 0;
  /** Whether the held forward was computed with the current weights. */
  private heldFresh = false;

  constructor(
    readonly shape: PixelShape,
    readonly layers: readonly ConvLayerSpec[],
    rng: Rng,
    lr: number,
    l2 = 0,
    readonly trunk = 0,
    /** LayerNorm between the trunk's dense layer and its tanh (DrQ-v2, SAC-AE): dense -> LN -> tanh. */
    readonly trunkNorm = false,
  ) {
    const layout = convTorsoLayout(shape, layers, trunk, trunkNorm);
    ({ dims: this.dims, convOut: this.convOut, outSize: this.outSize, inSize: this.inSize } = layout);
    const specs = layout.specs;
    const size = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    this.ar = new Arena(4 * 6 * size + (1 << 20));
    this.params = new FlatParams(specs, this.ar);
    this.params.init(rng);
    this.opt = new Adam(this.params, lr, l2);
    this.trainable = lr > 0;
    this.ar.get(`${this.key}.grad`, size);
  }

  /** Lays out the arena regions for batches of up to `rows` rows (growing the arena detaches views: never mid-computation). */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.held = 0;
    this.rowsCap = rows;
    const k = this.key;
    this.ar.get(`${k}.x`, rows * this.inSize);
    let dcols = 0;
    let wT = 0;
    this.dims.forEach((d, i) => {
      const N = rows * d.P;
      this.ar.get(`${k}.y${i}`, N * d.outC);
      this.ar.get(`${k}.dy${i}`, N * d.outC);
      if (i > 0) dcols = Math.max(dcols, N * d.K);
      wT = Math.max(wT, d.K * d.outC);
    });
    if (this.trunk > 0) {
      this.ar.get(`${k}.t`, rows * this.trunk);
      this.ar.get(`${k}.dt`, rows * this.trunk);
      if (this.trunkNorm) {
        this.ar.get(`${k}.zh`, rows * this.trunk);
        this.ar.get(`${k}.rs`, rows);
      }
      wT = Math.max(wT, this.convOut * this.trunk);
    }
    this.ar.get(`${k}.dcols`, dcols);
    this.ar.get(`${k}.wT`, wT);
  }

  private rowsOf(obs: tf.Tensor2D): number {
    if (obs.shape[1] !== this.inSize) {
      throw new Error(
        `pixel encoder expects ${this.shape.height}x${this.shape.width}x${this.shape.channels} observations, got rows of ${obs.shape[1]}`,
      );
    }
    return obs.shape[0];
  }

  /** Whether the held forward's input is `data` (rows x inSize values; compared as bytes, natively). */
  private holds(data: Float32Array, rows: number): boolean {
    if (this.held !== rows) return false;
    const x = this.ar.get(`${this.key}.x`, rows * this.inSize);
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, x.byteLength));
  }

  /** Runs the forward on `data` with the current weights unless it is held already. */
  private ensureForward(data: Float32Array, rows: number, fresh: boolean): void {
    if (this.holds(data, rows) && (this.heldFresh || !fresh)) return;
    this.reserve(rows);
    let x = this.ar.get(`${this.key}.x`, rows * this.inSize);
    x.set(data.subarray(0, rows * this.inSize));
    this.dims.forEach((d, i) => {
      const y = this.ar.get(`${this.key}.y${i}`, rows * d.P * d.outC);
      convForwardGemm(this.ar, x, rows, d, this.params.view(`c${i}.W`), this.params.view(`c${i}.b`), y, 'relu');
      x = y;
    });
    if (this.trunk > 0) {
      // Trunk: t = tanh(x W + b) on the flattened conv features (rows x convOut, NHWC order).
      const F = this.trunk;
      const t = this.ar.get(`${this.key}.t`, rows * F);
      this.ar.gemm(rows, F, this.convOut, x, this.convOut, 1, this.params.view('t.W'), F, t, F, false);
      const b = this.params.view('t.b');
      if (this.trunkNorm) {
        // LayerNorm over the F units of each row: zh = (z - mean) / sqrt(var + eps), t = tanh(g zh + beta).
        const zh = this.ar.get(`${this.key}.zh`, rows * F);
        const rs = this.ar.get(`${this.key}.rs`, rows);
        const g = this.params.view('ln.g');
        const beta = this.params.view('ln.b');
        for (let r = 0; r < rows; r++) {
          const o = r * F;
          let mean = 0;
          for (let j = 0; j < F; j++) {
            t[o + j] += b[j];
            mean += t[o + j];
          }
          mean /= F;
          let v = 0;
          for (let j = 0; j < F; j++) v += (t[o + j] - mean) ** 2;
          const inv = 1 / Math.sqrt(v / F + LAYER_NORM_EPS);
          rs[r] = inv;
          for (let j = 0; j < F; j++) {
            const h = (t[o + j] - mean) * inv;
            zh[o + j] = h;
            t[o + j] = Math.tanh(g[j] * h + beta[j]);
          }
        }
      } else {
        for (let r = 0; r < rows; r++) for (let j = 0; j < F; j++) t[r * F + j] = Math.tanh(t[r * F + j] + b[j]);
      }
    }
    this.held = rows;
    this.heldFresh = true;
  }

  private heldFeatures(rows: number): tf.Tensor2D {
    const L = this.dims.length - 1;
    const region = this.trunk > 0 ? `${this.key}.t` : `${this.key}.y${L}`;
    return tf.tensor2d(this.ar.get(region, rows * this.outSize).slice(), [rows, this.outSize]);
  }

  encode(obs: tf.Tensor2D): tf.Tensor2D {
    const rows = this.rowsOf(obs);
    this.ensureForward(tensorValues(obs), rows, true);
    return this.heldFeatures(rows);
  }

  readParams(): Float32Array {
    return this.params.values.slice();
  }

  /** ConvEncoder.encodeDetached: the held forward when it is of these observations, else a fresh one. */
  encodeDetached(obs: tf.Tensor2D): tf.Tensor2D {
    const rows = this.rowsOf(obs);
    this.ensureForward(tensorValues(obs), rows, false);
    return this.heldFeatures(rows);
  }

  /** dL/dW for the batch given dL/d(features); fills `out` (flat, parameter layout). */
  gradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D, out?: Float32Array): Float32Array {
    const rows = this.rowsOf(obs);
    this.ensureForward(tensorValues(obs), rows, true);
    const k = this.key;
    const L = this.dims.length;
    const grad = this.ar.get(`${k}.grad`, this.params.size);
    let dy = this.ar.get(`${k}.dy${L - 1}`, rows * this.convOut);
    if (this.trunk > 0) {
      const F = this.trunk;
      const C = this.convOut;
      const t = this.ar.get(`${k}.t`, rows * F);
      const dt = this.ar.get(`${k}.dt`, rows * F);
      dt.set(tensorValues(dFeatures).subarray(0, rows * F));
      for (let j = 0; j < dt.length; j++) dt[j] *= 1 - t[j] * t[j];
      if (this.trunkNorm) {
        // Through the LayerNorm: dg = sum dy zh, dbeta = sum dy; with d = dy g,
        // dz = rstd (d - mean(d) - zh mean(d zh)) per row.
        const zh = this.ar.get(`${k}.zh`, rows * F);
        const rs = this.ar.get(`${k}.rs`, rows);
        const g = this.params.view('ln.g');
        const sg = this.params.slot('ln.g');
        const sbeta = this.params.slot('ln.b');
        const dg = grad.subarray(sg.offset, sg.offset + F).fill(0);
        const dbeta = grad.subarray(sbeta.offset, sbeta.offset + F).fill(0);
        for (let r = 0; r < rows; r++) {
          const o = r * F;
          let m1 = 0;
          let m2 = 0;
          for (let j = 0; j < F; j++) {
            const dy = dt[o + j];
            dg[j] += dy * zh[o + j];
            dbeta[j] += dy;
            const d = dy * g[j];
            m1 += d;
            m2 += d * zh[o + j];
          }
          m1 /= F;
          m2 /= F;
          for (let j = 0; j < F; j++) dt[o + j] = rs[r] * (dt[o + j] * g[j] - m1 - zh[o + j] * m2);
        }
      }
      const sw = this.params.slot('t.W');
      const sb = this.params.slot('t.b');
      // dW = x^T dt (x: the last conv output, read transposed), db = column sums of dt, dx = dt W^T.
      this.ar.gemm(
        C,
        F,
        rows,
        this.ar.get(`${k}.y${L - 1}`, rows * C),
        1,
        C,
        dt,
        F,
        grad.subarray(sw.offset, sw.offset + sw.size),
        F,
        false,
      );
      const db = grad.subarray(sb.offset, sb.offset + sb.size).fill(0);
      for (let r = 0; r < rows; r++) for (let j = 0; j < F; j++) db[j] += dt[r * F + j];
      const wT = transposeMatrix(this.params.view('t.W'), C, F, this.ar.get(`${k}.wT`, C * F));
      this.ar.gemm(rows, C, F, dt, F, 1, wT, C, dy, C, false);
    } else {
      dy.set(tensorValues(dFeatures).subarray(0, rows * this.outSize));
    }
    for (let i = L - 1; i >= 0; i--) {
      const d = this.dims[i];
      const N = rows * d.P;
      const y = this.ar.get(`${k}.y${i}`, N * d.outC);
      // ReLU: the output is positive exactly where the pre-activation is.
      for (let j = 0; j < y.length; j++) if (y[j] <= 0) dy[j] = 0;
      const sw = this.params.slot(`c${i}.W`);
      const sb = this.params.slot(`c${i}.b`);
      const dW = grad.subarray(sw.offset, sw.offset + sw.size);
      const db = grad.subarray(sb.offset, sb.offset + sb.size);
      const input = i === 0 ? this.ar.get(`${k}.x`, rows * this.inSize) : this.ar.get(`${k}.y${i - 1}`, rows * d.inH * d.inW * d.inC);
      if (i === 0) {
        convBackwardGemm(this.ar, input, dy, rows, d, dW, db, null, null);
        break;
      }
      const wT = transposeMatrix(this.params.view(`c${i}.W`), d.K, d.outC, this.ar.get(`${k}.wT`, d.K * d.outC));
      const dcols = this.ar.get(`${k}.dcols`, N * d.K);
      convBackwardGemm(this.ar, input, dy, rows, d, dW, db, dcols, wT);
      dy = col2im(dcols, rows, d, this.ar.get(`${k}.dy${i - 1}`, rows * d.inH * d.inW * d.inC));
    }
    if (out && out !== grad) out.set(grad);
    return out ?? grad;
  }

  applyGradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D): void {
    const g = this.gradient(obs, dFeatures);
    this.opt.step(g);
    // The held forward now predates this step: still what a detached reader of this batch wants.
    this.heldFresh = false;
  }

  /** After any other change of the weights the held forward is of no use. */
  private changed(): void {
    this.held = 0;
    this.heldFresh = false;
  }

  softUpdateFrom(source: ObsEncoder, tau: number): void {
    softUpdate(this.params, (source as PixelEncoder).params, tau);
    this.changed();
  }

  copyFrom(source: ObsEncoder): void {
    this.params.copyFrom((source as PixelEncoder).params);
    this.changed();
  }

  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    return torsoState(this.params.values.slice(), this.opt.getState());
  }

  setState(state: Record<string, { shape: number[]; data: Float32Array }>): void {
    const st = checkTorsoState(state, this.params.size);
    this.params.values.set(st.params);
    this.opt.setState(st.adam);
    this.changed();
  }

  dispose(): void {
    this.params.dispose();
    this.changed();
  }
}

/**
 * The same torso as TF.js tensors on the active backend, for backends with native conv kernels and
 * their gradients: tfjs-node / tfjs-node-gpu (the 'tensorflow' backend: libtensorflow's CPU
 * kernels, or CUDA) and webgpu. The wasm backend lacks the conv gradients, hence the arena GEMMs of
 * PixelEncoder there. Weights, Adam and soft updates live on the device as a TF.js executor's
 * parameter set (exec/tf-exec.ts: the same Adam as every network), the weight gradient comes from
 * TF.js's autodiff (tf.grads) of the forward, and nothing is read back during training, so the
 * torso runs on webgpu, whose results Dawn in Node returns only asynchronously. Its parameter layout
 * and checkpoint state are PixelEncoder's, so both train the same network (checked against each
 * other in test/unit/learn/conv.test.ts) and a checkpoint moves between them.
 */
export class TensorConvEncoder implements ConvEncoder {
  readonly trainable: boolean;
  readonly outSize: number;
  readonly inSize: number;
  readonly dims: ConvDims[];
  readonly convOut: number;
  readonly specs: ParamSpec[];
  private readonly exec = new TfExecutor();
  readonly params: Params;
  private readonly grads: Params;
  private readonly opt: AdamOptimizer;
  /**
   * The last fresh forward: its input tensor (compared by identity) and features. A detached reader
   * of the same input gets these features even after this torso's optimizer step (as PixelEncoder).
   */
  private held: { input: tf.Tensor2D; features: tf.Tensor2D } | null = null;

  constructor(
    readonly shape: PixelShape,
    readonly layers: readonly ConvLayerSpec[],
    rng: Rng,
    lr: number,
    l2 = 0,
    readonly trunk = 0,
    readonly trunkNorm = false,
  ) {
    const layout = convTorsoLayout(shape, layers, trunk, trunkNorm);
    ({ dims: this.dims, convOut: this.convOut, outSize: this.outSize, inSize: this.inSize, specs: this.specs } = layout);
    const host = new FlatParams(this.specs);
    host.init(rng);
    this.params = this.exec.params(this.specs);
    this.exec.writeParams(this.params, host.values);
    host.dispose();
    this.grads = this.exec.params(this.specs);
    this.opt = this.exec.adam(this.params, lr, l2);
    this.trainable = lr > 0;
  }

  /** The torso on tensors: x is [rows, H, W, C]; w holds the weights in slot order. */
  private forwardTensors(x: tf.Tensor4D, w: tf.Tensor[]): tf.Tensor2D {
    let h: tf.Tensor4D = x;
    this.dims.forEach((d, i) => {
      const W = w[2 * i].reshape([d.kernel, d.kernel, d.inC, d.outC]) as tf.Tensor4D;
      h = tf.relu(tf.add(tf.conv2d(h, W, d.stride, 'valid'), w[2 * i + 1]));
    });
    let f = h.reshape([x.shape[0], this.convOut]) as tf.Tensor2D;
    if (this.trunk > 0) {
      const L = 2 * this.dims.length;
      let z = tf.add(tf.matMul(f, w[L]), w[L + 1]) as tf.Tensor2D;
      if (this.trunkNorm) {
        const { mean, variance } = tf.moments(z, -1, true);
        z = tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, LAYER_NORM_EPS))), w[L + 2]), w[L + 3]) as tf.Tensor2D;
      }
      f = tf.tanh(z);
    }
    return f;
  }

  private weights(): tf.Tensor[] {
    return this.specs.map((s) => tfParamTensor(this.params, s.name));
  }

  private input(obs: tf.Tensor2D): tf.Tensor4D {
    if (obs.shape[1] !== this.inSize)
      throw new Error(
        `pixel encoder expects ${this.shape.height}x${this.shape.width}x${this.shape.channels} observations, got rows of ${obs.shape[1]}`,
      );
    return obs.reshape([obs.shape[0], this.shape.height, this.shape.width, this.shape.channels]);
  }

  encode(obs: tf.Tensor2D): tf.Tensor2D {
    const features = tf.tidy(() => this.forwardTensors(this.input(obs), this.weights()));
    this.forget();
    this.held = { input: obs, features: tf.keep(features) };
    return tf.clone(features);
  }

  /** Features for a reader that does not train this torso (DetachedEncoder; see PixelEncoder.encodeDetached). */
  encodeDetached(obs: tf.Tensor2D): tf.Tensor2D {
    if (this.held && this.held.input === obs && !obs.isDisposed) return tf.clone(this.held.features);
    return this.encode(obs);
  }

  readParams(): Float32Array {
    return this.exec.readParams(this.params);
  }

  /** dL/dW per slot, as tensors of the slots' shapes (the caller disposes them). */
  private gradientTensors(obs: tf.Tensor2D, dFeatures: tf.Tensor2D): tf.Tensor[] {
    return tf.tidy(() => {
      const x = this.input(obs);
      return tf.grads((...ws: tf.Tensor[]) => tf.sum(tf.mul(this.forwardTensors(x, ws), dFeatures)))(this.weights());
    });
  }

  /** dL/dW for the batch given dL/d(features), read back flat in the parameter layout (synchronous: not on webgpu). */
  gradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D, out = new Float32Array(this.params.size)): Float32Array {
    let off = 0;
    for (const g of this.gradientTensors(obs, dFeatures)) {
      out.set(g.dataSync() as Float32Array, off);
      off += g.size;
      g.dispose();
    }
    return out;
  }

  applyGradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D): void {
    const grads = this.gradientTensors(obs, dFeatures);
    this.specs.forEach((s, i) => setTfParamTensor(this.grads, s.name, grads[i]));
    this.exec.adamStep(this.opt, this.grads);
  }

  private forget(): void {
    this.held?.features.dispose();
    this.held = null;
  }

  softUpdateFrom(source: ObsEncoder, tau: number): void {
    this.exec.softUpdate(this.params, (source as TensorConvEncoder).params, tau);
    this.forget();
  }

  copyFrom(source: ObsEncoder): void {
    if (source instanceof TensorConvEncoder) this.exec.copyParams(this.params, source.params);
    else this.exec.writeParams(this.params, (source as PixelEncoder).params.values);
    this.forget();
  }

  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    return torsoState(this.exec.readParams(this.params), this.exec.readAdam(this.opt));
  }

  async getStateAsync(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    return torsoState(await this.exec.readParamsAsync(this.params), await this.exec.readAdamAsync(this.opt));
  }

  setState(state: Record<string, { shape: number[]; data: Float32Array }>): void {
    const s = checkTorsoState(state, this.params.size);
    this.exec.writeParams(this.params, s.params);
    this.exec.writeAdam(this.opt, s.adam);
    this.forget();
  }

  dispose(): void {
    this.forget();
    this.exec.dispose();
  }
}

/**
 * The actor's view of the critic's conv torso (DrQ-v2, Yarats et al. 2021; SAC-AE, Yarats et al.
 * 2019): the actor reads the critic's features but its gradient stops there, so only the critic's
 * TD loss shapes the torso. Soft updates, copies and checkpoints belong to the torso's owner (the
 * critic and its target); getState returns the torso it reads, so an exported actor carries it.
 */
export class DetachedEncoder implements ObsEncoder {
  readonly trainable = false;
  constructor(readonly source: ConvEncoder) {}
  get syncReads(): string | undefined {
    return this.source.syncReads;
  }
  get outSize(): number {
    return this.source.outSize;
  }
  encode(obs: tf.Tensor2D): tf.Tensor2D {
    return this.source.encodeDetached(obs);
  }
  applyGradient(): void {}
  softUpdateFrom(): void {}
  copyFrom(): void {}
  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    return this.source.getState();
  }
  getStateAsync(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    return this.source.getStateAsync ? this.source.getStateAsync() : Promise.resolve(this.source.getState());
  }
  setState(): void {}
  dispose(): void {}
}

/** TF.js backends whose conv kernels and gradients run natively (TensorConvEncoder's default there). */
function nativeConvBackend(backend: string): boolean {
  return backend === 'tensorflow' || backend === 'webgpu';
}

/**
 * An EncoderFactory making one conv torso per network. Agents that pass the network's role get its
 * learning rate (actor 1e-4, critic 1e-3 in DDPG); otherwise config.lr applies to all.
 */
export function pixelEncoderFactory(config: PixelEncoderConfig): EncoderFactory & ((obsSize: number, role?: EncoderRole) => ConvEncoder) {
  const root = new Rng(config.seed);
  const shape = { height: config.height, width: config.width, channels: config.channels };
  return (obsSize: number, role?: EncoderRole) => {
    const expected = shape.height * shape.width * shape.channels;
    if (obsSize !== expected)
      throw new Error(`observation size ${obsSize} does not match ${shape.height}x${shape.width}x${shape.channels} pixels (${expected})`);
    const native = (config.kernels ?? (nativeConvBackend(tf.getBackend()) ? 'native' : 'arena')) === 'native';
    return new (native ? TensorConvEncoder : PixelEncoder)(
      shape,
      config.layers,
      root.fork(),
      role?.lr ?? config.lr,
      role?.l2 ?? 0,
      config.trunk ?? 0,
      config.trunkNorm ?? false,
    );
  };
}
