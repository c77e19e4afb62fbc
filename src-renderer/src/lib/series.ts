/**
 * Metric series for the curves: columnar, growable typed arrays filled incrementally from
 * metrics.jsonl records, TensorBoard's debiased EMA, and min/max-per-pixel downsampling so a
 * million points draw as a few thousand.
 */
import type { MetricInfo, MetricRecord } from '../../../src-main/api/runs.ts';

/**
 * How to title, explain and order a run's metrics: what getRun answers as `metricInfo` (the
 * training loop's metrics and the ones the run's algorithm declares). Any other numeric field a run
 * logs gets a chart of its own under its logged name, after these.
 */
export type MetricInfos = Record<string, MetricInfo>;

/**
 * Numeric fields that are no curve of their own: running counters (they only ever climb by one)
 * and the eval spread, drawn as the band around eval_return.
 */
const NOT_CHARTED = new Set(['updates', 'episode', 'eval_return_min', 'eval_return_max', 'eval_return_std']);
/** Record fields that are coordinates, not metrics. */
const NOT_METRICS = new Set(['step', 'time', 'kind']);

/** The label a metric is shown with: its declared title, else its key as logged. */
export function metricLabel(key: string, info: MetricInfos = {}): string {
  return info[key]?.label ?? key;
}

/** The metrics to chart among `keys`, declared ones first in their order, then the rest by name. */
export function chartedMetrics(keys: Iterable<string>, info: MetricInfos = {}): string[] {
  const all = [...keys].filter((k) => !NOT_CHARTED.has(k));
  const known = Object.keys(info).filter((k) => all.includes(k));
  return [...known, ...all.filter((k) => !known.includes(k)).sort()];
}

/** One curve: env step, wall time (s) and value per point. */
export class Series {
  length = 0;
  step: Float64Array = new Float64Array(256);
  time: Float64Array = new Float64Array(256);
  value: Float64Array = new Float64Array(256);

  push(step: number, time: number, value: number): void {
    if (this.length === this.step.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.step = grow(this.step);
      this.time = grow(this.time);
      this.value = grow(this.value);
    }
    this.step[this.length] = step;
    this.time[this.length] = time;
    this.value[this.length] = value;
    this.length++;
  }

  x(axis: 'step' | 'time'): Float64Array {
    return (axis === 'step' ? this.step : this.time).subarray(0, this.length);
  }

  y(): Float64Array {
    return this.value.subarray(0, this.length);
  }

  last(): number | null {
    return this.length ? this.value[this.length - 1] : null;
  }
}

/** A run's curves by metric name, open to whatever names its records carry. */
export class SeriesSet {
  private readonly byKey = new Map<string, Series>();

  /** The curve of `key`, made empty on first use. */
  get(key: string): Series {
    let s = this.byKey.get(key);
    if (!s) this.byKey.set(key, (s = new Series()));
    return s;
  }

  has(key: string): boolean {
    return (this.byKey.get(key)?.length ?? 0) > 0;
  }

  /** Metric names holding at least one point. */
  keys(): string[] {
    return [...this.byKey].filter(([, s]) => s.length > 0).map(([k]) => k);
  }

  entries(): [string, Series][] {
    return [...this.byKey];
  }

  /** Fills from getMetricSeries' columns (replacing what each named curve held). */
  fill(columns: Record<string, { step: number[]; time: number[]; value: number[] }>): void {
    for (const [key, src] of Object.entries(columns)) {
      const s = this.get(key);
      s.length = 0;
      for (let i = 0; i < src.value.length; i++) s.push(src.step[i], src.time[i], src.value[i]);
    }
  }
}

/** Appends every finite numeric field of the records to its curve; returns true when any curve got a point. */
export function appendRecords(set: SeriesSet, records: MetricRecord[]): boolean {
  let any = false;
  for (const r of records) {
    for (const key in r) {
      const v = r[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || NOT_METRICS.has(key)) continue;
      set.get(key).push(r.step, r.time, v);
      any = true;
    }
  }
  return any;
}

/**
 * TensorBoard's smoothing: an exponential moving average started at 0 and divided by
 * (1 - weight^n), so early points are not pulled towards zero.
 */
export function debiasedEma(y: ArrayLike<number>, weight: number, out = new Float64Array(y.length)): Float64Array {
  if (weight <= 0) {
    for (let i = 0; i < y.length; i++) out[i] = y[i];
    return out;
  }
  let last = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

/**
 * Downsamples a curve with x ascending to at most ~4 points per pixel bucket (first, min, max, last
 * of each bucket, in x order), keeping every peak visible. Points outside [x0, x1] are dropped except
 * the neighbours, so lines run to the edges of a zoomed view.
 */
export function downsampleMinMax(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  buckets: number,
  x0 = -Infinity,
  x1 = Infinity,
): { x: number[]; y: number[] } {
  const n = x.length;
  let lo = 0;
  let hi = n;
  if (Number.isFinite(x0)) lo = Math.max(0, lowerBound(x, x0) - 1);
  if (Number.isFinite(x1)) hi = Math.min(n, lowerBound(x, x1) + 1);
  const count = hi - lo;
  if (count <= buckets * 4)
    return { x: Array.prototype.slice.call(x, lo, hi) as number[], y: Array.prototype.slice.call(y, lo, hi) as number[] };
  const ox: number[] = [];
  const oy: number[] = [];
  const xs = x[lo];
  const span = x[hi - 1] - xs || 1;
  let i = lo;
  for (let b = 0; b < buckets && i < hi; b++) {
    const end = b === buckets - 1 ? x[hi - 1] : xs + (span * (b + 1)) / buckets;
    const first = i;
    let minI = i;
    let maxI = i;
    while (i < hi && (x[i] <= end || b === buckets - 1)) {
      if (y[i] < y[minI]) minI = i;
      if (y[i] > y[maxI]) maxI = i;
      i++;
    }
    const last = i - 1;
    if (last < first) continue;
    const picks = [first, minI, maxI, last].sort((a, c) => a - c);
    let prev = -1;
    for (const p of picks) {
      if (p === prev) continue;
      prev = p;
      ox.push(x[p]);
      oy.push(y[p]);
    }
  }
  return { x: ox, y: oy };
}

function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Mean and spread of several curves (the seeds of one experiment) on a shared x grid: each curve
 * is linearly interpolated at the grid points inside its own range.
 */
export function meanBand(
  curves: { x: ArrayLike<number>; y: ArrayLike<number> }[],
  points = 200,
): { x: number[]; mean: number[]; lo: number[]; hi: number[] } {
  const live = curves.filter((c) => c.x.length > 0);
  if (!live.length) return { x: [], mean: [], lo: [], hi: [] };
  const xMin = Math.min(...live.map((c) => c.x[0]));
  const xMax = Math.max(...live.map((c) => c.x[c.x.length - 1]));
  const out = { x: [] as number[], mean: [] as number[], lo: [] as number[], hi: [] as number[] };
  const n = xMax > xMin ? points : 1;
  for (let k = 0; k < n; k++) {
    const gx = n === 1 ? xMin : xMin + ((xMax - xMin) * k) / (n - 1);
    const vals: number[] = [];
    for (const c of live) {
      const v = interpolate(c.x, c.y, gx);
      if (v !== null) vals.push(v);
    }
    if (!vals.length) continue;
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    out.x.push(gx);
    out.mean.push(mean);
    out.lo.push(mean - sd);
    out.hi.push(mean + sd);
  }
  return out;
}

function interpolate(x: ArrayLike<number>, y: ArrayLike<number>, at: number): number | null {
  if (at < x[0] || at > x[x.length - 1]) return null;
  const i = lowerBound(x, at);
  if (x[i] === at || i === 0) return y[i];
  const t = (at - x[i - 1]) / (x[i] - x[i - 1]);
  return y[i - 1] + t * (y[i] - y[i - 1]);
}
