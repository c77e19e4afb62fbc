import * as tf from '@tensorflow/tfjs';
import type { NafHyperparams } from './spec.ts';
import type { Agent, AgentHooks, AgentState, Batch, UpdateStats } from '../../types.ts';
import { Adam, FlatParams, softUpdate, type ParamSpec } from '../../nets/params.ts';
import { Arena } from '../../nets/simd.ts';
import { Chain, mlpLayers, mlpSpecs, type Layer } from '../../nets/mlp.ts';
import { Rng, type RngState } from '../../../util/rng.ts';
import { makeActionNoise, type ActionNoise, type NoiseState } from '../noise.ts';
import { RunningObsNorm, type ObsNormState } from '../../nets/obs-norm.ts';
import { IdentityEncoder, identityEncoder, type EncoderFactory, type ObsEncoder } from '../../nets/encoder.ts';
import { ReplayBuffer } from '../../replay/replay.ts';
import { LinearGaussianDynamics, type RewardFn, type Trajectory } from '../../model/dynamics.ts';
import { lqgBackward, QuadraticRewardModel, type LinearGaussianController } from '../../model/ilqg.ts';

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
 * sampleImagined() gives minibatches from it for the I*l extra updates per step.
 *
 * iLQG exploration (section 5.2, `ilqgExploration` > 0): with each refit a quadratic reward model is
 * fitted on the same episodes (projected to be concave, so the value stays bounded over a 1000-step
 * horizon) and an LQR backward pass on the fitted model, discounted by gamma, gives a linear-Gaussian
 * controller (learn/model/ilqg.ts). At each episode start the agent's rng picks that fraction of episodes;
 * exploreAt() then acts with the controller at the episode's time step (on raw observations, as the
 * model is fitted), and past the fitted horizon with mu + the usual noise. The trainer stores these
 * transitions in the ordinary replay buffer like any other.
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

/** V, mu and L come from one linear layer after the torso: 1 + n + n(n+1)/2 outputs. */
function nafHeads(act: number): number {
  return 1 + act + (act * (act + 1)) / 2;
}

function nafSpecs(obs: number, hidden: number[], act: number, finalInit: number | null): ParamSpec[] {
  return mlpSpecs(obs, hidden, 'heads', nafHeads(act), finalInit);
}

/** The NAF network as dense layers: torso (ReLU) and one linear layer holding all heads. */
export function nafLayers(obs: number, hidden: number[], act: number): Layer[] {
  return mlpLayers(obs, hidden, 'heads', nafHeads(act), 'linear');
}

export interface QuadraticHeadResult {
  /** Weighted mean squared TD error. */
  loss: number;
  qMean: number;
  tdErrors: Float32Array;
}

/**
 * NAF's quadratic head on raw head outputs [rows x H] (V, pre-tanh mu, packed lower triangle of
 * L with the diagonal pre-exp): Q = V - 1/2 |L^T (u - mu)|^2, loss = mean w (Q - y)^2. Writes
 * dLoss/dHeads into dHeads [rows x H].
 */
export function quadraticHead(
  heads: Float32Array,
  n: number,
  rows: number,
  actions: Float32Array,
  y: Float32Array,
  weights: Float32Array | undefined,
  dHeads: Float32Array,
): QuadraticHeadResult {
  const H = 1 + n + (n * (n + 1)) / 2;
  const tdErrors = new Float32Array(rows);
  const L = new Float64Array(n * n);
  const d = new Float64Array(n);
  const w = new Float64Array(n);
  let loss = 0;
  let qMean = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    // Unpack L (row-major packed lower triangle; diagonal exponentiated) and d = u - mu.
    let k = o + 1 + n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++, k++) L[i * n + j] = i === j ? Math.exp(heads[k]) : heads[k];
      d[i] = actions[r * n + i] - Math.tanh(heads[o + 1 + i]);
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
    const wt = weights ? weights[r] : 1;
    const delta = q - y[r];
    loss += (wt * delta * delta) / rows;
    qMean += q / rows;
    tdErrors[r] = Math.abs(delta);
    const g = (2 * wt * delta) / rows;
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
  return { loss, qMean, tdErrors };
}

export class NafAgent implements Agent {
  readonly algo = 'naf' as const;
  readonly hp: NafHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  readonly net: FlatParams;
  readonly target: FlatParams;
  private readonly opt: Adam;
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
  /** With a model, Algorithm 2's part of the training loop (exploration, fits, imagined batches); without, none. */
  readonly hooks: AgentHooks | null;
  private readonly reward: RewardFn | undefined;
  private pending: Trajectory[] = [];
  private fitted: Trajectory[] = [];
  private envSteps = 0;
  private imaginedBatch: Batch | null = null;
  private readonly rewardModel: QuadraticRewardModel | null;
  /** The iLQG controller of the latest fit, or null (none fitted yet, or the backward pass failed). */
  controller: LinearGaussianController | null = null;
  /** The current training episode is driven by the controller. */
  private ilqgEpisode = false;
  private readonly ilqgAction: Float32Array;
  private readonly ar: Arena;
  private readonly netL: Layer[];
  private readonly chain: Chain;
  private readonly targetChain: Chain;
  private readonly policyChain: Chain;
  private rowsCap = 0;
  private policyCap = 0;

  constructor(opts: NafOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    this.heads = 1 + actionSize + (actionSize * (actionSize + 1)) / 2;
    const encoder = opts.encoder ?? identityEncoder;
    this.enc = encoder(obsSize);
    this.encTarget = encoder(obsSize);
    this.encTarget.copyFrom(this.enc);
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    const noiseRng = root.fork();
    const specs = nafSpecs(this.enc.outSize, hp.hidden, actionSize, hp.finalLayerInit);
    const size = specs.reduce((n, sp) => n + sp.shape.reduce((x, y) => x * y, 1), 0);
    this.ar = new Arena(4 * 8 * size + (4 << 20));
    this.netL = nafLayers(this.enc.outSize, hp.hidden, actionSize);
    this.chain = new Chain(this.ar, this.netL, 'net');
    this.targetChain = new Chain(this.ar, this.netL, 'target');
    this.policyChain = new Chain(this.ar, this.netL, 'policy');
    this.net = new FlatParams(specs, this.ar);
    this.net.init(initRng);
    this.target = new FlatParams(specs, this.ar);
    this.target.copyFrom(this.net);
    this.opt = new Adam(this.net, hp.lr);
    this.noise = makeActionNoise(hp.exploration === 'param' ? 'gaussian' : hp.exploration, actionSize, hp, noiseRng);
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.model = hp.modelBased ? new LinearGaussianDynamics(obsSize, actionSize) : null;
    this.imagination = hp.modelBased ? new ReplayBuffer({ capacity: hp.imaginationCapacity, obsSize, actionSize }) : null;
    this.hooks = this.model
      ? {
          exploreAt: (obs, t) => this.exploreAt(obs, t),
          afterEnvStep: () => void this.afterEnvStep(),
          onEpisodeEnd: (trajectory) => this.onEpisodeEnd(trajectory),
          extraBatch: () => this.sampleImagined(),
        }
      : null;
    this.reward = opts.reward;
    this.rewardModel = hp.modelBased && hp.ilqgExploration > 0 ? new QuadraticRewardModel(obsSize, actionSize) : null;
    this.ilqgAction = new Float32Array(actionSize);
    this.reserve(hp.batchSize);
  }

  /** Lays out the arena regions of an update on `rows` rows before any view is taken (see DDPG). */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const ar = this.ar;
    const F = this.enc.outSize;
    for (const name of ['s', 's2']) ar.get(name, rows * F);
    ar.get('dHeads', rows * this.heads);
    ar.get('grad', this.net.size);
    for (const c of [this.chain, this.targetChain]) c.forward(this.net, ar.get('s', rows * F), rows);
    this.chain.backward(
      this.net,
      ar.get('grad', this.net.size),
      ar.get('s', rows * F),
      ar.get('dHeads', rows * this.heads),
      rows,
      this.enc.trainable,
    );
    ar.get('grad', this.net.size).fill(0);
  }

  private reservePolicy(rows: number): void {
    if (rows <= this.policyCap) return;
    this.policyCap = rows;
    this.ar.get('policy.x', rows * this.enc.outSize);
    this.netL.forEach((_, i) => this.policyChain.output(i, rows));
  }

  /** Encoder features of rows of observations, copied into the arena region `name`. */
  private features(enc: ObsEncoder, obs: Float32Array, rows: number, name: string): Float32Array {
    const out = this.ar.get(name, rows * enc.outSize);
    if (enc instanceof IdentityEncoder) out.set(obs.subarray(0, rows * this.obsSize));
    else
      tf.tidy(() =>
        out.set(enc.encode(tf.tensor2d(obs.subarray(0, rows * this.obsSize), [rows, this.obsSize])).dataSync() as Float32Array),
      );
    return out;
  }

  /** mu(x) for rows of observations (already normalised). */
  private policy(obs: Float32Array, rows: number): Float32Array {
    this.reservePolicy(rows);
    const heads = this.policyChain.forward(this.net, this.features(this.enc, obs, rows, 'policy.x'), rows);
    const n = this.actionSize;
    const mu = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) mu[r * n + i] = Math.tanh(heads[r * this.heads + 1 + i]);
    return mu;
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
    // The rng is drawn only once a controller exists, so runs without iLQG keep their random stream.
    this.ilqgEpisode = this.controller !== null && this.rng.uniform() < this.hp.ilqgExploration;
  }

  /** True while the current training episode is driven by the iLQG controller. */
  get ilqgActive(): boolean {
    return this.ilqgEpisode;
  }

  /**
   * The exploring action at step t of the current training episode: the iLQG controller's in the
   * episodes picked at resetEpisode() (t within the fitted horizon; the returned array is reused
   * by the next call), else act(obs, true).
   */
  exploreAt(obs: Float32Array, t: number): Float32Array {
    const c = this.controller;
    if (!this.ilqgEpisode || c === null || t >= c.horizon) return this.act(obs, true);
    if (this.obsNorm) this.obsNorm.observe(obs);
    return c.act(t, obs, this.ilqgAction, this.hp.ilqgNoise, this.rng);
  }

  update(batch: Batch): UpdateStats {
    const B = batch.size;
    this.reserve(B);
    const H = this.heads;
    const hp = this.hp;
    const ar = this.ar;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    // y = r + gamma V'(x') (Algorithm 1).
    const tOut = this.targetChain.forward(this.target, this.features(this.encTarget, nextArr, B, 's2'), B);
    const y = new Float32Array(B);
    for (let r = 0; r < B; r++)
      y[r] = batch.rewards[r] + (batch.discounts ? batch.discounts[r] : hp.gamma * (1 - batch.dones[r])) * tOut[r * H];
    const x = this.features(this.enc, obsArr, B, 's');
    const heads = this.chain.forward(this.net, x, B);
    const dHeads = ar.get('dHeads', B * H);
    const stats = quadraticHead(heads, this.actionSize, B, batch.actions, y, batch.weights, dHeads);
    // Backward through heads and torso.
    const grad = ar.get('grad', this.net.size);
    const dIn = this.chain.backward(this.net, grad, x, dHeads, B, this.enc.trainable);
    if (dIn) {
      const enc = this.enc;
      tf.tidy(() =>
        enc.applyGradient(
          tf.tensor2d(obsArr.subarray(0, B * this.obsSize), [B, this.obsSize]),
          tf.tensor2d(dIn.slice(0, B * enc.outSize), [B, enc.outSize]),
        ),
      );
    }
    this.opt.step(ar.get('grad', this.net.size));
    softUpdate(this.target, this.net, hp.tau);
    this.encTarget.softUpdateFrom(this.enc, hp.tau);
    this.updates++;
    return { metrics: { critic_loss: stats.loss, q: stats.qMean }, tdErrors: stats.tdErrors };
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
      if (this.rewardModel) {
        this.rewardModel.fit(this.pending, this.hp.modelRidge, this.hp.modelWindow, true);
        this.controller = lqgBackward(this.model.steps, this.rewardModel.steps, this.obsSize, this.actionSize, this.hp.gamma);
      }
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
      meta: {
        updates: this.updates,
        adamT: this.opt.t,
        rng: this.rng.getState(),
        noise: this.noise.getState(),
        obsNorm: this.obsNorm?.getState() ?? null,
        envSteps: this.envSteps,
      },
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
    this.target.values.set(get('target'));
    this.opt.setState({ m: get('adam.m'), v: get('adam.v'), t: state.meta.adamT as number });
    const part = (prefix: string) =>
      Object.fromEntries(
        Object.entries(state.tensors)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
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
    this.ar.dispose();
  }
}
