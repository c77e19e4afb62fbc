/**
 * `rl-studio worker`: pulls run jobs from the BullMQ queue and trains them into the shared runs
 * folder, `concurrency` at a time. A worker that dies (kill -9, its machine lost) stops renewing its
 * jobs' locks; after `lockMs` another worker's stalled-job check puts them back in the queue and they
 * resume from their last checkpoint (the run lock in the run folder keeps it to one trainer). On
 * SIGINT / SIGTERM the worker checkpoints its runs and hands their jobs back.
 */
import { availableParallelism, hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { TrainEvent } from '../api/events.ts';
import type { RunWorker } from '../train/host.ts';
import { connectionOptions, probeRedis, QUEUE_NAME, type RunJob } from './queue.ts';
import { SweepStore } from './sweep-store.ts';
import { trainSweepRun } from './train-run.ts';

export interface WorkerOptions {
  queue: string;
  runsDir: string;
  concurrency?: number;
  /** How long a job stays claimed without its worker renewing it (the time to notice a dead worker). */
  lockMs?: number;
  onEvent?: (e: TrainEvent) => void;
  log?: (line: string) => void;
}

export interface RunningWorker {
  owner: string;
  concurrency: number;
  /** Checkpoints the runs in training, hands their jobs back and disconnects. */
  close(): Promise<void>;
  closed: Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const sweeps = new SweepStore(o.runsDir);
  sweeps.runs.ensureWritable();
  await probeRedis(o.queue);
  const log = o.log ?? (() => {});
  const owner = `worker ${hostname()}:${process.pid}`;
  const concurrency = Math.max(1, o.concurrency ?? availableParallelism());
  const lockMs = o.lockMs ?? 30_000;
  const trainers = new Set<RunWorker>();
  let closing = false;

  const processor = async (job: Job<RunJob>) => {
    const { sweepId, runId } = job.data;
    let mine: RunWorker | null = null;
    log(`${runId}: training (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    try {
      const end = await trainSweepRun({
        store: sweeps.runs,
        sweep: sweeps.read(sweepId),
        runId,
        owner,
        lockStaleMs: lockMs,
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        onStart: (t) => {
          mine = t;
          trainers.add(t);
          if (closing) t.stop();
        },
      });
      log(`${runId}: ${end.status} at step ${end.step}${end.reason ? ` (${end.reason.split('\n')[0]})` : ''}`);
      // Stopped because this worker is shutting down: the job goes back to the queue for another.
      if (closing && end.status === 'stopped' && !(end.reason ?? '').startsWith('early-stopped'))
        throw new Error(`${owner} shut down at step ${end.step}; the run resumes on another worker`);
      return { status: end.status, step: end.step };
    } finally {
      if (mine) trainers.delete(mine);
    }
  };

  const worker = new Worker<RunJob>(QUEUE_NAME, processor, {
    connection: connectionOptions(o.queue),
    concurrency,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 5,
  });
  let down = false;
  worker.on('error', (e) => {
    // Redis going away: ioredis reconnects by itself; say so once per outage.
    if (!down) log(`queue connection problem (${(e as NodeJS.ErrnoException).code ?? e.message}); reconnecting`);
    down = true;
  });
  worker.on('ready', () => {
    if (down) log('queue connection back');
    down = false;
  });
  worker.on('failed', (job, e) => job && log(`${job.data.runId}: job handed back (${e.message})`));
  await worker.waitUntilReady();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  return {
    owner,
    concurrency,
    closed,
    async close() {
      if (closing) return closed;
      closing = true;
      for (const t of trainers) t.stop();
      await worker.close();
      resolveClosed();
    },
  };
}
