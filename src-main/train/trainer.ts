import type { RunConfig } from '../api/run-config.ts';
import type { TrainEvent } from '../api/events.ts';
import type { MetricRecord, RunStatus } from '../api/runs.ts';
import type { Env } from '../sim/types.ts';
import type { Agent, Batch, UpdateStats } from '../learn/types.ts';
import { actAwaited, readsAsync, stateAwaited, updateAwaited } from '../learn/agent-reads.ts';
import { RESERVED_METRIC_NAMES } from '../learn/algos/spec.ts';
import { Rng } from '../util/rng.ts';
import type { Trajectory } from '../learn/model/dynamics.ts';
import { storageProblem, type RunFiles } from '../store/run-store.ts';
import type { MetricsWriter } from '../store/metrics.ts';
import { encodeCheckpoint, type TrainerState } from './checkpoint.ts';
import { evaluatePolicy } from './evaluate.ts';
import { LowDimTrainReplay, type TrainReplay } from './replay-kinds.ts';
import { ReplayBuffer } from '../learn/replay/replay.ts';

/** How the host steers a running trainer (set from worker messages between steps). */
export interface TrainerControl {
  readonly pauseRequested: boolean;
  readonly stopRequested: boolean;
  /** Someone watches the live view: send frames of the training env. */
  readonly live: boolean;
  /** Resolves when the user resumes or stops a paused run. */
  waitForResume(): Promise<'resume' | 'stop'>;
}

export interface TrainerOptions {
  runId: string;
  config: RunConfig;
  run: RunFiles;
  env: Env;
  /** A second env for evaluation, so an evaluation mid-episode leaves the training episode as it was. */
  evalEnv: Env;
  agent: Agent;
  /** Low-dim or pixel transitions (train/replay-kinds.ts); a bare ReplayBuffer is low-dim. */
  replay: TrainReplay | ReplayBuffer;
  state: TrainerState;
  /** Total environment steps to reach. */
  steps: number;
  control: TrainerControl;
  emit(event: TrainEvent): void;
}

/** Environment steps per 'update' metric record. */
export const LOG_EVERY = 200;
/** Progress events at most this often (ms). */
const PROGRESS_MS = 250;
/** Live frames at most this often (ms): up to 60 per second, so the live view can draw 30 and more. */
export const LIVE_FRAME_MS = 16;
/** Longest stretch (ms) without yielding to the event loop, where control messages arrive. */
const SLICE_MS = 50;
/** Buffered metric lines are appended at least this often (ms). */
const FLUSH_MS = 1000;

/** Seed of the env for the k-th training episode of a run. */
export function trainSeed(runSeed: number, episode: number): number {
  return (runSeed * 1_000_003 + episode) >>> 0;
}

class StoppedWhilePaused extends Error {}

/**
 * The off-policy loop (collect + update) every algorithm shares: act (uniform random during
 * warm-up, then the agent with exploration), step the env, store the transition, and run the
 * agent's updates per env step once learning starts. Evaluates every `evalEvery` steps (recorded
 * episodes), checkpoints every `checkpointEvery` steps, and reports progress. Algorithms implement
 * only act/update.
 *
 * A checkpoint taken mid-episode resumes at the start of a fresh episode: the env's physics state
 * is not part of a checkpoint, so the interrupted episode is cut (its transitions stay in replay).
 */
export class OffPolicyTrainer {
  private readonly o: TrainerOptions & { replay: TrainReplay };
  private readonly s: TrainerState;
  private readonly rng: Rng;
  private readonly metrics: MetricsWriter;
  private readonly batch: Batch;
  private readonly warmup: number;
  private readonly learnFrom: number;
  private activeSince = performance.now();
  private status: RunStatus = 'running';
  private reasonText: string | null = null;
  private lastCheckpoint: number | null = null;
  // Windows for the 'update' record and progress events.
  private progressWindow = { step: 0, t0: performance.now() };
  private win = { steps: 0, updates: 0, t0: performance.now() };
  /** Sums and counts of the agent's named update metrics in this window (whatever names its updates report). */
  private metricWin = new Map<string, { sum: number; n: number }>();
  /** Each metric's mean over the last window with updates (the progress events carry them). */
  private lastMetrics: Record<string, number> = {};
  private last = { stepsPerS: 0, episodeReturn: null as number | null };

  constructor(opts: TrainerOptions) {
    this.o = { ...opts, replay: opts.replay instanceof ReplayBuffer ? new LowDimTrainReplay(opts.replay) : opts.replay };
    this.s = opts.state;
    this.rng = new Rng(0);
    this.rng.setState(opts.state.rng);
    this.metrics = opts.run.metricsWriter();
    this.batch = this.o.replay.makeBatch(opts.agent.hp.batchSize);
    this.warmup = opts.config.warmupSteps;
    // The run config's warm-up replaces the algorithm's learningStarts / randomSteps (see api/run-config.ts).
    this.learnFrom = Math.max(this.warmup, opts.agent.hp.batchSize);
  }

  get state(): TrainerState {
    return this.s;
  }

  /** Why the run is paused or failed, when it is. */
  get reason(): string | null {
    return this.reasonText;
  }

  private elapsed(): number {
    return this.s.elapsed + (this.activeSince >= 0 ? (performance.now() - this.activeSince) / 1000 : 0);
  }

  private record(kind: MetricRecord['kind'], fields: Record<string, unknown>): void {
    this.metrics.add({ step: this.s.step, time: +this.elapsed().toFixed(3), kind, ...fields });
  }

  /** Writes status.json and emits the change. A status the disk refuses is still reported live. */
  private setStatus(status: RunStatus, reason: string | null): void {
    this.status = status;
    this.reasonText = reason;
    try {
      this.writeStatus();
    } catch (e) {
      if (!storageProblem(e, 'status.json')) throw e;
    }
    this.o.emit({ runId: this.o.runId, type: 'status', status, step: this.s.step, reason });
  }

  private writeStatus(): void {
    this.o.run.writeStatus({
      status: this.status,
      step: this.s.step,
      steps: this.o.steps,
      latestEval: this.s.latestEval,
      bestEval: this.s.bestEval,
      reason: this.reasonText,
      checkpointStep: this.lastCheckpoint,
      pid: this.status === 'running' || this.status === 'paused' ? process.pid : null,
      updatedAt: new Date().toISOString(),
    });
  }

  /**
   * Runs a write; when the disk refuses it (full, read-only, gone) the run pauses with the reason
   * and retries after the user resumes, instead of dying.
   */
  private async durable(what: string, fn: () => void): Promise<void> {
    for (;;) {
      try {
        fn();
        return;
      } catch (e) {
        const why = storageProblem(e, what);
        if (!why) throw e;
        this.pauseClock();
        this.setStatus('paused', why);
        const next = await this.o.control.waitForResume();
        if (next === 'stop') throw new StoppedWhilePaused(why);
        this.activeSince = performance.now();
        this.setStatus('running', null);
      }
    }
  }

  private pauseClock(): void {
    if (this.activeSince >= 0) this.s.elapsed = this.elapsed();
    this.activeSince = -1;
  }

  private async checkpoint(): Promise<void> {
    await this.durable('metrics.jsonl', () => this.metrics.flush(true));
    let path = '';
    this.s.elapsed = this.elapsed();
    if (this.activeSince >= 0) this.activeSince = performance.now();
    this.s.rng = this.rng.getState();
    const bytes = encodeCheckpoint(this.s, await stateAwaited(this.o.agent), this.o.config.saveReplay ? this.o.replay.buffer : null);
    await this.durable('a checkpoint', () => {
      path = this.o.run.writeCheckpoint(this.s.step, bytes, this.o.config.keepCheckpoints, this.s.bestEval?.step ?? null);
    });
    this.lastCheckpoint = this.s.step;
    await this.durable('status.json', () => this.writeStatus());
    this.o.emit({ runId: this.o.runId, type: 'checkpoint', step: this.s.step, path });
  }

  private async evaluate(): Promise<void> {
    const { config } = this.o;
    const result = await evaluatePolicy(this.o.evalEnv, this.o.agent, {
      episodes: config.evalEpisodes,
      runSeed: config.seed,
      step: this.s.step,
      record: true,
    });
    const ids: string[] = [];
    await this.durable('recorded episodes', () => {
      ids.length = 0;
      for (const rec of result.recordings) ids.push(this.o.run.writeEpisode(rec).id);
    });
    const ev = { step: this.s.step, evalReturn: result.evalReturn };
    this.s.latestEval = ev;
    if (!this.s.bestEval || ev.evalReturn > this.s.bestEval.evalReturn) this.s.bestEval = ev;
    this.record('eval', {
      eval_return: result.evalReturn,
      eval_return_min: result.spread.min,
      eval_return_max: result.spread.max,
      eval_return_std: result.spread.std,
      eval_returns: result.returns,
      episodes: ids,
    });
    await this.durable('status.json', () => this.writeStatus());
    this.o.emit({
      runId: this.o.runId,
      type: 'eval',
      step: this.s.step,
      evalReturn: result.evalReturn,
      returns: result.returns,
      episodes: ids,
    });
  }

  private progress(): void {
    const now = performance.now();
    const p = this.progressWindow;
    if (this.activeSince >= 0 && now - p.t0 >= 100) {
      this.last.stepsPerS = +(((this.s.step - p.step) * 1000) / (now - p.t0)).toFixed(1);
      this.progressWindow = { step: this.s.step, t0: now };
    }
    this.o.emit({
      runId: this.o.runId,
      type: 'progress',
      step: this.s.step,
      steps: this.o.steps,
      stepsPerS: this.last.stepsPerS,
      updates: this.s.updates,
      episodeReturn: this.last.episodeReturn,
      episodes: this.s.episodes,
      metrics: this.lastMetrics,
      divergedEpisodes: this.s.divergedEpisodes,
    });
  }

  private closeWindow(): void {
    const w = this.win;
    const now = performance.now();
    const dt = (now - w.t0) / 1000;
    const stepsPerS = dt > 0 ? +(w.steps / dt).toFixed(1) : 0;
    if (this.win.updates > 0) {
      const means: Record<string, number> = {};
      for (const [name, { sum, n }] of this.metricWin) means[name] = +(sum / n).toPrecision(6);
      this.lastMetrics = means;
      this.record('update', { ...means, updates: this.s.updates, steps_per_s: stepsPerS });
    }
    this.metricWin.clear();
    this.win = { steps: 0, updates: 0, t0: now };
  }

  /** Counts an update and adds what it reported to the window. */
  private learned(batch: Batch, stats: UpdateStats): void {
    this.s.updates++;
    this.win.updates++;
    for (const [name, value] of Object.entries(stats.metrics)) {
      // A diverged value is left out of the mean (the episode records count divergences); a name
      // the loop writes itself would overwrite it.
      if (!Number.isFinite(value) || RESERVED_METRIC_NAMES.has(name)) continue;
      const acc = this.metricWin.get(name);
      if (acc) {
        acc.sum += value;
        acc.n++;
      } else this.metricWin.set(name, { sum: value, n: 1 });
    }
    if (this.o.replay.prioritized && stats.tdErrors && batch.indices) this.o.replay.updatePriorities(batch.indices, stats.tdErrors);
  }

  /** Trains until `steps`, a stop, or a stop while paused. Returns how it ended. */
  async run(): Promise<'done' | 'stopped' | 'paused'> {
    try {
      return await this.loop();
    } catch (e) {
      if (e instanceof StoppedWhilePaused) {
        // The disk refused our writes and the user stopped: the last good checkpoint stands.
        return 'paused';
      }
      throw e;
    } finally {
      try {
        this.metrics.flush(true);
      } catch {
        /* reported through the status already */
      }
      this.metrics.close();
    }
  }

  private async loop(): Promise<'done' | 'stopped' | 'paused'> {
    const { config, env, agent, replay, control, steps } = this.o;
    const hp = agent.hp;
    // What the algorithm adds to the loop (NAF's model-based part), each piece optional.
    const hooks = agent.hooks ?? null;
    const exploreAt = hooks?.exploreAt ? hooks.exploreAt : null;
    // An agent on webgpu reads its actions and update results only asynchronously: awaited then,
    // and only then, so the synchronous executors' loop pays no await per step.
    const awaited = readsAsync(agent);
    const actionSize = env.info.action.size;
    const random = new Float32Array(actionSize);
    const betaStart = hp.priorityBeta;
    this.setStatus('running', null);
    this.progressWindow = { step: this.s.step, t0: performance.now() };
    this.progress();
    let obs: Float32Array | null = null;
    let epReturn = 0;
    let epLength = 0;
    let traj: Trajectory | null = null;
    let lastYield = performance.now();
    let lastProgress = lastYield;
    let lastFlush = lastYield;
    let lastFrame = 0;

    while (this.s.step < steps) {
      if (obs === null) {
        obs = env.reset(trainSeed(config.seed, this.s.episodeIndex++));
        replay.begin(obs);
        agent.resetEpisode();
        epReturn = 0;
        epLength = 0;
        traj = hooks?.onEpisodeEnd ? { obs: [obs], actions: [], rewards: [] } : null;
      }
      let action: Float32Array;
      if (this.s.step < this.warmup) {
        for (let i = 0; i < actionSize; i++) random[i] = this.rng.range(-1, 1);
        action = random;
      } else {
        // An agent may drive the episode with its own controller, indexed by the episode's step (NAF's iLQG).
        action = exploreAt ? exploreAt(obs, epLength) : awaited ? await actAwaited(agent, obs, true) : agent.act(obs, true);
      }
      const r = env.step(action);
      replay.add(action, r);
      if (traj) {
        traj.actions.push(Float32Array.from(action));
        traj.rewards.push(r.reward);
        traj.obs.push(r.obs);
      }
      this.s.step++;
      this.win.steps++;
      epReturn += r.reward;
      epLength++;
      obs = r.obs;
      hooks?.afterEnvStep?.();
      if (r.terminated || r.truncated) {
        this.s.episodes++;
        if (r.diverged) this.s.divergedEpisodes++;
        this.last.episodeReturn = epReturn;
        this.record('episode', {
          episode: this.s.episodes,
          episode_return: epReturn,
          episode_length: epLength,
          diverged: r.diverged,
          diverged_episodes: this.s.divergedEpisodes,
        });
        if (traj) hooks?.onEpisodeEnd?.(traj);
        obs = null;
      }

      if (this.s.step >= this.learnFrom && replay.size >= hp.batchSize) {
        // Schaul et al. 2016, section 3.4: beta annealed linearly to 1 over training.
        if (replay.prioritized) replay.beta = betaStart + (1 - betaStart) * Math.min(1, this.s.step / steps);
        for (let u = 0; u < hp.updatesPerStep; u++) {
          const batch = replay.sample(this.rng, this.batch);
          this.learned(batch, awaited ? await updateAwaited(agent, batch) : agent.update(batch));
        }
        if (hooks?.extraBatch) {
          for (let u = 0; u < hp.updatesPerStep; u++) {
            const extra = hooks.extraBatch();
            if (!extra) break;
            this.learned(extra, awaited ? await updateAwaited(agent, extra) : agent.update(extra));
          }
        }
      }

      const step = this.s.step;
      if (step % LOG_EVERY === 0 || step === steps) this.closeWindow();
      if (config.evalEpisodes > 0 && (step % config.evalEvery === 0 || step === steps)) await this.evaluate();
      if (step % config.checkpointEvery === 0 || step === steps) await this.checkpoint();

      if (control.live && obs) {
        const now = performance.now();
        if (now - lastFrame >= LIVE_FRAME_MS) {
          lastFrame = now;
          this.o.emit({ runId: this.o.runId, type: 'frame', step, qpos: Array.from(env.qpos()) });
        }
      }
      if ((step & 7) === 0 || step === steps) {
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_MS) {
          lastProgress = now;
          this.progress();
        }
        if (now - lastFlush >= FLUSH_MS) {
          lastFlush = now;
          await this.durable('metrics.jsonl', () => this.metrics.flush(false));
        }
        if (now - lastYield >= SLICE_MS) {
          await new Promise<void>((res) => setImmediate(res));
          lastYield = performance.now();
        }
      }
      if (control.stopRequested) {
        if (this.lastCheckpoint !== step) await this.checkpoint();
        this.pauseClock();
        this.progress();
        this.setStatus('stopped', null);
        return 'stopped';
      }
      if (control.pauseRequested) {
        // A checkpoint on pause: a crash while paused loses nothing.
        if (this.lastCheckpoint !== step) await this.checkpoint();
        this.pauseClock();
        this.progress();
        this.setStatus('paused', null);
        const next = await control.waitForResume();
        if (next === 'stop') {
          this.setStatus('stopped', null);
          return 'stopped';
        }
        this.activeSince = performance.now();
        this.win.t0 = this.activeSince;
        this.win.steps = 0;
        this.progressWindow = { step: this.s.step, t0: this.activeSince };
        this.setStatus('running', null);
      }
    }
    this.pauseClock();
    this.progress();
    await this.durable('metrics.jsonl', () => this.metrics.flush(true));
    this.setStatus('done', null);
    return 'done';
  }
}
