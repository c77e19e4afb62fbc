import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { MetricRecordSchema, type MetricRecord, type MetricsRead, type StoreProblem } from '../api/runs.ts';
import { writeFileAtomicSync } from './atomic.ts';

/**
 * metrics.jsonl: append-only, one JSON object per line. Records are buffered in memory and written
 * in one append per flush (at most every second, and always before a checkpoint, with an fsync), so
 * the file on disk always covers at least every step up to the newest checkpoint.
 */
export class MetricsWriter {
  private fd: number | null = null;
  private pending: string[] = [];

  constructor(readonly file: string) {}

  add(record: MetricRecord): void {
    this.pending.push(JSON.stringify(record));
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Appends the buffered lines; with `durable`, fsyncs too. Lines stay buffered if the write fails. */
  flush(durable = false): void {
    if (this.pending.length) {
      this.fd ??= openSync(this.file, 'a');
      const text = Buffer.from(this.pending.join('\n') + '\n', 'utf8');
      let off = 0;
      while (off < text.length) off += writeSync(this.fd, text, off, text.length - off);
      this.pending = [];
    }
    if (durable && this.fd !== null) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * Reads metrics.jsonl from line `sinceLine` on. A torn last line (a crash mid-append) and any line
 * that is not a metric record are reported as problems and skipped; the rest is returned.
 */
export function readMetrics(file: string, sinceLine = 0): MetricsRead {
  if (!existsSync(file)) return { records: [], lines: 0, problems: [] };
  const text = readFileSync(file, 'utf8');
  const parts = text.split('\n');
  const complete = text.endsWith('\n') || text.length === 0;
  // A trailing '' after the final newline is not a line.
  if (complete) parts.pop();
  const records: MetricRecord[] = [];
  const problems: StoreProblem[] = [];
  const name = basename(file);
  for (let i = sinceLine; i < parts.length; i++) {
    const line = parts[i];
    const last = i === parts.length - 1;
    if (line.trim() === '') continue;
    const rec = parseLine(line);
    if (rec) {
      if (last && !complete) {
        problems.push({ file: name, message: `line ${i + 1} has no line end (a write was cut off); it is ignored` });
        continue;
      }
      records.push(rec);
    } else {
      problems.push({
        file: name,
        message: last && !complete ? `line ${i + 1} is cut off (a write was interrupted); it is ignored` : `line ${i + 1} is not a valid metric record; it is ignored`,
      });
    }
  }
  return { records, lines: complete ? parts.length : Math.max(sinceLine, parts.length - 1), problems };
}

function parseLine(line: string): MetricRecord | null {
  try {
    const r = MetricRecordSchema.safeParse(JSON.parse(line));
    return r.success ? (r.data as MetricRecord) : null;
  } catch {
    return null;
  }
}

/**
 * Rewrites metrics.jsonl (atomically) keeping only valid records with step <= `step`: on resume from
 * a checkpoint at `step`, the work after it is redone, so its lines go and the curve has no
 * duplicate steps. Returns what was dropped.
 */
export function truncateMetricsAfter(file: string, step: number): { kept: number; dropped: number; problems: StoreProblem[] } {
  if (!existsSync(file)) return { kept: 0, dropped: 0, problems: [] };
  const { records, problems } = readMetrics(file);
  const keep = records.filter((r) => r.step <= step);
  writeFileAtomicSync(file, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  return { kept: keep.length, dropped: records.length - keep.length, problems };
}
