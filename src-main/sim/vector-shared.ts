/**
 * What VectorEnv and its worker threads share: the memory layout (one SharedArrayBuffer per array),
 * the hand-off through Atomics, and the stepping of one thread's slice of envs, which the worker
 * threads and the calling thread run alike.
 *
 * Hand-off: the calling thread bumps `request[w]`, worker w bumps `done[w]` when its slice is
 * stepped. Each side spins a little before sleeping in Atomics.wait, since in a stepping loop the
 * other side answers within microseconds and a futex wake-up costs tens of them; the spin is short,
 * so a thread that waits longer (the caller busy with its agent, a worker that lost its core to
 * another process) yields its core instead of burning it. A side about to sleep says so in
 * `sleeping`, and Atomics.notify is called only then.
 */
import type { EnvSource, MujocoEnv } from './env.ts';

export const CMD_STEP = 1;
export const CMD_RESET = 2;
export const CMD_CLOSE = 3;

/** How long a side spins for the other before it sleeps (a few env steps of the suite's models). */
export const SPIN_MS = 0.1;

export interface VectorBuffers {
  actions: SharedArrayBuffer;
  obs: SharedArrayBuffer;
  finalObs: SharedArrayBuffer;
  reward: SharedArrayBuffer;
  flags: SharedArrayBuffer;
  seeds: SharedArrayBuffer;
  /** Int32 per worker thread: request, done, command, status, and the two sleeping flags. */
  control: SharedArrayBuffer;
}

export interface VectorWorkerData {
  source: EnvSource;
  buffers: VectorBuffers;
  numEnvs: number;
  /** Worker threads (the calling thread steps a slice too and is not counted here). */
  numWorkers: number;
  obsSize: number;
  actSize: number;
  worker: number;
  start: number;
  end: number;
  seed: number;
}

const CONTROL_FIELDS = 6;

export function allocBuffers(numEnvs: number, obsSize: number, actSize: number, numWorkers: number): VectorBuffers {
  return {
    actions: new SharedArrayBuffer(8 * numEnvs * actSize),
    obs: new SharedArrayBuffer(4 * numEnvs * obsSize),
    finalObs: new SharedArrayBuffer(4 * numEnvs * obsSize),
    reward: new SharedArrayBuffer(8 * numEnvs),
    flags: new SharedArrayBuffer(3 * numEnvs),
    seeds: new SharedArrayBuffer(8 * numEnvs),
    control: new SharedArrayBuffer(4 * CONTROL_FIELDS * Math.max(1, numWorkers)),
  };
}

export type SharedViews = ReturnType<typeof sharedViews>;

export function sharedViews(b: VectorBuffers, numEnvs: number, obsSize: number, actSize: number, numWorkers: number) {
  const control = new Int32Array(b.control);
  const field = (k: number): Int32Array => control.subarray(k * numWorkers, (k + 1) * numWorkers);
  return {
    obsSize,
    actSize,
    actions: new Float64Array(b.actions, 0, numEnvs * actSize),
    obs: new Float32Array(b.obs, 0, numEnvs * obsSize),
    finalObs: new Float32Array(b.finalObs, 0, numEnvs * obsSize),
    reward: new Float64Array(b.reward, 0, numEnvs),
    flags: new Uint8Array(b.flags, 0, 3 * numEnvs),
    seeds: new Float64Array(b.seeds, 0, numEnvs),
    request: field(0),
    done: field(1),
    command: field(2),
    status: field(3),
    /** Set by a worker about to sleep on `request`. */
    workerSleeping: field(4),
    /** Set by the calling thread about to sleep on `done`. */
    callerSleeping: field(5),
  };
}

/** Stores `value` in cell i and wakes the other side if it said it sleeps there. */
export function publish(cell: Int32Array, i: number, value: number, sleeping: Int32Array): void {
  Atomics.store(cell, i, value);
  if (Atomics.load(sleeping, i) !== 0) Atomics.notify(cell, i);
}

/**
 * Blocks until cell i no longer holds `value` and returns what it holds: spins for `spinMs`, then
 * sleeps. Flagging sleep before the wait cannot miss a publish(): Atomics.wait returns at once when
 * the cell changed in between.
 */
export function awaitChange(cell: Int32Array, i: number, value: number, sleeping: Int32Array, spinMs: number): number {
  let now = Atomics.load(cell, i);
  if (now !== value) return now;
  const until = performance.now() + spinMs;
  while ((now = Atomics.load(cell, i)) === value && performance.now() < until);
  while (now === value) {
    Atomics.store(sleeping, i, 1);
    Atomics.wait(cell, i, value, 60_000);
    Atomics.store(sleeping, i, 0);
    now = Atomics.load(cell, i);
  }
  return now;
}

/** One thread's envs: env k is env `start + k` of the batch, with its row of the shared actions. */
export class EnvSlice {
  private readonly actionRows: Float64Array[];

  constructor(
    readonly envs: MujocoEnv[],
    readonly start: number,
    private readonly v: SharedViews,
  ) {
    this.actionRows = envs.map((_, k) => v.actions.subarray((start + k) * v.actSize, (start + k + 1) * v.actSize));
  }

  /**
   * Runs a command on every env of the slice, reading and writing only its rows of the shared
   * arrays. Envs whose episode ends reset themselves: the last observation goes to finalObs, the
   * row of obs carries the next episode's first one.
   */
  run(cmd: number): void {
    const v = this.v;
    const n = v.obsSize;
    for (let k = 0; k < this.envs.length; k++) {
      const i = this.start + k;
      const env = this.envs[k];
      if (cmd === CMD_RESET) {
        const s = v.seeds[i];
        env.resetInto(v.obs, i * n, Number.isNaN(s) ? undefined : s);
        v.reward[i] = 0;
        v.flags[3 * i] = v.flags[3 * i + 1] = v.flags[3 * i + 2] = 0;
      } else if (cmd === CMD_STEP) {
        const r = env.stepInto(this.actionRows[k], v.obs, i * n);
        v.reward[i] = r.reward;
        v.flags[3 * i] = r.terminated ? 1 : 0;
        v.flags[3 * i + 1] = r.truncated ? 1 : 0;
        v.flags[3 * i + 2] = r.diverged ? 1 : 0;
        if (r.terminated || r.truncated) {
          for (let j = i * n; j < (i + 1) * n; j++) v.finalObs[j] = v.obs[j];
          env.resetInto(v.obs, i * n);
        }
      }
    }
  }

  dispose(): void {
    for (const env of this.envs) env.dispose();
  }
}
