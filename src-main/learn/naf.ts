import * as tf from '@tensorflow/tfjs';
import type { NafHyperparams } from '../api/hyperparams.ts';
import type { Agent, AgentState, Batch, UpdateStats } from './types.ts';
import { Adam, FlatParams, fanInBound, softUpdate, type ParamSpec } from './params.ts';
import { activationBackward, biasGrad, denseForward, inputGrad, weightGrad } from './dense.ts';
import { Rng, type RngState } from './rng.ts';
import { makeActionNoise, type ActionNoise, type NoiseState } from './noise.ts';
import { RunningObsNorm, type ObsNormState } from './obs-norm.ts';
import { identityEncoder, type EncoderFactory, type ObsEncoder } from './encoder.ts';
import { ReplayBuffer } from './replay.ts';
import { LinearGaussianDynamics, type RewardFn, type Trajectory } from './dynamics.ts';

/**
 * NAF (Gu et al. 2016): Q(x, u) = V(x) + A(x, u), A = -1/2 (u - mu)^T P (u - mu), P = L L^T with L
 * lower triangular, its diagonal exponentiated (section 4). One torso (2 x 200 ReLU) feeds a single
 * linear output layer holding the V, mu and L heads side by side (one matMul instead of three); the
 * quadratic head and its gradient are computed in JS on the small head outputs (B x (1 + n +
 * n(n+1)/2)), then backpropagated through the torso by the hand-written dense backward.
 *
 * Model-based acceleration (Algorithm 2): the trainer hands finished episodes to onEpisodeEnd();
 * after every `modelEpisodes` episodes the time-varying linear-Gaussian model is refitted on them;
 * afterEnvStep() runs an imagination round every `imagineEvery` steps (m starts from the fitted
 * episodes, l-step rollouts of mu + exploration noise through the model) into a separate buffer;
 * sampleImagined() gives minibatches from it for the I*l extra updates per step. iLQG exploration is
 * not implemented.
 */
export interface NafOptions {
  obsSize: number;
  actionSize: number;
  hp: NafHyperparams;
  seed: number;
  encoder?: EncoderFactory;
  /** True reward for imagined transitions; absent: a per-step linear reward model. */
  reward?: RewardFn;
}

function nafSpecs(obs: number, hidden: number[], act: number, finalInit: number | null): ParamSpec[] {
  const specs: ParamSpec[] = [];
  let fan = obs;
  hidden.forEach((h, i) => {
    specs.push({ name: `l${i}.W`, shape: [fan, h], bound: fanInBound(fan), decay: true });
    specs.push({ name: `l${i}.b`, shape: [h], bound: fanInBound(fan), decay: false });
    fan = h;
  });
  const heads = 1 + act + (act * (act + 1)) / 2;
  const fb = finalInit ?? fanInBound(fan);
  specs.push({ name: 'heads.W', shape: [fan, heads], bound: fb, decay: true });
  specs.push({ name: 'heads.b', shape: [heads], bound: fb, decay: false });
  return specs;
}

export class NafAgent implements Agent {
  readonly algo = 'naf' as const;
  readonly hp: NafHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  readonly net: FlatParams;
  readonly target: FlatParams;
  private readonly opt: Adam;
  private readonly grad: Float32Array;
  private readonly layers: number;
  private readonly heads: number;
  private readonly enc: ObsEncoder;
  private readonly encTarget: ObsEncoder;
  private readonly rng: Rng;
  readonly noise: ActionNoise;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;
  /** Model-based parts (Algorithm 2), present when hp.modelBased. */
  readonly model: LinearGaussianDynamics | null;
  readonly imagination: ReplayBuffer | null;
  private readonly reward: RewardFn | undefined;
  private pending: Trajectory[] = [];
  private fitted: Trajectory[] = [];
  private envSteps = 0;
  private imaginedBatch: Batch | null = null;

  constructor(opts: NafOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    this.layers = hp.hidden.length;
    this.heads = 1 + actionSize + (actionSize * (actionSize + 1)) / 2;
    const encoder = opts.encoder ?? identityEncoder;
    this.enc = encoder(obsSize);
    this.encTarget = encoder(obsSize);
    this.encTarget.copyFrom(this.enc);
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    const noiseRng = root.fork();
    this.net = new FlatParams(nafSpecs(this.enc.outSize, hp.hidden, actionSize, hp.finalLayerInit));
    this.net.init(initRng);
    this.target = new FlatParams(nafSpecs(this.enc.outSize, hp.hidden, actionSize, hp.finalLayerInit));
    this.target.copyFrom(this.net);
    this.opt = new Adam(this.net, hp.lr);
    this.grad = new Float32Array(this.net.size);
    this.noise = makeActionNoise(hp.exploration === 'param' ? 'gaussian' : hp.exploration, actionSize, hp, noiseRng);
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.model = hp.modelBased ? new LinearGaussianDynamics(obsSize, actionSize) : null;
    this.imagination = hp.modelBased ? new ReplayBuffer({ capacity: hp.imaginationCapacity, obsSize, actionSize }) : null;
    this.reward = opts.reward;
  }

  /** Torso + heads forward; returns layer activations (last: raw heads B x heads). */
  private forward(p: FlatParams, x: tf.Tensor2D): tf.Tensor2D[] {
    const acts: tf.Tensor2D[] = [x];
    let h = x;
    for (let i = 0; i < this.layers; i++) {
      h = denseForward(h, p.tensor(`l${i}.W`), p.tensor(`l${i}.b`), 'relu');
      acts.push(h);
    }
    acts.push(denseForward(h, p.tensor('heads.W'), p.tensor('heads.b'), 'linear'));
    return acts;
  }

  /** mu(x) for rows of observations (already normalised). */
  private policy(obs: Float32Array, rows: number): Float32Array {
    return tf.tidy(() => {
      const out = this.forward(this.net, this.enc.encode(tf.tensor2d(obs, [rows, this.obsSize])));
      const heads = out[out.length - 1].dataSync();
      const n = this.actionSize;
      const mu = new Float32Array(rows * n);
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) mu[r * n + i] = Math.tanh(heads[r * this.heads + 1 + i]);
      return mu;
    });
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.obsNorm ? this.obsNorm.apply(obs) : obs;
    const a = this.policy(x, 1);
    if (explore) {
      const n = this.noise.sample();
      for (let i = 0; i < a.length; i++) a[i] = Math.max(-1, Math.min(1, a[i] + n[i]));
    }
    return a;
  }

  resetEpisode(): void {
    this.noise.reset();
  }

  update(batch: Batch): UpdateStats {
    const B = batch.size;
    const n = this.actionSize;
    const H = this.heads;
    const hp = this.hp;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    const stats = tf.tidy(() => {
      // y = r + gamma V'(x') (Algorithm 1).
      const tOut = this.forward(this.target, this.encTarget.encode(tf.tensor2d(nextArr, [B, this.obsSize])));
      const vT = tOut[tOut.length - 1].dataSync();
      const s = tf.tensor2d(obsArr, [B, this.obsSize]);
      const acts = this.forward(this.net, this.enc.encode(s));
      const heads = acts[acts.length - 1].dataSync();
      const dHeads = new Float32Array(B * H);
      const tdErrors = new Float32Array(B);
      const L = new Float64Array(n * n);
      const d = new Float64Array(n);
      const w = new Float64Array(n);
      let loss = 0;
      let qMean = 0;
      for (let r = 0; r < B; r++) {
        const o = r * H;
        // Unpack L (row-major packed lower triangle; diagonal exponentiated) and d = u - mu.
        let k = o + 1 + n;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j <= i; j++, k++) L[i * n + j] = i === j ? Math.exp(heads[k]) : heads[k];
          d[i] = batch.actions[r * n + i] - Math.tanh(heads[o + 1 + i]);
        }
        // w = L^T d, A = -1/2 |w|^2.
        let A = 0;
        for (let j = 0; j < n; j++) {
          let s2 = 0;
          for (let i = j; i < n; i++) s2 += L[i * n + j] * d[i];
          w[j] = s2;
          A -= 0.5 * s2 * s2;
        }
        const q = heads[o] + A;
        const y = batch.rewards[r] + hp.gamma * (1 - batch.dones[r]) * vT[r * H];
        const wt = batch.weights ? batch.weights[r] : 1;
        const delta = q - y;
        loss += (wt * delta * delta) / B;
        qMean += q / B;
        tdErrors[r] = Math.abs(delta);
        const g = (2 * wt * delta) / B;
        dHeads[o] = g;
        // dA/dmu_i = (L w)_i, through tanh; dA/dL_ij = -w_j d_i (i >= j), through exp on the diagonal.
        for (let i = 0; i < n; i++) {
          let lw = 0;
          for (let j = 0; j <= i; j++) lw += L[i * n + j] * w[j];
          const mu = Math.tanh(heads[o + 1 + i]);
          dHeads[o + 1 + i] = g * lw * (1 - mu * mu);
        }
        k = o + 1 + n;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j <= i; j++, k++) dHeads[k] = g * -w[j] * d[i] * (i === j ? L[i * n + i] : 1);
        }
      }
      // Backward through heads and torso.
      const grads: Record<string, tf.Tensor> = {};
      const LA = this.layers;
      let dpre = tf.tensor2d(dHeads, [B, H]);
      grads['heads.W'] = weightGrad(acts[LA], dpre);
      grads['heads.b'] = biasGrad(dpre);
      let dh = inputGrad(dpre, this.net.tensorT('heads.W'));
      for (let i = LA - 1; i >= 0; i--) {
        dpre = activationBackward(dh, acts[i + 1], 'relu');
        grads[`l${i}.W`] = weightGrad(acts[i], dpre);
        grads[`l${i}.b`] = biasGrad(dpre);
        if (i > 0 || this.enc.trainable) dh = inputGrad(dpre, this.net.tensorT(`l${i}.W`));
      }
      if (this.enc.trainable) this.enc.applyGradient(s, dh);
      this.net.gather(grads, this.grad);
      return { loss, qMean, tdErrors };
    });
    this.opt.step(this.grad);
    softUpdate(this.target, this.net, hp.tau);
    this.encTarget.softUpdateFrom(this.enc, hp.tau);
    this.updates++;
    return { criticLoss: stats.loss, q: stats.qMean, tdErrors: stats.tdErrors };
  }

  /**
   * Algorithm 2: a finished episode (T+1 observations, T actions, T rewards). After every
   * `modelEpisodes` episodes the dynamics are refitted on them and they become the start states of
   * imagination rollouts.
   */
  onEpisodeEnd(trajectory: Trajectory): void {
    if (!this.model) return;
    if (trajectory.actions.length < 2) return;
    this.pending.push(trajectory);
    if (this.pending.length >= this.hp.modelEpisodes) {
      this.model.fit(this.pending, this.hp.modelRidge, this.hp.modelWindow);
      this.fitted = this.pending;
      this.pending = [];
    }
  }

  /** Counts an environment step; every `imagineEvery` steps runs an imagination round. Returns transitions added. */
  afterEnvStep(): number {
    if (!this.model) return 0;
    this.envSteps++;
    if (this.envSteps % this.hp.imagineEvery !== 0) return 0;
    return this.imagine(this.hp.imagineStarts, this.hp.rolloutLength);
  }

  /**
   * m rollouts of length l from states of the fitted episodes, acting with mu + exploration noise
   * through the fitted model, stored in the imagination buffer. Returns the number of transitions.
   */
  imagine(m: number, l: number): number {
    if (!this.model || !this.imagination || this.fitted.length === 0 || this.model.horizon === 0) return 0;
    const O = this.obsSize;
    const n = this.actionSize;
    const T = this.model.horizon;
    const x = new Float32Array(m * O);
    const ts = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const e = this.fitted[this.rng.int(this.fitted.length)];
      const t = this.rng.int(Math.min(T, e.actions.length));
      ts[i] = t;
      x.set(e.obs[t], i * O);
    }
    const next = new Float32Array(O);
    let added = 0;
    for (let step = 0; step < l; step++) {
      const mu = this.policy(this.obsNorm ? this.obsNorm.apply(x) : x, m);
      for (let i = 0; i < m; i++) {
        const t = ts[i] + step;
        if (t >= T) continue;
        const u = mu.subarray(i * n, i * n + n);
        for (let j = 0; j < n; j++) u[j] = Math.max(-1, Math.min(1, u[j] + this.hp.gaussianSigma * this.rng.normal()));
        const xi = x.subarray(i * O, i * O + O);
        const modelReward = this.model.step(t, xi, u, next, this.rng);
        const r = this.reward ? this.reward(xi, u, next) : modelReward;
        this.imagination.add(xi, u, r, next, false);
        xi.set(next);
        added++;
      }
    }
    return added;
  }

  /** A minibatch of imagined transitions (for the extra updates of Algorithm 2), or null while empty. */
  sampleImagined(): Batch | null {
    if (!this.imagination || this.imagination.size < this.hp.batchSize) return null;
    this.imaginedBatch ??= this.imagination.makeBatch(this.hp.batchSize);
    return this.imagination.sample(this.rng, this.imaginedBatch);
  }

  getState(): AgentState {
    const tensors: AgentState['tensors'] = {
      net: { shape: [this.net.size], data: this.net.values.slice() },
      target: { shape: [this.target.size], data: this.target.values.slice() },
      'adam.m': { shape: [this.net.size], data: this.opt.m.slice() },
      'adam.v': { shape: [this.net.size], data: this.opt.v.slice() },
    };
    for (const [tn, t] of Object.entries(this.enc.getState())) tensors[`encoder.net.${tn}`] = t;
    for (const [tn, t] of Object.entries(this.encTarget.getState())) tensors[`encoder.target.${tn}`] = t;
    return {
      algo: this.algo,
      tensors,
      meta: { updates: this.updates, adamT: this.opt.t, rng: this.rng.getState(), noise: this.noise.getState(), obsNorm: this.obsNorm?.getState() ?? null, envSteps: this.envSteps },
    };
  }

  setState(state: AgentState): void {
    if (state.algo !== 'naf') throw new Error(`state is for ${state.algo}, not naf`);
    const get = (name: string) => {
      const t = state.tensors[name];
      if (!t || t.data.length !== this.net.size) throw new Error(`agent state '${name}' is missing or has the wrong size`);
      return t.data;
    };
    this.net.values.set(get('net'));
    this.net.touch();
    this.target.values.set(get('target'));
    this.target.touch();
    this.opt.setState({ m: get('adam.m'), v: get('adam.v'), t: state.meta.adamT as number });
    const part = (prefix: string) => Object.fromEntries(Object.entries(state.tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    this.enc.setState(part('encoder.net.'));
    this.encTarget.setState(part('encoder.target.'));
    this.updates = state.meta.updates as number;
    this.envSteps = (state.meta.envSteps as number) ?? 0;
    this.rng.setState(state.meta.rng as RngState);
    this.noise.setState(state.meta.noise as NoiseState);
    if (this.obsNorm && state.meta.obsNorm) this.obsNorm.setState(state.meta.obsNorm as ObsNormState);
  }

  dispose(): void {
    this.net.dispose();
    this.target.dispose();
    this.enc.dispose();
    this.encTarget.dispose();
  }
}
