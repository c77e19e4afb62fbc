/**
 * Sweeps on disk: `<runs dir>/sweeps/<sweep id>/sweep.json` (the file as given, the searched keys and
 * the runs of each point), beside the runs themselves, so every worker and the studio reaching the
 * runs folder reaches the sweeps too. The runs carry the sweep id as their experiment.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EARLY_STOP_PREFIX, SweepRecordSchema, sweepView, type SweepRecord, type SweepRunView, type SweepView } from '../api/sweeps.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { RunStore } from '../store/run-store.ts';

export const SWEEPS_FOLDER = 'sweeps';

export function newSweepId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `sweep-${t}-${randomBytes(3).toString('hex')}`;
}

export class SweepStore {
  readonly runs: RunStore;
  readonly root: string;

  constructor(runsDir: string) {
    this.runs = new RunStore(resolve(runsDir));
    this.root = join(this.runs.root, SWEEPS_FOLDER);
  }

  dir(id: string): string {
    if (!/^sweep-[A-Za-z0-9-]{1,100}$/.test(id)) throw new UserError({ field: 'id', message: `'${id}' is not a sweep id` });
    return join(this.root, id);
  }

  write(record: SweepRecord): void {
    mkdirSync(this.dir(record.id), { recursive: true });
    writeFileAtomicSync(join(this.dir(record.id), 'sweep.json'), JSON.stringify(record, null, 2));
  }

  read(id: string): SweepRecord {
    const file = join(this.dir(id), 'sweep.json');
    if (!existsSync(file)) throw new UserError({ field: 'id', message: `no sweep ${id} in ${this.runs.root}` });
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError({ file, message: `unreadable: ${(e as Error).message}` });
    }
    const parsed = SweepRecordSchema.safeParse(raw);
    if (!parsed.success) throw new UserError({ file, message: `not a sweep record: ${parsed.error.issues[0]?.message ?? ''}` });
    return parsed.data;
  }

  /** Every sweep, oldest first (ids start with their creation time). */
  list(): SweepRecord[] {
    if (!existsSync(this.root)) return [];
    const out: SweepRecord[] = [];
    for (const name of readdirSync(this.root).sort()) {
      try {
        out.push(this.read(name));
      } catch {
        /* a damaged sweep is skipped in the list; show names it */
      }
    }
    return out;
  }

  /** The runs of a sweep with their status and returns, as files on disk say now. */
  runViews(record: SweepRecord): SweepRunView[] {
    return record.runs.map((ref) => {
      try {
        const s = this.runs.open(ref.id).summary();
        return {
          ...ref,
          status: s.status,
          step: s.step,
          steps: s.steps,
          reason: s.reason,
          earlyStopped: s.status === 'stopped' && (s.reason ?? '').startsWith(EARLY_STOP_PREFIX),
          finalReturn: s.latestEval?.evalReturn ?? null,
          bestReturn: s.bestEval?.evalReturn ?? null,
        };
      } catch (e) {
        return {
          ...ref,
          status: 'failed' as const,
          step: 0,
          steps: 1,
          reason: `run folder unreadable: ${(e as Error).message}`,
          earlyStopped: false,
          finalReturn: null,
          bestReturn: null,
        };
      }
    });
  }

  view(id: string): SweepView {
    const record = this.read(id);
    return sweepView(record, this.runViews(record));
  }
}
