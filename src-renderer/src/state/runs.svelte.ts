import type { RunRow } from '../../../src-main/api/studio-api.ts';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import { errorText } from '../api/client.ts';
import { matches, parseQuery } from '../lib/run-query.ts';
import type { Studio } from './studio.svelte.ts';

export type SortKey = 'name' | 'env' | 'algo' | 'obs' | 'status' | 'step' | 'latest' | 'best' | 'createdAt' | `hp:${string}`;

/** The runs table: rows from listRuns kept current from events, filter, sort, selection, columns. */
export class RunsState {
  rows = $state.raw<RunRow[]>([]);
  error = $state<string | null>(null);
  query = $state('');
  sort = $state<{ key: SortKey; dir: 1 | -1 }>({ key: 'createdAt', dir: -1 });
  selected = $state<string[]>([]);
  showArchived = $state(false);
  /** Hyperparameters shown as extra columns. */
  hpColumns = $state<string[]>([]);

  readonly parsed = $derived(parseQuery(this.query));
  readonly visible = $derived.by(() => {
    const q = this.parsed;
    const list = this.rows.filter((r) => matches(r, q));
    const { key, dir } = this.sort;
    return list.sort((a, b) => {
      const va = sortValue(a, key);
      const vb = sortValue(b, key);
      // Runs without a value (no eval yet) stay at the bottom either way.
      if (va === null || va === undefined || vb === null || vb === undefined) return compare(va, vb);
      return dir * compare(va, vb);
    });
  });
  /**
   * The runs the selection toolbar acts on: selected and shown. A run the filter hides (or the
   * archive toggle) is never tagged, archived or deleted by a selection made before it was hidden.
   */
  readonly chosen = $derived(this.visible.filter((r) => this.selected.includes(r.id)));
  /** Every hyperparameter name any run has, for the column picker. */
  readonly hpNames = $derived(unique(this.rows.flatMap((r) => Object.keys(r.hyperparams))).sort());

  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly studio: Studio) {
    studio.client.onEvent((event, data) => {
      if (event === 'runs') this.soon(0);
      else if (event === 'run') this.onRunEvent(data as TrainEvent);
    });
  }

  private onRunEvent(e: TrainEvent): void {
    if (e.type === 'progress') {
      // Steps move every report: patch the row instead of re-listing.
      const i = this.rows.findIndex((r) => r.id === e.runId);
      if (i >= 0 && this.rows[i].step !== e.step) {
        const next = this.rows.slice();
        next[i] = { ...next[i], step: e.step };
        this.rows = next;
      }
    } else if (e.type === 'status' || e.type === 'eval') this.soon(300);
  }

  private soon(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, ms);
  }

  async load(): Promise<void> {
    try {
      this.rows = await this.studio.client.call('listRuns', { includeArchived: this.showArchived });
      const ids = this.rows.map((r) => r.id);
      this.selected = this.selected.filter((id) => ids.includes(id));
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  toggleSort(key: SortKey): void {
    this.sort =
      this.sort.key === key
        ? { key, dir: this.sort.dir === 1 ? -1 : 1 }
        : { key, dir: key === 'createdAt' || key === 'best' || key === 'latest' ? -1 : 1 };
  }

  toggle(id: string, on: boolean): void {
    this.selected = on ? unique([...this.selected, id]) : this.selected.filter((x) => x !== id);
  }

  selectAll(on: boolean): void {
    this.selected = on ? this.visible.map((r) => r.id) : [];
  }

  async setTags(ids: string[], add: string[], remove: string[] = []): Promise<void> {
    for (const id of ids) {
      const row = this.rows.find((r) => r.id === id);
      if (!row) continue;
      const tags = unique([...row.tags.filter((t) => !remove.includes(t)), ...add]);
      await this.studio.client.call('updateRun', { id, tags });
    }
    await this.load();
  }

  async archive(ids: string[], archived: boolean): Promise<void> {
    for (const id of ids) await this.studio.client.call('updateRun', { id, archived });
    await this.load();
  }

  /** Leaving the table forgets the selection: coming back never finds runs ticked for a delete. */
  clearSelection(): void {
    this.selected = [];
  }

  async remove(ids: string[]): Promise<void> {
    for (const id of ids) await this.studio.client.call('deleteRun', { id });
    this.selected = [];
    await this.load();
  }
}

function sortValue(r: RunRow, key: SortKey): unknown {
  if (key.startsWith('hp:')) return r.hyperparams[key.slice(3)];
  switch (key) {
    case 'latest':
      return r.latestEval?.evalReturn ?? null;
    case 'best':
      return r.bestEval?.evalReturn ?? null;
    default:
      return r[key as keyof RunRow];
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function unique<T>(a: T[]): T[] {
  return a.filter((v, i) => a.indexOf(v) === i);
}
