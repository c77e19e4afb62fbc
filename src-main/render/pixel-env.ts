/**
 * Pixel observations as in the DDPG paper (Lillicrap et al. 2015, section 7): each agent step
 * repeats the action 3 times, renders after each repeat, and stacks the 3 RGB frames into 9
 * channels, 64x64, scaled to [0, 1]. Rewards of the repeats are summed.
 *
 * PixelEnv wraps a MuJoCo env (state, physics and reward unchanged) and a render host. It
 * implements the Env interface, so a trainer steps it like any env: obs is float32
 * height x width x (3 x stack) in [0, 1] (NHWC, channel f * 3 + c for frame f, oldest first: the
 * layout learn/nets/pixel-nets.ts reads). pixels() gives the same observation as uint8 frames with ids,
 * for PixelReplay, which keeps each frame once.
 */
import type { SceneModel } from '../api/scene.ts';
import type { Env, EnvInfo, StepResult } from '../sim/types.ts';
import { framesToObservation, PixelReplay, type PixelObservation, type PixelReplayOptions } from '../learn/replay/pixel-replay.ts';
import { taskCamera, type PixelCamera } from './host.ts';
import type { SyncRenderHost } from './sync-host.ts';

/** The env under the pixels: a MuJoCo env that can report body poses and its scene. */
export interface PoseEnv extends Env {
  bodyPoses(out?: Float32Array): Float32Array;
  scene(): SceneModel;
  /** Starts an episode from this physics state; returns its observation (MujocoEnv.setState). */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): Float32Array;
}

export interface PixelEnvOptions {
  width?: number;
  height?: number;
  /** Physics-level action repeats per agent step. DDPG paper: 3. */
  actionRepeat?: number;
  /**
   * 'repeats' (the paper): render after every repeat; the observation is this step's frames.
   * 'sliding': render once per agent step; the observation is the last `stack` steps' frames
   * (one new frame per transition, a third of the replay memory).
   */
  stacking?: 'repeats' | 'sliding';
  /** Frames per observation in 'sliding' mode (in 'repeats' it is actionRepeat). Default 3. */
  stack?: number;
  /** Camera; default the task spec's camera, else a tracking camera (render/host.ts taskCamera). */
  camera?: PixelCamera;
  /** The task spec's camera name, used when `camera` is not given. */
  specCamera?: string;
  /** Anti-aliased frames (multisampling, as MuJoCo renders): sub-pixel motion of thin parts shows. */
  antialias?: boolean;
  /** Dispose the render host with the env. */
  ownsHost?: boolean;
}

/** Frame ids are unique within the process, so one replay can hold frames of several envs. */
let nextFrameId = 0;

export class PixelEnv implements Env {
  readonly info: EnvInfo;
  readonly width: number;
  readonly height: number;
  readonly stack: number;
  readonly actionRepeat: number;
  readonly stacking: 'repeats' | 'sliding';
  readonly camera: PixelCamera;
  private readonly frameBytes: number;
  private readonly nbody: number;
  private readonly poses: Float32Array;
  /** The current observation's frames (frame-major) and ids. */
  private frames: Uint8Array;
  private ids: number[];
  private readonly ownsHost: boolean;
  /** Seconds spent waiting for frames (for the speed report). */
  renderSeconds = 0;
  /** The low-dimensional observation of the env under the pixels, after the last reset or step. */
  private stateObs: Float32Array = new Float32Array(0);
  /** The step between beginStep() and endStep(). */
  private inFlight: { last: StepResult; reward: number; drawn: number } | null = null;
  /** The last agent step's reward terms, summed over its repeats as the reward is. */
  private terms: Float64Array = new Float64Array(0);

  private constructor(
    readonly inner: PoseEnv,
    readonly host: SyncRenderHost,
    opts: PixelEnvOptions,
    camera: PixelCamera,
    scene: SceneModel,
  ) {
    this.width = opts.width ?? 64;
    this.height = opts.height ?? 64;
    this.actionRepeat = opts.actionRepeat ?? 3;
    this.stacking = opts.stacking ?? 'repeats';
    this.stack = this.stacking === 'repeats' ? this.actionRepeat : (opts.stack ?? 3);
    if (!(this.actionRepeat >= 1 && this.stack >= 1)) throw new RangeError('actionRepeat and stack must be at least 1');
    this.camera = camera;
    this.ownsHost = opts.ownsHost ?? false;
    this.frameBytes = this.width * this.height * 3;
    this.nbody = scene.bodies.length;
    this.poses = new Float32Array(this.actionRepeat * this.nbody * 7);
    this.frames = new Uint8Array(this.stack * this.frameBytes);
    this.ids = new Array<number>(this.stack).fill(-1);
    const i = inner.info;
    const size = this.height * this.width * 3 * this.stack;
    this.info = {
      ...i,
      obs: { size, parts: [{ name: 'pixels', offset: 0, size }] },
      stateObs: i.obs,
      controlTimestep: i.controlTimestep * this.actionRepeat,
      frameSkip: i.frameSkip * this.actionRepeat,
      episodeLength: Math.ceil(i.episodeLength / this.actionRepeat),
    };
  }

  /** Loads the env's scene into the host with the task's camera at the chosen size. */
  static async create(inner: PoseEnv, host: SyncRenderHost, opts: PixelEnvOptions = {}): Promise<PixelEnv> {
    const scene = inner.scene();
    const camera = opts.camera ?? taskCamera(scene, opts.specCamera);
    await host.setScene(scene, camera, { width: opts.width ?? 64, height: opts.height ?? 64, antialias: opts.antialias ?? false });
    return new PixelEnv(inner, host, opts, camera, scene);
  }

  /** Observation shape for the pixel networks. */
  get shape(): { height: number; width: number; channels: number } {
    return { height: this.height, width: this.width, channels: 3 * this.stack };
  }

  reset(seed?: number): Float32Array {
    this.stateObs = this.inner.reset(seed);
    return this.firstObservation();
  }

  /** Starts an episode from a given physics state (as reset() does from the task's initial one). */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): Float32Array {
    this.stateObs = this.inner.setState(qpos, qvel);
    return this.firstObservation();
  }

  private firstObservation(): Float32Array {
    const first = this.draw(1);
    // The first observation repeats the initial frame (one frame, one id).
    const id = nextFrameId++;
    for (let f = 0; f < this.stack; f++) {
      this.frames.set(first, f * this.frameBytes);
      this.ids[f] = id;
    }
    return framesToObservation(this.frames, this.stack);
  }

  step(action: ArrayLike<number>): StepResult {
    this.beginStep(action);
    return this.endStep();
  }

  /**
   * step() in two halves: the physics and the render request now, the observation from
   * endStep(). Work done in between (a learning update) overlaps the page drawing the frames.
   */
  beginStep(action: ArrayLike<number>): void {
    if (this.inFlight) throw new Error('beginStep() twice: endStep() the step in flight first');
    let reward = 0;
    let last: StepResult | null = null;
    let drawn = 0;
    const per = this.nbody * 7;
    this.terms = new Float64Array(this.info.rewardTerms?.labels.length ?? 0);
    for (let k = 0; k < this.actionRepeat; k++) {
      last = this.inner.step(action);
      reward += last.reward;
      const t = this.inner.lastRewardTerms?.();
      if (t) for (let j = 0; j < Math.min(t.length, this.terms.length); j++) this.terms[j] += t[j];
      if (this.stacking === 'repeats') {
        this.inner.bodyPoses(this.poses.subarray(drawn * per, (drawn + 1) * per));
        drawn++;
      }
      if (last.terminated || last.truncated) break;
    }
    if (this.stacking === 'sliding') {
      this.inner.bodyPoses(this.poses.subarray(0, per));
      drawn = 1;
    }
    this.host.request(this.poses.subarray(0, drawn * per));
    this.stateObs = last!.obs;
    this.inFlight = { last: last!, reward, drawn };
  }

  endStep(): StepResult {
    const step = this.inFlight;
    if (!step) throw new Error('endStep() without beginStep()');
    this.inFlight = null;
    const t0 = performance.now();
    const fresh = this.host.collect();
    this.renderSeconds += (performance.now() - t0) / 1000;
    const { last: r, reward, drawn } = step;
    if (this.stacking === 'repeats') {
      for (let f = 0; f < this.stack; f++) {
        // An episode that ended inside the repeats repeats its last frame.
        const src = Math.min(f, drawn - 1);
        this.frames.set(fresh.subarray(src * this.frameBytes, (src + 1) * this.frameBytes), f * this.frameBytes);
        this.ids[f] = f <= drawn - 1 ? nextFrameId++ : this.ids[f - 1];
      }
    } else {
      this.frames.copyWithin(0, this.frameBytes);
      this.frames.set(fresh, (this.stack - 1) * this.frameBytes);
      this.ids.shift();
      this.ids.push(nextFrameId++);
    }
    return {
      obs: framesToObservation(this.frames, this.stack),
      reward,
      terminated: r.terminated,
      truncated: r.truncated,
      diverged: r.diverged,
    };
  }

  /**
   * A replay buffer for this env's observations: its frame size and stack, one new frame per
   * transition with 'sliding' stacking and every repeat's with 'repeats'.
   */
  newReplay(capacity: number, sampling: Pick<PixelReplayOptions, 'shift' | 'nStep' | 'gamma'> = {}): PixelReplay {
    return new PixelReplay({
      ...sampling,
      capacity,
      height: this.height,
      width: this.width,
      stack: this.stack,
      newFramesPerStep: this.stacking === 'repeats' ? this.stack : 1,
      actionSize: this.info.action.size,
    });
  }

  /** The current observation as uint8 frames with ids (a copy), for PixelReplay. */
  pixels(): PixelObservation {
    return { ids: this.ids.slice(), frames: this.frames.slice() };
  }

  lastRewardTerms(): Float64Array {
    return this.terms.slice();
  }

  /** The state observation the pixels show (the wrapped env's own observation), for diagnostics. */
  state(): Float32Array {
    return this.stateObs;
  }

  qpos(): Float64Array {
    return this.inner.qpos();
  }

  dispose(): void {
    this.inner.dispose();
    if (this.ownsHost) void this.host.close();
  }

  /** Renders the current state (n = 1). */
  private draw(n: number): Uint8Array {
    this.inner.bodyPoses(this.poses.subarray(0, this.nbody * 7));
    return this.render(n);
  }

  private render(n: number): Uint8Array {
    const t0 = performance.now();
    const out = this.host.renderSync(this.poses.subarray(0, n * this.nbody * 7));
    this.renderSeconds += (performance.now() - t0) / 1000;
    return out;
  }
}
