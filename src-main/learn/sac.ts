import type { SacHyperparams } from './algos/sac/spec.ts';
import type { Agent, AgentState, Batch, UpdateStats } from './types.ts';
import { Adam, FlatParams, softUpdate, type ParamSpec } from './params.ts';
import { Arena } from './simd.ts';
import { Chain, mlpLayers, mlpSpecs, type Layer } from './mlp.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { RunningObsNorm, type ObsNormState } from './obs-norm.ts';
import { criticActionGrad, criticBackward, criticForward, criticLayers, criticSpecs } from './ddpg.ts';
import { DIAGNOSTICS_EVERY, l2norm, saturation, type UpdateDiagnostic } from './diagnostics.ts';

/**
 * Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"):
 * twin critics with clipped double-Q targets, a tanh-squashed Gaussian policy trained through the
 * reparameterisation a = tanh(mu + sigma eps), and the entropy temperature alpha tuned
 * automatically towards a target entropy (section 5, eq. 18; default -|A|).
 *
 * Networks: actor obs -> hidden (ReLU) -> [mu | log sigma] (linear, 2|A| units); critics
 * obs + action -> hidden (ReLU) -> Q, the action at the input layer (the critic code of ddpg.ts).
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
}

export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(1 - tanh(u)^2) without cancellation: 2 (log 2 - u - softplus(-2u)). */
function logOneMinusTanhSq(u: number): number {
  const z = -2 * u;
  const softplus = z > 20 ? z : Math.log1p(Math.exp(z));
  return 2 * (Math.LN2 - u - softplus);
}

/**
 * The squashed Gaussian of one batch of actor outputs [rows x 2A] with standard normal noise eps
 * [rows x A]: actions a = tanh(u), u = mu + sigma eps, and per-row log pi(a|s) (Haarnoja et al.
 * 2018, appendix C: the Gaussian log density minus sum log(1 - tanh(u)^2)).
 */
export function squashedGaussian(out: Float32Array, eps: Float32Array, rows: number, A: number, actions: Float32Array, logp: Float32Array, u: Float32Array, sigma: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    let lp = 0;
    for (let i = 0; i < A; i++) {
      const mu = out[r * 2 * A + i];
      const raw = out[r * 2 * A + A + i];
      const logStd = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(raw) + 1);
      const s = Math.exp(logStd);
      const e = eps[r * A + i];
      const ui = mu + s * e;
      u[r * A + i] = ui;
      sigma[r * A + i] = s;
      actions[r * A + i] = Math.tanh(ui);
      lp += -0.5 * e * e - logStd - HALF_LOG_2PI - logOneMinusTanhSq(ui);
    }
    logp[r] = lp;
  }
}

/** Everything one SAC update computes before its optimiser steps (tests check it against finite differences). */
export interface SacGradients {
  criticLoss: number;
  actorLoss: number;
  /** Temperature loss gradient with respect to log alpha. */
  logAlphaGrad: number;
  q: number;
  entropy: number;
  tdErrors: Float32Array;
  /** Gradients into the arena (critic j: `grad.c{j}`, actor: `grad.actor`). */
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
  private readonly ar: Arena;
  readonly actorLayers: Layer[];
  private readonly criticL: Layer[];
  private readonly actorNet: Chain;
  private readonly nextNet: Chain;
  private readonly actNet: Chain;
  readonly actor: FlatParams;
  readonly critics: FlatParams[];
  readonly criticTargets: FlatParams[];
  private readonly actorOpt: Adam;
  private readonly criticOpts: Adam[];
  /** log alpha and its Adam moments (a scalar optimised in JS). */
  private logAlpha: number;
  private alphaAdam = { m: 0, v: 0, t: 0 };
  private readonly targetEntropy: number;
  private readonly rng: Rng;
  private readonly noiseRng: Rng;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;
  private rowsCap = 0;

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
    this.ar = new Arena(4 * 6 * (size(aSpecs) + 4 * size(cSpecs)) + (8 << 20));
    this.actorNet = new Chain(this.ar, this.actorLayers, 'actor');
    this.nextNet = new Chain(this.ar, this.actorLayers, 'next');
    this.actNet = new Chain(this.ar, this.actorLayers, 'act');
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    this.noiseRng = root.fork();
    this.actor = new FlatParams(aSpecs, this.ar);
    this.actor.init(initRng);
    this.critics = [];
    this.criticTargets = [];
    for (let j = 0; j < 2; j++) {
      const critic = new FlatParams(cSpecs, this.ar);
      critic.init(initRng);
      const target = new FlatParams(cSpecs, this.ar);
      target.copyFrom(critic);
      this.critics.push(critic);
      this.criticTargets.push(target);
    }
    this.actorOpt = new Adam(this.actor, hp.actorLr);
    this.criticOpts = this.critics.map((c) => new Adam(c, hp.criticLr));
    this.logAlpha = Math.log(hp.initialAlpha);
    this.targetEntropy = hp.targetEntropy ?? -A;
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.reserve(hp.batchSize);
  }

  get alpha(): number {
    return Math.exp(this.logAlpha);
  }

  /** Lays out the arena regions of an update for `rows` rows before any view is held (growing detaches views). */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const ar = this.ar;
    const O = this.obsSize;
    const A = this.actionSize;
    for (const name of ['s', 's2']) ar.get(name, rows * O);
    for (const name of ['a', 'a2', 'eps', 'eps2', 'u', 'u2', 'sigma', 'sigma2', 'aPi', 'dOutA']) ar.get(name, rows * A);
    ar.get('dOut', rows * 2 * A);
    for (const name of ['logp', 'logp2', 'dq']) ar.get(name, rows);
    ar.get('act.x', O);
    this.critics.forEach((c, j) => ar.get(`grad.c${j}`, c.size));
    ar.get('grad.actor', this.actor.size);
    const x = ar.get('s', rows * O);
    const a = ar.get('a', rows * A);
    const dq = ar.get('dq', rows);
    for (let j = 0; j < 2; j++) {
      criticForward(ar, this.criticTargets[j], this.criticL, ar.get('s2', rows * O), a, rows, `ct${j}`);
      criticForward(ar, this.critics[j], this.criticL, x, a, rows, `c${j}`);
      criticBackward(ar, this.critics[j], ar.get(`grad.c${j}`, this.critics[j].size), this.criticL, x, a, dq, rows, false, `c${j}`);
      criticActionGrad(ar, this.critics[j], this.criticL, a, rows, `c${j}`);
    }
    this.nextNet.forward(this.actor, x, rows);
    this.actorNet.forward(this.actor, x, rows);
    this.actorNet.backward(this.actor, ar.get('grad.actor', this.actor.size), x, ar.get('dOut', rows * 2 * A), rows, false);
    this.actNet.forward(this.actor, ar.get('act.x', O), 1);
    this.critics.forEach((c, j) => ar.get(`grad.c${j}`, c.size).fill(0));
    ar.get('grad.actor', this.actor.size).fill(0);
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.ar.get('act.x', this.obsSize);
    x.set(this.obsNorm ? this.obsNorm.apply(obs) : obs);
    const out = this.actNet.forward(this.actor, x, 1);
    const A = this.actionSize;
    const a = new Float32Array(A);
    if (!explore) {
      // The deterministic policy: the mode of the Gaussian, squashed (what evaluation and export use).
      for (let i = 0; i < A; i++) a[i] = Math.tanh(out[i]);
      return a;
    }
    const eps = Float32Array.from({ length: A }, () => this.noiseRng.normal());
    squashedGaussian(out, eps, 1, A, a, new Float32Array(1), new Float32Array(A), new Float32Array(A));
    return a;
  }

  resetEpisode(): void {}

  /**
   * Losses and gradients of one update on `batch` (no parameter changes). Noise for the policy
   * samples at s' and s comes from the agent's rng unless given (tests pass fixed noise).
   */
  gradients(batch: Batch, noise?: { next: Float32Array; now: Float32Array }): SacGradients {
    const B = batch.size;
    this.reserve(B);
    const { ar, hp, criticL } = this;
    const A = this.actionSize;
    const O = this.obsSize;
    const alpha = this.alpha;
    const s = ar.get('s', B * O);
    const s2 = ar.get('s2', B * O);
    s.set(this.obsNorm ? this.obsNorm.apply(batch.obs.subarray(0, B * O)) : batch.obs.subarray(0, B * O));
    s2.set(this.obsNorm ? this.obsNorm.apply(batch.nextObs.subarray(0, B * O)) : batch.nextObs.subarray(0, B * O));
    const eps2 = ar.get('eps2', B * A);
    const eps = ar.get('eps', B * A);
    if (noise) {
      eps2.set(noise.next.subarray(0, B * A));
      eps.set(noise.now.subarray(0, B * A));
    } else {
      for (let i = 0; i < B * A; i++) eps2[i] = this.rng.normal();
      for (let i = 0; i < B * A; i++) eps[i] = this.rng.normal();
    }

    // Target y = r + gamma (1 - done) (min_j Q'_j(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
    const a2 = ar.get('a2', B * A);
    const logp2 = ar.get('logp2', B);
    squashedGaussian(this.nextNet.forward(this.actor, s2, B), eps2, B, A, a2, logp2, ar.get('u2', B * A), ar.get('sigma2', B * A));
    const qT = this.criticTargets.map((c, j) => criticForward(ar, c, criticL, s2, a2, B, `ct${j}`));
    const y = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      const bootstrap = batch.discounts ? batch.discounts[i] : hp.gamma * (1 - batch.dones[i]);
      y[i] = batch.rewards[i] + bootstrap * (Math.min(qT[0][i], qT[1][i]) - alpha * logp2[i]);
    }

    // Critics: mean w (Q_j(s, a) - y)^2 each.
    const a = ar.get('a', B * A);
    a.set(batch.actions.subarray(0, B * A));
    const dq = ar.get('dq', B);
    const tdErrors = new Float32Array(B);
    let criticLoss = 0;
    let q = 0;
    const criticGrads: Float32Array[] = [];
    for (let j = 0; j < 2; j++) {
      const qj = criticForward(ar, this.critics[j], criticL, s, a, B, `c${j}`);
      for (let i = 0; i < B; i++) {
        const w = batch.weights ? batch.weights[i] : 1;
        const delta = qj[i] - y[i];
        criticLoss += (w * delta * delta) / B;
        dq[i] = (2 * w * delta) / B;
        if (j === 0) {
          tdErrors[i] = Math.abs(delta);
          q += qj[i] / B;
        }
      }
      const g = ar.get(`grad.c${j}`, this.critics[j].size);
      g.fill(0);
      criticBackward(ar, this.critics[j], g, criticL, s, a, dq, B, false, `c${j}`);
      criticGrads.push(g);
    }

    // Actor: mean (alpha log pi(a~|s) - min_j Q_j(s, a~)), a~ = tanh(mu + sigma eps) (eq. 7, 11).
    const out = this.actorNet.forward(this.actor, s, B);
    const aPi = ar.get('aPi', B * A);
    const logp = ar.get('logp', B);
    const u = ar.get('u', B * A);
    const sigma = ar.get('sigma', B * A);
    squashedGaussian(out, eps, B, A, aPi, logp, u, sigma);
    // dQ/da of each critic at a~ (criticActionGrad gives d(-mean Q)/da); per row the smaller Q's.
    const g0 = criticActionGrad(ar, this.critics[0], criticL, aPi, B, 'c0');
    const dA0 = Float32Array.from(g0.dAction.subarray(0, B * A));
    const q0 = Float32Array.from(g0.q.subarray(0, B));
    const g1 = criticActionGrad(ar, this.critics[1], criticL, aPi, B, 'c1');
    const dOut = ar.get('dOut', B * 2 * A);
    let actorLoss = 0;
    let logpMean = 0;
    let dqDa = 0;
    for (let r = 0; r < B; r++) {
      const use1 = g1.q[r] < q0[r];
      actorLoss += (alpha * logp[r] - (use1 ? g1.q[r] : q0[r])) / B;
      logpMean += logp[r] / B;
      for (let i = 0; i < A; i++) {
        const k = r * A + i;
        const dLda = use1 ? g1.dAction[k] : dA0[k];
        dqDa += Math.abs(dLda);
        const ai = aPi[k];
        // d/du of (alpha log pi - Q) / B: the squashing term -log(1 - tanh^2 u) has derivative 2 tanh u.
        const dLdu = dLda * (1 - ai * ai) + (alpha * 2 * ai) / B;
        const raw = out[r * 2 * A + A + i];
        const th = Math.tanh(raw);
        const dLogStdDraw = 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (1 - th * th);
        dOut[r * 2 * A + i] = dLdu;
        // u = mu + exp(log sigma) eps; log pi has -log sigma.
        dOut[r * 2 * A + A + i] = (dLdu * sigma[k] * eps[k] - alpha / B) * dLogStdDraw;
      }
    }
    const actorGrad = ar.get('grad.actor', this.actor.size);
    actorGrad.fill(0);
    this.actorNet.backward(this.actor, actorGrad, s, dOut, B, false);

    // Temperature: J(alpha) = mean(-alpha (log pi + target entropy)) (eq. 18), in log alpha.
    const logAlphaGrad = -alpha * (logpMean + this.targetEntropy);
    return {
      criticLoss: criticLoss / 2,
      actorLoss,
      logAlphaGrad,
      q,
      entropy: -logpMean,
      tdErrors,
      criticGrads,
      actorGrad,
      actions: aPi,
      dqDa: dqDa / (B * A) * B,
    };
  }

  update(batch: Batch): UpdateStats {
    const { hp } = this;
    const diagnose = this.updates % DIAGNOSTICS_EVERY === 0;
    const g = this.gradients(batch);
    const diagnostics: Partial<Record<UpdateDiagnostic, number>> = {};
    if (diagnose) {
      const sat = saturation(g.actions, batch.size * this.actionSize);
      diagnostics.actor_saturation = sat.saturated;
      diagnostics.actor_abs_action = sat.meanAbs;
      diagnostics.dq_da = g.dqDa;
      diagnostics.critic_grad_norm = l2norm(g.criticGrads[0]);
      diagnostics.actor_grad_norm = l2norm(g.actorGrad);
    }
    for (let j = 0; j < 2; j++) this.criticOpts[j].step(g.criticGrads[j]);
    this.actorOpt.step(g.actorGrad);
    if (hp.learnAlpha) this.stepAlpha(g.logAlphaGrad);
    for (let j = 0; j < 2; j++) softUpdate(this.criticTargets[j], this.critics[j], hp.tau);
    this.updates++;
    return {
      // Metric names as declared in learn/algos/sac/spec.ts; alpha and entropy, SAC's own signs of life, on every update.
      metrics: { critic_loss: g.criticLoss, actor_loss: g.actorLoss, q: g.q, ...diagnostics, alpha: this.alpha, entropy: g.entropy },
      tdErrors: g.tdErrors,
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

  getState(): AgentState {
    const tensors: AgentState['tensors'] = {};
    const put = (name: string, data: Float32Array) => (tensors[name] = { shape: [data.length], data: data.slice() });
    put('actor', this.actor.values);
    put('actorAdam.m', this.actorOpt.m);
    put('actorAdam.v', this.actorOpt.v);
    this.critics.forEach((c, j) => {
      put(`critic${j}`, c.values);
      put(`criticTarget${j}`, this.criticTargets[j].values);
      put(`critic${j}Adam.m`, this.criticOpts[j].m);
      put(`critic${j}Adam.v`, this.criticOpts[j].v);
    });
    return {
      algo: this.algo,
      tensors,
      meta: {
        updates: this.updates,
        actorAdamT: this.actorOpt.t,
        criticAdamT: this.criticOpts.map((o) => o.t),
        logAlpha: this.logAlpha,
        alphaAdam: { ...this.alphaAdam },
        rng: this.rng.getState(),
        noiseRng: this.noiseRng.getState(),
        obsNorm: this.obsNorm?.getState() ?? null,
      },
    };
  }

  setState(state: AgentState): void {
    if (state.algo !== this.algo) throw new Error(`state is for ${state.algo}, not ${this.algo}`);
    const get = (name: string, len: number) => {
      const t = state.tensors[name];
      if (!t || t.data.length !== len) throw new Error(`agent state '${name}' is missing or has the wrong size`);
      return t.data;
    };
    const load = (p: FlatParams, name: string) => p.values.set(get(name, p.size));
    load(this.actor, 'actor');
    this.actorOpt.setState({ m: get('actorAdam.m', this.actor.size), v: get('actorAdam.v', this.actor.size), t: state.meta.actorAdamT as number });
    const ts = state.meta.criticAdamT as number[];
    this.critics.forEach((c, j) => {
      load(c, `critic${j}`);
      load(this.criticTargets[j], `criticTarget${j}`);
      this.criticOpts[j].setState({ m: get(`critic${j}Adam.m`, c.size), v: get(`critic${j}Adam.v`, c.size), t: ts[j] });
    });
    const m = state.meta;
    this.updates = m.updates as number;
    this.logAlpha = m.logAlpha as number;
    this.alphaAdam = { ...(m.alphaAdam as { m: number; v: number; t: number }) };
    this.rng.setState(m.rng as RngState);
    this.noiseRng.setState(m.noiseRng as RngState);
    if (this.obsNorm && m.obsNorm) this.obsNorm.setState(m.obsNorm as ObsNormState);
  }

  dispose(): void {
    for (const p of [this.actor, ...this.critics, ...this.criticTargets]) p.dispose();
    this.ar.dispose();
  }
}
