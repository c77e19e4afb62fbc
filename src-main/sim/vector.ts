/**
 * N copies of one env stepped together across threads: the calling thread steps the first slice
 * itself (rather than idle while it waits) and each worker thread one more. Actions, observations,
 * rewards and flags live in SharedArrayBuffers that the envs read and write in place; a step costs
 * one Atomics hand-off per worker thread and no messages (see vector-shared.ts). Env i is seeded
 * with `seed + i` whatever the number of threads, so batched runs are reproducible and equal to N
 * single envs. Envs reset themselves when their episode ends (the last observation of that episode
 * is in `finalObs`).
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { spawnWorker } from '../util/worker.ts';
import { UserError } from '../util/errors.ts';
import type { EnvInfo } from './types.ts';
import { MujocoEnv, type EnvSource } from './env.ts';
import { loadMujocoModule } from './mujoco.ts';
import {
  allocBuffers,
  awaitChange,
  CMD_CLOSE,
  CMD_RESET,
  CMD_STEP,
  EnvSlice,
  publish,
  sharedViews,
  SPIN_MS,
  type SharedViews,
  type VectorWorkerData,
} from './vector-shared.ts';

/** Atomics.waitAsync (Node 16+; typed in ES2024 lib, newer than this project's ES2023 target). */
const waitAsync = (
  Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }
).waitAsync;

export interface VectorEnvOptions {
  numEnvs: number;
  /**
   * Threads stepping envs, the calling thread included: 1 steps every env here, 2 adds one worker
   * thread, and so on (default: min(numEnvs, available cores)).
   */
  numWorkers?: number;
  /** Env i gets seed `seed + i`. Default 0. */
  seed?: number;
}

export interface VectorStepResult {
  /** numEnvs x obsSize, row-major; rows of finished envs already hold their next episode's first observation. */
  obs: Float32Array;
  /** numEnvs x obsSize; valid in rows where terminated or truncated is set. */
  finalObs: Float32Array;
  reward: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  diverged: Uint8Array;
}

export class VectorEnv {
  readonly info: EnvInfo;
  readonly numEnvs: number;
  /** Threads stepping envs, this one included. */
  readonly numWorkers: number;
  private readonly own: EnvSlice;
  private readonly workers: Worker[];
  private readonly v: SharedViews;
  private readonly errors: (Error | null)[];
  private seq = 0;
  private closed = false;

  private constructor(info: EnvInfo, numEnvs: number, own: EnvSlice, workers: Worker[], v: SharedViews, errors: (Error | null)[]) {
    this.info = info;
    this.numEnvs = numEnvs;
    this.numWorkers = workers.length + 1;
    this.own = own;
    this.workers = workers;
    this.v = v;
    this.errors = errors;
  }

  static async create(source: EnvSource, options: VectorEnvOptions): Promise<VectorEnv> {
    const numEnvs = options.numEnvs;
    if (!Number.isInteger(numEnvs) || numEnvs < 1 || numEnvs > 1024)
      throw new UserError({ field: 'numEnvs', message: 'must be an integer from 1 to 1024' });
    const threads = Math.max(1, Math.min(numEnvs, options.numWorkers ?? availableParallelism()));
    const seed = options.seed ?? 0;
    const sliceOf = (t: number): [number, number] => [Math.floor((t * numEnvs) / threads), Math.floor(((t + 1) * numEnvs) / threads)];
    // This thread's envs first: a bad env fails here, before any thread starts, and the first gives the spec.
    const mj = await loadMujocoModule();
    const [ownStart, ownEnd] = sliceOf(0);
    const ownEnvs: MujocoEnv[] = [];
    try {
      for (let i = ownStart; i < ownEnd; i++) ownEnvs.push(new MujocoEnv(mj, source, { seed: seed + i }));
    } catch (e) {
      for (const env of ownEnvs) env.dispose();
      throw e;
    }
    const info = ownEnvs[0].info;
    const numWorkers = threads - 1;
    const buffers = allocBuffers(numEnvs, info.obs.size, info.action.size, numWorkers);
    const v = sharedViews(buffers, numEnvs, info.obs.size, info.action.size, numWorkers);
    const own = new EnvSlice(ownEnvs, ownStart, v);
    const errors: (Error | null)[] = [];
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let w = 0; w < numWorkers; w++) {
      const [start, end] = sliceOf(w + 1);
      const data: VectorWorkerData = {
        source,
        buffers,
        numEnvs,
        numWorkers,
        obsSize: info.obs.size,
        actSize: info.action.size,
        worker: w,
        start,
        end,
        seed,
      };
      const worker = spawnWorker(new URL('./vector-worker.ts', import.meta.url), { workerData: data });
      workers.push(worker);
      errors.push(null);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (m: { type: string; error?: { name: string; message: string; details?: never } }) => {
            if (m.type === 'ready') resolve();
            if (m.type === 'error' && m.error) {
              const err = m.error.name === 'UserError' && m.error.details ? new UserError(m.error.details) : new Error(m.error.message);
              errors[w] = err;
              reject(err);
            }
          });
          worker.once('error', (e) => {
            errors[w] = e;
            reject(e);
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      own.dispose();
      throw e;
    }
    return new VectorEnv(info, numEnvs, own, workers, v, errors);
  }

  /** Resets every env (seeds[i] for env i when given) and returns the first observations (numEnvs x obsSize). */
  reset(seeds?: ArrayLike<number>): Float32Array {
    for (let i = 0; i < this.numEnvs; i++) this.v.seeds[i] = seeds ? seeds[i] : NaN;
    this.run(CMD_RESET);
    return this.v.obs.slice();
  }

  /** Steps every env with its row of `actions` (numEnvs x actionSize, each in [-1, 1]). Blocks until all are done. */
  step(actions: ArrayLike<number>): VectorStepResult {
    this.writeActions(actions);
    this.run(CMD_STEP);
    return this.collect();
  }

  /**
   * As step(), but waits for the worker threads without blocking the calling thread (for the
   * Electron main thread); this thread's own slice is stepped in between, as in step().
   */
  async stepAsync(actions: ArrayLike<number>): Promise<VectorStepResult> {
    this.writeActions(actions);
    const ownError = this.dispatchAndRunOwn(CMD_STEP);
    const { done, callerSleeping } = this.v;
    for (let w = 0; w < this.workers.length; w++) {
      let d = Atomics.load(done, w);
      while (d !== this.seq) {
        Atomics.store(callerSleeping, w, 1);
        const r = waitAsync(done, w, d);
        if (r.async) await r.value;
        Atomics.store(callerSleeping, w, 0);
        d = Atomics.load(done, w);
      }
    }
    if (ownError) throw ownError;
    this.checkErrors();
    return this.collect();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch(CMD_CLOSE);
    this.own.dispose();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }

  private writeActions(actions: ArrayLike<number>): void {
    const n = this.numEnvs * this.info.action.size;
    if (actions.length !== n)
      throw new UserError({
        field: 'actions',
        message: `expected ${n} values (${this.numEnvs} envs x ${this.info.action.size}), got ${actions.length}`,
      });
    for (let i = 0; i < n; i++) {
      const a = actions[i];
      if (!Number.isFinite(a))
        throw new UserError({ field: `actions[${i}]`, message: `is ${a}; actions must be finite numbers in [-1, 1]` });
      this.v.actions[i] = a;
    }
  }

  private dispatch(cmd: number): void {
    if (this.closed && cmd !== CMD_CLOSE) throw new Error('VectorEnv used after close()');
    this.seq++;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.v.command, w, cmd);
      publish(this.v.request, w, this.seq, this.v.workerSleeping);
    }
  }

  /** Hands the command to the workers, then runs it on this thread's slice; returns that slice's error, if any. */
  private dispatchAndRunOwn(cmd: number): unknown {
    this.dispatch(cmd);
    try {
      this.own.run(cmd);
      return null;
    } catch (e) {
      return e;
    }
  }

  private run(cmd: number): void {
    const ownError = this.dispatchAndRunOwn(cmd);
    const { done, callerSleeping } = this.v;
    for (let w = 0; w < this.workers.length; w++) {
      let d: number;
      while ((d = Atomics.load(done, w)) !== this.seq) awaitChange(done, w, d, callerSleeping, SPIN_MS);
    }
    if (ownError) throw ownError;
    this.checkErrors();
  }

  private checkErrors(): void {
    for (let w = 0; w < this.workers.length; w++) {
      if (Atomics.load(this.v.status, w) !== 0) {
        // The worker posts the error message right before finishing; fall back to a generic one.
        throw this.errors[w] ?? new Error(`vector env worker ${w} failed`);
      }
    }
  }

  private collect(): VectorStepResult {
    const f = this.v.flags;
    const n = this.numEnvs;
    const terminated = new Uint8Array(n);
    const truncated = new Uint8Array(n);
    const diverged = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      terminated[i] = f[3 * i];
      truncated[i] = f[3 * i + 1];
      diverged[i] = f[3 * i + 2];
    }
    return { obs: this.v.obs.slice(), finalObs: this.v.finalObs.slice(), reward: this.v.reward.slice(), terminated, truncated, diverged };
  }
}
