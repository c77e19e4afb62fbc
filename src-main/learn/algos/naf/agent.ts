import type { NafHyperparams } from './spec.ts';
import type { Agent, AgentHooks, AgentState, Batch, UpdateStats } from '../../types.ts';
import { FlatParams, type ParamSpec } from '../../nets/params.ts';
import { mlpLayers, mlpSpecs, type Layer } from '../../nets/mlp.ts';
import { resolve, resolveAsync, type AdamOptimizer, type Executor, type Params, type Pending } from '../../exec/executor.ts';
import { ExecChain } from '../../exec/nets.ts';
import { HostParams } from '../../exec/host-params.ts';
import { setTorsoStates, TorsoLink, torsoStates, torsoStatesAsync } from '../../exec/torso-link.ts';
import { nafHeadSize } from '../../exec/naf-head.ts';
import {
  readNetworkParams,
  readNetworkState,
  readNetworkStateAsync,
  writeNetworkState,
  type StateNetwork,
} from '../../exec/network-state.ts';
import { batchTdTarget } from '../../exec/td-target.ts';
import { networkExecutor, syncReadsOf } from '../../exec/select.ts';
import { Rng, type RngState } from '../../../util/rng.ts';
import { makeActionNoise, type ActionNoise, type NoiseState } from '../noise.ts';
import { RunningObsNorm, type ObsNormState } from '../../nets/obs-norm.ts';
import { identityEncoder, type EncoderFactory, type ObsEncoder } from '../../nets/encoder.ts';
import { ReplayBuffer } from '../../replay/replay.ts';
import { LinearGaussianDynamics, type RewardFn, type Trajectory } from '../../model/dynamics.ts';
import { lqgBackward, QuadraticRewardModel, type LinearGaussianController } from '../../model/ilqg.ts';

/**
 * NAF (Gu et al. 2016): Q(x, u) = V(x) + A(x, u), A = -1/2 (u - mu)^T P (u - mu), P = L L^T with L
 * lower triangular, its diagonal exponentiated (section 4). One torso (2 x 200 ReLU) feeds a single
 * linear output layer holding the V, mu and L heads side by side (one matMul instead of three); the
 * quadratic head and its gradient (the executor's nafQuadratic, exec/naf-head.ts) work on the small
 * head outputs (B x (1 + n + n(n+1)/2)), then backpropagate through the torso by the dense backward.
 * Written over the network executor (exec/executor.ts) as DDPG is: the wasm arena, or TF.js ops on
 * the active backend; act/update/getState have awaited twins for webgpu. The model-based part acts
 * through synchronous hooks, so a model-based run keeps the networks where reads are synchronous.
 *
 * Model-based acceleration (Algorithm 2): the trainer hands finished episodes to onEpisodeEnd();
 * after every `modelEpisodes` episodes the time-varying linear-Gaussian model is refitted on them
 * (with `modelPrior` gmm under a GMM prior, section 5.3; its EM start draws from the agent's rng);
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
  /** Where the networks run; default: chosen from the active backend (exec/select.ts). */
  executor?: Executor;
}

function nafSpecs(obs: number, hidden: number[], act: number, finalInit: number | null): ParamSpec[] {
  return mlpSpecs(obs, hidden, 'heads', nafHeadSize(act), finalInit);
}

/** The NAF network as dense layers: torso (ReLU) and one linear layer holding all heads. */
export function nafLayers(obs: number, hidden: number[], act: number): Layer[] {
  return mlpLayers(obs, hidden, 'heads', nafHeadSize(act), 'linear');
}

export class NafAgent implements Agent {
  readonly algo = 'naf' as const;
  readonly hp: NafHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  /** Where the networks run (exec/executor.ts): the wasm arena, or TF.js on the active backend. */
  readonly exec: Executor;
  /** One line: which executor and why (the run config and `bench updates` show it). */
  readonly executorNote: string;
  /** False on webgpu: callers await actAsync/updateAsync/getStateAsync (learn/agent-reads.ts). */
  readonly syncRead: boolean;
  private readonly params: { net: Params; target: Params; grad: Params };
  private readonly opt: AdamOptimizer;
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
  private readonly netL: Layer[];
  private readonly chain: ExecChain;
  private readonly targetChain: ExecChain;
  private readonly policyChain: ExecChain;
  private rowsCap = 0;
  private policyCap = 0;
  /** Host views of the networks (exec/host-params.ts). */
  private readonly host: HostParams;
  private readonly torso: TorsoLink;

  constructor(opts: NafOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    this.heads = nafHeadSize(actionSize);
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
    const chosen = opts.executor
      ? { exec: opts.executor, note: `${opts.executor.name}: given by the caller` }
      : networkExecutor({
          what: 'NAF',
          ...syncReadsOf(
            hp.modelBased
              ? 'the model-based part (imagination rollouts, iLQG exploration) reads the policy synchronously'
              : this.enc.syncReads,
          ),
          arenaBytes: 4 * 8 * size + (4 << 20),
        });
    this.exec = chosen.exec;
    this.executorNote = chosen.note;
    this.syncRead = this.exec.syncRead;
    this.torso = new TorsoLink(this.exec, obsSize);
    this.host = new HostParams(this.exec);
    const exec = this.exec;
    this.netL = nafLayers(this.enc.outSize, hp.hidden, actionSize);
    this.chain = new ExecChain(exec, this.netL, 'net');
    this.targetChain = new ExecChain(exec, this.netL, 'target');
    this.policyChain = new ExecChain(exec, this.netL, 'policy');
    // Initial values drawn on the host (the same numbers on every executor).
    const initial = new FlatParams(specs);
    initial.init(initRng);
    const net = exec.params(specs);
    exec.writeParams(net, initial.values);
    initial.dispose();
    const target = exec.params(specs);
    exec.copyParams(target, net);
    this.params = { net, target, grad: exec.params(specs) };
    this.opt = exec.adam(net, hp.lr);
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

  /** The network's parameters on the host (the exporter's policy; see exec/host-params.ts). */
  get net(): FlatParams {
    return this.host.of(this.params.net);
  }
  get target(): FlatParams {
    return this.host.of(this.params.target);
  }

  /** Lays out the buffers of an update on `rows` rows before any view is taken (see DDPG). */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const { exec, params: p } = this;
    const F = this.enc.outSize;
    for (const name of ['s', 's2']) exec.buffer(name, rows * F);
    for (const name of ['y', 'r', 'discount', 'w', 'q', 'v2']) exec.buffer(name, rows);
    exec.buffer('a', rows * this.actionSize);
    const dHeads = exec.buffer('dHeads', rows * this.heads);
    const x = exec.buffer('s', rows * F);
    this.targetChain.forward(p.target, x, rows);
    this.chain.forward(p.net, x, rows);
    this.chain.backward(p.net, p.grad, x, dHeads, rows, this.enc.trainable);
  }

  private reservePolicy(rows: number): void {
    if (rows <= this.policyCap) return;
    this.policyCap = rows;
    this.exec.buffer('policy.x', rows * this.enc.outSize);
    this.netL.forEach((_, i) => this.policyChain.output(i, rows));
  }

  /** mu(x) = tanh of the mu columns of the heads, for rows of observations (already normalised). */
  private policyStep(obs: Float32Array, rows: number): Pending<Float32Array> {
    this.reservePolicy(rows);
    this.torso.release();
    const heads = this.policyChain.forward(this.params.net, this.torso.features(this.enc, obs, rows, 'policy.x'), rows);
    const n = this.actionSize;
    const H = this.heads;
    return {
      reads: [heads],
      finish: ([h]) => {
        const mu = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) mu[r * n + i] = Math.tanh(h[r * H + 1 + i]);
        return mu;
      },
    };
  }

  private policy(obs: Float32Array, rows: number): Float32Array {
    return resolve(this.exec, this.policyStep(obs, rows));
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    return this.explored(resolve(this.exec, this.actStep(obs, explore)), explore);
  }

  /** act() on an executor that reads only asynchronously (webgpu). */
  async actAsync(obs: Float32Array, explore: boolean): Promise<Float32Array> {
    return this.explored(await resolveAsync(this.exec, this.actStep(obs, explore)), explore);
  }

  private actStep(obs: Float32Array, explore: boolean): Pending<Float32Array> {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    return this.policyStep(this.obsNorm ? this.obsNorm.apply(obs) : obs, 1);
  }

  private explored(a: Float32Array, explore: boolean): Float32Array {
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
    return resolve(this.exec, this.updateStep(batch));
  }

  /** update() on an executor that reads only asynchronously (webgpu). */
  updateAsync(batch: Batch): Promise<UpdateStats> {
    return resolveAsync(this.exec, this.updateStep(batch));
  }

  /** One update (Algorithm 1), every op issued; the loss and Q are read back at the end. */
  private updateStep(batch: Batch): Pending<UpdateStats> {
    const B = batch.size;
    this.reserve(B);
    this.torso.release();
    const { hp, exec, params: p } = this;
    const H = this.heads;
    const n = this.actionSize;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    // y = r + gamma V'(x') (Algorithm 1).
    const tOut = this.targetChain.forward(p.target, this.torso.features(this.encTarget, nextArr, B, 's2'), B);
    const v2 = exec.buffer('v2', B);
    exec.column(tOut, B, H, 0, v2);
    const { y, weights } = batchTdTarget(exec, batch, hp.gamma, v2, null);
    const a = exec.buffer('a', B * n);
    exec.write(a, batch.actions.subarray(0, B * n));
    const x = this.torso.features(this.enc, obsArr, B, 's');
    const heads = this.chain.forward(p.net, x, B);
    const dHeads = exec.buffer('dHeads', B * H);
    const q = exec.buffer('q', B);
    exec.nafQuadratic(heads, a, y, weights, B, n, dHeads, q);
    // Backward through heads and torso.
    const dIn = this.chain.backward(p.net, p.grad, x, dHeads, B, this.enc.trainable);
    if (dIn) this.torso.step(this.enc, obsArr, dIn, B);
    exec.adamStep(this.opt, p.grad);
    exec.softUpdate(p.target, p.net, hp.tau);
    this.encTarget.softUpdateFrom(this.enc, hp.tau);
    this.updates++;
    const w = batch.weights;
    return {
      reads: [q, y],
      finish: ([qv, yv]) => {
        let loss = 0;
        let qMean = 0;
        const tdErrors = new Float32Array(B);
        for (let i = 0; i < B; i++) {
          const delta = qv[i] - yv[i];
          loss += ((w ? w[i] : 1) * delta * delta) / B;
          qMean += qv[i] / B;
          tdErrors[i] = Math.abs(delta);
        }
        // Metric names as declared in learn/algos/naf/spec.ts.
        return { metrics: { critic_loss: loss, q: qMean }, tdErrors };
      },
    };
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
      const prior =
        this.hp.modelPrior === 'gmm'
          ? { maxClusters: this.hp.modelPriorClusters, strength: this.hp.modelPriorStrength, rng: this.rng }
          : null;
      this.model.fit(this.pending, this.hp.modelRidge, this.hp.modelWindow, prior);
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

  /** The network as checkpoints store it (exec/network-state.ts): `net` with its Adam moments, `target`. */
  private stateNetworks(): StateNetwork[] {
    return [
      { name: 'net', params: this.params.net, adam: this.opt },
      { name: 'target', params: this.params.target },
    ];
  }

  getState(): AgentState {
    return this.stateOf({ ...readNetworkState(this.exec, this.stateNetworks()), ...torsoStates(this.encoders()) });
  }

  /** getState() on an executor that reads only asynchronously (webgpu). */
  async getStateAsync(): Promise<AgentState> {
    return this.stateOf({
      ...(await readNetworkStateAsync(this.exec, this.stateNetworks())),
      ...(await torsoStatesAsync(this.encoders())),
    });
  }

  /** The torsos as checkpoints name them (`encoder.net.*`, `encoder.target.*`). */
  private encoders(): Record<string, ObsEncoder> {
    return { net: this.enc, target: this.encTarget };
  }

  private stateOf(tensors: AgentState['tensors']): AgentState {
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

  /** The network's parameters read back, on any executor. */
  readNetworks(): Promise<Record<string, Float32Array>> {
    return readNetworkParams(this.exec, this.stateNetworks());
  }

  /** Reads the networks into the host views (net, target) on an executor that reads only asynchronously. */
  async refreshHostViews(): Promise<void> {
    await this.host.refresh([this.params.net, this.params.target]);
  }

  setState(state: AgentState): void {
    if (state.algo !== 'naf') throw new Error(`state is for ${state.algo}, not naf`);
    // Checkpoints before the executor port named the moments `adam.m` / `adam.v`.
    const tensors = { ...state.tensors };
    for (const k of ['m', 'v'] as const)
      if (!tensors[`netAdam.${k}`] && tensors[`adam.${k}`]) tensors[`netAdam.${k}`] = tensors[`adam.${k}`];
    writeNetworkState(this.exec, this.stateNetworks(), tensors, { net: state.meta.adamT as number });
    setTorsoStates(this.encoders(), state.tensors);
    this.updates = state.meta.updates as number;
    this.envSteps = (state.meta.envSteps as number) ?? 0;
    this.rng.setState(state.meta.rng as RngState);
    this.noise.setState(state.meta.noise as NoiseState);
    if (this.obsNorm && state.meta.obsNorm) this.obsNorm.setState(state.meta.obsNorm as ObsNormState);
  }

  dispose(): void {
    this.torso.release();
    this.enc.dispose();
    this.encTarget.dispose();
    this.host.dispose();
    this.exec.dispose();
  }
}
