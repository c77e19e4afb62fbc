/**
 * The report's data: runs grouped into task x algorithm x observation rows, each with R_av / R_best
 * (raw and normalised by the env's stored references), the seeds, the steps, the eval curve's mean
 * and band over seeds, and the published numbers for that task. Used by `rl-studio report` and by
 * the studio's Report view (through StudioApi), so both show the same table.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  combineSeeds,
  meanOverSeeds,
  normalise,
  runScores,
  type EnvReference,
  type EvalCurve,
  type Report,
  type ReportRow,
} from '../api/scores.ts';
import { publishedFor } from '../api/published.ts';
import type { RunFiles } from '../store/run-store.ts';
import { RunStore } from '../store/run-store.ts';
import { referenceFor } from '../reference/baseline.ts';
import { builtinEnvsDir } from '../util/paths.ts';
import { UserError } from '../util/errors.ts';

/** What one run contributes to the report. */
interface RunPoint {
  run: string;
  env: string;
  envDir: string;
  envOrigin: string;
  algo: string;
  obs: string;
  seed: number;
  step: number;
  targetSteps: number;
  curve: EvalCurve;
}

/**
 * The runs of a sweep: every run in the runs folder whose experiment is the sweep id (how sweeps
 * mark their runs: `rl-studio sweep` gives each run the sweep id as its experiment).
 */
export function sweepRuns(runsDir: string, sweepId: string): RunFiles[] {
  const store = new RunStore(resolve(runsDir));
  const runs = store.list().filter((r) => {
    try {
      return r.readMeta().experiment === sweepId;
    } catch {
      return false;
    }
  });
  if (runs.length === 0) throw new UserError({ field: '--sweep', message: `no runs with experiment '${sweepId}' in ${store.root}` });
  return runs;
}

function readPoint(run: RunFiles): RunPoint {
  const stored = run.readConfig();
  const { status } = run.readStatus();
  const { records } = run.readMetrics();
  const steps: number[] = [];
  const returns: number[] = [];
  for (const r of records) {
    if (r.kind !== 'eval' || typeof r.eval_return !== 'number' || !Number.isFinite(r.eval_return)) continue;
    steps.push(r.step);
    returns.push(r.eval_return);
  }
  return {
    run: run.id,
    env: stored.env.id,
    envDir: stored.env.dir,
    envOrigin: stored.env.origin,
    algo: stored.config.algo,
    obs: stored.config.obs,
    seed: stored.config.seed,
    step: status?.step ?? steps[steps.length - 1] ?? 0,
    targetSteps: stored.config.steps,
    curve: { steps, returns },
  };
}

/** The env's references: beside its files when they are still there, else in the built-in suite for a built-in env. */
function referenceOf(p: RunPoint): EnvReference | null {
  if (existsSync(p.envDir)) {
    const r = referenceFor({ id: p.env, dir: p.envDir });
    if (r) return r;
  }
  if (p.envOrigin === 'builtin') return referenceFor({ id: p.env, dir: builtinEnvsDir() });
  return null;
}

export function buildReport(runs: RunFiles[]): Report {
  const skipped: Report['skipped'] = [];
  const groups = new Map<string, RunPoint[]>();
  for (const run of runs) {
    let point: RunPoint;
    try {
      point = readPoint(run);
    } catch (e) {
      skipped.push({ run: run.id, reason: (e as Error).message });
      continue;
    }
    if (point.curve.returns.length === 0) {
      skipped.push({ run: run.id, reason: 'no evaluations yet' });
      continue;
    }
    const key = `${point.env}\u0000${point.algo}\u0000${point.obs}`;
    groups.set(key, [...(groups.get(key) ?? []), point]);
  }
  const rows: ReportRow[] = [];
  for (const points of groups.values()) {
    points.sort((a, b) => a.seed - b.seed);
    const { env, algo, obs } = points[0];
    const reference = referenceOf(points[0]);
    const combined = combineSeeds(points.map((p) => runScores(p.curve)!));
    const finals = points.map((p) => p.curve.returns[p.curve.returns.length - 1]);
    rows.push({
      env,
      algo,
      obs,
      seeds: points.map((p) => p.seed),
      runs: points.map((p) => p.run),
      steps: Math.max(...points.map((p) => p.step)),
      targetSteps: Math.max(...points.map((p) => p.targetSteps)),
      rAvRaw: combined?.rAv ?? null,
      rBestRaw: combined?.rBest ?? null,
      rAv: combined ? normalise(combined.rAv, reference) : null,
      rBest: combined ? normalise(combined.rBest, reference) : null,
      finalRaw: finals.reduce((a, b) => a + b, 0) / finals.length,
      reference,
      published: publishedFor(env, obs),
      curve: meanOverSeeds(points.map((p) => p.curve)),
    });
  }
  rows.sort((a, b) => a.env.localeCompare(b.env) || a.algo.localeCompare(b.algo) || a.obs.localeCompare(b.obs));
  return { rows, skipped };
}
