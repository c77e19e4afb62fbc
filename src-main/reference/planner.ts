/**
 * The "planner with the true model" of the DDPG paper's normalised scores (Lillicrap et al. 2015,
 * section 4: a score of 1 is the iLQG planner's, which has full access to the simulator). Here it is
 * model-predictive path-integral control (MPPI, Williams et al. 2017) on MuJoCo itself: at every
 * control step the env's state is saved, `samples` perturbed action sequences of `horizon` steps are
 * rolled out from copies of that state with the task's own reward, the plan becomes their
 * reward-weighted mean, and its first action is applied. The plan shifts by one step and is reused.
 * While no sample scores at all (a sparse reward), it follows the most novel sample instead.
 *
 * Deviation from the paper, said so: not iLQG. iLQG from finite-difference derivatives needs
 * (state + action) extra simulations per time step per iteration and second derivatives of the
 * reward, whose dm_control tolerance terms are flat (zero gradient) away from their bounds; on
 * these tasks and this budget a sampling planner is both cheaper and more reliable. Its scores are
 * therefore a lower bound on the paper's planner where it plans poorly (stated in the data file).
 */
import type { MujocoEnv, SimState } from '../sim/env.ts';
import { Rng } from '../util/rng.ts';

export interface PlannerOptions {
  /** Action sequences sampled per control step. */
  samples: number;
  /** Agent steps each sequence looks ahead. */
  horizon: number;
  /** Standard deviation of the action noise, in the agent's [-1, 1] units. */
  noise: number;
  /** MPPI temperature, as a fraction of the spread of the samples' returns (scale-free across tasks). */
  temperature: number;
  /** Sampling rounds per control step (each refines the plan from the previous round's mean). */
  iterations: number;
  /**
   * Agent steps between independent noise draws; the noise between them is interpolated linearly.
   * Smooth perturbations explore the slow motions white noise averages away (a cart's drift).
   */
  noiseEvery: number;
  /**
   * What to follow while every sample scores the same (a sparse reward no sample has reached):
   * 'follow' one perturbed sample; 'novelty', the sample that reaches the observation farthest
   * from every one the episode has visited (novelty search: task-agnostic exploration; the task's
   * reward decides again as soon as any sample scores).
   */
  explore: 'follow' | 'novelty';
}

/** Settings that fit the 2-core development machine (see resources/envs/references.json). */
export const PLANNER_DEFAULTS: PlannerOptions = Object.freeze({
  samples: 16,
  horizon: 100,
  noise: 0.3,
  temperature: 0.1,
  iterations: 1,
  noiseEvery: 5,
  explore: 'novelty',
});

/** What one planner episode cost, for the data file and `bench planner`. */
export interface PlannerStats {
  controlSteps: number;
  /** Agent steps simulated in rollouts (each is frame_skip physics steps). */
  simulatedSteps: number;
  seconds: number;
}

export class TrueModelPlanner {
  private plan: Float64Array;
  private readonly candidates: Float64Array;
  private readonly returns: Float64Array;
  /**
   * Per sample, the observations it reached every `noiseEvery` steps (and at its end), kept so
   * that their novelty is computed only when the reward gives no signal.
   */
  private readonly checkpoints: Float32Array;
  private readonly checkpointCounts: Int32Array;
  private readonly checkpointsPerSample: number;
  /** Observations the episode has visited (one row per control step, obs size wide). */
  private readonly visited: Float32Array;
  private visitedCount = 0;
  private readonly state: SimState;
  private readonly rng: Rng;
  private readonly nu: number;
  private readonly knotLow: Float64Array;
  private readonly knotHigh: Float64Array;
  readonly stats: PlannerStats = { controlSteps: 0, simulatedSteps: 0, seconds: 0 };

  constructor(
    private readonly env: MujocoEnv,
    private readonly options: PlannerOptions,
    seed: number,
  ) {
    this.nu = env.info.action.size;
    const H = options.horizon;
    this.plan = new Float64Array(H * this.nu);
    this.candidates = new Float64Array(options.samples * H * this.nu);
    this.returns = new Float64Array(options.samples);
    this.checkpointsPerSample = Math.ceil(H / Math.max(1, options.noiseEvery)) + 1;
    this.checkpoints = new Float32Array(
      options.explore === 'novelty' ? options.samples * this.checkpointsPerSample * env.info.obs.size : 0,
    );
    this.checkpointCounts = new Int32Array(options.samples);
    this.visited = new Float32Array(env.info.episodeLength * env.info.obs.size);
    this.rng = new Rng(seed);
    this.knotLow = new Float64Array(this.nu);
    this.knotHigh = new Float64Array(this.nu);
    this.state = env.saveState();
  }

  /** Forgets the plan (call after env.reset()). */
  reset(): void {
    this.plan.fill(0);
    this.visitedCount = 0;
  }

  /**
   * The action to take now from the env's current state, whose observation is `current`; the env is
   * left exactly in that state (restored after the rollouts).
   */
  act(current: Float32Array): Float64Array {
    const started = performance.now();
    const { env, options, nu } = this;
    const H = options.horizon;
    const K = options.samples;
    const seqLen = H * nu;
    env.saveState(this.state);
    this.remember(current);
    const obs = new Float32Array(env.info.obs.size);
    const action = new Float64Array(nu);
    const every = Math.max(1, options.noiseEvery);
    for (let iter = 0; iter < options.iterations; iter++) {
      for (let k = 0; k < K; k++) {
        const seq = this.candidates.subarray(k * seqLen, (k + 1) * seqLen);
        this.samplePerturbation(seq, k === 0);
        env.restoreState(this.state);
        let total = 0;
        this.checkpointCounts[k] = 0;
        for (let t = 0; t < H; t++) {
          for (let j = 0; j < nu; j++) action[j] = seq[t * nu + j];
          const o = env.stepInto(action, obs, 0);
          this.stats.simulatedSteps++;
          total += o.reward;
          const ended = o.terminated || o.truncated;
          if (options.explore === 'novelty' && ((t + 1) % every === 0 || ended || t === H - 1)) this.keepCheckpoint(k, obs);
          if (ended) break;
        }
        this.returns[k] = total;
      }
      this.updatePlan();
    }
    env.restoreState(this.state);
    const now = this.plan.slice(0, nu);
    // Receding horizon: the rest of the plan starts the next step's search; its last action stays
    // in place, so the tail repeats it.
    this.plan.copyWithin(0, nu);
    this.stats.controlSteps++;
    this.stats.seconds += (performance.now() - started) / 1000;
    return now;
  }

  /** Adds the current observation to the episode's visited ones (the oldest go once it is full). */
  private remember(current: Float32Array): void {
    const n = current.length;
    const rows = this.visited.length / n;
    this.visited.set(current, (this.visitedCount % rows) * n);
    this.visitedCount++;
  }

  /** Keeps one observation a sample reached, for mostNovelSample(). */
  private keepCheckpoint(sample: number, obs: Float32Array): void {
    const c = this.checkpointCounts[sample]++;
    this.checkpoints.set(obs, (sample * this.checkpointsPerSample + c) * obs.length);
  }

  /**
   * The sample whose checkpoints reach farthest from everything visited: the largest, over its
   * checkpoints, of the squared distance to the nearest visited observation (novelty search,
   * Lehman & Stanley 2011). Distances are in the observation's own units, unscaled: velocities
   * are the largest entries, so motion not yet seen counts most.
   */
  private mostNovelSample(): number {
    const n = this.env.info.obs.size;
    const rows = Math.min(this.visitedCount, this.visited.length / n);
    let pick = 1;
    let pickNovelty = -1;
    for (let k = 0; k < this.returns.length; k++) {
      let novelty = 0;
      for (let c = 0; c < this.checkpointCounts[k]; c++) {
        const at = (k * this.checkpointsPerSample + c) * n;
        let nearest = Infinity;
        for (let r = 0; r < rows && nearest > novelty; r++) {
          let d2 = 0;
          for (let i = 0; i < n; i++) d2 += (this.checkpoints[at + i] - this.visited[r * n + i]) ** 2;
          if (d2 < nearest) nearest = d2;
        }
        if (nearest > novelty) novelty = nearest;
      }
      if (novelty > pickNovelty) {
        pick = k;
        pickNovelty = novelty;
      }
    }
    return pick;
  }

  /**
   * One candidate: the plan plus noise drawn every `noiseEvery` steps and interpolated linearly in
   * between, clipped to [-1, 1]. Candidate 0 is the plan itself, so a good plan is never lost to
   * unlucky noise.
   */
  private samplePerturbation(seq: Float64Array, exact: boolean): void {
    const { nu, options, plan, knotLow, knotHigh } = this;
    const H = options.horizon;
    const every = Math.max(1, options.noiseEvery);
    if (exact) {
      for (let i = 0; i < seq.length; i++) seq[i] = plan[i];
      return;
    }
    for (let j = 0; j < nu; j++) knotHigh[j] = options.noise * this.rng.normal();
    for (let t = 0; t < H; t++) {
      const phase = t % every;
      if (phase === 0) {
        knotLow.set(knotHigh);
        for (let j = 0; j < nu; j++) knotHigh[j] = options.noise * this.rng.normal();
      }
      const f = phase / every;
      for (let j = 0; j < nu; j++) {
        const u = plan[t * nu + j] + (1 - f) * knotLow[j] + f * knotHigh[j];
        seq[t * nu + j] = u < -1 ? -1 : u > 1 ? 1 : u;
      }
    }
  }

  /** Plan = the samples weighted by exp((R - R_max) / (temperature x spread)) (MPPI's softmax). */
  private updatePlan(): void {
    const { returns, candidates, options } = this;
    let best = -Infinity;
    let worst = Infinity;
    for (const r of returns) {
      if (r > best) best = r;
      if (r < worst) worst = r;
    }
    const seqLen = this.plan.length;
    if (best - worst < 1e-12 && returns.length > 1) {
      // Every sample scored the same (a sparse reward not reached yet, e.g. pendulum swing-up):
      // their average is the plan plus zero-mean noise, i.e. no exploration at all. Follow one
      // sample instead until some sample finds reward. Random ones barely move a weak pendulum
      // (its torque is a fifth of gravity's: in 64 tries, 1000 steps of random smooth torque never
      // brought it within 70 degrees of upright); the most novel one keeps going where the episode
      // has not been, which pumps energy in over the swings.
      const pick = options.explore === 'novelty' ? this.mostNovelSample() : 1;
      this.plan.set(candidates.subarray(pick * seqLen, (pick + 1) * seqLen));
      return;
    }
    const lambda = options.temperature * Math.max(best - worst, 1e-9);
    this.plan.fill(0);
    let sum = 0;
    for (let k = 0; k < returns.length; k++) {
      const w = Math.exp((returns[k] - best) / lambda);
      sum += w;
      for (let i = 0; i < seqLen; i++) this.plan[i] += w * candidates[k * seqLen + i];
    }
    for (let i = 0; i < seqLen; i++) this.plan[i] /= sum;
  }
}

/** One episode driven by the planner from reset(seed): its return and cost. */
export function plannerEpisode(
  env: MujocoEnv,
  options: PlannerOptions,
  seed: number,
  onStep?: (step: number, ret: number) => void,
): { episodeReturn: number; stats: PlannerStats } {
  const obs = env.reset(seed);
  const planner = new TrueModelPlanner(env, options, seed + 1);
  let episodeReturn = 0;
  for (let t = 0; ; t++) {
    const a = planner.act(obs);
    const o = env.stepInto(a, obs, 0);
    episodeReturn += o.reward;
    onStep?.(t + 1, episodeReturn);
    if (o.terminated || o.truncated) break;
  }
  return { episodeReturn, stats: { ...planner.stats } };
}

/** One episode of uniformly random actions in [-1, 1] (the paper's score 0). */
export function randomEpisode(env: MujocoEnv, seed: number): number {
  env.reset(seed);
  const rng = new Rng(seed + 7919);
  const action = new Float64Array(env.info.action.size);
  const obs = new Float32Array(env.info.obs.size);
  let episodeReturn = 0;
  for (;;) {
    for (let j = 0; j < action.length; j++) action[j] = rng.range(-1, 1);
    const o = env.stepInto(action, obs, 0);
    episodeReturn += o.reward;
    if (o.terminated || o.truncated) return episodeReturn;
  }
}
