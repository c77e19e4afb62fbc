/**
 * Sweeps as they are stored (`<runs dir>/sweeps/<id>/sweep.json`) and shown: the runs of each point
 * with their status and eval returns, the best configuration, each searched parameter's importance
 * (rank correlation with the result) and seeds of one configuration as mean and band. The analysis
 * is pure so the CLI (`sweep show`) and the sweep page compute the same numbers.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';
import { RunStatusSchema } from './runs.ts';

/** The reason a run stopped by the sweep's early-stopping rule starts with (the run ended as planned). */
export const EARLY_STOP_PREFIX = 'early-stopped';

export const SweepRunRefSchema = z.object({
  id: z.string(),
  /** Index of the point (searched values) the run belongs to; seeds of one point share it. */
  point: z.number().int().min(0),
  seed: z.number().int(),
  params: z.record(z.string(), z.unknown()),
});
export type SweepRunRef = z.infer<typeof SweepRunRefSchema>;

export const SweepRecordSchema = z.object({
  format: z.literal(1),
  id: z.string().regex(/^sweep-[A-Za-z0-9-]{1,100}$/),
  name: z.string(),
  createdAt: z.string(),
  /** The sweep file as given. */
  file: z.unknown(),
  /** redis://host:port when the runs are BullMQ jobs; null: the local pool. */
  queue: z.string().nullable(),
  /** Searched keys, in the file's order. */
  params: z.array(z.string()),
  runs: z.array(SweepRunRefSchema),
});
export type SweepRecord = z.infer<typeof SweepRecordSchema>;

export const SweepRunViewSchema = SweepRunRefSchema.extend({
  status: RunStatusSchema,
  step: z.number().int(),
  steps: z.number().int(),
  reason: z.string().nullable(),
  earlyStopped: z.boolean(),
  /** Latest and best eval return (null before the first evaluation). */
  finalReturn: z.number().nullable(),
  bestReturn: z.number().nullable(),
});
export type SweepRunView = z.infer<typeof SweepRunViewSchema>;

export interface ParamImportance {
  key: string;
  /** Spearman rank correlation with the final eval return (categories ranked by their mean result). */
  correlation: number | null;
}

export interface PointSummary {
  point: number;
  params: Record<string, unknown>;
  runs: string[];
  /** Mean and sample standard deviation over seeds of the final eval return. */
  meanFinal: number | null;
  stdFinal: number | null;
  meanBest: number | null;
}

export type SweepState = 'running' | 'finished' | 'ended-with-problems';

export interface SweepView {
  id: string;
  name: string;
  /** The sweep file as given (its points' configs are parseSweep(file).points). */
  file: unknown;
  createdAt: string;
  queue: string | null;
  params: string[];
  state: SweepState;
  counts: Record<string, number>;
  runs: SweepRunView[];
  points: PointSummary[];
  best: PointSummary | null;
  importance: ParamImportance[];
}

const ACTIVE = new Set(['queued', 'running', 'paused']);

/** A run ended as the sweep meant it to: trained to its steps, or stopped by the early-stopping rule. */
export function finishedAsPlanned(r: Pick<SweepRunView, 'status' | 'earlyStopped'>): boolean {
  return r.status === 'done' || r.earlyStopped;
}

export function sweepState(runs: Pick<SweepRunView, 'status' | 'earlyStopped'>[]): SweepState {
  if (runs.some((r) => ACTIVE.has(r.status) && !r.earlyStopped)) return 'running';
  return runs.every(finishedAsPlanned) ? 'finished' : 'ended-with-problems';
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function std(xs: number[]): number | null {
  const m = mean(xs);
  if (m === null || xs.length < 2) return xs.length === 1 ? 0 : null;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Ranks with ties sharing their mean rank (1-based). */
export function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation; null when either side is constant or there are under 3 pairs. */
export function spearman(xs: number[], ys: number[]): number | null {
  if (xs.length !== ys.length || xs.length < 3) return null;
  const rx = ranks(xs);
  const ry = ranks(ys);
  const mx = mean(rx)!;
  const my = mean(ry)!;
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < rx.length; i++) {
    num += (rx[i]! - mx) * (ry[i]! - my);
    dx += (rx[i]! - mx) ** 2;
    dy += (ry[i]! - my) ** 2;
  }
  return dx === 0 || dy === 0 ? null : num / Math.sqrt(dx * dy);
}

/**
 * A parameter's values as numbers for ranking: numbers as they are, booleans as 0/1, anything else
 * (env ids, layer lists) by the mean result of its category, so a categorical parameter's
 * correlation says how much the choice matters (always >= 0).
 */
function numericValues(values: unknown[], results: number[]): number[] {
  if (values.every((v) => typeof v === 'number')) return values as number[];
  if (values.every((v) => typeof v === 'boolean')) return values.map((v) => (v ? 1 : 0));
  const byKey = new Map<string, number[]>();
  values.forEach((v, i) => byKey.set(JSON.stringify(v), [...(byKey.get(JSON.stringify(v)) ?? []), results[i]!]));
  return values.map((v) => mean(byKey.get(JSON.stringify(v))!)!);
}

/** Each searched parameter's rank correlation with the final eval return, over runs that have one. */
export function importance(params: string[], runs: SweepRunView[]): ParamImportance[] {
  const scored = runs.filter((r) => r.finalReturn !== null);
  const results = scored.map((r) => r.finalReturn!);
  return params.map((key) => ({
    key,
    correlation: spearman(
      numericValues(
        scored.map((r) => r.params[key]),
        results,
      ),
      results,
    ),
  }));
}

/** The points with their seeds summarised. */
export function summarisePoints(runs: SweepRunView[]): PointSummary[] {
  const byPoint = new Map<number, SweepRunView[]>();
  for (const r of runs) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r]);
  return [...byPoint.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([point, rs]) => {
      const finals = rs.map((r) => r.finalReturn).filter((x): x is number => x !== null);
      const bests = rs.map((r) => r.bestReturn).filter((x): x is number => x !== null);
      return {
        point,
        params: rs[0]!.params,
        runs: rs.map((r) => r.id),
        meanFinal: mean(finals),
        stdFinal: std(finals),
        meanBest: mean(bests),
      };
    });
}

/** The point with the highest mean final eval return over its seeds (runs stopped early count with theirs). */
export function bestPoint(points: PointSummary[]): PointSummary | null {
  let best: PointSummary | null = null;
  for (const p of points) if (p.meanFinal !== null && (best === null || p.meanFinal > best.meanFinal!)) best = p;
  return best;
}

export function sweepView(record: SweepRecord, runs: SweepRunView[]): SweepView {
  const counts: Record<string, number> = {};
  for (const r of runs) {
    const k = r.earlyStopped ? 'early-stopped' : r.status;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const points = summarisePoints(runs);
  return {
    id: record.id,
    name: record.name,
    file: record.file,
    createdAt: record.createdAt,
    queue: record.queue,
    params: record.params,
    state: sweepState(runs),
    counts,
    runs,
    points,
    best: bestPoint(points),
    importance: importance(record.params, runs),
  };
}
