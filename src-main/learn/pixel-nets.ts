import * as tf from '@tensorflow/tfjs';
import { PIXEL_HYPERPARAM_DEFAULTS, type DdpgHyperparams, type NafHyperparams } from '../api/hyperparams.ts';
import type { EncoderFactory, ObsEncoder } from './encoder.ts';
import { Adam, FlatParams, fanInBound, softUpdate, type ParamSpec } from './params.ts';
import { Rng } from '../util/rng.ts';
import { convBackward, convDims, convForward, hasNativeConvGrad, type ConvDims } from './conv.ts';
import { createAgent, resolveHyperparams, type AnyAgent } from './factory.ts';

/**
 * The DDPG paper's pixel networks (Lillicrap et al. 2015, supplement 7): 3 convolutional layers of
 * 32 filters without pooling, then 2 fully connected layers of 200 units; actions enter the critic
 * at the fully connected layers; final layer U(-3e-4, 3e-4); minibatch 16. The conv layers are the
 * pluggable torso (ObsEncoder) of the learn engine's DDPG/TD3/NAF; the fully connected layers are
 * the agents' own dense heads with the sizes set by pixelDdpgHyperparams / pixelNafHyperparams.
 *
 * Kernel sizes and strides are not given by the paper. The defaults (PIXEL_CONV_DEFAULTS: 4x4
 * stride 4, 3x3 stride 2, 3x3 stride 1; on 64x64: 16x16 -> 7x7 -> 5x5 x 32 = 800 features) were
 * picked for speed on the wasm backend, where one DDPG update runs four conv forwards (actor,
 * critic and their targets) and two backwards: measured on this machine under load, 3x3/2, 3x3/2,
 * 3x3/1 (5408 features) made an update ~3.5x slower. They are a configuration, not the paper's.
 *
 * Observations are rows of height x width x channels values in [0, 1] (NHWC; channels = 3 RGB x
 * the number of stacked frames).
 */
export interface ConvLayerSpec {
  kernel: number;
  stride: number;
  filters: number;
}

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
}

/** Which network an encoder serves, so it trains at that network's learning rate. */
export interface EncoderRole {
  network: 'actor' | 'critic' | 'q';
  lr: number;
  /** L2 decay on the conv weights (the critic's, when the agent wants it applied). */
  l2?: number;
}

/** Paper: 3 conv layers x 32 filters, no pooling. Kernels/strides: our choice (see file comment). */
export const PIXEL_CONV_DEFAULTS: readonly ConvLayerSpec[] = Object.freeze([
  { kernel: 4, stride: 4, filters: 32 },
  { kernel: 3, stride: 2, filters: 32 },
  { kernel: 3, stride: 1, filters: 32 },
]);

/** DDPG supplement 7, pixel experiments: 2 FC x 200 after the convs, actions at the FC layers, final init 3e-4, batch 16. */
export function pixelDdpgHyperparams(overrides: Partial<DdpgHyperparams> = {}): Partial<DdpgHyperparams> {
  const d = PIXEL_HYPERPARAM_DEFAULTS.ddpg;
  return { ...d, actorHidden: [...d.actorHidden], criticHidden: [...d.criticHidden], ...overrides };
}

/** NAF with the same pixel torso (Gu et al. 2016 reuse DDPG's pixel setting): 2 x 200, final init 3e-4. */
export function pixelNafHyperparams(overrides: Partial<NafHyperparams> = {}): Partial<NafHyperparams> {
  const d = PIXEL_HYPERPARAM_DEFAULTS.naf;
  return { ...d, hidden: [...d.hidden], ...overrides };
}

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

interface ForwardCache {
  obs: tf.Tensor2D;
  /** Input of each layer, then the last output. */
  acts: tf.Tensor4D[];
}

/**
 * Conv torso as an ObsEncoder: weights in one FlatParams (flat Adam, soft updates and checkpoints
 * as the dense heads), forward through the backend's fused conv, backward through conv.ts.
 * The forward of the last encode() call is kept for the applyGradient() that follows it on the
 * same observation tensor (the agents call both inside one tf.tidy), so no forward is repeated.
 */
export class PixelEncoder implements ObsEncoder {
  /** False at learning rate 0 (a frozen torso): the agent then skips its input gradient. */
  readonly trainable: boolean;
  readonly outSize: number;
  readonly dims: ConvDims[];
  readonly params: FlatParams;
  readonly opt: Adam;
  private readonly grad: Float32Array;
  private cache: ForwardCache | null = null;

  constructor(
    readonly shape: PixelShape,
    readonly layers: readonly ConvLayerSpec[],
    rng: Rng,
    lr: number,
    l2 = 0,
  ) {
    this.dims = pixelConvDims(shape, layers);
    const last = this.dims[this.dims.length - 1];
    this.outSize = last.outH * last.outW * last.outC;
    const specs: ParamSpec[] = [];
    this.dims.forEach((d, i) => {
      // DDPG supplement 7: U(-1/sqrt(fan_in), +) for hidden layers; stored [K, cout] for tensorT.
      specs.push({ name: `c${i}.W`, shape: [d.K, d.outC], bound: fanInBound(d.K), decay: true });
      specs.push({ name: `c${i}.b`, shape: [d.outC], bound: fanInBound(d.K), decay: false });
    });
    this.params = new FlatParams(specs);
    this.params.init(rng);
    this.opt = new Adam(this.params, lr, l2);
    this.trainable = lr > 0;
    this.grad = new Float32Array(this.params.size);
  }

  private filter(i: number): tf.Tensor4D {
    const d = this.dims[i];
    return tf.reshape(this.params.tensor(`c${i}.W`), [d.kernel, d.kernel, d.inC, d.outC]);
  }

  private forward(obs: tf.Tensor2D): ForwardCache {
    const B = obs.shape[0];
    const { height, width, channels } = this.shape;
    const acts: tf.Tensor4D[] = [tf.reshape(obs, [B, height, width, channels])];
    this.dims.forEach((d, i) => {
      acts.push(convForward(acts[i], this.filter(i), this.params.tensor(`c${i}.b`) as tf.Tensor1D, d.stride, 'relu'));
    });
    return { obs, acts };
  }

  encode(obs: tf.Tensor2D): tf.Tensor2D {
    if (obs.shape[1] !== this.shape.height * this.shape.width * this.shape.channels) {
      throw new Error(`pixel encoder expects ${this.shape.height}x${this.shape.width}x${this.shape.channels} observations, got rows of ${obs.shape[1]}`);
    }
    const fwd = this.forward(obs);
    this.setCache(fwd);
    const out = fwd.acts[fwd.acts.length - 1];
    return tf.reshape(out, [obs.shape[0], this.outSize]);
  }

  /**
   * Keeps the last forward (input and activations) past the caller's tf.tidy: agents may encode a
   * batch in one tidy and hand the gradient for the same observations in another, as a new tensor.
   */
  private setCache(fwd: ForwardCache | null): void {
    if (this.cache) for (const t of [this.cache.obs, ...this.cache.acts]) t.dispose();
    // Kept, not cloned (a clone copies on wasm); released here, or disposed by their owner first.
    this.cache = fwd ? { obs: tf.keep(fwd.obs), acts: fwd.acts.map((t) => tf.keep(t)) } : null;
  }

  /** The cached forward when it was computed on these observations (same tensor, or equal values), else null. */
  private cachedFor(obs: tf.Tensor2D): ForwardCache | null {
    const c = this.cache;
    if (!c || c.obs.shape[0] !== obs.shape[0] || c.obs.isDisposed || c.acts.some((t) => t.isDisposed)) return null;
    if (c.obs.dataId === obs.dataId) return c;
    const same = tf.tidy(() => tf.all(tf.equal(c.obs, obs)).dataSync()[0]);
    return same ? c : null;
  }

  /** dL/dW for the batch given dL/d(features); fills `out` (flat, parameter layout). */
  gradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D, out: Float32Array = this.grad): Float32Array {
    tf.tidy(() => {
      const fresh = this.cachedFor(obs) ?? this.forward(obs);
      const B = obs.shape[0];
      const native = hasNativeConvGrad();
      const L = this.dims.length;
      const lastD = this.dims[L - 1];
      let dh: tf.Tensor4D = tf.reshape(dFeatures, [B, lastD.outH, lastD.outW, lastD.outC]);
      for (let i = L - 1; i >= 0; i--) {
        const d = this.dims[i];
        const dpre = tf.mul(dh, tf.step(fresh.acts[i + 1])) as tf.Tensor4D;
        const input = native ? fresh.acts[i] : (fresh.acts[i].dataSync() as Float32Array);
        const g = convBackward(input, dpre, d, B, i > 0 ? this.params.tensorT(`c${i}.W`) : null);
        const sw = this.params.slot(`c${i}.W`);
        const sb = this.params.slot(`c${i}.b`);
        out.set(g.dW, sw.offset);
        out.set(g.db, sb.offset);
        if (i > 0) dh = tf.tensor4d(g.dx!, [B, d.inH, d.inW, d.inC]);
      }
    });
    this.setCache(null);
    return out;
  }

  applyGradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D): void {
    this.gradient(obs, dFeatures, this.grad);
    this.opt.step(this.grad);
  }

  softUpdateFrom(source: ObsEncoder, tau: number): void {
    softUpdate(this.params, (source as PixelEncoder).params, tau);
  }

  copyFrom(source: ObsEncoder): void {
    this.params.copyFrom((source as PixelEncoder).params);
  }

  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    const n = this.params.size;
    return {
      params: { shape: [n], data: this.params.values.slice() },
      'adam.m': { shape: [n], data: this.opt.m.slice() },
      'adam.v': { shape: [n], data: this.opt.v.slice() },
      'adam.t': { shape: [1], data: Float32Array.of(this.opt.t) },
    };
  }

  setState(state: Record<string, { shape: number[]; data: Float32Array }>): void {
    const n = this.params.size;
    const get = (k: string, len: number) => {
      const t = state[k];
      if (!t || t.data.length !== len) throw new Error(`pixel encoder state '${k}' is missing or has the wrong size (the conv layers differ?)`);
      return t.data;
    };
    this.params.values.set(get('params', n));
    this.params.touch();
    this.opt.setState({ m: get('adam.m', n), v: get('adam.v', n), t: get('adam.t', 1)[0] });
  }

  dispose(): void {
    this.params.dispose();
    this.setCache(null);
  }
}

/**
 * An EncoderFactory making one conv torso per network. Agents that pass the network's role get its
 * learning rate (actor 1e-4, critic 1e-3 in DDPG); otherwise config.lr applies to all.
 */
export function pixelEncoderFactory(config: PixelEncoderConfig): EncoderFactory & ((obsSize: number, role?: EncoderRole) => PixelEncoder) {
  const root = new Rng(config.seed);
  const shape = { height: config.height, width: config.width, channels: config.channels };
  return (obsSize: number, role?: EncoderRole) => {
    const expected = shape.height * shape.width * shape.channels;
    if (obsSize !== expected) throw new Error(`observation size ${obsSize} does not match ${shape.height}x${shape.width}x${shape.channels} pixels (${expected})`);
    return new PixelEncoder(shape, config.layers, root.fork(), role?.lr ?? config.lr, role?.l2 ?? 0);
  };
}

export interface PixelAgentOptions {
  algo: 'ddpg' | 'td3' | 'naf';
  shape: PixelShape;
  actionSize: number;
  /** Overrides on top of the pixel defaults (pixelDdpgHyperparams / pixelNafHyperparams). */
  hyperparams?: Record<string, unknown>;
  seed: number;
  layers?: readonly ConvLayerSpec[];
  /** One learning rate for every conv torso; default: the rate of the network each one feeds. */
  encoderLr?: number;
  /**
   * Learning rate of the actor's conv torso alone (DDPG/TD3); 0 freezes it at its random
   * initialisation, so the actor's gradient cannot move the features (cf. DrQ-v2, which stops the
   * actor's gradient at the encoder). Default: as encoderLr.
   */
  actorEncoderLr?: number;
}

/**
 * A DDPG/TD3/NAF agent with the paper's pixel networks. Each conv torso trains at the learning
 * rate of the network it feeds (DDPG: actor 1e-4, critic 1e-3): the actor-critic agent creates its
 * encoders in the order actor, actor target, critics, critic targets, which the factory below
 * relies on until the agents pass an EncoderRole themselves (see pixelEncoderFactory).
 */
export function createPixelAgent(opts: PixelAgentOptions): AnyAgent {
  const obsSize = opts.shape.height * opts.shape.width * opts.shape.channels;
  const overrides = opts.algo === 'naf' ? pixelNafHyperparams(opts.hyperparams as Partial<NafHyperparams>) : pixelDdpgHyperparams(opts.hyperparams as Partial<DdpgHyperparams>);
  const hp = resolveHyperparams(opts.algo, overrides as Record<string, unknown>);
  const make = pixelEncoderFactory({ ...opts.shape, layers: opts.layers ?? PIXEL_CONV_DEFAULTS, lr: 1e-3, seed: opts.seed ^ 0x5eed });
  let made = 0;
  const encoder: EncoderFactory = (size: number) => {
    const i = made++;
    if ('lr' in hp) return make(size, { network: 'q', lr: opts.encoderLr ?? hp.lr });
    const actor = i < 2;
    return make(size, actor ? { network: 'actor', lr: opts.actorEncoderLr ?? opts.encoderLr ?? hp.actorLr } : { network: 'critic', lr: opts.encoderLr ?? hp.criticLr });
  };
  return createAgent(opts.algo, obsSize, opts.actionSize, overrides as Record<string, unknown>, opts.seed, encoder);
}
