/**
 * Trains one run of a sweep to its end, the same way on the local pool and on a BullMQ worker: takes
 * the run's lock, records the session (who trained it, from which checkpoint step) in
 * `<run>/sessions.jsonl`, trains in a worker thread (resuming from the newest checkpoint, as
 * `rl-studio resume` does), applies the sweep's early-stopping rule at every evaluation, and writes
 * the run's end when the thread could not.
 */
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { TrainEvent } from '../api/events.ts';
import { EARLY_STOP_PREFIX, type SweepRecord } from '../api/sweeps.ts';
import { RunWorker } from '../train/host.ts';
import type { SessionEnd } from '../train/session.ts';
import type { RunStore } from '../store/run-store.ts';
import { earlyStopOnEval } from './early-stop.ts';
import { RunLock } from '../store/run-lock.ts';

/** One line of sessions.jsonl. */
export interface SessionRecord {
  owner: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Step of the checkpoint the session starts from (0: from scratch). */
  fromStep: number;
}

export const SESSIONS_FILE = 'sessions.jsonl';

export interface TrainSweepRunOptions {
  store: RunStore;
  sweep: SweepRecord;
  runId: string;
  /** Who trains it, as lists show it (e.g. `worker host:pid`, `local pool`). */
  owner: string;
  onEvent?: (e: TrainEvent) => void;
  /** Called with the trainer once it runs, to stop it from outside (a worker shutting down). */
  onStart?: (trainer: RunWorker) => void;
  lockStaleMs?: number;
}

/** Whether the run has ended as the sweep meant it to, and needs no further training. */
export function runFinished(store: RunStore, runId: string): boolean {
  const { status } = store.open(runId).readStatus();
  return (
    status !== null && (status.status === 'done' || (status.status === 'stopped' && (status.reason ?? '').startsWith(EARLY_STOP_PREFIX)))
  );
}

export async function trainSweepRun(o: TrainSweepRunOptions): Promise<SessionEnd> {
  const run = o.store.open(o.runId);
  const before = run.readStatus().status;
  if (runFinished(o.store, o.runId))
    return { status: before!.status, step: before!.step, reason: before!.reason, evalReturn: before!.latestEval?.evalReturn ?? null };
  let trainer: RunWorker | null = null;
  const lock = RunLock.acquire(run.dir, o.runId, {
    owner: o.owner,
    ...(o.lockStaleMs ? { staleMs: o.lockStaleMs } : {}),
    onLost: () => trainer?.stop(),
  });
  try {
    const session: SessionRecord = {
      owner: o.owner,
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      fromStep: run.latestCheckpoint().checkpoint?.step ?? 0,
    };
    appendFileSync(join(run.dir, SESSIONS_FILE), JSON.stringify(session) + '\n');
    let earlyStop: string | null = null;
    trainer = new RunWorker({ runDir: run.dir }, (e) => {
      o.onEvent?.(e);
      if (e.type === 'eval' && earlyStop === null) {
        earlyStop = earlyStopOnEval(o.store, o.sweep, o.runId, e);
        if (earlyStop) trainer?.stop();
      }
    });
    o.onStart?.(trainer);
    const end = await trainer.ended;
    const onDisk = run.readStatus().status;
    const earlyStopped = earlyStop !== null && end.status === 'stopped';
    if (onDisk && (earlyStopped || onDisk.status === 'running' || onDisk.status !== end.status)) {
      // The early-stopping reason, or an end the thread could not record (it died).
      const reason = earlyStopped ? earlyStop : end.reason;
      run.writeStatus({ ...onDisk, status: end.status, reason, pid: null, updatedAt: new Date().toISOString() });
      return { ...end, reason };
    }
    return end;
  } finally {
    lock.release();
  }
}
