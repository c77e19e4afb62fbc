import type { ActorCriticHyperparams } from './spec.ts';
import type { Agent, AgentState, Batch, UpdateStats } from '../../types.ts';
import { FlatParams, fanInBound, type ParamSpec } from '../../nets/params.ts';
import { mlpLayers, mlpSpecs, type Layer } from '../../nets/mlp.ts';
import { resolve, resolveAsync, type AdamOptimizer, type Buf, type Executor, type Params, type Pending } from '../../exec/executor.ts';
import { HostParams } from '../../exec/host-params.ts';
import { setTorsoStates, TorsoLink, torsoStates, torsoStatesAsync } from '../../exec/torso-link.ts';
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
import { networkExecutor, syncReadsOf } from '../../exec/select.ts';
import { bnSpecs } from '../../nets/batch-norm.ts';
import { Rng } from '../../../util/rng.ts';
import { makeActionNoise, ParameterNoise, type ActionNoise, type NoiseState } from '../noise.ts';
import { RunningObsNorm, type ObsNormState } from '../../nets/obs-norm.ts';
import { identityEncoder, type EncoderFactory, type ObsEncoder } from '../../nets/encoder.ts';
import { DIAGNOSTICS_EVERY, l2norm, meanAbs, saturation, type UpdateDiagnostic } from '../diagnostics.ts';

/**
 * DDPG (Lillicrap et al. 2015) and TD3 (Fujimoto et al. 2018) as one actor-critic: TD3's twin
 * critics, target policy smoothing and delayed actor updates are switches, all off for DDPG.
 *
 * Networks (DDPG supplement 7): actor obs -> 400 -> 300 -> tanh(action); critic obs -> 400 ->
 * [300, action enters here] -> Q. Init U(-1/sqrt(fan_in), +) for hidden layers, U(-3e-3, 3e-3) for
 * the output layers. Written over the network executor (exec/executor.ts, exec/nets.ts): the wasm
 * arena, or TF.js ops on the active backend (exec/select.ts chooses, and says why). act() and
 * update() read their results synchronously; actAsync()/updateAsync() do the same on a device that
 * reads only asynchronously (webgpu).
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
  /** Where the networks run; default: chosen from the active backend (exec/select.ts). */
  executor?: Executor;
}

export function actorSpecs(obs: number, hidden: number[], act: number, finalInit: number | null, batchNorm = false): ParamSpec[] {
  return mlpSpecs(obs, hidden, 'out', act, finalInit, batchNorm);
}

export function criticSpecs(
  obs: number,
  hidden: number[],
  act: number,
  actionLayer: number,
  finalInit: number | null,
  batchNorm = false,
): ParamSpec[] {
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
    ls.push({
      W: `l${i}.W`,
      b: `l${i}.b`,
      in: fan,
      out: h,
      act: 'relu',
      ...(i === k ? { A: `l${i}.A`, extra: act } : {}),
      ...(batchNorm && i < k ? { bn: `bn${i}` } : {}),
    });
    fan = h;
  });
  ls.push({ W: 'out.W', b: 'out.b', in: fan, out: 1, act: 'linear' });
  if (batchNorm) ls[0].bnIn = 'bnIn';
  return ls;
}

export class ActorCriticAgent implements Agent {
  readonly algo: 'ddpg' | 'td3';
  readonly hp: ActorCriticHyperparams;
  readonly obsSize: number;
  readonly actionSize: number;
  private readonly k: number;
  /** Where the networks run (exec/executor.ts): the wasm arena, or TF.js on the active backend. */
  readonly exec: Executor;
  /** One line: which executor and why (the run config and `bench updates` show it). */
  readonly executorNote: string;
  /** False on webgpu: callers await actAsync/updateAsync/getStateAsync (learn/agent-reads.ts). */
  readonly syncRead: boolean;
  private readonly actorL: Layer[];
  private readonly criticL: Layer[];
  private readonly actorNet: ExecChain;
  private readonly actNet: ExecChain;
  private readonly targetNet: ExecChain;
  private readonly noisyNet: ExecChain;
  private readonly net: {
    actor: Params;
    actorTarget: Params;
    critics: Params[];
    criticTargets: Params[];
    actorGrad: Params;
    criticGrads: Params[];
    perturbed: Params | null;
    decaySnapshot: Params;
  };
  private readonly actorOpt: AdamOptimizer;
  private readonly criticOpts: AdamOptimizer[];
  /** Per-parameter L2 coefficient of the critic (the decay diagnostic). */
  private readonly criticDecay: Float32Array;
  private readonly enc: { actor: ObsEncoder; actorTarget: ObsEncoder; critics: ObsEncoder[]; criticTargets: ObsEncoder[] };
  private readonly rng: Rng;
  readonly noise: ActionNoise;
  readonly paramNoise: ParameterNoise | null;
  readonly obsNorm: RunningObsNorm | null;
  updates = 0;
  /** Batch rows the executor's buffers have been laid out for (see reserve). */
  private rowsCap = 0;
  /** Host views of the networks (exec/host-params.ts). */
  private readonly host: HostParams;
  private readonly torso: TorsoLink;

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
    // Arena: parameters, targets, Adam m/v/decay and gradients: ~6 copies per network, plus scratch.
    const chosen = opts.executor
      ? { exec: opts.executor, note: `${opts.executor.name}: given by the caller` }
      : networkExecutor({
          what: this.algo.toUpperCase(),
          ...syncReadsOf(
            hp.exploration === 'param'
              ? "parameter-space noise perturbs the actor's weights on the host, and webgpu returns them only asynchronously"
              : (this.enc.critics[0].syncReads ?? this.enc.actor.syncReads),
          ),
          arenaBytes: 4 * 6 * (2 * size(aSpecs) + 2 * nCritics * size(cSpecs)) + (8 << 20),
        });
    this.exec = chosen.exec;
    this.syncRead = this.exec.syncRead;
    this.host = new HostParams(this.exec);
    this.torso = new TorsoLink(this.exec, obsSize);
    this.executorNote = chosen.note;
    const exec = this.exec;
    this.actorNet = new ExecChain(exec, this.actorL, 'actor');
    this.actNet = new ExecChain(exec, this.actorL, 'act');
    this.targetNet = new ExecChain(exec, this.actorL, 'target');
    this.noisyNet = new ExecChain(exec, this.actorL, 'noisy');
    // Independent streams: network init, minibatch/target noise, exploration.
    const root = new Rng(opts.seed);
    const initRng = root.fork();
    this.rng = root.fork();
    const noiseRng = root.fork();
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
    const actorTarget = exec.params(aSpecs);
    exec.copyParams(actorTarget, actor);
    const critics: Params[] = [];
    const criticTargets: Params[] = [];
    for (let c = 0; c < nCritics; c++) {
      critics.push(initial(cSpecs));
      criticTargets.push(exec.params(cSpecs));
      exec.copyParams(criticTargets[c], critics[c]);
      this.enc.criticTargets[c].copyFrom(this.enc.critics[c]);
    }
    this.enc.actorTarget.copyFrom(this.enc.actor);
    this.net = {
      actor,
      actorTarget,
      critics,
      criticTargets,
      actorGrad: exec.params(aSpecs),
      criticGrads: critics.map(() => exec.params(cSpecs)),
      perturbed: hp.exploration === 'param' ? exec.params(aSpecs) : null,
      decaySnapshot: exec.params(cSpecs),
    };
    this.actorOpt = exec.adam(actor, hp.actorLr);
    this.criticOpts = critics.map((c) => exec.adam(c, hp.criticLr, hp.criticL2));
    this.criticDecay = new Float32Array(size(cSpecs));
    let off = 0;
    for (const s of cSpecs) {
      const n = s.shape.reduce((x, y) => x * y, 1);
      if (s.decay) this.criticDecay.fill(hp.criticL2, off, off + n);
      off += n;
    }
    this.noise = makeActionNoise(hp.exploration === 'param' ? 'none' : hp.exploration, actionSize, hp, noiseRng.fork());
    this.paramNoise =
      hp.exploration === 'param' ? new ParameterNoise(size(aSpecs), hp.paramNoiseTarget, hp.paramNoiseInitial, noiseRng.fork()) : null;
    this.obsNorm = hp.obsNormalization ? new RunningObsNorm(obsSize) : null;
    this.reserve(hp.batchSize);
  }

  get actor(): FlatParams {
    return this.host.of(this.net.actor);
  }
  get actorTarget(): FlatParams {
    return this.host.of(this.net.actorTarget);
  }
  get critics(): FlatParams[] {
    return this.net.critics.map((c) => this.host.of(c));
  }
  get criticTargets(): FlatParams[] {
    return this.net.criticTargets.map((c) => this.host.of(c));
  }
  /** The perturbed actor of parameter-space noise, or null. */
  get perturbed(): FlatParams | null {
    return this.net.perturbed && this.host.of(this.net.perturbed);
  }

  /**
   * Lays out every buffer an update, act() or the noise adaptation uses for up to `rows` rows, by
   * running their computations once on zeros (no state changes). Growing the arena detaches
   * views, so this happens before a computation, never inside one.
   */
  private reserve(rows: number): void {
    if (rows <= this.rowsCap) return;
    this.rowsCap = rows;
    const { exec, net } = this;
    const O = this.enc.actor.outSize;
    const A = this.actionSize;
    for (const name of ['s', 's2', 's.a', 's2.a']) exec.buffer(name, rows * O);
    for (let j = 0; j < net.critics.length; j++) for (const name of [`s.c${j}`, `s2.c${j}`]) exec.buffer(name, rows * O);
    for (const name of ['a', 'a2', 'a2.noise', 'a.dloss']) exec.buffer(name, rows * A);
    for (const name of ['dq', 'y', 'r', 'discount', 'w']) exec.buffer(name, rows);
    exec.buffer('act.x', O);
    const x = exec.buffer('s', rows * O);
    const a = exec.buffer('a', rows * A);
    const dq = exec.buffer('dq', rows);
    const wantC = this.enc.critics[0].trainable;
    for (let j = 0; j < net.critics.length; j++) {
      criticForward(exec, net.criticTargets[j], this.criticL, exec.buffer('s2', rows * O), a, rows, `ct${j}`);
      criticForward(exec, net.critics[j], this.criticL, x, a, rows, `c${j}`, 'train');
      criticBackward(exec, net.critics[j], net.criticGrads[j], this.criticL, x, a, dq, rows, wantC, `c${j}`);
    }
    const mu = this.actorNet.forward(net.actor, x, rows, 'train');
    const { dAction } = criticActionGrad(exec, net.critics[0], this.criticL, mu, rows, 'c0');
    this.actorNet.backward(net.actor, net.actorGrad, x, dAction, rows, this.enc.actor.trainable);
    this.targetNet.forward(net.actorTarget, x, rows);
    this.noisyNet.forward(net.actor, x, rows);
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
    this.torso.release();
    if (explore && this.obsNorm) this.obsNorm.observe(obs);
    const x = this.obsNorm ? this.obsNorm.apply(obs) : obs;
    const params = explore && this.paramNoise ? this.perturbedActor() : this.net.actor;
    const feats = this.torso.features(this.enc.actor, x, 1, 'act.x');
    const out = this.actNet.forward(params, feats, 1);
    return {
      reads: [out],
      finish: ([mu]) => {
        const a = Float32Array.from(mu.subarray(0, this.actionSize));
        if (explore && !this.paramNoise) {
          const n = this.noise.sample();
          for (let i = 0; i < a.length; i++) a[i] = Math.max(-1, Math.min(1, a[i] + n[i]));
        }
        return a;
      },
    };
  }

  resetEpisode(): void {
    this.noise.reset();
    if (this.paramNoise) this.resamplePerturbation();
  }

  private perturbedActor(): Params {
    if (!this.perturbedReady) this.resamplePerturbation();
    return this.net.perturbed!;
  }

  private perturbedReady = false;

  private resamplePerturbation(): void {
    if (!this.paramNoise || !this.net.perturbed) return;
    const eps = this.paramNoise.sample();
    const w = this.exec.readParams(this.net.actor);
    const p = new Float32Array(w.length);
    for (let i = 0; i < p.length; i++) p[i] = w[i] + eps[i];
    // Batch-norm running statistics describe the data, not the policy: never perturbed.
    let off = 0;
    for (const s of this.net.actor.specs) {
      const n = s.shape.reduce((x, y) => x * y, 1);
      if (s.stat) p.set(w.subarray(off, off + n), off);
      off += n;
    }
    this.exec.writeParams(this.net.perturbed, p);
    this.perturbedReady = true;
  }

  /**
   * Plappert et al. 2017: d = sqrt(mean (mu(s) - mu~(s))^2) over replayed states with a fresh
   * perturbation of the current actor; sigma shrinks when d exceeds the target and grows otherwise.
   */
  private adaptParamNoise(obs: Float32Array, rows: number): Pending<void> {
    this.torso.release();
    this.resamplePerturbation();
    const x = this.torso.features(this.enc.actor, obs, rows, 's.a');
    const clean = this.actorNet.forward(this.net.actor, x, rows);
    const noisy = this.noisyNet.forward(this.net.perturbed!, x, rows);
    return {
      reads: [clean, noisy],
      finish: ([c, nz]) => {
        let sum = 0;
        const n = rows * this.actionSize;
        for (let i = 0; i < n; i++) sum += (c[i] - nz[i]) ** 2;
        this.paramNoise!.adapt(Math.sqrt(sum / n));
      },
    };
  }

  update(batch: Batch): UpdateStats {
    const stats = resolve(this.exec, this.updateStep(batch));
    if (this.paramNoise && this.updates % 50 === 0)
      resolve(this.exec, this.adaptParamNoise(this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs, batch.size));
    return stats;
  }

  /** update() on an executor that reads only asynchronously (webgpu). */
  async updateAsync(batch: Batch): Promise<UpdateStats> {
    const stats = await resolveAsync(this.exec, this.updateStep(batch));
    if (this.paramNoise && this.updates % 50 === 0)
      await resolveAsync(this.exec, this.adaptParamNoise(this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs, batch.size));
    return stats;
  }

  /** One update, every op issued; what it reports is read back at the end (Pending). */
  private updateStep(batch: Batch): Pending<UpdateStats> {
    const B = batch.size;
    this.reserve(B);
    this.torso.release();
    const { hp, exec, criticL, net } = this;
    const A = this.actionSize;
    const obsArr = this.obsNorm ? this.obsNorm.apply(batch.obs) : batch.obs;
    const nextArr = this.obsNorm ? this.obsNorm.apply(batch.nextObs) : batch.nextObs;
    const actorStep = (this.updates + 1) % hp.policyDelay === 0;
    // Diagnostics on every k-th update, chosen among actor steps so the actor's signs are measured too.
    const period = DIAGNOSTICS_EVERY * hp.policyDelay;
    const diagnose = this.updates % period === hp.policyDelay - 1;
    const twin = net.critics.length === 2;
    const a = exec.buffer('a', B * A);
    exec.write(a, batch.actions.subarray(0, B * A));

    // Target y = r + gamma (1 - done) Q'(s', mu'(s')) (DDPG eq. 5); TD3 adds clipped noise to
    // mu'(s') (section 5.3) and takes the smaller of the two target critics (section 4.2).
    const a2 = this.targetNet.forward(net.actorTarget, this.torso.features(this.enc.actorTarget, nextArr, B, 's2.a'), B);
    if (hp.targetNoise > 0) {
      const noise = new Float32Array(B * A);
      for (let i = 0; i < noise.length; i++)
        noise[i] = Math.max(-hp.targetNoiseClip, Math.min(hp.targetNoiseClip, hp.targetNoise * this.rng.normal()));
      const nb = exec.buffer('a2.noise', B * A);
      exec.write(nb, noise);
      exec.addClamped(a2, nb, B * A, -1, 1);
    }
    const qT = net.criticTargets.map((c, j) =>
      criticForward(exec, c, criticL, this.torso.features(this.enc.criticTargets[j], nextArr, B, `s2.c${j}`), a2, B, `ct${j}`),
    );
    const { y, weights } = batchTdTarget(exec, batch, hp.gamma, qT[0], twin ? qT[1] : null);

    // Critic: minimise mean w_i (Q(s_i, a_i) - y_i)^2 (w = importance weights, else 1).
    const dq = exec.buffer('dq', B);
    const qs: Buf[] = [];
    for (let j = 0; j < net.critics.length; j++) {
      const enc = this.enc.critics[j];
      const x = this.torso.features(enc, obsArr, B, `s.c${j}`);
      const q = criticForward(exec, net.critics[j], criticL, x, a, B, `c${j}`, 'update');
      qs.push(q);
      exec.squaredErrorGrad(dq, q, y, weights, B);
      const dInput = criticBackward(exec, net.critics[j], net.criticGrads[j], criticL, x, a, dq, B, enc.trainable, `c${j}`);
      if (dInput) this.torso.step(enc, obsArr, dInput, B);
    }

    // Actor: ascend Q(s, mu(s)) through dQ/da (DDPG eq. 6), with the first critic.
    const reads: (Buf | Params)[] = [y, ...qs];
    let actorReads: { q: number; mu: number; dAction: number; grad: number } | null = null;
    if (actorStep) {
      const x = this.torso.features(this.enc.actor, obsArr, B, 's.a');
      const mu = this.actorNet.forward(net.actor, x, B, 'update');
      const { dAction, q } = criticActionGrad(exec, net.critics[0], criticL, mu, B, 'c0');
      // The action penalty lambda mean(max(|mu| - m, 0)^2) adds 2 lambda shrink(mu) / (B A) to
      // d(loss)/d(mu) (m = actionL2Margin); dAction itself stays -dQ/da for the diagnostics.
      let dLoss = dAction;
      if (hp.actionL2 > 0) {
        dLoss = exec.buffer('a.dloss', B * A);
        exec.fill(dLoss, 0);
        exec.axpy(dLoss, dAction, 1, B * A);
        exec.axpy(dLoss, mu, (2 * hp.actionL2) / (B * A), B * A, hp.actionL2Margin);
      }
      // The pre-tanh penalty lambda mean(log cosh(u)) adds lambda tanh(u) / (B A) at the pre-activations.
      const logCosh = hp.preTanhPenalty / (B * A);
      const dInput = this.actorNet.backward(net.actor, net.actorGrad, x, dLoss, B, this.enc.actor.trainable, logCosh);
      if (dInput) this.torso.step(this.enc.actor, obsArr, dInput, B);
      actorReads = {
        q: reads.push(q) - 1,
        mu: diagnose ? reads.push(mu) - 1 : -1,
        dAction: diagnose ? reads.push(dAction) - 1 : -1,
        grad: diagnose ? reads.push(net.actorGrad) - 1 : -1,
      };
    }
    // The decay diagnostic describes the critic before this step's optimiser update.
    const decayed = hp.criticL2 > 0;
    if (diagnose && decayed) exec.copyParams(net.decaySnapshot, net.critics[0]);
    const criticReads = diagnose
      ? { grad: reads.push(net.criticGrads[0]) - 1, decay: decayed ? reads.push(net.decaySnapshot) - 1 : -1 }
      : null;

    for (let j = 0; j < net.critics.length; j++) exec.adamStep(this.criticOpts[j], net.criticGrads[j]);
    if (actorStep) {
      exec.adamStep(this.actorOpt, net.actorGrad);
      // Soft target updates theta' <- tau theta + (1 - tau) theta' (DDPG Algorithm 1); TD3 only on
      // actor steps (section 5.2).
      exec.softUpdate(net.actorTarget, net.actor, hp.tau);
      this.enc.actorTarget.softUpdateFrom(this.enc.actor, hp.tau);
      for (let j = 0; j < net.critics.length; j++) {
        exec.softUpdate(net.criticTargets[j], net.critics[j], hp.tau);
        this.enc.criticTargets[j].softUpdateFrom(this.enc.critics[j], hp.tau);
      }
    }
    this.updates++;
    const weightsArr = batch.weights;
    const nCritics = net.critics.length;
    return {
      reads,
      finish: (values) => {
        const yv = values[0];
        let criticLoss = 0;
        let qMean = 0;
        const tdErrors = new Float32Array(B);
        for (let j = 0; j < nCritics; j++) {
          const q = values[1 + j];
          for (let i = 0; i < B; i++) {
            const w = weightsArr ? weightsArr[i] : 1;
            const delta = q[i] - yv[i];
            criticLoss += (w * delta * delta) / B;
            if (j === 0) {
              tdErrors[i] = Math.abs(delta);
              qMean += q[i] / B;
            }
          }
        }
        // Metric names as declared in learn/algos/ddpg/spec.ts (ACTOR_CRITIC_METRICS).
        const metrics: Record<string, number> = { critic_loss: criticLoss / nCritics, q: qMean };
        if (actorReads) {
          const q = values[actorReads.q];
          let sum = 0;
          for (let i = 0; i < B; i++) sum += q[i];
          metrics.actor_loss = -sum / B;
        }
        if (criticReads) {
          const actor = actorReads && { mu: values[actorReads.mu], dAction: values[actorReads.dAction], grad: values[actorReads.grad] };
          Object.assign(
            metrics,
            this.diagnostics(yv, B, actor, {
              grad: values[criticReads.grad],
              decaySnapshot: criticReads.decay >= 0 ? values[criticReads.decay] : null,
            }),
          );
        }
        return { metrics, tdErrors };
      },
    };
  }

  /** The learning diagnostics of an update (learn/algos/diagnostics.ts), from its read-back values. */
  private diagnostics(
    y: Float32Array,
    B: number,
    actor: { mu: Float32Array; dAction: Float32Array; grad: Float32Array } | null,
    critic: { grad: Float32Array; decaySnapshot: Float32Array | null },
  ): Record<string, number> {
    const diag: Partial<Record<UpdateDiagnostic, number>> = {};
    const A = this.actionSize;
    let sum = 0;
    for (let i = 0; i < B; i++) sum += y[i];
    diag.q_target = sum / B;
    if (actor) {
      const sat = saturation(actor.mu, B * A);
      diag.actor_saturation = sat.saturated;
      diag.actor_abs_action = sat.meanAbs;
      // dAction holds -dQ/da / B (the loss is -mean Q).
      diag.dq_da = meanAbs(actor.dAction, B * A) * B;
      diag.actor_grad_norm = l2norm(actor.grad);
    }
    diag.critic_grad_norm = l2norm(critic.grad);
    diag.critic_decay_norm = critic.decaySnapshot ? l2norm(critic.decaySnapshot, this.criticDecay.length, this.criticDecay) : 0;
    return diag as Record<string, number>;
  }

  /** The networks as checkpoints store them (exec/network-state.ts). */
  private stateNetworks(): StateNetwork[] {
    const { net } = this;
    return [
      { name: 'actor', params: net.actor, adam: this.actorOpt },
      { name: 'actorTarget', params: net.actorTarget },
      ...net.critics.flatMap((c, j) => [
        { name: `critic${j}`, params: c, adam: this.criticOpts[j] },
        { name: `criticTarget${j}`, params: net.criticTargets[j] },
      ]),
    ];
  }

  getState(): AgentState {
    const perturbed = this.net.perturbed && this.perturbedReady ? this.exec.readParams(this.net.perturbed) : null;
    return this.stateOf({ ...readNetworkState(this.exec, this.stateNetworks()), ...torsoStates(this.encoders()) }, perturbed);
  }

  /** getState() on an executor that reads only asynchronously (webgpu). */
  async getStateAsync(): Promise<AgentState> {
    const perturbed = this.net.perturbed && this.perturbedReady ? await this.exec.readParamsAsync(this.net.perturbed) : null;
    const tensors = { ...(await readNetworkStateAsync(this.exec, this.stateNetworks())), ...(await torsoStatesAsync(this.encoders())) };
    return this.stateOf(tensors, perturbed);
  }

  private stateOf(tensors: AgentState['tensors'], perturbed: Float32Array | null): AgentState {
    return {
      algo: this.algo,
      tensors,
      meta: {
        updates: this.updates,
        ...adamStepsMeta(this.stateNetworks()),
        rng: this.rng.getState(),
        noise: this.noise.getState(),
        paramNoise: this.paramNoise?.getState() ?? null,
        perturbed: perturbed ? Array.from(perturbed) : null,
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
    await this.host.refresh([net.actor, net.actorTarget, ...net.critics, ...net.criticTargets, ...(net.perturbed ? [net.perturbed] : [])]);
  }

  private encoders(): Record<string, ObsEncoder> {
    const encoders: Record<string, ObsEncoder> = { actor: this.enc.actor, actorTarget: this.enc.actorTarget };
    this.enc.critics.forEach((e, j) => ((encoders[`critic${j}`] = e), (encoders[`criticTarget${j}`] = this.enc.criticTargets[j])));
    return encoders;
  }

  setState(state: AgentState): void {
    if (state.algo !== this.algo) throw new Error(`state is for ${state.algo}, not ${this.algo}`);
    const { exec, net } = this;
    const m = state.meta;
    writeNetworkState(exec, this.stateNetworks(), state.tensors, adamStepsFromMeta(m));
    setTorsoStates(this.encoders(), state.tensors);
    this.updates = m.updates as number;
    this.rng.setState(m.rng as ReturnType<Rng['getState']>);
    this.noise.setState(m.noise as NoiseState);
    if (this.paramNoise && m.paramNoise) this.paramNoise.setState(m.paramNoise as NoiseState);
    if (this.paramNoise && net.perturbed && Array.isArray(m.perturbed)) {
      exec.writeParams(net.perturbed, Float32Array.from(m.perturbed as number[]));
      this.perturbedReady = true;
    }
    if (this.obsNorm && m.obsNorm) this.obsNorm.setState(m.obsNorm as ObsNormState);
  }

  dispose(): void {
    this.torso.release();
    for (const e of Object.values(this.encoders())) e.dispose();
    this.host.dispose();
    this.exec.dispose();
  }
}
