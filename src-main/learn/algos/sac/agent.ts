import type { SacHyperparams } from './spec.ts';
import type { Agent, AgentState, Batch, UpdateStats } from '../../types.ts';
import { FlatParams, type ParamSpec } from '../../nets/params.ts';
import { mlpLayers, mlpSpecs, type Layer } from '../../nets/mlp.ts';
import { Rng, type RngState } from '../../../util/rng.ts';
import { RunningObsNorm, type ObsNormState } from '../../nets/obs-norm.ts';
import { criticLayers, criticSpecs } from '../ddpg/agent.ts';
import { DIAGNOSTICS_EVERY, l2norm, saturation, type UpdateDiagnostic } from '../diagnostics.ts';
import { resolve, resolveAsync, type AdamOptimizer, type Buf, type Executor, type Params, type Pending } from '../../exec/executor.ts';
import { HostParams } from '../../exec/host-params.ts';
import {
  adamStepsFromMeta,
  adamStepsMeta,
  readNetworkState,
  readNetworkParams,
  readNetworkStateAsync,
  writeNetworkState,
  type StateNetwork,
} from '../../exec/network-state.ts';
import { criticActionGrad, criticBackward, criticForward, ExecChain } from '../../exec/nets.ts';
import { batchTdTarget } from '../../exec/td-target.ts';
import { networkExecutor } from '../../exec/select.ts';
import { squashedGaussian } from '../../exec/squashed-gaussian.ts';

/**
 * Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"):
 * twin critics with clipped double-Q targets, a tanh-squashed Gaussian policy trained through the
 * reparameterisation a = tanh(mu + sigma eps), and the entropy temperature alpha tuned
 * automatically towards a target entropy (section 5, eq. 18; default -|A|).
 *
 * Networks: actor obs -> hidden (ReLU) -> [mu | log sigma] (linear, 2|A| units); critics
 * obs + action -> hidden (ReLU) -> Q, the action at the input layer (exec/nets.ts, as DDPG). Written
 * over the network executor (exec/executor.ts): the wasm arena or TF.js ops on the active backend.
 * log sigma is squashed into [LOG_STD_MIN, LOG_STD_MAX] by a tanh (as in the reference
 * implementations: bounded, and its gradient vanishes smoothly at the bounds).
 *
 * Deviations, written down:
 * - The actor's gradient uses the critics before this step's critic update (as ddpg.ts), so the
 *   actor's Q(s, a~) reuses the obs-only part of the critics' forward passes.
 * - Targets use the current policy's action at s' and the target critics (Algorithm 1); there is
 *   no target actor.
 */
export interface SacOptions {
  obsSize: number;
  actionSize: number;
  hp: SacHyperparams;
  seed: number;
  /** Where the networks run; default: chosen from the active backend (exec/select.ts). */
  executor?: Executor;
}

export { LOG_STD_MAX, LOG_STD_MIN, squashedGaussian } from '../../exec/squashed-gaussian.ts';

/** Everything one SAC update computes before its optimiser steps (tests check it against finite differences). */
export interface SacGradients {
  criticLoss: number;
  actorLoss: number;
  /** Temperature loss gradient with respect to log alpha. */
  logAlphaGrad: number;
  q: number;
  entropy: number;
  tdErrors: Float32Array;
  /** Gradients of the critics and the actor (read back; the arena's own views on wasm). */
  criticGrads: Float32Array[];
  actorGrad: Float32Array;
  actions: Float32Array;
  dqDa: number;
}

export class SacAgent implements Agent {
  readonly algo = 'sac' as const;
  readonly hp: SacHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  /** Where the networks run (exec/executor.ts). */
  readonly exec: Executor;
  /** One line: which executor and why (the run config and `bench updates` show it). */
  readonly executorNote: string;
  /** False on webgpu: callers await actAsync/updateAsync/getStateAsync (learn/agent-reads.ts). */
  readonly syncRead: boolean;
  readonly actorLayers: Layer[];
  private readonly criticL: Layer[];
  private readonly actorNet: ExecChain;
  private readonly nextNet: ExecChain;
  private readonly actNet: ExecChain;
  private readonly net: { actor: Params; critics: Params[]; criticTargets: Params[]; actorGrad: Params; criticGrads: Params[] };
  private readonly actorOpt: AdamOptimizer;
  private readonly criticOpts: AdamOptimizer[];
  /** log alpha and its Adam moments (a scalar optimised in JS). */
  private logAlpha: number;
  private alphaAdam = { m: 0, v: 0, t: 0 };
  private readonly targetEntropy: number;
  private readonly rng: Rng;
  private readonly noiseRng: Rng;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;
  private rowsCap = 0;
  /** Host views of the networks (exec/host-params.ts). */
  private readonly host: HostParams;

  constructor(opts: SacOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    const A = actionSize;
    this.actorLayers = mlpLayers(obsSize, hp.actorHidden, 'out', 2 * A, 'linear');
    this.criticL = criticLayers(obsSize, hp.criticHidden, A, 0);
    const aSpecs = mlpSpecs(obsSize, hp.actorHidden, 'out', 2 * A, hp.finalLayerInit);
    const cSpecs = criticSpecs(obsSize, hp.criticHidden, A, 0, hp.finalLayerInit);
    const size = (specs: ParamSpec[]) => specs.reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0);
    const chosen = opts.executor
      ? { exec: opts.executor, note: `${opts.executor.name}: given by the caller` }
      : networkExecutor({
          what: 'SAC',
          arenaBytes: 4 * 6 * (size(aSpecs) + 4 * size(cSpecs)) + (8 << 20),
        });
    this.exec = chosen.exec;
    this.syncRead = this.exec.syncRead;
    this.host = new HostParams(this.exec);
    this.executorNote = chosen.note;
    const exec = this.exec;
    this.actorNet = new ExecChain(exec, this.actorLayers, 'actor');
    this.nextNet = new ExecChain(exec, this.actorLayers, 'next');
    this.actNet = new ExecChain(exec, this.actorLayers, 'act');
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    this.noiseRng = root.fork();
    // Initial values drawn on the host in slot order (the same numbers on every executor).
    const initial = (specs: ParamSpec[]) => {
      const host = new FlatParams(specs);
      host.init(initRng);
      const p = exec.params(specs);
      exec.writeParams(p, host.values);
      host.dispose();
      return p;
    };
    const actor = initial(aSpecs);
    const critics: Params[] = [];
    const criticTargets: Params[] = [];
    for (let j = 0; j < 2; j++) {
      critics.push(initial(cSpecs));
      criticTargets.push(exec.params(cSpecs));
      exec.copyParams(criticTargets[j], critics[j]);
    }
    this.net = { actor, critics, criticTargets, actorGrad: exec.params(aSpecs), criticGrads: critics.map(() => exec.params(cSpecs)) };
    this.actorOpt = exec.adam(actor, hp.actorLr);
    this.criticOpts = critics.map((c) => exec.adam(c, hp.criticLr));
    this.logAlpha = Math.log(hp.initialAlpha);
    this.targetEntropy = hp.targetEntropy ?? -A;
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.reserve(hp.batchSize);
  }

  get alpha(): number {
    return Math.exp(this.logAlpha);
  }

  get actor(): FlatParams {
    return this.host.of(this.net.actor);
  }
  get critics(): FlatParams[] {
    return this.net.critics.map((c) => this.host.of(c));
  }
  get criticTargets(): FlatParams[] {
    return this.net.criticTargets.map((c) => this.host.of(c));
  }

  /** Lays out the buffers of an update for `rows` rows before any view is held (growing detaches views). */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const { exec, net } = this;
    const O = this.obsSize;
    const A = this.actionSize;
    for (const name of ['s', 's2']) exec.buffer(name, rows * O);
    for (const name of ['a', 'a2', 'eps', 'eps2', 'sigma', 'sigma2', 'aPi']) exec.buffer(name, rows * A);
    exec.buffer('dOut', rows * 2 * A);
    for (const name of ['logp', 'logp2', 'dq', 'y', 'r', 'discount', 'w']) exec.buffer(name, rows);
    exec.buffer('act.x', O);
    const x = exec.buffer('s', rows * O);
    const a = exec.buffer('a', rows * A);
    const dq = exec.buffer('dq', rows);
    for (let j = 0; j < 2; j++) {
      criticForward(exec, net.criticTargets[j], this.criticL, exec.buffer('s2', rows * O), a, rows, `ct${j}`);
      criticForward(exec, net.critics[j], this.criticL, x, a, rows, `c${j}`);
      criticBackward(exec, net.critics[j], net.criticGrads[j], this.criticL, x, a, dq, rows, false, `c${j}`);
      criticActionGrad(exec, net.critics[j], this.criticL, a, rows, `c${j}`);
    }
    this.nextNet.forward(net.actor, x, rows);
    this.actorNet.forward(net.actor, x, rows);
    this.actorNet.backward(net.actor, net.actorGrad, x, exec.buffer('dOut', rows * 2 * A), rows, false);
    this.actNet.forward(net.actor, exec.buffer('act.x', O), 1);
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    return resolve(this.exec, this.actStep(obs, explore));
  }

  /** act() on an executor that reads only asynchronously (webgpu). */
  actAsync(obs: Float32Array, explore: boolean): Promise<Float32Array> {
    return resolveAsync(this.exec, this.actStep(obs, explore));
  }

  private actStep(obs: Float32Array, explore: boolean): Pending<Float32Array> {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.exec.buffer('act.x', this.obsSize);
    this.exec.write(x, this.obsNorm ? this.obsNorm.apply(obs) : obs);
    const out = this.actNet.forward(this.net.actor, x, 1);
    const A = this.actionSize;
    // Drawn now, so that the stream does not depend on when the read completes.
    const eps = explore ? Float32Array.from({ length: A }, () => this.noiseRng.normal()) : null;
    return {
      reads: [out],
      finish: ([o]) => {
        const a = new Float32Array(A);
        if (!eps) {
          // The deterministic policy: the mode of the Gaussian, squashed (what evaluation and export use).
          for (let i = 0; i < A; i++) a[i] = Math.tanh(o[i]);
          return a;
        }
        squashedGaussian(o, eps, 1, A, a, new Float32Array(1), new Float32Array(A), new Float32Array(A));
        return a;
      },
    };
  }

  resetEpisode(): void {}

  /**
   * Losses and gradients of one update on `batch` (no parameter changes). Noise for the policy
   * samples at s' and s comes from the agent's rng unless given (tests pass fixed noise).
   */
  gradients(batch: Batch, noise?: { next: Float32Array; now: Float32Array }): SacGradients {
    return resolve(this.exec, this.gradientStep(batch, true, noise));
  }

  /**
   * Issues one update's forward and backward passes; the Pending reads what it reports (the
   * gradients themselves only when `withGrads`: a full download on a GPU).
   */
  private gradientStep(batch: Batch, withGrads: boolean, noise?: { next: Float32Array; now: Float32Array }): Pending<SacGradients> {
    const B = batch.size;
    this.reserve(B);
    const { exec, hp, criticL, net } = this;
    const A = this.actionSize;
    const O = this.obsSize;
    const alpha = this.alpha;
    const s = exec.buffer('s', B * O);
    const s2 = exec.buffer('s2', B * O);
    exec.write(s, this.obsNorm ? this.obsNorm.apply(batch.obs.subarray(0, B * O)) : batch.obs.subarray(0, B * O));
    exec.write(s2, this.obsNorm ? this.obsNorm.apply(batch.nextObs.subarray(0, B * O)) : batch.nextObs.subarray(0, B * O));
    const eps2 = exec.buffer('eps2', B * A);
    const eps = exec.buffer('eps', B * A);
    if (noise) {
      exec.write(eps2, noise.next.subarray(0, B * A));
      exec.write(eps, noise.now.subarray(0, B * A));
    } else {
      exec.write(
        eps2,
        Float32Array.from({ length: B * A }, () => this.rng.normal()),
      );
      exec.write(
        eps,
        Float32Array.from({ length: B * A }, () => this.rng.normal()),
      );
    }

    // Target y = r + gamma (1 - done) (min_j Q'_j(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
    const a2 = exec.buffer('a2', B * A);
    const logp2 = exec.buffer('logp2', B);
    exec.squashedGaussian(this.nextNet.forward(net.actor, s2, B), eps2, B, A, a2, logp2, exec.buffer('sigma2', B * A));
    const qT = net.criticTargets.map((c, j) => criticForward(exec, c, criticL, s2, a2, B, `ct${j}`));
    const { y, weights } = batchTdTarget(exec, batch, hp.gamma, qT[0], qT[1], { logp: logp2, alpha });

    // Critics: mean w (Q_j(s, a) - y)^2 each.
    const a = exec.buffer('a', B * A);
    exec.write(a, batch.actions.subarray(0, B * A));
    const dq = exec.buffer('dq', B);
    const qs: Buf[] = [];
    for (let j = 0; j < 2; j++) {
      const qj = criticForward(exec, net.critics[j], criticL, s, a, B, `c${j}`);
      qs.push(qj);
      exec.squaredErrorGrad(dq, qj, y, weights, B);
      criticBackward(exec, net.critics[j], net.criticGrads[j], criticL, s, a, dq, B, false, `c${j}`);
    }

    // Actor: mean (alpha log pi(a~|s) - min_j Q_j(s, a~)), a~ = tanh(mu + sigma eps) (eq. 7, 11).
    const out = this.actorNet.forward(net.actor, s, B);
    const aPi = exec.buffer('aPi', B * A);
    const logp = exec.buffer('logp', B);
    const sigma = exec.buffer('sigma', B * A);
    exec.squashedGaussian(out, eps, B, A, aPi, logp, sigma);
    // dQ/da of each critic at a~ (criticActionGrad gives d(-mean Q)/da); per row the smaller Q's.
    const g0 = criticActionGrad(exec, net.critics[0], criticL, aPi, B, 'c0');
    const g1 = criticActionGrad(exec, net.critics[1], criticL, aPi, B, 'c1');
    const dOut = exec.buffer('dOut', B * 2 * A);
    exec.squashedGaussianBackward(dOut, out, eps, aPi, sigma, g0.q, g1.q, g0.dAction, g1.dAction, alpha, B, A);
    this.actorNet.backward(net.actor, net.actorGrad, s, dOut, B, false);

    const weightsArr = batch.weights;
    const grads: Params[] = withGrads ? [net.criticGrads[0], net.criticGrads[1], net.actorGrad] : [];
    return {
      reads: [y, qs[0], qs[1], logp, g0.q, g1.q, g0.dAction, g1.dAction, aPi, ...grads],
      finish: ([yv, q0, q1, lp, qPi0, qPi1, dA0, dA1, actions, ...gradValues]) => {
        let criticLoss = 0;
        let q = 0;
        const tdErrors = new Float32Array(B);
        for (const [j, qj] of [q0, q1].entries()) {
          for (let i = 0; i < B; i++) {
            const w = weightsArr ? weightsArr[i] : 1;
            const delta = qj[i] - yv[i];
            criticLoss += (w * delta * delta) / B;
            if (j === 0) {
              tdErrors[i] = Math.abs(delta);
              q += qj[i] / B;
            }
          }
        }
        let actorLoss = 0;
        let logpMean = 0;
        let dqDa = 0;
        for (let r = 0; r < B; r++) {
          const use1 = qPi1[r] < qPi0[r];
          actorLoss += (alpha * lp[r] - (use1 ? qPi1[r] : qPi0[r])) / B;
          logpMean += lp[r] / B;
          for (let i = 0; i < A; i++) dqDa += Math.abs((use1 ? dA1 : dA0)[r * A + i]);
        }
        // Temperature: J(alpha) = mean(-alpha (log pi + target entropy)) (eq. 18), in log alpha.
        const logAlphaGrad = -alpha * (logpMean + this.targetEntropy);
        return {
          criticLoss: criticLoss / 2,
          actorLoss,
          logAlphaGrad,
          q,
          entropy: -logpMean,
          tdErrors,
          criticGrads: gradValues.slice(0, 2),
          actorGrad: gradValues[2] ?? new Float32Array(0),
          actions,
          dqDa: (dqDa / (B * A)) * B,
        };
      },
    };
  }

  update(batch: Batch): UpdateStats {
    return resolve(this.exec, this.updateStep(batch));
  }

  /** update() on an executor that reads only asynchronously (webgpu). */
  updateAsync(batch: Batch): Promise<UpdateStats> {
    return resolveAsync(this.exec, this.updateStep(batch));
  }

  private updateStep(batch: Batch): Pending<UpdateStats> {
    const { hp, exec, net } = this;
    const diagnose = this.updates % DIAGNOSTICS_EVERY === 0;
    const step = this.gradientStep(batch, diagnose);
    for (let j = 0; j < 2; j++) exec.adamStep(this.criticOpts[j], net.criticGrads[j]);
    exec.adamStep(this.actorOpt, net.actorGrad);
    for (let j = 0; j < 2; j++) exec.softUpdate(net.criticTargets[j], net.critics[j], hp.tau);
    this.updates++;
    return {
      reads: step.reads,
      finish: (values) => {
        const g = step.finish(values);
        // The temperature steps on the host: the next update uses the new alpha.
        if (hp.learnAlpha) this.stepAlpha(g.logAlphaGrad);
        const diagnostics: Partial<Record<UpdateDiagnostic, number>> = {};
        if (diagnose) {
          const sat = saturation(g.actions, batch.size * this.actionSize);
          diagnostics.actor_saturation = sat.saturated;
          diagnostics.actor_abs_action = sat.meanAbs;
          diagnostics.dq_da = g.dqDa;
          diagnostics.critic_grad_norm = l2norm(g.criticGrads[0]);
          diagnostics.actor_grad_norm = l2norm(g.actorGrad);
        }
        // Metric names as declared in learn/algos/sac/spec.ts; alpha and entropy, SAC's own signs of life, on every update.
        return {
          metrics: { critic_loss: g.criticLoss, actor_loss: g.actorLoss, q: g.q, ...diagnostics, alpha: this.alpha, entropy: g.entropy },
          tdErrors: g.tdErrors,
        };
      },
    };
  }

  /** Adam on the scalar log alpha (same betas as the networks). */
  private stepAlpha(grad: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const st = this.alphaAdam;
    st.t++;
    st.m = b1 * st.m + (1 - b1) * grad;
    st.v = b2 * st.v + (1 - b2) * grad * grad;
    const mHat = st.m / (1 - Math.pow(b1, st.t));
    const vHat = st.v / (1 - Math.pow(b2, st.t));
    this.logAlpha -= (this.hp.alphaLr * mHat) / (Math.sqrt(vHat) + 1e-8);
  }

  /** The networks as checkpoints store them (exec/network-state.ts). */
  private stateNetworks(): StateNetwork[] {
    const { net } = this;
    return [
      { name: 'actor', params: net.actor, adam: this.actorOpt },
      ...net.critics.flatMap((c, j) => [
        { name: `critic${j}`, params: c, adam: this.criticOpts[j] },
        { name: `criticTarget${j}`, params: net.criticTargets[j] },
      ]),
    ];
  }

  getState(): AgentState {
    return this.stateOf(readNetworkState(this.exec, this.stateNetworks()));
  }

  /** getState() on an executor that reads only asynchronously (webgpu). */
  async getStateAsync(): Promise<AgentState> {
    return this.stateOf(await readNetworkStateAsync(this.exec, this.stateNetworks()));
  }

  private stateOf(tensors: AgentState['tensors']): AgentState {
    return {
      algo: this.algo,
      tensors,
      meta: {
        updates: this.updates,
        ...adamStepsMeta(this.stateNetworks()),
        logAlpha: this.logAlpha,
        alphaAdam: { ...this.alphaAdam },
        rng: this.rng.getState(),
        noiseRng: this.noiseRng.getState(),
        obsNorm: this.obsNorm?.getState() ?? null,
      },
    };
  }

  /** The networks' parameters read back, on any executor. */
  readNetworks(): Promise<Record<string, Float32Array>> {
    return readNetworkParams(this.exec, this.stateNetworks());
  }

  /** Reads the networks into the host views (actor, critics, ...) on an executor that reads only asynchronously. */
  async refreshHostViews(): Promise<void> {
    const { net } = this;
    await this.host.refresh([net.actor, ...net.critics, ...net.criticTargets]);
  }

  setState(state: AgentState): void {
    if (state.algo !== this.algo) throw new Error(`state is for ${state.algo}, not ${this.algo}`);
    const m = state.meta;
    writeNetworkState(this.exec, this.stateNetworks(), state.tensors, adamStepsFromMeta(m));
    this.updates = m.updates as number;
    this.logAlpha = m.logAlpha as number;
    this.alphaAdam = { ...(m.alphaAdam as { m: number; v: number; t: number }) };
    this.rng.setState(m.rng as RngState);
    this.noiseRng.setState(m.noiseRng as RngState);
    if (this.obsNorm && m.obsNorm) this.obsNorm.setState(m.obsNorm as ObsNormState);
  }

  dispose(): void {
    this.host.dispose();
    this.exec.dispose();
  }
}
