import type { Worker } from 'node:worker_threads';
import type { TrainEvent } from '../api/events.ts';
import { spawnWorker } from '../util/worker.ts';
import type { HostMessage, WorkerInput, WorkerMessage } from './protocol.ts';
import type { SessionEnd } from './session.ts';

/**
 * One training run in its own worker thread: control in, events out. `ended` resolves with how the
 * session finished; a worker that dies without saying so (out of memory, a crash in WASM) ends as
 * failed with the reason.
 */
export class RunWorker {
  private readonly worker: Worker;
  readonly ended: Promise<SessionEnd>;
  private finished = false;

  constructor(input: WorkerInput, onEvent: (e: TrainEvent) => void) {
    // In the Electron bundle this is out/main/train-worker.js: electron.vite.config.ts needs the entry
    // `'train-worker': 'src-main/train/train-worker.ts'` beside main's index.
    // stdout is not inherited: with --json the CLI's stdout carries only JSON lines.
    this.worker = spawnWorker(new URL('./train-worker.ts', import.meta.url), { workerData: input, stdout: true, stderr: false });
    this.worker.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    this.ended = new Promise<SessionEnd>((resolve) => {
      let end: SessionEnd | null = null;
      this.worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'event') onEvent(m.event);
        else if (m.type === 'end') {
          end = { status: m.status, step: m.step, reason: m.reason, evalReturn: m.evalReturn };
          // The session is over; do not wait for the thread's event loop to drain.
          setTimeout(() => void this.worker.terminate(), 2000).unref();
        }
      });
      let error: Error | null = null;
      this.worker.on('error', (e) => (error = e));
      this.worker.on('exit', (code) => {
        this.finished = true;
        resolve(
          end ?? {
            status: 'failed',
            step: 0,
            reason: `the trainer thread stopped unexpectedly (exit ${code}${error ? `: ${error.message}` : ''})`,
            evalReturn: null,
          },
        );
      });
    });
  }

  private send(m: HostMessage): void {
    if (!this.finished) this.worker.postMessage(m);
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  stop(): void {
    this.send({ type: 'stop' });
  }

  setLive(on: boolean): void {
    this.send({ type: 'live', on });
  }

  /** Ends the thread at once (no checkpoint): for shutting down after stop() timed out. */
  kill(): Promise<number> {
    return this.worker.terminate();
  }
}
