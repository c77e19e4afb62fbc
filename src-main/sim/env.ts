/**
 * The MuJoCo environment: an MJCF model plus a compiled task spec behind the Env interface.
 *
 * Hot path (step): actions are checked and written into ctrl, the physics advances frame_skip
 * steps, and the observation is copied out once. Names were resolved at load; views into WASM
 * memory are cached and re-fetched only when the heap grows.
 */
import { UserError, type ErrorDetail } from '../util/errors.ts';
import type { TaskSpec } from '../api/task-spec.ts';
import type { Env, EnvInfo, StepResult } from './types.ts';
import { asBytes, type EnvFile } from './files.ts';
import { actuatorCtrlLimited, loadMujocoModule, nameOf, OBJ, wasmErrorMessage, WARNING_NAMES, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import { compileTask, type CompiledTask } from './task.ts';
import { Rng } from '../util/rng.ts';
import { SimViews } from './views.ts';
import { extractScene } from './scene.ts';
import type { SceneModel } from '../api/scene.ts';

/** Everything needed to build an env, all in memory (it crosses to worker threads as is). */
export interface EnvSource {
  id: string;
  /** The main MJCF's name among `files`. */
  xml: string;
  /** Name of the task spec file (for error messages). */
  specFile: string;
  spec: TaskSpec;
  files: EnvFile[];
}

export interface EnvOptions {
  /** Seed of the env's own random stream (reset() without a seed continues it). Default 0. */
  seed?: number;
}

/** mjtIntegrator RK4: mj_step2 does not support it, so those models step with plain mj_step. */
const INTEGRATOR_RK4 = 1;

/** Compiles the MJCF from in-memory files through a MuJoCo virtual file system. */
export function loadModel(mj: Mujoco, files: EnvFile[], mainXml: string): MjModel {
  const vfs = new mj.MjVFS();
  try {
    for (const f of files) vfs.addBuffer(f.name, asBytes(f.content));
    return mj.MjModel.from_xml_path(mainXml, vfs);
  } catch (e) {
    throw new UserError({ file: mainXml, message: cleanMujocoMessage(wasmErrorMessage(mj, e)) });
  } finally {
    vfs.delete();
  }
}

/** MuJoCo's message on one line, keeping its element and line information. */
export function cleanMujocoMessage(msg: string): string {
  return msg
    .replace(/^MuJoCo Error:\s*/, '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}

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
  private needsReset = true;
  private disposed = false;

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
      if (model.nu === 0) throw new UserError({ file: source.xml, message: 'the model has no actuators, so there is nothing for an agent to control' });
      // MuJoCo accepts timestep="nan" and "0": time would never advance (or be NaN) in every episode.
      const ts = model.opt.timestep;
      if (!Number.isFinite(ts) || ts <= 0) throw new UserError({ file: source.xml, field: '<option timestep>', message: `is ${ts}; the timestep must be a positive number of seconds` });
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
    };
  }

  reset(seed?: number): Float32Array {
    this.assertLive();
    if (seed !== undefined) this.rng = new Rng(seed);
    const { mj, model, data, views } = this;
    mj.mj_resetData(model, data);
    views.ensure();
    views.action.fill(0);
    this.task.initialise(views, this.rng);
    this.stepsInEpisode = 0;
    this.needsReset = false;
    return this.observe();
  }

  step(action: ArrayLike<number>): StepResult {
    this.assertLive();
    if (this.needsReset) throw new Error('step() called before reset() or after the episode ended');
    const { mj, model, data, views } = this;
    const nu = this.ctrlLow.length;
    if (action.length !== nu) throw new UserError({ field: 'action', message: `expected ${nu} values, got ${action.length}` });
    views.ensure();
    const ctrl = views.ctrl;
    for (let i = 0; i < nu; i++) {
      const a = action[i];
      if (!Number.isFinite(a)) throw new UserError({ field: `action[${i}]`, message: `is ${a}; actions must be finite numbers in [-1, 1]` });
      const c = a < -1 ? -1 : a > 1 ? 1 : a;
      views.action[i] = c;
      ctrl[i] = this.ctrlLow[i] + (c + 1) * this.ctrlHalf[i];
    }
    const t0 = data.time;
    if (this.rk4) {
      for (let k = 0; k < this.frameSkip; k++) mj.mj_step(model, data);
      mj.mj_step1(model, data);
    } else {
      // As dm_control's Physics.step: mj_step2 finishes the step whose first half (mj_step1) ran
      // at the end of the previous call, so positions, velocities and sensors are current when
      // observed, at the cost of exactly frame_skip physics steps.
      mj.mj_step2(model, data);
      for (let k = 1; k < this.frameSkip; k++) mj.mj_step(model, data);
      mj.mj_step1(model, data);
    }
    views.ensure();
    // MuJoCo resets the data (time back to 0) when positions, velocities or accelerations go bad.
    let diverged = data.time < t0 + (this.frameSkip - 0.5) * this.dt;
    const obs = this.observe();
    let reward = 0;
    if (!diverged) {
      for (let i = 0; i < obs.length; i++) if (!Number.isFinite(obs[i])) diverged = true;
      reward = this.task.reward(views);
      if (!Number.isFinite(reward)) {
        diverged = true;
        reward = 0;
      }
    }
    this.stepsInEpisode++;
    const terminated = !diverged && this.task.terminated(views);
    const truncated = diverged || (!terminated && this.stepsInEpisode >= this.info.episodeLength);
    if (terminated || truncated) this.needsReset = true;
    return { obs, reward, terminated, truncated, diverged };
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

  /** Writes the observation into `out` without allocating (for batched envs). */
  observeInto(out: Float32Array): void {
    this.task.observe(this.views, out);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.data.delete();
    this.model.delete();
  }

  private observe(): Float32Array {
    const out = new Float32Array(this.task.obsSize);
    this.task.observe(this.views, out);
    return out;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('env used after dispose()');
  }
}

/** Builds an env from a resolved source (see registry.ts resolveEnv). */
export function createEnv(source: EnvSource, options: EnvOptions = {}): Promise<MujocoEnv> {
  return MujocoEnv.create(source, options);
}

export type { ErrorDetail };
