import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RunConfigInput } from '../api/run-config.ts';
import type { ProgressEvent, TrainEvent } from '../api/events.ts';
import type { EpisodeData, EpisodeMeta, RunDetail, RunStatus, RunSummary, StatusFile, StoreProblem } from '../api/runs.ts';
import { UserError } from '../util/errors.ts';
import { RunStore, storageProblem, type RunFiles } from '../store/run-store.ts';
import { describeHolder, RunLock, runLockHolder } from '../store/run-lock.ts';
import { resolveRunConfig, versions } from './config.ts';
import { RunWorker } from './host.ts';
import type { SessionEnd } from './session.ts';

export interface RunManagerOptions {
  runsDir: string;
  /** Runs training at once; the rest wait in a queue. Default: the number of cores. */
  maxConcurrent?: number;
  /** A run lock whose heartbeat is older than this is taken over by another trainer (store/run-lock.ts). */
  lockStaleMs?: number;
}

/** A seed sweep: the same config with seeds seed, seed+1, ... as one experiment. */
export interface SweepInput {
  config: RunConfigInput;
  seeds: number;
}

export type RunListener = (event: TrainEvent) => void;

interface LiveRun {
  worker: RunWorker;
  status: RunStatus;
  step: number;
  reason: string | null;
  progress: ProgressEvent | null;
  live: boolean;
  /** Another process took the run's lock over: this one ended it without writing to it. */
  lockLost?: boolean;
}

/** Why a run this studio trained stopped when another trainer took its lock over. */
export const LOCK_LOST_REASON =
  'another trainer took over this run (its lock looked stale: this process had stalled); training here stopped without writing to the run';

const ACTIVE: RunStatus[] = ['running', 'paused', 'queued'];

/** A run created not to start and never started since: queued on disk with no process named. */
function neverStarted(status: StatusFile): boolean {
  return status.status === 'queued' && status.pid === null && status.step === 0 && status.checkpointStep === null;
}

function pidAlive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Validates and creates the runs of one config (or one per seed, sharing an experiment id: the given
 * one, e.g. a sweep's, or a new one), queued and not started. An invalid config is refused before
 * anything is written. Used by RunManager and by sweeps, which hand runs to other processes.
 */
export function createRuns(
  store: RunStore,
  input: RunConfigInput | SweepInput,
  opts: { pid?: number | null; experiment?: string } = {},
): RunFiles[] {
  const sweep = typeof input === 'object' && input !== null && 'config' in input && 'seeds' in input;
  const raw = (sweep ? (input as SweepInput).config : input) as RunConfigInput;
  const seeds = sweep ? (input as SweepInput).seeds : 1;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 64)
    throw new UserError({ field: 'seeds', message: 'must be a whole number from 1 to 64' });
  const { config, env } = resolveRunConfig(raw);
  store.ensureWritable();
  const experiment =
    opts.experiment ??
    (seeds > 1
      ? `exp-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`
      : null);
  const v = versions();
  const runs: RunFiles[] = [];
  for (let k = 0; k < seeds; k++) {
    const c = {
      ...config,
      seed: config.seed + k,
      ...(seeds > 1 && config.name ? { name: `${config.name} (seed ${config.seed + k})` } : {}),
    };
    // No pid until started: 'queued' without one is how a run created not to start reads on disk,
    // so it stays ready to start across restarts (see notStarted()).
    runs.push(store.create(c, { source: env, origin: env.origin, dir: env.dir }, { experiment, versions: v, pid: opts.pid ?? null }));
  }
  return runs;
}

/**
 * The runs of one runs folder, as the studio server, the Electron main process and the CLI use
 * them: create (one config or a seed sweep), list, read, start / pause / resume / stop through a
 * queue that trains up to `maxConcurrent` runs at once (each in its own worker thread), tag,
 * archive, delete, recorded episodes, and one stream of typed events.
 *
 * At construction it discovers the runs on disk: a run left running, paused or queued by a process
 * that no longer exists is marked interrupted and can be resumed from its last checkpoint. A run
 * another live process is training (the CLI beside the studio) is shown but not controlled here.
 */
export class RunManager {
  readonly store: RunStore;
  readonly maxConcurrent: number;
  private readonly lockStaleMs: number | undefined;
  private readonly live = new Map<string, LiveRun>();
  private readonly queue: { id: string; steps?: number }[] = [];
  private readonly listeners = new Set<RunListener>();
  private readonly endWaiters = new Map<string, ((end: SessionEnd) => void)[]>();
  /** The trainer locks this process holds: one per run queued or training here. */
  private readonly locks = new Map<string, RunLock>();

  constructor(opts: RunManagerOptions) {
    this.store = new RunStore(opts.runsDir);
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? availableParallelism());
    this.lockStaleMs = opts.lockStaleMs;
    this.discover();
  }

  private discover(): void {
    for (const run of this.store.list()) {
      const { status } = run.readStatus();
      // A run paused with no process named was paused on purpose (a full disk the CLI gave up on, a
      // queued run taken out of the queue): it stays paused, with its reason.
      const pausedAtRest = status?.status === 'paused' && status.pid === null;
      if (status && ACTIVE.includes(status.status) && !pidAlive(status.pid) && !neverStarted(status) && !pausedAtRest) {
        try {
          run.writeStatus({
            ...status,
            status: 'interrupted',
            pid: null,
            reason: `left ${status.status} by a process that is gone; resume continues from the last checkpoint`,
            updatedAt: new Date().toISOString(),
          });
        } catch {
          /* a read-only runs folder still lists */
        }
      }
    }
  }

  subscribe(listener: RunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: TrainEvent): void {
    const l = this.live.get(e.runId);
    if (l) {
      if (e.type === 'status') {
        l.status = e.status;
        l.reason = e.reason;
        l.step = e.step;
      } else if (e.type === 'progress') {
        l.progress = e;
        l.step = e.step;
      }
    }
    for (const fn of this.listeners) fn(e);
  }

  /**
   * Validates and creates runs (one, or one per seed of a sweep, sharing an experiment id), queued
   * but not started unless `start` is set. An invalid config is refused before anything is written.
   */
  create(input: RunConfigInput | SweepInput, opts: { start?: boolean } = {}): RunSummary[] {
    const runs = createRuns(this.store, input, { pid: opts.start ? process.pid : null });
    if (opts.start) for (const r of runs) this.start(r.id);
    return runs.map((r) => this.summaryOf(r));
  }

  private open(id: string): RunFiles {
    return this.store.open(id);
  }

  private summaryOf(run: RunFiles): RunSummary {
    const s = run.summary();
    const l = this.live.get(run.id);
    if (l) {
      s.status = l.status;
      s.step = Math.max(s.step, l.step);
      s.reason = l.reason;
    } else if (this.queue.some((q) => q.id === run.id)) {
      s.status = 'queued';
    }
    return s;
  }

  list(opts: { includeArchived?: boolean } = {}): RunSummary[] {
    const out: RunSummary[] = [];
    for (const run of this.store.list()) {
      try {
        const s = this.summaryOf(run);
        if (!s.archived || opts.includeArchived) out.push(s);
      } catch {
        // A run whose config.json cannot be read is skipped in the list; get() reports why.
      }
    }
    return out;
  }

  get(id: string, opts: { sinceLine?: number } = {}): RunDetail {
    const run = this.open(id);
    return {
      summary: this.summaryOf(run),
      config: run.readConfig(),
      metrics: run.readMetrics(opts.sinceLine ?? 0),
      checkpoints: run.checkCheckpoints(),
    };
  }

  /** Whether a run was created not to start and nobody has started it since (here, or another process). */
  notStarted(id: string): boolean {
    if (this.live.has(id) || this.queue.some((q) => q.id === id)) return false;
    const { status } = this.open(id).readStatus();
    return status !== null && neverStarted(status);
  }

  /** Latest progress of a live run (steps/s, losses), or null. */
  progress(id: string): ProgressEvent | null {
    return this.live.get(id)?.progress ?? null;
  }

  private setStatus(run: RunFiles, patch: Partial<StatusFile>): void {
    const prev = run.readStatus().status;
    const c = run.readConfig();
    const next: StatusFile = {
      status: 'queued',
      step: 0,
      steps: c.config.steps,
      latestEval: null,
      bestEval: null,
      reason: null,
      checkpointStep: null,
      pid: null,
      ...(prev ?? {}),
      ...patch,
      updatedAt: new Date().toISOString(),
    };
    run.writeStatus(next);
    this.emit({ runId: run.id, type: 'status', status: next.status, step: next.step, reason: next.reason });
  }

  private release(id: string): void {
    this.locks.get(id)?.release();
    this.locks.delete(id);
  }

  /**
   * A run with checkpoints of which none reads back intact has nothing to resume from: training it
   * would silently restart at step 0 and cut its curve. Starting over is the user's explicit choice.
   */
  private assertResumable(run: RunFiles): void {
    const checks = run.checkCheckpoints();
    if (checks.length === 0 || checks.some((c) => c.ok)) return;
    const damaged = checks.map((c) => `checkpoints/${c.file.split(/[\\/]/).pop()}: ${c.problem}`).join('; ');
    throw new UserError({
      field: 'run',
      message: `every checkpoint of run ${run.id} is damaged (${damaged}): there is nothing to resume from. Its curve is untouched; to train it again from step 0, keeping the old curve, checkpoints and episodes in a before-start-over-* folder of the run: rl-studio resume ${run.dir} --start-over`,
    });
  }

  /**
   * Queues a run to train (from its newest checkpoint when it has one). `steps` sets a new total
   * (to train a finished run further); `startOver` trains it from step 0, its old curve,
   * checkpoints and episodes set aside in the run folder.
   */
  start(id: string, opts: { steps?: number; startOver?: boolean } = {}): void {
    const run = this.open(id);
    if (this.live.has(id) || this.queue.some((q) => q.id === id)) return;
    const { status } = run.readStatus();
    const target = opts.steps ?? status?.steps ?? run.readConfig().config.steps;
    if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 1))
      throw new UserError({ field: 'steps', message: 'must be a positive whole number' });
    if (!opts.startOver && status && status.step >= target && status.status === 'done') {
      throw new UserError({ field: 'steps', message: `run ${id} already reached ${status.step} steps; give a larger total with --steps` });
    }
    let lock: RunLock | null = null;
    try {
      lock = RunLock.acquire(run.dir, id, { ...(this.lockStaleMs ? { staleMs: this.lockStaleMs } : {}), onLost: () => this.lockLost(id) });
      if (opts.startOver) {
        run.setAsideForStartOver();
        this.setStatus(run, {
          status: 'queued',
          step: 0,
          steps: target,
          latestEval: null,
          bestEval: null,
          checkpointStep: null,
          reason: null,
          pid: process.pid,
        });
      } else {
        this.assertResumable(run);
        this.setStatus(run, { status: 'queued', steps: target, reason: null, pid: process.pid });
      }
    } catch (e) {
      lock?.release();
      const why = storageProblem(e, `run ${id}'s files`);
      if (why) throw new UserError({ field: 'run', message: `cannot start run ${id}: ${why}` });
      throw e;
    }
    this.locks.set(id, lock);
    this.queue.push({ id, ...(opts.steps !== undefined ? { steps: opts.steps } : {}) });
    this.pump();
  }

  /**
   * Another trainer took the run's lock over (this process was thought dead: a machine that slept
   * or stalled past the lock's staleness). The run is theirs now: a queued run leaves the queue, a
   * training one has its thread ended at once (no checkpoint, no status: writing would corrupt the
   * other trainer's run), and listeners hear why.
   */
  private lockLost(id: string): void {
    this.locks.delete(id);
    const q = this.queue.findIndex((x) => x.id === id);
    if (q >= 0) this.queue.splice(q, 1);
    const l = this.live.get(id);
    if (l) {
      l.lockLost = true;
      void l.worker.kill();
    } else {
      this.emit({ runId: id, type: 'status', status: 'stopped', step: 0, reason: LOCK_LOST_REASON });
    }
  }

  private pump(): void {
    while (this.live.size < this.maxConcurrent && this.queue.length) {
      const next = this.queue.shift()!;
      this.spawn(next.id, next.steps);
    }
  }

  private spawn(id: string, steps: number | undefined): void {
    const run = this.open(id);
    const entry: LiveRun = {
      worker: null as unknown as RunWorker,
      status: 'running',
      step: run.readStatus().status?.step ?? 0,
      reason: null,
      progress: null,
      live: false,
    };
    this.live.set(id, entry);
    entry.worker = new RunWorker({ runDir: run.dir, ...(steps !== undefined ? { steps } : {}) }, (e) => this.emit(e));
    void entry.worker.ended.then((ended) => {
      this.live.delete(id);
      // A run whose lock was taken over is the other trainer's: its end is told, never written.
      const end: SessionEnd = entry.lockLost ? { ...ended, status: 'stopped', step: entry.step, reason: LOCK_LOST_REASON } : ended;
      const onDisk = entry.lockLost ? null : run.readStatus().status;
      if (entry.lockLost) {
        this.emit({ runId: id, type: 'status', status: end.status, step: end.step, reason: end.reason });
      } else if (
        !onDisk ||
        onDisk.status !== end.status ||
        onDisk.status === 'running' ||
        (end.status === 'paused' && onDisk.pid !== null)
      ) {
        // A session that ended paused leaves no process behind it: pid null keeps it 'paused' for the next studio.
        // The thread died without recording its end (or could not write it): record it here.
        try {
          this.setStatus(run, { status: end.status, reason: end.reason, pid: null });
        } catch {
          this.emit({ runId: id, type: 'status', status: end.status, step: end.step, reason: end.reason });
        }
      }
      this.release(id);
      for (const w of this.endWaiters.get(id) ?? []) w(end);
      this.endWaiters.delete(id);
      this.pump();
    });
  }

  /** Resolves when the run's current session ends (done, stopped, paused by a disk problem, failed). */
  waitForEnd(id: string): Promise<SessionEnd> {
    if (!this.live.has(id) && !this.queue.some((q) => q.id === id)) {
      const s = this.open(id).readStatus().status;
      return Promise.resolve({
        status: s?.status ?? 'failed',
        step: s?.step ?? 0,
        reason: s?.reason ?? null,
        evalReturn: s?.latestEval?.evalReturn ?? null,
      });
    }
    return new Promise((res) => {
      const list = this.endWaiters.get(id) ?? [];
      list.push(res);
      this.endWaiters.set(id, list);
    });
  }

  /** Pauses a training run (it checkpoints and holds its place) or takes a queued one out of the queue. */
  pause(id: string): void {
    const l = this.live.get(id);
    if (l) return l.worker.pause();
    const q = this.queue.findIndex((x) => x.id === id);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.release(id);
      this.setStatus(this.open(id), { status: 'paused', reason: null, pid: null });
      return;
    }
    throw new UserError({ field: 'id', message: `run ${id} is not training or queued` });
  }

  /** Resumes a paused run, or queues a stopped / interrupted / failed / paused-on-disk run from its last checkpoint. */
  resume(id: string, opts: { steps?: number; startOver?: boolean } = {}): void {
    const l = this.live.get(id);
    if (l) return l.worker.resume();
    const run = this.open(id);
    const s = run.readStatus().status;
    if (s?.status === 'done' && opts.steps === undefined && !opts.startOver)
      throw new UserError({ field: 'id', message: `run ${id} is done; give a larger total (--steps) to train further` });
    this.start(id, opts);
  }

  /** Stops a run: it checkpoints and ends (resumable). Resolves when it has. */
  async stop(id: string): Promise<void> {
    const l = this.live.get(id);
    if (l) {
      const ended = this.waitForEnd(id);
      l.worker.stop();
      await ended;
      return;
    }
    const q = this.queue.findIndex((x) => x.id === id);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.release(id);
      this.setStatus(this.open(id), { status: 'stopped', reason: null, pid: null });
    }
  }

  async delete(id: string): Promise<void> {
    await this.stop(id);
    const holder = runLockHolder(this.open(id).dir);
    if (holder)
      throw new UserError({
        field: 'id',
        message: `run ${id} is being trained by another process (${describeHolder(holder)}); stop it there first`,
      });
    this.store.delete(id);
  }

  update(id: string, patch: { name?: string; tags?: string[]; archived?: boolean }): RunSummary {
    const run = this.open(id);
    const meta = run.readMeta();
    run.writeMeta({
      ...meta,
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.tags !== undefined ? { tags: patch.tags } : {}),
      ...(patch.archived !== undefined ? { archived: patch.archived } : {}),
    });
    return this.summaryOf(run);
  }

  archive(id: string, archived = true): RunSummary {
    return this.update(id, { archived });
  }

  tag(id: string, tags: string[]): RunSummary {
    return this.update(id, { tags });
  }

  listEpisodes(id: string): { episodes: EpisodeMeta[]; problems: StoreProblem[] } {
    return this.open(id).listEpisodes();
  }

  readEpisode(id: string, episodeId: string): EpisodeData {
    return this.open(id).readEpisode(episodeId);
  }

  /** Live view of a training run: frame events (qpos of the training env) at ~30 per second while on. */
  setLive(id: string, on: boolean): void {
    const l = this.live.get(id);
    if (!l) throw new UserError({ field: 'id', message: `run ${id} is not training` });
    l.live = on;
    l.worker.setLive(on);
  }

  /** Stops every run (each checkpoints); threads that do not end within `timeoutMs` are ended. */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    for (const q of this.queue.splice(0)) {
      this.release(q.id);
      this.setStatus(this.open(q.id), { status: 'stopped', reason: null, pid: null });
    }
    const ids = [...this.live.keys()];
    const all = Promise.all(ids.map((id) => this.stop(id)));
    const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), timeoutMs).unref());
    if ((await Promise.race([all, timer])) === 'timeout') {
      await Promise.all([...this.live.values()].map((l) => l.worker.kill()));
    }
    this.listeners.clear();
  }
}
