import * as tf from '@tensorflow/tfjs';
import type { ActorCriticHyperparams } from '../api/hyperparams.ts';
import type { Agent, AgentState, Batch, UpdateStats } from './types.ts';
import { Adam, FlatParams, fanInBound, softUpdate, type ParamSpec } from './params.ts';
import { activationBackward, biasGrad, denseForward, inputGrad, weightGrad } from './dense.ts';
import { Rng } from './rng.ts';
import { makeActionNoise, ParameterNoise, type ActionNoise, type NoiseState } from './noise.ts';
import { RunningObsNorm, type ObsNormState } from './obs-norm.ts';
import { identityEncoder, type EncoderFactory, type ObsEncoder } from './encoder.ts';

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
 * - Batch normalisation (used by the paper) is not implemented.
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

export interface CriticForward {
  /** Inputs of each layer (index i: input of layer i); last entry is the Q output. */
  inputs: tf.Tensor2D[];
  /** Post-activation outputs of hidden layers. */
  hidden: tf.Tensor2D[];
  /** obs part of the action layer's pre-activation (features @ W + b), shared with the actor pass. */
  base: tf.Tensor2D;
  q: tf.Tensor2D;
}

export function actorSpecs(obs: number, hidden: number[], act: number, finalInit: number | null): ParamSpec[] {
  const specs: ParamSpec[] = [];
  let fan = obs;
  hidden.forEach((h, i) => {
    specs.push({ name: `l${i}.W`, shape: [fan, h], bound: fanInBound(fan), decay: true });
    specs.push({ name: `l${i}.b`, shape: [h], bound: fanInBound(fan), decay: false });
    fan = h;
  });
  const fb = finalInit ?? fanInBound(fan);
  specs.push({ name: 'out.W', shape: [fan, act], bound: fb, decay: true });
  specs.push({ name: 'out.b', shape: [act], bound: fb, decay: false });
  return specs;
}

export function criticSpecs(obs: number, hidden: number[], act: number, actionLayer: number, finalInit: number | null): ParamSpec[] {
  const specs: ParamSpec[] = [];
  let fan = obs;
  hidden.forEach((h, i) => {
    // fan_in of the action layer counts the action inputs too.
    const fanIn = i === actionLayer ? fan + act : fan;
    specs.push({ name: `l${i}.W`, shape: [fan, h], bound: fanInBound(fanIn), decay: true });
    if (i === actionLayer) specs.push({ name: `l${i}.A`, shape: [act, h], bound: fanInBound(fanIn), decay: true });
    specs.push({ name: `l${i}.b`, shape: [h], bound: fanInBound(fanIn), decay: false });
    fan = h;
  });
  const fb = finalInit ?? fanInBound(fan);
  specs.push({ name: 'out.W', shape: [fan, 1], bound: fb, decay: true });
  specs.push({ name: 'out.b', shape: [1], bound: fb, decay: false });
  return specs;
}

/** Actor forward: returns [features, h0, h1, ..., action]. */
export function actorForward(p: FlatParams, x: tf.Tensor2D, layers: number): tf.Tensor2D[] {
  const acts: tf.Tensor2D[] = [x];
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = denseForward(h, p.tensor(`l${i}.W`), p.tensor(`l${i}.b`), 'relu');
    acts.push(h);
  }
  acts.push(denseForward(h, p.tensor('out.W'), p.tensor('out.b'), 'tanh'));
  return acts;
}

/** Gradients of the actor parameters given dL/d(action); dL/d(features) when wanted. */
export function actorBackward(p: FlatParams, acts: tf.Tensor2D[], dAction: tf.Tensor2D, layers: number, wantInput: boolean) {
  const grads: Record<string, tf.Tensor> = {};
  let dpre = activationBackward(dAction, acts[layers + 1], 'tanh');
  grads['out.W'] = weightGrad(acts[layers], dpre);
  grads['out.b'] = biasGrad(dpre);
  let dh = inputGrad(dpre, p.tensorT('out.W'));
  let dInput: tf.Tensor2D | null = null;
  for (let i = layers - 1; i >= 0; i--) {
    dpre = activationBackward(dh, acts[i + 1], 'relu');
    grads[`l${i}.W`] = weightGrad(acts[i], dpre);
    grads[`l${i}.b`] = biasGrad(dpre);
    if (i > 0) dh = inputGrad(dpre, p.tensorT(`l${i}.W`));
    else if (wantInput) dInput = inputGrad(dpre, p.tensorT('l0.W'));
  }
  return { grads, dInput };
}

export function criticForward(p: FlatParams, x: tf.Tensor2D, a: tf.Tensor2D, layers: number, k: number): CriticForward {
  const inputs: tf.Tensor2D[] = [x];
  const hidden: tf.Tensor2D[] = [];
  let h = x;
  let base: tf.Tensor2D | null = null;
  for (let i = 0; i < layers; i++) {
    if (i === k) {
      base = denseForward(h, p.tensor(`l${i}.W`), p.tensor(`l${i}.b`), 'linear');
      h = tf.relu(tf.add(base, tf.matMul(a, p.tensor(`l${i}.A`) as tf.Tensor2D))) as tf.Tensor2D;
    } else {
      h = denseForward(h, p.tensor(`l${i}.W`), p.tensor(`l${i}.b`), 'relu');
    }
    hidden.push(h);
    inputs.push(h);
  }
  const q = denseForward(h, p.tensor('out.W'), p.tensor('out.b'), 'linear');
  return { inputs, hidden, base: base!, q };
}

/** Critic weight gradients for dL/dQ; dL/d(features) when the encoder trains. */
export function criticBackward(p: FlatParams, f: CriticForward, a: tf.Tensor2D, dq: tf.Tensor2D, layers: number, k: number, wantInput: boolean) {
  const grads: Record<string, tf.Tensor> = {};
  grads['out.W'] = weightGrad(f.inputs[layers], dq);
  grads['out.b'] = biasGrad(dq);
  let dh = inputGrad(dq, p.tensorT('out.W'));
  let dInput: tf.Tensor2D | null = null;
  for (let i = layers - 1; i >= 0; i--) {
    const dpre = activationBackward(dh, f.hidden[i], 'relu');
    grads[`l${i}.W`] = weightGrad(f.inputs[i], dpre);
    grads[`l${i}.b`] = biasGrad(dpre);
    if (i === k) grads[`l${i}.A`] = weightGrad(a, dpre);
    if (i > 0) dh = inputGrad(dpre, p.tensorT(`l${i}.W`));
    else if (wantInput) dInput = inputGrad(dpre, p.tensorT('l0.W'));
  }
  return { grads, dInput };
}

/**
 * dQ/da at a = mu for the loss -mean Q(s, mu(s)), reusing the obs-only part of the critic forward
 * on the same states (no critic weight gradients). Returns the gradient and Q(s, mu).
 */
export function criticActionGrad(p: FlatParams, f: CriticForward, mu: tf.Tensor2D, layers: number, k: number, batch: number) {
  const hs: tf.Tensor2D[] = [];
  let h = tf.relu(tf.add(f.base, tf.matMul(mu, p.tensor(`l${k}.A`) as tf.Tensor2D))) as tf.Tensor2D;
  hs.push(h);
  for (let i = k + 1; i < layers; i++) {
    h = denseForward(h, p.tensor(`l${i}.W`), p.tensor(`l${i}.b`), 'relu');
    hs.push(h);
  }
  const q = denseForward(h, p.tensor('out.W'), p.tensor('out.b'), 'linear');
  let dh = inputGrad(tf.fill([batch, 1], -1 / batch) as tf.Tensor2D, p.tensorT('out.W'));
  for (let i = layers - 1; i >= k; i--) {
    const dpre = activationBackward(dh, hs[i - k], 'relu');
    dh = inputGrad(dpre, p.tensorT(i === k ? `l${i}.A` : `l${i}.W`));
  }
  return { dAction: dh, q };
}

export class ActorCriticAgent implements Agent {
  readonly algo: 'ddpg' | 'td3';
  readonly hp: ActorCriticHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  private readonly layersA: number;
  private readonly layersC: number;
  private readonly k: number;
  readonly actor: FlatParams;
  readonly actorTarget: FlatParams;
  readonly critics: FlatParams[];
  readonly criticTargets: FlatParams[];
  private readonly actorOpt: Adam;
  private readonly criticOpts: Adam[];
  private readonly actorGrad: Float32Array;
  private readonly criticGrad: Float32Array[];
  private readonly enc: { actor: ObsEncoder; actorTarget: ObsEncoder; critics: ObsEncoder[]; criticTargets: ObsEncoder[] };
  /** Minibatch and target-smoothing noise. */
  private readonly rng: Rng;
  readonly noise: ActionNoise;
  readonly paramNoise: ParameterNoise | null;
  private perturbed: FlatParams | null = null;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;

  constructor(opts: ActorCriticOptions) {
    const { hp, obsSize, actionSize } = opts;
    this.algo = opts.algo;
    this.hp = hp;
    this.obsSize = obsSize;
    this.actionSize = actionSize;
    this.layersA = hp.actorHidden.length;
    this.layersC = hp.criticHidden.length;
    this.k = hp.criticActionLayer;
    if (this.k >= this.layersC) throw new Error(`criticActionLayer ${this.k} must be below the number of critic hidden layers (${this.layersC})`);
    const encoder = opts.encoder ?? identityEncoder;
    const nCritics = hp.twinCritics ? 2 : 1;
    this.enc = {
      actor: encoder(obsSize),
      actorTarget: encoder(obsSize),
      critics: Array.from({ length: nCritics }, () => encoder(obsSize)),
      criticTargets: Array.from({ length: nCritics }, () => encoder(obsSize)),
    };
    const feat = this.enc.actor.outSize;
    // Independent streams: network init, minibatch/target noise, exploration.
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    const noiseRng = root.fork();
    this.actor = new FlatParams(actorSpecs(feat, hp.actorHidden, actionSize, hp.finalLayerInit));
    this.actor.init(initRng);
    this.actorTarget = new FlatParams(actorSpecs(feat, hp.actorHidden, actionSize, hp.finalLayerInit));
    this.actorTarget.copyFrom(this.actor);
    this.critics = [];
    this.criticTargets = [];
    for (let c = 0; c < nCritics; c++) {
      const critic = new FlatParams(criticSpecs(feat, hp.criticHidden, actionSize, this.k, hp.finalLayerInit));
      critic.init(initRng);
      const target = new FlatParams(criticSpecs(feat, hp.criticHidden, actionSize, this.k, hp.finalLayerInit));
      target.copyFrom(critic);
      this.critics.push(critic);
      this.criticTargets.push(target);
      this.enc.criticTargets[c].copyFrom(this.enc.critics[c]);
    }
    this.enc.actorTarget.copyFrom(this.enc.actor);
    this.actorOpt = new Adam(this.actor, hp.actorLr);
    this.criticOpts = this.critics.map((c) => new Adam(c, hp.criticLr, hp.criticL2));
    this.actorGrad = new Float32Array(this.actor.size);
    this.criticGrad = this.critics.map((c) => new Float32Array(c.size));
    this.noise = makeActionNoise(hp.exploration === 'param' ? 'none' : hp.exploration, actionSize, hp, noiseRng.fork());
    this.paramNoise = hp.exploration === 'param' ? new ParameterNoise(this.actor.size, hp.paramNoiseTarget, hp.paramNoiseInitial, noiseRng.fork()) : null;
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
  }

  act(obs: Float32Array, explore: boolean): Float32Array {
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.obsNorm ? this.obsNorm.apply(obs) : obs;
    const params = explore && this.paramNoise ? this.perturbedActor() : this.actor;
    const out = tf.tidy(() => {
      const feats = this.enc.actor.encode(tf.tensor2d(x, [1, this.obsSize]));
      const acts = actorForward(params, feats, this.layersA);
      return acts[acts.length - 1].dataSync() as Float32Array;
    });
    const a = Float32Array.from(out);
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
    if (!this.perturbed) this.resamplePerturbation();
    return this.perturbed!;
  }

  private resamplePerturbation(): void {
    if (!this.paramNoise) return;
    this.perturbed ??= new FlatParams(actorSpecs(this.enc.actor.outSize, this.hp.actorHidden, this.actionSize, this.hp.finalLayerInit));
    const eps = this.paramNoise.sample();
    const p = this.perturbed.values;
    const w = this.actor.values;
    for (let i = 0; i < p.length; i++) p[i] = w[i] + eps[i];
    this.perturbed.touch();
  }

  /**
   * Plappert et al. 2017: d = sqrt(mean (mu(s) - mu~(s))^2) over replayed states with a fresh
   * perturbation of the current actor; sigma shrinks when d exceeds the target and grows otherwise.
   */
  private adaptParamNoise(obs: tf.Tensor2D): void {
    if (!this.paramNoise) return;
    this.resamplePerturbation();
    const d = tf.tidy(() => {
      const clean = actorForward(this.actor, obs, this.layersA);
      const noisy = actorForward(this.perturbed!, obs, this.layersA);
      return Math.sqrt(tf.mean(tf.squaredDifference(clean[clean.length - 1], noisy[noisy.length - 1])).dataSync()[0]);
    });
    this.paramNoise.adapt(d);
  }

  update(batch: Batch): UpdateStats {
    const B = batch.size;
    const { hp, layersA: LA, layersC: LC, k } = this;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    const actorStep = (this.updates + 1) % hp.policyDelay === 0;
    const twin = this.critics.length === 2;
    const stats = tf.tidy(() => {
      const s = tf.tensor2d(obsArr, [B, this.obsSize]);
      const s2 = tf.tensor2d(nextArr, [B, this.obsSize]);
      const a = tf.tensor2d(batch.actions, [B, this.actionSize]);

      // Target y = r + gamma (1 - done) Q'(s', mu'(s')) (DDPG eq. 5); TD3 adds clipped noise to
      // mu'(s') (section 5.3) and takes the smaller of the two target critics (section 4.2).
      const t2 = actorForward(this.actorTarget, this.enc.actorTarget.encode(s2), LA);
      let a2 = t2[t2.length - 1];
      if (hp.targetNoise > 0) {
        const eps = new Float32Array(B * this.actionSize);
        for (let i = 0; i < eps.length; i++) eps[i] = Math.max(-hp.targetNoiseClip, Math.min(hp.targetNoiseClip, hp.targetNoise * this.rng.normal()));
        a2 = tf.clipByValue(tf.add(a2, tf.tensor2d(eps, [B, this.actionSize])), -1, 1) as tf.Tensor2D;
      }
      const qT = this.criticTargets.map((c, j) => criticForward(c, this.enc.criticTargets[j].encode(s2), a2, LC, k).q.dataSync());
      const y = new Float32Array(B);
      for (let i = 0; i < B; i++) {
        const q2 = twin ? Math.min(qT[0][i], qT[1][i]) : qT[0][i];
        y[i] = batch.rewards[i] + hp.gamma * (1 - batch.dones[i]) * q2;
      }

      // Critic: minimise mean w_i (Q(s_i, a_i) - y_i)^2 (w = importance weights, else 1).
      let criticLoss = 0;
      let qMean = 0;
      const tdErrors = new Float32Array(B);
      const fwd: CriticForward[] = [];
      const feats: tf.Tensor2D[] = [];
      for (let j = 0; j < this.critics.length; j++) {
        const x = this.enc.critics[j].encode(s);
        feats.push(x);
        const f = criticForward(this.critics[j], x, a, LC, k);
        fwd.push(f);
        const q = f.q.dataSync();
        const dq = new Float32Array(B);
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
        const enc = this.enc.critics[j];
        const { grads, dInput } = criticBackward(this.critics[j], f, a, tf.tensor2d(dq, [B, 1]), LC, k, enc.trainable);
        this.critics[j].gather(grads, this.criticGrad[j]);
        if (dInput) enc.applyGradient(s, dInput);
      }

      // Actor: ascend Q(s, mu(s)) through dQ/da (DDPG eq. 6), with the first critic.
      let actorLoss: number | undefined;
      if (actorStep) {
        const x = this.enc.actor.encode(s);
        const acts = actorForward(this.actor, x, LA);
        const { dAction, q } = criticActionGrad(this.critics[0], fwd[0], acts[LA + 1], LC, k, B);
        const { grads, dInput } = actorBackward(this.actor, acts, dAction, LA, this.enc.actor.trainable);
        this.actor.gather(grads, this.actorGrad);
        if (dInput) this.enc.actor.applyGradient(s, dInput);
        actorLoss = -tf.mean(q).dataSync()[0];
      }
      return { criticLoss: criticLoss / this.critics.length, q: qMean, tdErrors, actorLoss };
    });

    for (let j = 0; j < this.critics.length; j++) this.criticOpts[j].step(this.criticGrad[j]);
    if (actorStep) {
      this.actorOpt.step(this.actorGrad);
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
    if (this.paramNoise && this.updates % 50 === 0) {
      const s = tf.tensor2d(obsArr, [B, this.obsSize]);
      try {
        this.adaptParamNoise(s);
      } finally {
        s.dispose();
      }
    }
    const out: UpdateStats = { criticLoss: stats.criticLoss, q: stats.q, tdErrors: stats.tdErrors };
    if (stats.actorLoss !== undefined) out.actorLoss = stats.actorLoss;
    return out;
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
        perturbed: this.perturbed ? Array.from(this.perturbed.values) : null,
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
    const load = (p: FlatParams, name: string) => (p.values.set(get(name, p.size)), p.touch());
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
    if (this.paramNoise && Array.isArray(m.perturbed)) {
      this.perturbed ??= new FlatParams(actorSpecs(this.enc.actor.outSize, this.hp.actorHidden, this.actionSize, this.hp.finalLayerInit));
      this.perturbed.values.set(m.perturbed as number[]);
      this.perturbed.touch();
    }
    if (this.obsNorm && m.obsNorm) this.obsNorm.setState(m.obsNorm as ObsNormState);
  }

  dispose(): void {
    for (const p of [this.actor, this.actorTarget, ...this.critics, ...this.criticTargets]) p.dispose();
    this.perturbed?.dispose();
    for (const e of [this.enc.actor, this.enc.actorTarget, ...this.enc.critics, ...this.enc.criticTargets]) e.dispose();
  }
}

/** DDPG: the actor-critic with TD3's tricks off (single critic, no smoothing, no delay). */
export function createDdpg(obsSize: number, actionSize: number, hp: ActorCriticHyperparams, seed: number, encoder?: EncoderFactory): ActorCriticAgent {
  return new ActorCriticAgent({ algo: 'ddpg', obsSize, actionSize, hp, seed, ...(encoder ? { encoder } : {}) });
}
