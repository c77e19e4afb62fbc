import type { TrainEvent } from '../api/events.ts';
import type { RunStatus } from '../api/runs.ts';

/** What a trainer worker starts from (worker_threads workerData). */
export interface WorkerInput {
  runDir: string;
  /** Total environment steps to reach; default the run's configured steps. */
  steps?: number;
  /** Start with the live view on. */
  live?: boolean;
}

/** Host -> worker. */
export type HostMessage = { type: 'pause' } | { type: 'resume' } | { type: 'stop' } | { type: 'live'; on: boolean };

/** Worker -> host. `end` is the last message; a worker that exits without it crashed. */
export type WorkerMessage =
  { type: 'event'; event: TrainEvent } | { type: 'end'; status: RunStatus; step: number; reason: string | null; evalReturn: number | null };
