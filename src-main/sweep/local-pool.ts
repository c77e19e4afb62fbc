/**
 * The local pool: a sweep's runs trained on this machine's cores, `concurrency` at a time, by one
 * process (`rl-studio sweep run ID`, which `sweep create` starts in the background when no queue is
 * given). It records itself in `sweeps/<id>/pool.json` so `sweep wait` can tell a pool that died.
 */
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import type { TrainEvent } from '../api/events.ts';
import { writeFileAtomicSync } from '../store/atomic.ts';
import type { RunWorker } from '../train/host.ts';
import { SweepStore } from './sweep-store.ts';
import { runFinished, trainSweepRun } from './train-run.ts';

export const POOL_FILE = 'pool.json';

export interface PoolInfo {
  pid: number;
  host: string;
  startedAt: string;
}

export async function runLocalPool(o: {
  runsDir: string;
  sweepId: string;
  concurrency?: number;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const sweeps = new SweepStore(o.runsDir);
  const sweep = sweeps.read(o.sweepId);
  sweeps.runs.ensureWritable();
  const info: PoolInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  writeFileAtomicSync(join(sweeps.dir(sweep.id), POOL_FILE), JSON.stringify(info));
  const pending = sweep.runs.map((r) => r.id).filter((id) => !runFinished(sweeps.runs, id));
  const concurrency = Math.max(1, o.concurrency ?? availableParallelism());
  const trainers = new Set<RunWorker>();
  o.signal?.addEventListener('abort', () => {
    pending.length = 0;
    for (const t of trainers) t.stop();
  });
  const lane = async () => {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
      let mine: RunWorker | null = null;
      await trainSweepRun({
        store: sweeps.runs,
        sweep,
        runId: id,
        owner: `local pool ${info.host}:${info.pid}`,
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        onStart: (t) => {
          mine = t;
          trainers.add(t);
        },
      })
        .catch((e: unknown) => o.onEvent?.({ runId: id, type: 'warning', message: `not trained here: ${(e as Error).message}` }))
        .finally(() => mine && trainers.delete(mine));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, lane));
}
