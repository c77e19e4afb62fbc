/**
 * The environment interface every algorithm, the trainer and the studio use. Implemented by the
 * MuJoCo env (sim/env.ts) over an MJCF model plus a declarative task spec.
 */
import type { TermsCombine } from './reward-terms.ts';
import type { TaskSpec } from '../api/task-spec.ts';
import type { EnvFile } from './files.ts';

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

/** One named slice of the flat observation vector (e.g. `position`, `velocity`, `to_target`). */
export interface ObsPart {
  name: string;
  offset: number;
  size: number;
}

export interface ObsSpec {
  /** Length of the flat low-dimensional observation vector. */
  size: number;
  parts: ObsPart[];
}

export interface ActionSpec {
  /** Number of actuators; the agent's actions are in [-1, 1] and mapped to each actuator's ctrlrange. */
  size: number;
  /** Actuator names, in action order. */
  names: string[];
  low: number[];
  high: number[];
}

export interface StepResult {
  /** A fresh copy; the env never hands out views into WASM memory. */
  obs: Float32Array;
  reward: number;
  /** The task ended (e.g. the hopper fell): bootstrap with 0. */
  terminated: boolean;
  /** The episode was cut (time limit or diverged physics): bootstrap from the next state. */
  truncated: boolean;
  /** Set when MuJoCo reported a warning (NaN / instability) and the episode was cut. */
  diverged: boolean;
}

/** A step's result without its observation (MujocoEnv.stepInto writes that where the caller asks). */
export type StepOutcome = Omit<StepResult, 'obs'>;

export interface EnvInfo {
  id: string;
  obs: ObsSpec;
  action: ActionSpec;
  /** Seconds per agent step (model timestep x frame skip). */
  controlTimestep: number;
  frameSkip: number;
  /** Agent steps per episode before truncation. */
  episodeLength: number;
  nq: number;
  nbody: number;
  /** Labels of the reward's top-level terms and how they combine (replay's breakdown); absent for envs without a task spec. */
  rewardTerms?: { labels: string[]; combine: TermsCombine };
  /** The low-dimensional observation's layout where `obs` is something else (pixels): what state() returns. */
  stateObs?: ObsSpec;
}

export interface Env {
  readonly info: EnvInfo;
  /** Starts an episode; with a seed the initial state is reproducible bit for bit. */
  reset(seed?: number): Float32Array;
  /**
   * Applies an action in [-1, 1]^n (non-finite entries are a UserError) for frameSkip physics steps.
   * Only between reset() and the end of the episode: afterwards it throws a UserError naming the env
   * (envs never reset themselves).
   */
  step(action: ArrayLike<number>): StepResult;
  /** Copy of the current generalised positions (what episode recordings store per frame). */
  qpos(): Float64Array;
  /** A copy of the last step's reward terms, one per info.rewardTerms label (recorded for replay). */
  lastRewardTerms?(): Float64Array;
  /** The low-dimensional observation after the last reset or step, where obs is pixels (info.stateObs). */
  state?(): Float32Array;
  /** Releases every WASM object the env created. */
  dispose(): void;
}
