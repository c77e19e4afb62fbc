/**
 * The MuJoCo environment: an MJCF model plus a compiled task spec behind the Env interface.
 *
 * Hot path (step): actions are checked and written into ctrl, the physics advances frame_skip
 * steps, and the observation is written out once; nothing is allocated but the observation step()
 * returns (stepInto() allocates nothing). Names were resolved at load; views into WASM memory are
 * cached and re-fetched only when the heap grows.
 */
import { UserError, type ErrorDetail } from '../util/errors.ts';
import type { Env, EnvInfo, EnvSource, StepOutcome, StepResult } from './types.ts';
import {
  actuatorCtrlLimited,
  loadModel,
  loadMujocoModule,
  nameOf,
  OBJ,
  WARNING_NAMES,
  type Mujoco,
  type MjData,
  type MjModel,
} from './mujoco.ts';
import { compileTask, type CompiledTask } from './task.ts';
import { Rng } from '../util/rng.ts';
import { SimViews } from './views.ts';
import { extractScene } from './scene.ts';
import type { SceneModel } from '../api/scene.ts';

export type { EnvSource };

export interface EnvOptions {
  /** Seed of the env's own random stream (reset() without a seed continues it). Default 0. */
  seed?: number;
}

/** mjtIntegrator RK4: mj_step2 integrates it with Euler, so those models finish the step themselves. */
const INTEGRATOR_RK4 = 1;
/** mjtStage: position and velocity stages done (mj_forwardSkip starts at the acceleration stage). */
const STAGE_VEL = 2;

export class MujocoEnv implements Env {
  readonly info: EnvInfo;
  readonly source: EnvSource;
  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private readonly data: MjData;
  private readonly task: CompiledTask;
  private readonly views: SimViews;
  private rng: Rng;
  private readonly ctrlLow: Float64Array;
  private readonly ctrlHalf: Float64Array;
  private readonly frameSkip: number;
  private readonly rk4: boolean;
  private readonly dt: number;
  private stepsInEpisode = 0;
  /** Where the env is: step() only runs in 'running'. */
  private phase: 'new' | 'running' | 'ended' | 'disposed' = 'new';
  /** How the last episode ended (for the error when step() is called after it). */
  private ending = '';
  /** Simulated time after the last step or reset (a stepped-back clock means MuJoCo reset a bad state). */
  private simTime = 0;
  /** stepInto()'s result, reused from call to call. */
  private readonly outcome: StepOutcome = { reward: 0, terminated: false, truncated: false, diverged: false };

  static async create(source: EnvSource, options: EnvOptions = {}): Promise<MujocoEnv> {
    const mj = await loadMujocoModule();
    return new MujocoEnv(mj, source, options);
  }

  constructor(mj: Mujoco, source: EnvSource, options: EnvOptions = {}) {
    this.mj = mj;
    this.source = source;
    const model = loadModel(mj, source.files, source.xml);
    let data: MjData | null = null;
    try {
      data = new mj.MjData(model);
      const { task, errors } = compileTask(mj, model, data, source.spec, source.specFile);
      if (!task) throw new UserError(errors);
      if (model.nu === 0)
        throw new UserError({ file: source.xml, message: 'the model has no actuators, so there is nothing for an agent to control' });
      // MuJoCo accepts timestep="nan" and "0": time would never advance (or be NaN) in every episode.
      const ts = model.opt.timestep;
      if (!Number.isFinite(ts) || ts <= 0)
        throw new UserError({
          file: source.xml,
          field: '<option timestep>',
          message: `is ${ts}; the timestep must be a positive number of seconds`,
        });
      this.model = model;
      this.data = data;
      this.task = task;
    } catch (e) {
      data?.delete();
      model.delete();
      throw e;
    }
    const opt = model.opt;
    this.frameSkip = source.spec.frame_skip;
    this.dt = opt.timestep;
    this.rk4 = opt.integrator === INTEGRATOR_RK4;
    this.views = new SimViews(model, this.data);
    this.rng = new Rng(options.seed ?? 0);

    // Actions in [-1, 1] map linearly onto each actuator's ctrlrange; unlimited actuators take [-1, 1].
    const nu = model.nu;
    const range = model.actuator_ctrlrange as Float64Array;
    const limited = actuatorCtrlLimited(model);
    this.ctrlLow = new Float64Array(nu);
    this.ctrlHalf = new Float64Array(nu);
    const names: string[] = [];
    const low: number[] = [];
    const high: number[] = [];
    for (let i = 0; i < nu; i++) {
      const lo = limited[i] ? range[2 * i] : -1;
      const hi = limited[i] ? range[2 * i + 1] : 1;
      this.ctrlLow[i] = lo;
      this.ctrlHalf[i] = (hi - lo) / 2;
      low.push(lo);
      high.push(hi);
      names.push(nameOf(mj, model, OBJ.actuator, i) || `actuator_${i}`);
    }
    this.info = {
      id: source.id,
      obs: { size: this.task.obsSize, parts: this.task.obsParts },
      action: { size: nu, names, low, high },
      controlTimestep: this.dt * this.frameSkip,
      frameSkip: this.frameSkip,
      episodeLength: source.spec.episode_length,
      nq: model.nq,
      nbody: model.nbody,
      rewardTerms: this.task.rewardTerms,
    };
  }

  reset(seed?: number): Float32Array {
    const obs = new Float32Array(this.task.obsSize);
    this.resetInto(obs, 0, seed);
    return obs;
  }

  /** As reset(), writing the first observation into out[offset, offset + obs size). */
  resetInto(out: Float32Array, offset = 0, seed?: number): void {
    this.assertLive();
    if (seed !== undefined) this.rng = new Rng(seed);
    const { mj, model, data, views } = this;
    mj.mj_resetData(model, data);
    views.ensure();
    views.action.fill(0);
    this.task.initialise(views, this.rng);
    this.stepsInEpisode = 0;
    this.phase = 'running';
    this.simTime = data.time;
    this.task.observe(views, out, offset);
  }

  /**
   * Puts the simulation in a given state (Gymnasium's `set_state`): qpos and qvel written, everything
   * derived recomputed, an episode started from there. Returns the observation of that state.
   */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): Float32Array {
    this.assertLive();
    const { mj, model, data, views } = this;
    if (qpos.length !== model.nq || qvel.length !== model.nv)
      throw new UserError({
        field: 'state',
        message: `expected ${model.nq} qpos and ${model.nv} qvel values, got ${qpos.length} and ${qvel.length}`,
      });
    views.ensure();
    views.qpos.set(qpos);
    views.qvel.set(qvel);
    mj.mj_forward(model, data);
    if (this.task.needs.forces) mj.mj_rnePostConstraint(model, data);
    if (this.task.needs.subtreeVelocity) mj.mj_subtreeVel(model, data);
    views.ensure();
    this.task.beforeStep(views);
    this.stepsInEpisode = 0;
    this.phase = 'running';
    this.simTime = data.time;
    const obs = new Float32Array(this.task.obsSize);
    this.task.observe(views, obs, 0);
    return obs;
  }

  lastRewardTerms(): Float64Array {
    // A diverged step's reward is 0, and so are its terms.
    return this.outcome.diverged ? new Float64Array(this.task.terms.length) : this.task.terms.slice();
  }

  step(action: ArrayLike<number>): StepResult {
    const obs = new Float32Array(this.task.obsSize);
    const o = this.stepInto(action, obs, 0);
    return { obs, reward: o.reward, terminated: o.terminated, truncated: o.truncated, diverged: o.diverged };
  }

  /**
   * As step(), writing the observation into out[offset, offset + obs size) instead of allocating
   * one. The returned object is the env's own and is overwritten by the next call.
   */
  stepInto(action: ArrayLike<number>, out: Float32Array, offset = 0): StepOutcome {
    if (this.phase !== 'running') throw this.notRunning();
    const { mj, model, data, views } = this;
    const nu = this.ctrlLow.length;
    if (action.length !== nu) throw new UserError({ field: 'action', message: `expected ${nu} values, got ${action.length}` });
    views.ensure();
    const ctrl = views.ctrl;
    for (let i = 0; i < nu; i++) {
      const a = action[i];
      if (!Number.isFinite(a))
        throw new UserError({ field: `action[${i}]`, message: `is ${a}; actions must be finite numbers in [-1, 1]` });
      const c = a < -1 ? -1 : a > 1 ? 1 : a;
      views.action[i] = c;
      ctrl[i] = this.ctrlLow[i] + (c + 1) * this.ctrlHalf[i];
    }
    const task = this.task;
    task.beforeStep(views);
    // Gymnasium's Reacher rewards the state the action is taken in.
    const rewardBefore = task.rewardBeforeStep ? task.reward(views) : 0;
    // As dm_control's Physics.step: the step whose position and velocity stages (mj_step1) ran at
    // the end of the previous call is finished first, so positions, velocities and sensors are
    // current when observed, at the cost of exactly frame_skip physics steps.
    if (this.rk4) {
      // mj_step2 would integrate RK4 models with Euler: finish the step as mj_step does (its
      // mj_forward minus the stages already done, mj_checkAcc, RK4). Bit for bit mj_step.
      mj.mj_forwardSkip(model, data, STAGE_VEL, 0);
      mj.mj_checkAcc(model, data);
      mj.mj_RungeKutta(model, data, 4);
    } else mj.mj_step2(model, data);
    for (let k = 1; k < this.frameSkip; k++) mj.mj_step(model, data);
    // Contact forces as Gymnasium reads them after mj_step: for the last physics step's state and
    // solution (mj_step1 below recomputes positions but leaves cfrc_ext as it is).
    if (task.needs.forces) mj.mj_rnePostConstraint(model, data);
    mj.mj_step1(model, data);
    if (task.needs.subtreeVelocity) mj.mj_subtreeVel(model, data);
    views.ensure();
    // MuJoCo resets the data (time back to 0) when positions, velocities or accelerations go bad.
    const t = data.time;
    let diverged = t < this.simTime + (this.frameSkip - 0.5) * this.dt;
    this.simTime = t;
    task.observe(views, out, offset);
    let reward = 0;
    if (!diverged) {
      for (let i = offset; i < offset + this.task.obsSize; i++) if (!Number.isFinite(out[i])) diverged = true;
      reward = task.rewardBeforeStep ? rewardBefore : task.reward(views);
      if (!Number.isFinite(reward)) {
        diverged = true;
        reward = 0;
      }
    }
    this.stepsInEpisode++;
    const terminated = !diverged && task.terminated(views);
    const truncated = diverged || (!terminated && this.stepsInEpisode >= this.info.episodeLength);
    if (terminated || truncated) {
      this.phase = 'ended';
      this.ending = diverged ? 'the physics diverged' : terminated ? 'it terminated' : 'it reached its length';
    }
    const o = this.outcome;
    o.reward = reward;
    o.terminated = terminated;
    o.truncated = truncated;
    o.diverged = diverged;
    return o;
  }

  /**
   * A copy of the simulator state mid-episode (what a planner with the true model branches from):
   * time, positions, velocities, actuator activations, the constraint solver's warm start, the
   * controls and the episode's own counters. Written into `into` when given (no allocation).
   */
  saveState(into?: SimState): SimState {
    if (this.phase !== 'running') throw this.notRunning();
    const v = this.views;
    v.ensure();
    const d = this.data;
    const s = into ?? {
      time: 0,
      qpos: new Float64Array(v.qpos.length),
      qvel: new Float64Array(v.qvel.length),
      act: new Float64Array(this.model.na),
      warmstart: new Float64Array(v.qvel.length),
      ctrl: new Float64Array(v.ctrl.length),
      action: new Float64Array(v.action.length),
      stepsInEpisode: 0,
      simTime: 0,
    };
    s.time = d.time;
    s.qpos.set(v.qpos);
    s.qvel.set(v.qvel);
    if (this.model.na > 0) s.act.set(d.act as Float64Array);
    s.warmstart.set(d.qacc_warmstart as Float64Array);
    s.ctrl.set(v.ctrl);
    s.action.set(v.action);
    s.stepsInEpisode = this.stepsInEpisode;
    s.simTime = this.simTime;
    return s;
  }

  /**
   * Puts the env back into a state saveState() took (of this env): the episode continues from
   * there, whatever happened since (including its end). The position and velocity stages are
   * recomputed as step() leaves them, so the next step is bit for bit the one it would have been.
   */
  restoreState(s: SimState): void {
    this.assertLive();
    const { mj, model, data, views } = this;
    views.ensure();
    data.time = s.time;
    views.qpos.set(s.qpos);
    views.qvel.set(s.qvel);
    if (model.na > 0) (data.act as Float64Array).set(s.act);
    (data.qacc_warmstart as Float64Array).set(s.warmstart);
    views.ctrl.set(s.ctrl);
    views.action.set(s.action);
    mj.mj_step1(model, data);
    views.ensure();
    this.stepsInEpisode = s.stepsInEpisode;
    this.simTime = s.simTime;
    this.phase = 'running';
    this.ending = '';
  }

  /** Why the last divergence happened, in MuJoCo's words (warning counters since reset). */
  warnings(): string[] {
    const out: string[] = [];
    const vec = this.data.warning; // owned by MjData: must not be deleted
    for (let i = 0; i < vec.size(); i++) {
      const w = vec.get(i);
      if (!w) continue;
      if (w.number > 0) out.push(`${WARNING_NAMES[i] ?? `warning ${i}`} (x${w.number})`);
      w.delete();
    }
    return out;
  }

  qpos(): Float64Array {
    this.assertLive();
    this.views.ensure();
    return this.views.qpos.slice();
  }

  /** World position (3) and orientation quaternion (4) of every body, as one array (nbody x 7). */
  bodyPoses(out: Float32Array = new Float32Array(this.model.nbody * 7)): Float32Array {
    this.assertLive();
    const v = this.views;
    v.ensure();
    for (let b = 0; b < this.model.nbody; b++) {
      for (let k = 0; k < 3; k++) out[7 * b + k] = v.xpos[3 * b + k];
      for (let k = 0; k < 4; k++) out[7 * b + 3 + k] = v.xquat[4 * b + k];
    }
    return out;
  }

  /** The model as JSON for the three.js viewer (see sim/scene.ts). */
  scene(): SceneModel {
    this.assertLive();
    const s = extractScene(this.mj, this.model);
    this.views.ensure();
    return s;
  }

  /** Seconds of simulated time since reset. */
  get time(): number {
    return this.data.time;
  }

  /** The compiled MuJoCo model (read only; owned by the env). */
  get mjModel(): MjModel {
    return this.model;
  }

  /** Bytes of WebAssembly memory this thread's MuJoCo module holds (it only grows). */
  get wasmBytes(): number {
    return this.views.wasmBytes;
  }

  dispose(): void {
    if (this.phase === 'disposed') return;
    this.phase = 'disposed';
    this.data.delete();
    this.model.delete();
  }

  /** Why step() cannot run now. Envs never reset themselves: the caller decides when an episode starts. */
  private notRunning(): Error {
    if (this.phase === 'disposed') return new Error('env used after dispose()');
    const id = this.info.id;
    if (this.phase === 'new')
      return new UserError({ message: `env '${id}': step() called before the first reset(); call reset() to start an episode` });
    return new UserError({
      message: `env '${id}': step() called after its episode ended (${this.ending}, after ${this.stepsInEpisode} steps); call reset() to start the next episode`,
    });
  }

  private assertLive(): void {
    if (this.phase === 'disposed') throw new Error('env used after dispose()');
  }
}

/** Builds an env from a resolved source (see registry.ts resolveEnv). */
export function createEnv(source: EnvSource, options: EnvOptions = {}): Promise<MujocoEnv> {
  return MujocoEnv.create(source, options);
}

/** A saved simulator state (see MujocoEnv.saveState); valid only for the env that took it. */
export interface SimState {
  time: number;
  qpos: Float64Array;
  qvel: Float64Array;
  act: Float64Array;
  warmstart: Float64Array;
  ctrl: Float64Array;
  action: Float64Array;
  stepsInEpisode: number;
  simTime: number;
}

export type { ErrorDetail };
