import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { spawnWorker } from '../../util/worker.ts';

/** One wasm GEMM kernel of simd.ts (row/column strides; acc = 1 adds into C). */
export type GemmFn = (
  M: number,
  N: number,
  K: number,
  a: number,
  rsA: number,
  csA: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
  acc: number,
) => void;

/** A WebAssembly memory as the pool shares it with its helpers (no WebAssembly lib in ES2023). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** What the pool needs of an arena (simd.ts Arena): its id and its shared memory. */
export interface PooledArena {
  readonly id: number;
  readonly memory: WasmMemory;
}

/**
 * Helper threads for the SIMD GEMM (simd.ts), so one network update uses every core.
 *
 * A large product C (+)= A B is cut into chunks of C's columns (or rows, when C is narrow). The
 * calling thread publishes the job in a small shared block, then it and the helpers claim chunks
 * with compare-and-swap until none are left, and the caller waits for the chunks the helpers hold.
 * Nothing is ever waited for that has not been claimed: a helper that is asleep, still starting, or
 * descheduled costs parallelism, never progress. Helpers spin briefly between jobs (an update is a
 * burst of ~20 GEMMs) and then sleep on Atomics.wait. Every element of C is computed by one kernel
 * lane in a fixed order over k, so results are bit-identical to the single-threaded product.
 *
 * Threads: RL_STUDIO_THREADS (1 turns helpers off), else every core up to 4 (leaving one core on
 * machines with more than 4). On a 2-core machine the second core lifts the DDPG update 1.4x when
 * it is free (136 -> 190/s), but when the env, the render host or another process wants that core a
 * claimed chunk waits for a descheduled helper, and the update has lost up to half its rate. So the
 * pool measures rather than guesses: it runs PROBE_JOBS large products with the helpers and as many
 * on the caller alone (and at least PROBE_MIN_MS each), compares wall-clock time per multiply-add
 * (the work between products included; the first few of each probe left out while helpers wake),
 * then runs the faster way (the helpers only when HELPERS_MARGIN faster) for
 * EXPLOIT_MS before probing again. Probing costs a few percent at most; the choice follows the
 * machine's load within seconds.
 */

/** Below this many multiply-adds a product runs on the calling thread (~5 us of work). */
export const PARALLEL_MIN_MACS = 1 << 17;

/** Slots of the job block (an Int32Array over a SharedArrayBuffer). */
export const J = { word: 0, done: 1, sleeping: 2, failed: 3, helped: 4, arena: 5, chunks: 6, axis: 7, step: 8, args: 9 } as const;
const JOB_INTS = J.args + 11;
/** The word is seq << 10 | next chunk; this chunk index marks a job whose fields are being written. */
export const WRITING = 1023;
const SEQ_MASK = 0x1fffff;
/** How long a helper polls for the next job before it sleeps: covers the gaps within an update. */
export const SPIN_MS = 0.2;
const CHUNKS_PER_THREAD = 4;
/** Large products timed per way in a probe, and how many at the start of a probe are left out. */
const PROBE_JOBS = 128;
const PROBE_SKIP = 8;
/** A probe also lasts at least this long, so that time slices of other processes average out. */
const PROBE_MIN_MS = 50;
/** The helpers must beat the caller alone by this factor to be chosen (they take CPU from everything else). */
const HELPERS_MARGIN = 1.05;
/** A gap between products longer than this is left out of the probe's time. */
const PROBE_GAP_MS = 10;
/** How long the faster way runs before the next probe. */
const EXPLOIT_MS = 2000;

/** RL_STUDIO_THREADS when set (fixed: no probing), else the default (probed). */
function resolveThreads(): { threads: number; adaptive: boolean } {
  const raw = process.env.RL_STUDIO_THREADS;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 1) return { threads: Math.min(n, 64), adaptive: false };
  }
  const cores = availableParallelism();
  return { threads: cores > 4 ? Math.min(4, cores - 1) : cores, adaptive: true };
}

/** Runs chunk `idx` of the published job with the given GEMM driver. */
function runChunk(gemm: GemmFn, job: Int32Array, idx: number): void {
  const g = J.args;
  const [M, N, K, a, rs, cs, b, lb, c, lc, acc] = [
    job[g],
    job[g + 1],
    job[g + 2],
    job[g + 3],
    job[g + 4],
    job[g + 5],
    job[g + 6],
    job[g + 7],
    job[g + 8],
    job[g + 9],
    job[g + 10],
  ];
  const step = job[J.step];
  if (job[J.axis] === 0) {
    const j0 = idx * step;
    gemm(M, Math.min(step, N - j0), K, a, rs, cs, b + j0 * 4, lb, c + j0 * 4, lc, acc);
  } else {
    const i0 = idx * step;
    gemm(Math.min(step, M - i0), N, K, a + i0 * rs, rs, cs, b, lb, c + i0 * lc, lc, acc);
  }
}

/**
 * Claims and runs chunks of job `seq` until none is left (the caller and the helpers alike);
 * returns how many this thread ran.
 */
export function workOn(job: Int32Array, seq: number, gemm: GemmFn): number {
  const n = job[J.chunks];
  for (let ran = 0; ; ran++) {
    const w = Atomics.load(job, J.word);
    const idx = w & WRITING;
    if (w >>> 10 !== seq || idx >= n) return ran;
    if (Atomics.compareExchange(job, J.word, w, w + 1) !== w) {
      ran--;
      continue;
    }
    try {
      runChunk(gemm, job, idx);
    } finally {
      Atomics.add(job, J.done, 1);
    }
  }
}

class GemmPool {
  private threads: number;
  /** Whether the pool probes for the faster way (the default) or always uses its helpers (threads set explicitly). */
  private adaptive: boolean;
  private job: Int32Array | null = null;
  private readonly ports: MessagePort[] = [];
  private readonly workers: Worker[] = [];
  /** Arenas announced to the helpers, by id. */
  private readonly registered = new Map<number, WasmMemory>();
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.forgetId(id));
  private seq = 0;
  private broken = false;
  /** The way products run now: probing with or without helpers, or running the winner until `until`. */
  private phase: 'probe-pool' | 'probe-alone' | 'exploit' = 'probe-pool';
  private useHelpers = true;
  private until = 0;
  private probeJobs = 0;
  private probeStart = 0;
  private lastRecord = 0;
  private probeMacs = 0;
  private poolNsPerMac = 0;
  /** Chunks the helpers had run when the probe with them began (J.helped). */
  private probeHelped = 0;
  private choices = { helpers: 0, alone: 0 };

  constructor() {
    ({ threads: this.threads, adaptive: this.adaptive } = resolveThreads());
  }

  /** Runs the product on the pool; false when it should run on the caller alone. */
  run(
    arena: PooledArena,
    gemm: GemmFn,
    args: readonly [number, number, number, number, number, number, number, number, number, number, number],
  ): boolean {
    if (this.threads < 2 || this.broken) return false;
    const probing = this.adaptive && this.phase !== 'exploit';
    const start = probing ? performance.now() : 0;
    if (this.adaptive && this.alone()) {
      gemm(...args);
      if (this.phase === 'probe-alone') this.record(args, start);
      return true;
    }
    const [M, N] = args;
    const target = this.threads * CHUNKS_PER_THREAD;
    let axis: number, step: number;
    if (N >= 16) {
      axis = 0;
      step = Math.max(8, Math.ceil(N / target / 8) * 8);
    } else {
      axis = 1;
      step = Math.max(4, Math.ceil(M / target / 4) * 4);
    }
    const chunks = Math.ceil((axis === 0 ? N : M) / step);
    if (chunks < 2) return false;
    const job = this.job ?? this.start();
    if (!this.registered.has(arena.id)) {
      for (const p of this.ports) p.postMessage({ id: arena.id, memory: arena.memory });
      this.registered.set(arena.id, arena.memory);
      this.finalizer.register(arena, arena.id, arena);
    }
    const seq = (this.seq = (this.seq + 1) & SEQ_MASK);
    Atomics.store(job, J.word, (seq << 10) | WRITING);
    job[J.arena] = arena.id;
    job[J.chunks] = chunks;
    job[J.axis] = axis;
    job[J.step] = step;
    for (let i = 0; i < 11; i++) job[J.args + i] = args[i];
    Atomics.store(job, J.done, 0);
    Atomics.store(job, J.word, seq << 10);
    if (Atomics.load(job, J.sleeping) > 0) Atomics.notify(job, J.word);
    workOn(job, seq, gemm);
    this.wait(job, chunks);
    if (probing && this.phase === 'probe-pool') this.record(args, start);
    return true;
  }

  /** Whether this product runs on the caller alone (adaptive mode): probing that way, or it won the last probe. */
  private alone(): boolean {
    if (this.phase === 'exploit' && performance.now() >= this.until) this.startProbe();
    return this.phase === 'probe-alone' || (this.phase === 'exploit' && !this.useHelpers);
  }

  private startProbe(): void {
    this.phase = 'probe-pool';
    this.probeJobs = this.probeMacs = 0;
    this.probeHelped = this.helped();
  }

  private helped(): number {
    return this.job ? Atomics.load(this.job, J.helped) : 0;
  }

  /**
   * Counts one finished product into the probe under way; at its end, moves to the next probe or
   * picks the faster way. A probe is timed on the wall clock from its first counted product to its
   * last, so the work between products counts too: spinning helpers slow that work down when the
   * cores are oversubscribed, and only the whole workload's rate shows it.
   */
  private record(args: readonly number[], start: number): void {
    const now = performance.now();
    // A long gap before this product (an evaluation, a checkpoint, frames being drawn) is no part of either way's rate.
    const gap = start - this.lastRecord;
    if (gap > PROBE_GAP_MS) this.probeStart += gap;
    this.lastRecord = now;
    if (++this.probeJobs <= PROBE_SKIP) {
      if (this.probeJobs === PROBE_SKIP) this.probeStart = now;
      return;
    }
    this.probeMacs += args[0] * args[1] * args[2];
    if (this.probeJobs < PROBE_JOBS + PROBE_SKIP) return;
    const ms = now - this.probeStart;
    if (ms < PROBE_MIN_MS) return;
    const nsPerMac = (ms * 1e6) / this.probeMacs;
    this.probeJobs = this.probeMacs = 0;
    if (this.phase === 'probe-pool') {
      // Helpers that ran nothing are still starting (or never got a core): that probe timed the
      // caller alone, so it is taken again rather than compared.
      const helped = this.helped();
      if (helped === this.probeHelped) return;
      this.probeHelped = helped;
      this.poolNsPerMac = nsPerMac;
      this.phase = 'probe-alone';
      return;
    }
    this.useHelpers = this.poolNsPerMac * HELPERS_MARGIN < nsPerMac;
    this.choices[this.useHelpers ? 'helpers' : 'alone']++;
    this.phase = 'exploit';
    this.until = now + EXPLOIT_MS;
  }

  /** Waits for the chunks the helpers claimed: spins a little, then sleeps in short slices. */
  private wait(job: Int32Array, chunks: number): void {
    let since = 0;
    for (let polls = 0; ; polls++) {
      const done = Atomics.load(job, J.done);
      if (done >= chunks) break;
      if (polls < 4096) continue;
      Atomics.wait(job, J.done, done, 0.05);
      if (since === 0) since = performance.now();
      else if (performance.now() - since > 60_000) {
        this.broken = true;
        throw new Error('a GEMM helper thread stopped responding for a minute; restart the run (or set RL_STUDIO_THREADS=1)');
      }
    }
    if (Atomics.load(job, J.failed) !== 0) {
      this.broken = true;
      throw new Error('a GEMM helper thread failed; restart the run (or set RL_STUDIO_THREADS=1)');
    }
  }

  /**
   * Sets the number of threads (caller included); helpers already started stay. `adaptive` keeps
   * probing whether the helpers pay (the default's behaviour); without it they always take part.
   */
  setThreads(n: number, adaptive = false): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a whole number of at least 1, not ${n}`);
    this.threads = n;
    this.adaptive = adaptive;
    this.startProbe();
    if (this.job) this.spawnHelpers(this.job);
  }

  private start(): Int32Array {
    const job = new Int32Array(new SharedArrayBuffer(JOB_INTS * 4));
    this.job = job;
    this.spawnHelpers(job);
    return job;
  }

  private spawnHelpers(job: Int32Array): void {
    for (let t = this.workers.length + 1; t < this.threads; t++) {
      const { port1, port2 } = new MessageChannel();
      const worker = spawnWorker(new URL('./gemm-worker.ts', import.meta.url), {
        workerData: { job: job.buffer, port: port2 },
        transferList: [port2],
      });
      // A helper that cannot start only costs parallelism: the caller claims every chunk itself.
      worker.on('error', () => this.workers.splice(this.workers.indexOf(worker), 1));
      worker.unref();
      port1.unref();
      this.ports.push(port1);
      this.workers.push(worker);
      for (const [id, memory] of this.registered) port1.postMessage({ id, memory });
    }
  }

  /** Threads in use, the chunks the helpers have run so far, and how often each way won a probe (for tests and benchmarks). */
  stats(): { threads: number; helperChunks: number; chose: { helpers: number; alone: number } } {
    return { threads: this.threads, helperChunks: this.helped(), chose: { ...this.choices } };
  }

  /** The helpers drop their hold on an arena's memory (on dispose, or when it is collected). */
  forget(arena: PooledArena): void {
    this.finalizer.unregister(arena);
    this.forgetId(arena.id);
  }

  private forgetId(id: number): void {
    if (!this.registered.delete(id)) return;
    for (const p of this.ports) p.postMessage({ id, memory: null });
  }
}

export const gemmPool = new GemmPool();
