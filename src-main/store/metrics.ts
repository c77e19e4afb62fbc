import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
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
        message:
          last && !complete
            ? `line ${i + 1} is cut off (a write was interrupted); it is ignored`
            : `line ${i + 1} is not a valid metric record; it is ignored`,
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

/** One curve read from metrics.jsonl: the records' steps, wall times and values (columns, `length` used). */
export interface MetricColumn {
  length: number;
  step: Float64Array;
  time: Float64Array;
  value: Float64Array;
}

/** A curve downsampled for drawing: parallel arrays, and how many points the range held before. */
export interface MetricSeriesPoints {
  step: number[];
  time: number[];
  value: number[];
  count: number;
}

/** Fields of a record that are not curves. */
const NOT_CURVES = new Set(['step', 'time', 'kind']);
const KINDS = new Set(['episode', 'update', 'eval', 'note']);
/** Problems kept per file (a damaged file can have a million bad lines; the first few say enough). */
const MAX_PROBLEMS = 20;
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * metrics.jsonl as columns, one per numeric field (episode_return, critic_loss, ...), read
 * incrementally: each refresh() parses only the bytes appended since the last one, so the curves
 * of a run with 10^6 lines are parsed once and then kept up to date cheaply. A file that shrank or
 * was replaced (truncateMetricsAfter on resume) is read again from the start. Lines are checked as
 * readMetrics checks them (step a whole number >= 0, time a number, a known kind); a torn last
 * line waits for its end.
 */
export class MetricColumns {
  readonly columns = new Map<string, MetricColumn>();
  problems: StoreProblem[] = [];
  /** Complete lines read (the `sinceLine` that getMetrics continues from). */
  lines = 0;
  private offset = 0;
  private ino = -1;
  /** Inside a line longer than a read slice. */
  private skipping = false;

  constructor(readonly file: string) {}

  /** Reads what was appended since the last call. */
  refresh(): this {
    if (!existsSync(this.file)) {
      if (this.offset > 0) this.reset(-1);
      return this;
    }
    const st = statSync(this.file);
    if (st.ino !== this.ino || st.size < this.offset) this.reset(st.ino);
    if (st.size === this.offset) return this;
    const fd = openSync(this.file, 'r');
    try {
      // In slices, so a first read of a large file never holds all of it as one string.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      while (this.offset < st.size) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, st.size - this.offset), this.offset);
        if (n <= 0) break;
        // Only whole lines are taken (a slice can end inside a line, or inside a multi-byte
        // character); the rest is read again with the next slice, or by the next refresh.
        const end = chunk.lastIndexOf(0x0a, n - 1);
        if (end < 0) {
          if (n < chunk.length) break;
          // A line longer than a slice is no metric record: skip to its end.
          this.skipping = true;
          this.offset += n;
          continue;
        }
        this.consume(chunk.toString('utf8', 0, end));
        this.offset += end + 1;
      }
    } finally {
      closeSync(fd);
    }
    return this;
  }

  private reset(ino: number): void {
    this.columns.clear();
    this.problems = [];
    this.lines = 0;
    this.offset = 0;
    this.skipping = false;
    this.ino = ino;
  }

  /** Whole lines (the text ends just before a line end). */
  private consume(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const line = text.slice(start, nl < 0 ? text.length : nl);
      if (this.skipping) {
        this.skipping = false;
        this.lines++;
        this.problem(`line ${this.lines} is not a valid metric record; it is ignored`);
      } else this.line(line);
      if (nl < 0) return;
      start = nl + 1;
    }
  }

  private problem(message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ file: basename(this.file), message });
  }

  private line(line: string): void {
    this.lines++;
    if (line.trim() === '') return;
    let r: Record<string, unknown> | null = null;
    try {
      const v = JSON.parse(line) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) r = v as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    const step = r?.step;
    const time = r?.time;
    if (
      !r ||
      typeof step !== 'number' ||
      !Number.isInteger(step) ||
      step < 0 ||
      typeof time !== 'number' ||
      typeof r.kind !== 'string' ||
      !KINDS.has(r.kind)
    ) {
      this.problem(`line ${this.lines} is not a valid metric record; it is ignored`);
      return;
    }
    for (const key in r) {
      const v = r[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || NOT_CURVES.has(key)) continue;
      let c = this.columns.get(key);
      if (!c)
        this.columns.set(key, (c = { length: 0, step: new Float64Array(64), time: new Float64Array(64), value: new Float64Array(64) }));
      if (c.length === c.step.length) {
        const grow = (a: Float64Array): Float64Array => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        c.step = grow(c.step);
        c.time = grow(c.time);
        c.value = grow(c.value);
      }
      c.step[c.length] = step;
      c.time[c.length] = time;
      c.value[c.length] = v;
      c.length++;
    }
  }

  /**
   * One curve with at most about `points` points over the x range [from, to] (step or time):
   * equal-width buckets each keep their lowest and highest value in x order (so every peak and dip
   * survives), plus the nearest point outside each end so lines run to the edges of a zoomed view.
   * A range holding no more than `points` points comes back whole.
   */
  downsample(key: string, opts: { points: number; x?: 'step' | 'time'; from?: number; to?: number }): MetricSeriesPoints {
    const c = this.columns.get(key);
    if (!c || c.length === 0) return { step: [], time: [], value: [], count: 0 };
    const xs = opts.x === 'time' ? c.time : c.step;
    const n = c.length;
    let lo = opts.from !== undefined ? Math.max(0, lowerBound(xs, n, opts.from) - 1) : 0;
    let hi = opts.to !== undefined ? Math.min(n, upperBound(xs, n, opts.to) + 1) : n;
    if (hi < lo) hi = lo;
    const count = hi - lo;
    const out: MetricSeriesPoints = { step: [], time: [], value: [], count };
    const push = (i: number): void => {
      out.step.push(c.step[i]);
      out.time.push(c.time[i]);
      out.value.push(c.value[i]);
    };
    if (count <= opts.points) {
      for (let i = lo; i < hi; i++) push(i);
      return out;
    }
    // The end points are kept as they are; the rest goes into buckets of two points each.
    push(lo);
    lo++;
    hi--;
    const buckets = Math.max(1, Math.floor((opts.points - 2) / 2));
    const x0 = xs[lo];
    const span = xs[hi - 1] - x0;
    let i = lo;
    for (let b = 0; b < buckets && i < hi; b++) {
      const last = b === buckets - 1;
      const edge = x0 + (span * (b + 1)) / buckets;
      const first = i;
      let minI = i;
      let maxI = i;
      while (i < hi && (last || xs[i] <= edge)) {
        if (c.value[i] < c.value[minI]) minI = i;
        if (c.value[i] > c.value[maxI]) maxI = i;
        i++;
      }
      // An empty bucket (a gap in x) keeps nothing.
      if (i === first) continue;
      push(Math.min(minI, maxI));
      if (maxI !== minI) push(Math.max(minI, maxI));
    }
    push(hi);
    return out;
  }
}

/** First index with a[i] >= v among the first n (a ascending). */
function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > v among the first n (a ascending). */
function upperBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
