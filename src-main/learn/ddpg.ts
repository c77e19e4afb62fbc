import * as tf from '@tensorflow/tfjs';
import type { ActorCriticHyperparams } from './algos/ddpg/spec.ts';
import type { Agent, AgentState, Batch, UpdateStats } from './types.ts';
import { Adam, FlatParams, fanInBound, softUpdate, type ParamSpec } from './params.ts';
import { Arena } from './simd.ts';
import { activationBackward, backToInput, backToPre, Chain, denseBackward, denseForward, denseFromPre, mlpLayers, mlpSpecs, normalizeInput, type Layer } from './mlp.ts';
import { bnSpecs, type NormMode } from './batch-norm.ts';
import { Rng } from '../util/rng.ts';
import { makeActionNoise, ParameterNoise, type ActionNoise, type NoiseState } from './noise.ts';
import { RunningObsNorm, type ObsNormState } from './obs-norm.ts';
import { IdentityEncoder, identityEncoder, type EncoderFactory, type ObsEncoder } from './encoder.ts';
import { DIAGNOSTICS_EVERY, l2norm, meanAbs, saturation, type UpdateDiagnostic } from './diagnostics.ts';

/**
 * DDPG (Lillicrap et al. 2015) and TD3 (Fujimoto et al. 2018) as one actor-critic: TD3's twin
 * critics, target policy smoothing and delayed actor updates are switches, all off for DDPG.
 *
 * Networks (DDPG supplement 7): actor obs -> 400 -> 300 -> tanh(action); critic obs -> 400 ->
 * [300, action enters here] -> Q. Init U(-1/sqrt(fan_in), +) for hidden layers, U(-3e-3, 3e-3) for
 * the output layers.
 *
 * Deviations, written down:
 * - The actor's gradient uses the critic before this step's critic update (as OpenAI Baselines'
 *   DDPG, which computes both gradients from one graph; Algorithm 1 does not pin the order). This
 *   lets Q(s, a) and Q(s, mu(s)) share the critic's obs-only layers and the obs part of the action
 *   layer, one of the largest matMuls of the update.
 * - Batch normalisation (hp.batchNorm, batch-norm.ts) sits where the paper puts it: the state input
 *   and every hidden layer of the actor, the state input and the hidden layers below the action's
 *   layer in the critic. Online networks train on batch statistics; targets and acting use the
 *   running statistics.
 * - L2 decay 1e-2 applies to critic weights, not biases (gradient 1e-2 * W).
 */
export interface ActorCriticOptions {
  algo: 'ddpg' | 'td3';
  obsSize: number;
  actionSize: number;
  hp: ActorCriticHyperparams;
  seed: number;
  encoder?: EncoderFactory;
}

export function actorSpecs(obs: number, hidden: number[], act: number, finalInit: number | null, batchNorm = false): ParamSpec[] {
  return mlpSpecs(obs, hidden, 'out', act, finalInit, batchNorm);
}

export function criticSpecs(obs: number, hidden: number[], act: number, actionLayer: number, finalInit: number | null, batchNorm = false): ParamSpec[] {
  const specs: ParamSpec[] = batchNorm ? bnSpecs('bnIn', obs) : [];
  let fan = obs;
  hidden.forEach((h, i) => {
    // fan_in of the action layer counts the action inputs too.
    const fanIn = i === actionLayer ? fan + act : fan;
    specs.push({ name: `l${i}.W`, shape: [fan, h], bound: fanInBound(fanIn), decay: true });
    if (i === actionLayer) specs.push({ name: `l${i}.A`, shape: [act, h], bound: fanInBound(fanIn), decay: true });
    specs.push({ name: `l${i}.b`, shape: [h], bound: fanInBound(fanIn), decay: false });
    if (batchNorm && i < actionLayer) specs.push(...bnSpecs(`bn${i}`, h));
    fan = h;
  });
  const fb = finalInit ?? fanInBound(fan);
  specs.push({ name: 'out.W', shape: [fan, 1], bound: fb, decay: true });
  specs.push({ name: 'out.b', shape: [1], bound: fb, decay: false });
  return specs;
}

/** The actor as dense layers: obs -> hidden (ReLU) -> action (tanh). */
export function actorLayers(obs: number, hidden: number[], act: number, batchNorm = false): Layer[] {
  return mlpLayers(obs, hidden, 'out', act, 'tanh', batchNorm);
}

/**
 * The critic as dense layers: the action enters hidden layer k through l{k}.A; output Q (linear).
 * With batchNorm the state input and the hidden layers below k are normalised.
 */
export function criticLayers(obs: number, hidden: number[], act: number, k: number, batchNorm = false): Layer[] {
  const ls: Layer[] = [];
  let fan = obs;
  hidden.forEach((h, i) => {
    ls.push({ W: `l${i}.W`, b: `l${i}.b`, in: fan, out: h, act: 'relu', ...(i === k ? { A: `l${i}.A`, extra: act } : {}), ...(batchNorm && i < k ? { bn: `bn${i}` } : {}) });
    fan = h;
  });
  ls.push({ W: 'out.W', b: 'out.b', in: fan, out: 1, act: 'linear' });
  if (batchNorm) ls[0].bnIn = 'bnIn';
  return ls;
}

/**
 * Critic forward Q(x, a) for `rows` rows; layer outputs stay in the arena under `name` (for
 * criticBackward), and the obs-only pre-activation of the action layer (x W + b) under
 * `${name}.base` (for criticActionGrad). Returns Q [rows].
 */
export function criticForward(ar: Arena, p: FlatParams, layers: Layer[], x: Float32Array, a: Float32Array, rows: number, name: string, mode: NormMode = 'infer'): Float32Array {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const L = layers[i];
    if (L.bnIn) h = normalizeInput(ar, p, L, h, rows, { mode, scratch: `${name}.in` });
    const y = ar.get(`${name}.y${i}`, rows * L.out);
    if (L.A) denseForward(ar, p, L, h, rows, y, a, ar.get(`${name}.base`, rows * L.out));
    else denseForward(ar, p, L, h, rows, y, undefined, undefined, { mode, scratch: `${name}.bn${i}` });
    h = y;
  }
  return h;
}

/**
 * Critic parameter gradients into g for dL/dQ = dq [rows], after criticForward(name) on the same
 * x, a; returns dL/dx [rows x in] when wantInput (the encoder trains), else null.
 */
export function criticBackward(ar: Arena, p: FlatParams, g: Float32Array, layers: Layer[], x: Float32Array, a: Float32Array, dq: Float32Array, rows: number, wantInput: boolean, name: string): Float32Array | null {
  const top = layers.length - 1;
  const needIn = (i: number) => i > 0 || wantInput || !!layers[i].bnIn;
  // Linear output with one unit: dpre = dq, and its transpose has the same memory layout.
  let dpre = dq;
  let dpreT: Float32Array | null = dq;
  for (let i = top; i >= 0; i--) {
    const L = layers[i];
    const input = i > 0 ? ar.get(`${name}.y${i - 1}`, rows * L.in) : L.bnIn ? ar.get(`${name}.in.x`, rows * L.in) : x;
    const dInT = needIn(i) ? ar.get(`${name}.dhT${i}`, rows * L.in) : null;
    denseBackward(ar, p, g, L, input, L.A ? a : null, rows, dpre, dpreT, { weights: true, dExtra: null, dInT }, null);
    if (i > 0) {
      dpre = ar.get(`${name}.dpre${i - 1}`, rows * L.in);
      dpreT = needIn(i - 1) ? ar.get(`${name}.dpreT${i - 1}`, rows * L.in) : null;
      backToPre(ar, p, g, layers[i - 1], dInT!, input, rows, dpre, dpreT, `${name}.bn${i - 1}`);
    } else if (dInT) {
      return backToInput(ar, p, g, L, dInT, rows, wantInput ? ar.get(`${name}.dIn`, rows * L.in) : null, `${name}.in`);
    }
  }
  return null;
}

/**
 * dQ/da at a = mu for the loss -mean Q(s, mu(s)), reusing the obs-only part of the critic forward
 * `name` on the same states (no critic weight gradients). Returns dL/d(mu) [rows x act] and
 * Q(s, mu) [rows].
 */
export function criticActionGrad(ar: Arena, p: FlatParams, layers: Layer[], mu: Float32Array, rows: number, name: string): { dAction: Float32Array; q: Float32Array } {
  const k = layers.findIndex((L) => L.A);
  const top = layers.length - 1;
  const pre = ar.get(`${name}.base`, rows * layers[k].out);
  const mn = `${name}.mu`;
  let h = ar.get(`${mn}.y${k}`, rows * layers[k].out);
  denseFromPre(ar, p, layers[k], pre, mu, rows, h);
  for (let i = k + 1; i <= top; i++) {
    const y = ar.get(`${mn}.y${i}`, rows * layers[i].out);
    denseForward(ar, p, layers[i], h, rows, y);
    h = y;
  }
  const q = h;
  let dpreT = ar.get(`${mn}.dq`, rows).fill(-1 / rows);
  const none = { weights: false, dExtra: null, dInT: null };
  for (let i = top; i > k; i--) {
    const L = layers[i];
    const dInT = ar.get(`${mn}.dhT${i}`, rows * L.in);
    denseBackward(ar, p, new Float32Array(0), L, h, null, rows, dpreT, dpreT, { ...none, dInT }, null);
    const dpre = ar.get(`${mn}.dpre${i - 1}`, rows * L.in);
    dpreT = ar.get(`${mn}.dpreT${i - 1}`, rows * L.in);
    activationBackward(dInT, true, ar.get(`${mn}.y${i - 1}`, rows * L.in), rows, L.in, layers[i - 1].act, dpre, dpreT);
  }
  const L = layers[k];
  const dAction = ar.get(`${mn}.dAction`, rows * L.extra!);
  denseBackward(ar, p, new Float32Array(0), L, h, null, rows, dpreT, dpreT, { ...none, dExtra: dAction }, ar.get(`${mn}.dActT`, rows * L.extra!));
  return { dAction, q };
}

export class ActorCriticAgent implements Agent {
  readonly algo: 'ddpg' | 'td3';
  readonly hp: ActorCriticHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  private readonly k: number;
  /** All networks, optimizer moments, gradients and scratch of this agent (simd.ts). */
  private readonly ar: Arena;
  private readonly actorL: Layer[];
  private readonly criticL: Layer[];
  private readonly actorNet: Chain;
  private readonly actNet: Chain;
  readonly actor: FlatParams;
  readonly actorTarget: FlatParams;
  readonly critics: FlatParams[];
  readonly criticTargets: FlatParams[];
  private readonly actorOpt: Adam;
  private readonly criticOpts: Adam[];
  private readonly enc: { actor: ObsEncoder; actorTarget: ObsEncoder; critics: ObsEncoder[]; criticTargets: ObsEncoder[] };
  private readonly rng: Rng;
  readonly noise: ActionNoise;
  readonly paramNoise: ParameterNoise | null;
  private perturbed: FlatParams | null = null;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;
  /** Batch rows the arena's scratch has been laid out for (see reserve). */
  private rowsCap = 0;

  constructor(opts: ActorCriticOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.algo = opts.algo;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    this.k = hp.criticActionLayer;
    const layersC = hp.criticHidden.length;
    if (this.k >= layersC) throw new Error(`criticActionLayer ${this.k} must be below the number of critic hidden layers (${layersC})`);
    const encoder = opts.encoder ?? identityEncoder;
    const nCritics = hp.twinCritics ? 2 : 1;
    this.enc = {
      actor: encoder(obsSize),
      actorTarget: encoder(obsSize),
      critics: Array.from({ length: nCritics }, () => encoder(obsSize)),
      criticTargets: Array.from({ length: nCritics }, () => encoder(obsSize)),
    };
    const feat = this.enc.actor.outSize;
    const bn = hp.batchNorm;
    this.actorL = actorLayers(feat, hp.actorHidden, actionSize, bn);
    this.criticL = criticLayers(feat, hp.criticHidden, actionSize, this.k, bn);
    const aSpecs = actorSpecs(feat, hp.actorHidden, actionSize, hp.finalLayerInit, bn);
    const cSpecs = criticSpecs(feat, hp.criticHidden, actionSize, this.k, hp.finalLayerInit, bn);
    const size = (specs: ParamSpec[]) => specs.reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0);
    // Parameters, targets, Adam m/v/decay and gradients: ~6 copies per network, plus scratch.
    this.ar = new Arena(4 * 6 * (2 * size(aSpecs) + 2 * nCritics * size(cSpecs)) + (8 << 20));
    this.actorNet = new Chain(this.ar, this.actorL, 'actor');
    this.actNet = new Chain(this.ar, this.actorL, 'act');
    // Independent streams: network init, minibatch/target noise, exploration.
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    const noiseRng = root.fork();
    this.actor = new FlatParams(aSpecs, this.ar);
    this.actor.init(initRng);
    this.actorTarget = new FlatParams(aSpecs, this.ar);
    this.actorTarget.copyFrom(this.actor);
    this.critics = [];
    this.criticTargets = [];
    for (let c = 0; c < nCritics; c++) {
      const critic = new FlatParams(cSpecs, this.ar);
      critic.init(initRng);
      const target = new FlatParams(cSpecs, this.ar);
      target.copyFrom(critic);
      this.critics.push(critic);
      this.criticTargets.push(target);
      this.enc.criticTargets[c].copyFrom(this.enc.critics[c]);
    }
    this.enc.actorTarget.copyFrom(this.enc.actor);
    this.actorOpt = new Adam(this.actor, hp.actorLr);
    this.criticOpts = this.critics.map((c) => new Adam(c, hp.criticLr, hp.criticL2));
    this.noise = makeActionNoise(hp.exploration === 'param' ? 'none' : hp.exploration, actionSize, hp, noiseRng.fork());
    this.paramNoise = hp.exploration === 'param' ? new ParameterNoise(this.actor.size, hp.paramNoiseTarget, hp.paramNoiseInitial, noiseRng.fork()) : null;
    if (this.paramNoise) this.perturbed = new FlatParams(aSpecs, this.ar);
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.reserve(hp.batchSize);
  }

  /**
   * Lays out every arena region an update, act() or the noise adaptation uses for up to `rows`
   * rows, by running their computations once on zeros (no state changes). Growing the arena
   * detaches views, so this happens before a computation, never inside one.
   */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const ar = this.ar;
    const O = this.enc.actor.outSize;
    const A = this.actionSize;
    for (const name of ['s', 's2']) ar.get(name, rows * O);
    for (let j = 0; j < this.critics.length; j++) for (const name of [`s.c${j}`, `s2.c${j}`]) ar.get(name, rows * O);
    ar.get('s.a', rows * O);
    ar.get('s2.a', rows * O);
    ar.get('a', rows * A);
    ar.get('a2', rows * A);
    ar.get('dq', rows);
    ar.get('act.x', O);
    this.critics.forEach((c, j) => ar.get(`grad.c${j}`, c.size));
    ar.get('grad.actor', this.actor.size);
    const x = ar.get('s', rows * O);
    const a = ar.get('a', rows * A);
    const dq = ar.get('dq', rows);
    const wantC = this.enc.critics[0].trainable;
    for (let j = 0; j < this.critics.length; j++) {
      criticForward(ar, this.criticTargets[j], this.criticL, ar.get('s2', rows * O), a, rows, `ct${j}`);
      criticForward(ar, this.critics[j], this.criticL, x, a, rows, `c${j}`, 'train');
      criticBackward(ar, this.critics[j], ar.get(`grad.c${j}`, this.critics[j].size), this.criticL, x, a, dq, rows, wantC, `c${j}`);
    }
    const mu = this.actorNet.forward(this.actor, x, rows, 'train');
    const { dAction } = criticActionGrad(ar, this.critics[0], this.criticL, mu, rows, 'c0');
    this.actorNet.backward(this.actor, ar.get('grad.actor', this.actor.size), x, dAction, rows, this.enc.actor.trainable);
    new Chain(ar, this.actorL, 'target').forward(this.actorTarget, x, rows);
    new Chain(ar, this.actorL, 'noisy').forward(this.actor, x, rows);
    this.actNet.forward(this.actor, ar.get('act.x', O), 1);
    // Leave no trace in the gradients.
    this.critics.forEach((c, j) => ar.get(`grad.c${j}`, c.size).fill(0));
    ar.get('grad.actor', this.actor.size).fill(0);
  }

  /** Encoder features of rows of observations, copied into the arena region `name`. */
  private features(enc: ObsEncoder, obs: Float32Array, rows: number, name: string): Float32Array {
    const out = this.ar.get(name, rows * enc.outSize);
    if (enc instanceof IdentityEncoder) out.set(obs.subarray(0, rows * this.obsSize));
    else tf.tidy(() => out.set(enc.encode(tf.tensor2d(obs.subarray(0, rows * this.obsSize), [rows, this.obsSize])).dataSync() as Float32Array));
    return out;
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.obsNorm ? this.obsNorm.apply(obs) : obs;
    const params = explore && this.paramNoise ? this.perturbedActor() : this.actor;
    const feats = this.features(this.enc.actor, x, 1, 'act.x');
    const a = Float32Array.from(this.actNet.forward(params, feats, 1));
    if (explore && !this.paramNoise) {
      const n = this.noise.sample();
      for (let i = 0; i < a.length; i++) a[i] = Math.max(-1, Math.min(1, a[i] + n[i]));
    }
    return a;
  }

  resetEpisode(): void {
    this.noise.reset();
    if (this.paramNoise) this.resamplePerturbation();
  }

  private perturbedActor(): FlatParams {
    if (!this.perturbedReady) this.resamplePerturbation();
    return this.perturbed!;
  }

  private perturbedReady = false;

  private resamplePerturbation(): void {
    if (!this.paramNoise || !this.perturbed) return;
    const eps = this.paramNoise.sample();
    const p = this.perturbed.values;
    const w = this.actor.values;
    for (let i = 0; i < p.length; i++) p[i] = w[i] + eps[i];
    // Batch-norm running statistics describe the data, not the policy: never perturbed.
    for (const s of this.actor.slots) if (s.stat) p.set(w.subarray(s.offset, s.offset + s.size), s.offset);
    this.perturbedReady = true;
  }

  /**
   * Plappert et al. 2017: d = sqrt(mean (mu(s) - mu~(s))^2) over replayed states with a fresh
   * perturbation of the current actor; sigma shrinks when d exceeds the target and grows otherwise.
   */
  private adaptParamNoise(obs: Float32Array, rows: number): void {
    if (!this.paramNoise) return;
    this.resamplePerturbation();
    const x = this.features(this.enc.actor, obs, rows, 's.a');
    const clean = this.actorNet.forward(this.actor, x, rows);
    const noisy = new Chain(this.ar, this.actorL, 'noisy').forward(this.perturbed!, x, rows);
    let sum = 0;
    const n = rows * this.actionSize;
    for (let i = 0; i < n; i++) sum += (clean[i] - noisy[i]) ** 2;
    this.paramNoise.adapt(Math.sqrt(sum / n));
  }

  update(batch: Batch): UpdateStats {
    const B = batch.size;
    this.reserve(B);
    const { hp, ar, criticL } = this;
    const A = this.actionSize;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    const actorStep = (this.updates + 1) % hp.policyDelay === 0;
    // Diagnostics on every k-th update, chosen among actor steps so the actor's signs are measured too.
    const period = DIAGNOSTICS_EVERY * hp.policyDelay;
    const diag: Partial<Record<UpdateDiagnostic, number>> | null = this.updates % period === hp.policyDelay - 1 ? {} : null;
    const twin = this.critics.length === 2;
    const a = ar.get('a', B * A);
    a.set(batch.actions.subarray(0, B * A));

    // Target y = r + gamma (1 - done) Q'(s', mu'(s')) (DDPG eq. 5); TD3 adds clipped noise to
    // mu'(s') (section 5.3) and takes the smaller of the two target critics (section 4.2).
    const a2 = ar.get('a2', B * A);
    a2.set(new Chain(ar, this.actorL, 'target').forward(this.actorTarget, this.features(this.enc.actorTarget, nextArr, B, 's2.a'), B));
    if (hp.targetNoise > 0) {
      for (let i = 0; i < a2.length; i++) {
        const eps = Math.max(-hp.targetNoiseClip, Math.min(hp.targetNoiseClip, hp.targetNoise * this.rng.normal()));
        a2[i] = Math.max(-1, Math.min(1, a2[i] + eps));
      }
    }
    const qT = this.criticTargets.map((c, j) => criticForward(ar, c, criticL, this.features(this.enc.criticTargets[j], nextArr, B, `s2.c${j}`), a2, B, `ct${j}`));
    const y = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      const q2 = twin ? Math.min(qT[0][i], qT[1][i]) : qT[0][i];
      y[i] = batch.rewards[i] + (batch.discounts ? batch.discounts[i] : hp.gamma * (1 - batch.dones[i])) * q2;
    }
    if (diag) {
      let sum = 0;
      for (let i = 0; i < B; i++) sum += y[i];
      diag.q_target = sum / B;
    }

    // Critic: minimise mean w_i (Q(s_i, a_i) - y_i)^2 (w = importance weights, else 1).
    let criticLoss = 0;
    let qMean = 0;
    const tdErrors = new Float32Array(B);
    const dq = ar.get('dq', B);
    for (let j = 0; j < this.critics.length; j++) {
      const enc = this.enc.critics[j];
      const x = this.features(enc, obsArr, B, `s.c${j}`);
      const q = criticForward(ar, this.critics[j], criticL, x, a, B, `c${j}`, 'update');
      for (let i = 0; i < B; i++) {
        const w = batch.weights ? batch.weights[i] : 1;
        const delta = q[i] - y[i];
        criticLoss += (w * delta * delta) / B;
        dq[i] = (2 * w * delta) / B;
        if (j === 0) {
          tdErrors[i] = Math.abs(delta);
          qMean += q[i] / B;
        }
      }
      const dInput = criticBackward(ar, this.critics[j], ar.get(`grad.c${j}`, this.critics[j].size), criticL, x, a, dq, B, enc.trainable, `c${j}`);
      if (dInput) this.encoderStep(enc, obsArr, dInput, B);
    }

    // Actor: ascend Q(s, mu(s)) through dQ/da (DDPG eq. 6), with the first critic.
    let actorLoss: number | undefined;
    if (actorStep) {
      const x = this.features(this.enc.actor, obsArr, B, 's.a');
      const mu = this.actorNet.forward(this.actor, x, B, 'update');
      const { dAction, q } = criticActionGrad(ar, this.critics[0], criticL, mu, B, 'c0');
      if (diag) {
        const sat = saturation(mu, B * A);
        diag.actor_saturation = sat.saturated;
        diag.actor_abs_action = sat.meanAbs;
        // dAction holds -dQ/da / B (the loss is -mean Q).
        diag.dq_da = meanAbs(dAction, B * A) * B;
      }
      const dInput = this.actorNet.backward(this.actor, ar.get('grad.actor', this.actor.size), x, dAction, B, this.enc.actor.trainable);
      if (dInput) this.encoderStep(this.enc.actor, obsArr, dInput, B);
      if (diag) diag.actor_grad_norm = l2norm(ar.get('grad.actor', this.actor.size));
      let sum = 0;
      for (let i = 0; i < B; i++) sum += q[i];
      actorLoss = -sum / B;
    }

    if (diag) {
      const c0 = this.critics[0];
      diag.critic_grad_norm = l2norm(ar.get('grad.c0', c0.size));
      diag.critic_decay_norm = hp.criticL2 > 0 ? l2norm(c0.values, c0.size, this.criticOpts[0].decay) : 0;
    }
    for (let j = 0; j < this.critics.length; j++) this.criticOpts[j].step(ar.get(`grad.c${j}`, this.critics[j].size));
    if (actorStep) {
      this.actorOpt.step(ar.get('grad.actor', this.actor.size));
      // Soft target updates theta' <- tau theta + (1 - tau) theta' (DDPG Algorithm 1); TD3 only on
      // actor steps (section 5.2).
      softUpdate(this.actorTarget, this.actor, hp.tau);
      this.enc.actorTarget.softUpdateFrom(this.enc.actor, hp.tau);
      for (let j = 0; j < this.critics.length; j++) {
        softUpdate(this.criticTargets[j], this.critics[j], hp.tau);
        this.enc.criticTargets[j].softUpdateFrom(this.enc.critics[j], hp.tau);
      }
    }
    this.updates++;
    // Baselines adapts parameter noise every 50 updates on a replayed batch.
    if (this.paramNoise && this.updates % 50 === 0) this.adaptParamNoise(obsArr, B);
    // Metric names as declared in learn/algos/ddpg/spec.ts (ACTOR_CRITIC_METRICS).
    const metrics: Record<string, number> = { critic_loss: criticLoss / this.critics.length, q: qMean };
    if (actorLoss !== undefined) metrics.actor_loss = actorLoss;
    if (diag) Object.assign(metrics, diag);
    return { metrics, tdErrors };
  }

  /** Hands dL/d(features) to a trainable encoder (it runs its own optimizer step). */
  private encoderStep(enc: ObsEncoder, obs: Float32Array, dFeatures: Float32Array, rows: number): void {
    tf.tidy(() => enc.applyGradient(tf.tensor2d(obs.subarray(0, rows * this.obsSize), [rows, this.obsSize]), tf.tensor2d(dFeatures.slice(0, rows * enc.outSize), [rows, enc.outSize])));
  }

  getState(): AgentState {
    const tensors: AgentState['tensors'] = {};
    const put = (name: string, p: FlatParams) => (tensors[name] = { shape: [p.size], data: p.values.slice() });
    put('actor', this.actor);
    put('actorTarget', this.actorTarget);
    tensors['actorAdam.m'] = { shape: [this.actor.size], data: this.actorOpt.m.slice() };
    tensors['actorAdam.v'] = { shape: [this.actor.size], data: this.actorOpt.v.slice() };
    this.critics.forEach((c, j) => {
      put(`critic${j}`, c);
      put(`criticTarget${j}`, this.criticTargets[j]);
      tensors[`critic${j}Adam.m`] = { shape: [c.size], data: this.criticOpts[j].m.slice() };
      tensors[`critic${j}Adam.v`] = { shape: [c.size], data: this.criticOpts[j].v.slice() };
    });
    const encoders: Record<string, ObsEncoder> = { actor: this.enc.actor, actorTarget: this.enc.actorTarget };
    this.enc.critics.forEach((e, j) => ((encoders[`critic${j}`] = e), (encoders[`criticTarget${j}`] = this.enc.criticTargets[j])));
    for (const [n, e] of Object.entries(encoders)) for (const [tn, t] of Object.entries(e.getState())) tensors[`encoder.${n}.${tn}`] = t;
    return {
      algo: this.algo,
      tensors,
      meta: {
        updates: this.updates,
        actorAdamT: this.actorOpt.t,
        criticAdamT: this.criticOpts.map((o) => o.t),
        rng: this.rng.getState(),
        noise: this.noise.getState(),
        paramNoise: this.paramNoise?.getState() ?? null,
        perturbed: this.perturbed && this.perturbedReady ? Array.from(this.perturbed.values) : null,
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
    load(this.actorTarget, 'actorTarget');
    this.actorOpt.setState({ m: get('actorAdam.m', this.actor.size), v: get('actorAdam.v', this.actor.size), t: state.meta.actorAdamT as number });
    const ts = state.meta.criticAdamT as number[];
    this.critics.forEach((c, j) => {
      load(c, `critic${j}`);
      load(this.criticTargets[j], `criticTarget${j}`);
      this.criticOpts[j].setState({ m: get(`critic${j}Adam.m`, c.size), v: get(`critic${j}Adam.v`, c.size), t: ts[j] });
    });
    const encoders: Record<string, ObsEncoder> = { actor: this.enc.actor, actorTarget: this.enc.actorTarget };
    this.enc.critics.forEach((e, j) => ((encoders[`critic${j}`] = e), (encoders[`criticTarget${j}`] = this.enc.criticTargets[j])));
    for (const [n, e] of Object.entries(encoders)) {
      const prefix = `encoder.${n}.`;
      const part: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [tn, t] of Object.entries(state.tensors)) if (tn.startsWith(prefix)) part[tn.slice(prefix.length)] = t;
      e.setState(part);
    }
    const m = state.meta;
    this.updates = m.updates as number;
    this.rng.setState(m.rng as ReturnType<Rng['getState']>);
    this.noise.setState(m.noise as NoiseState);
    if (this.paramNoise && m.paramNoise) this.paramNoise.setState(m.paramNoise as NoiseState);
    if (this.paramNoise && this.perturbed && Array.isArray(m.perturbed)) {
      this.perturbed.values.set(m.perturbed as number[]);
      this.perturbedReady = true;
    }
    if (this.obsNorm && m.obsNorm) this.obsNorm.setState(m.obsNorm as ObsNormState);
  }

  dispose(): void {
    for (const p of [this.actor, this.actorTarget, ...this.critics, ...this.criticTargets]) p.dispose();
    this.perturbed?.dispose();
    for (const e of [this.enc.actor, this.enc.actorTarget, ...this.enc.critics, ...this.enc.criticTargets]) e.dispose();
    this.ar.dispose();
  }
}

/** DDPG: the actor-critic with TD3's tricks off (single critic, no smoothing, no delay). */
export function createDdpg(obsSize: number, actionSize: number, hp: ActorCriticHyperparams, seed: number, encoder?: EncoderFactory): ActorCriticAgent {
  return new ActorCriticAgent({ algo: 'ddpg', obsSize, actionSize, hp, seed, ...(encoder ? { encoder } : {}) });
}
