/**
 * Sweep methods of StudioApi: create a sweep from the New-run form (trained by the studio's own run
 * manager, the local pool, or as BullMQ jobs for workers), list sweeps and show one. On the studio's
 * pool the sweep's early-stopping rule is applied here, at each evaluation of its runs.
 */
import type { TrainEvent } from '../api/events.ts';
import { EARLY_STOP_PREFIX, type SweepView } from '../api/sweeps.ts';
import type { RunManager } from '../train/run-manager.ts';
import { createSweep } from '../sweep/create.ts';
import { earlyStopOnEval } from '../sweep/early-stop.ts';
import { enqueueSweep, probeRedis } from '../sweep/queue.ts';
import { SweepStore } from '../sweep/sweep-store.ts';

export class SweepService {
  /** Runs of sweeps on this studio's pool: run id -> sweep id. */
  private readonly local = new Map<string, string>();
  private readonly stopping = new Map<string, string>();
  private subscribed: RunManager | null = null;

  constructor(
    private readonly manager: () => RunManager,
    private readonly emit: (event: string, data: unknown) => void,
  ) {}

  private store(): SweepStore {
    return new SweepStore(this.manager().store.root);
  }

  async create(file: unknown, queue: string | undefined): Promise<SweepView> {
    if (queue) await probeRedis(queue);
    const runsDir = this.manager().store.root;
    const record = createSweep({ file, runsDir, queue: queue ?? null });
    if (queue) await enqueueSweep(queue, record);
    else {
      this.watch();
      for (const r of record.runs) {
        this.local.set(r.id, record.id);
        this.manager().start(r.id);
      }
    }
    this.emit('runs', { ids: record.runs.map((r) => r.id) });
    return this.store().view(record.id);
  }

  list(): SweepView[] {
    const store = this.store();
    return store.list().map((r) => store.view(r.id));
  }

  get(id: string): SweepView {
    return this.store().view(id);
  }

  /** Follows the run manager's events (once per manager: the runs folder can change). */
  private watch(): void {
    const m = this.manager();
    if (this.subscribed === m) return;
    this.subscribed = m;
    m.subscribe((e) => this.onEvent(m, e));
  }

  private onEvent(m: RunManager, e: TrainEvent): void {
    const sweepId = this.local.get(e.runId);
    if (!sweepId) return;
    if (e.type === 'eval' && !this.stopping.has(e.runId)) {
      const store = this.store();
      const reason = earlyStopOnEval(store.runs, store.read(sweepId), e.runId, e);
      if (reason) {
        this.stopping.set(e.runId, reason);
        void m.stop(e.runId).then(() => {
          const run = m.store.open(e.runId);
          const status = run.readStatus().status;
          if (status?.status === 'stopped' && !(status.reason ?? '').startsWith(EARLY_STOP_PREFIX))
            run.writeStatus({ ...status, reason, updatedAt: new Date().toISOString() });
          this.emit('run', { runId: e.runId, type: 'status', status: 'stopped', step: status?.step ?? e.step, reason });
        });
      }
    } else if (e.type === 'status' && ['done', 'failed', 'stopped'].includes(e.status) && !this.stopping.has(e.runId)) {
      this.local.delete(e.runId);
    }
  }
}
