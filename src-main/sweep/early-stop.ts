/**
 * Early stopping of a sweep's poor runs on eval return: the ASHA and median rules (api/sweep.ts
 * describes them and their settings). The decision is a pure function of the runs' eval curves; the
 * curves are read from the shared run store, so any worker decides for the run it trains without
 * talking to the others.
 */
import { parseSweep, type EarlyStop } from '../api/sweep.ts';
import { EARLY_STOP_PREFIX, type SweepRecord } from '../api/sweeps.ts';
import type { RunStore } from '../store/run-store.ts';

export interface EvalPoint {
  step: number;
  evalReturn: number;
}

/** Rung steps of ASHA up to `maxStep`: minSteps × reduction^k. */
export function ashaRungs(rule: Extract<EarlyStop, { rule: 'asha' }>, maxStep: number): number[] {
  const out: number[] = [];
  for (let r = rule.minSteps; r <= maxStep; r *= rule.reduction) out.push(r);
  return out;
}

/** A run's return at a rung: its first evaluation at or after the rung's step. */
function atRung(curve: EvalPoint[], rung: number): number | null {
  return curve.find((e) => e.step >= rung)?.evalReturn ?? null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Whether `runId` should stop now that its newest evaluation is in `curves.get(runId)`: the reason
 * (starting with EARLY_STOP_PREFIX) or null. Decided once per rung (ASHA: at the evaluation that
 * first reaches it) or at every evaluation (median).
 */
export function earlyStopDecision(rule: EarlyStop, runId: string, curves: Map<string, EvalPoint[]>): string | null {
  const own = curves.get(runId) ?? [];
  const latest = own[own.length - 1];
  if (!latest) return null;
  if (rule.rule === 'asha') {
    const previous = own.length > 1 ? own[own.length - 2]!.step : -1;
    const rung = ashaRungs(rule, latest.step)
      .filter((r) => r > previous)
      .pop();
    if (rung === undefined) return null;
    const reached = [...curves.values()].map((c) => atRung(c, rung)).filter((x): x is number => x !== null);
    const keep = Math.floor(reached.length / rule.reduction);
    if (reached.length < rule.reduction || keep < 1) return null;
    const cutoff = [...reached].sort((a, b) => b - a)[keep - 1]!;
    if (latest.evalReturn >= cutoff) return null;
    return `${EARLY_STOP_PREFIX} by ASHA at rung ${rung}: eval return ${latest.evalReturn.toFixed(2)} is not in the top 1/${rule.reduction} of ${reached.length} runs (cutoff ${cutoff.toFixed(2)})`;
  }
  if (latest.step < rule.minSteps) return null;
  const others: number[] = [];
  for (const [id, curve] of curves) {
    if (id === runId || !curve.some((e) => e.step >= latest.step)) continue;
    const upTo = curve.filter((e) => e.step <= latest.step);
    if (upTo.length) others.push(upTo.reduce((a, e) => a + e.evalReturn, 0) / upTo.length);
  }
  if (others.length < rule.minRuns) return null;
  const best = Math.max(...own.map((e) => e.evalReturn));
  const m = median(others);
  if (best >= m) return null;
  return `${EARLY_STOP_PREFIX} by the median rule at step ${latest.step}: best eval return ${best.toFixed(2)} is below the median ${m.toFixed(2)} of ${others.length} other runs`;
}

/** Eval curves of a sweep's runs from their metrics files (a run that cannot be read has none yet). */
export function readCurves(store: RunStore, sweep: SweepRecord): Map<string, EvalPoint[]> {
  const curves = new Map<string, EvalPoint[]>();
  for (const ref of sweep.runs) {
    try {
      const { records } = store.open(ref.id).readMetrics();
      curves.set(
        ref.id,
        records
          .filter((r) => r.kind === 'eval' && typeof r.eval_return === 'number')
          .map((r) => ({ step: r.step, evalReturn: r.eval_return as number })),
      );
    } catch {
      curves.set(ref.id, []);
    }
  }
  return curves;
}

/**
 * The sweep's rule applied at one evaluation of one of its runs: the reason to stop it, or null (no
 * rule, or the run goes on). The event may come before its metrics line is read back: it counts.
 */
export function earlyStopOnEval(
  store: RunStore,
  sweep: SweepRecord,
  runId: string,
  e: { step: number; evalReturn: number },
): string | null {
  const parsed = parseSweep(sweep.file);
  const rule = parsed.ok ? parsed.sweep.earlyStop : undefined;
  if (!rule) return null;
  const curves = readCurves(store, sweep);
  const own = curves.get(runId) ?? [];
  if (!own.some((p) => p.step === e.step))
    curves.set(runId, [...own.filter((p) => p.step < e.step), { step: e.step, evalReturn: e.evalReturn }]);
  return earlyStopDecision(rule, runId, curves);
}
