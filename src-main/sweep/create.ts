/**
 * Creating a sweep: the file validated and expanded (api/sweep.ts), one run per point and seed created
 * in the runs folder (queued, the sweep id as their experiment), and the record written. Nothing is
 * written when any point is invalid. Who trains the runs (the local pool or BullMQ workers) is the
 * caller's choice.
 */
import { readFileSync } from 'node:fs';
import { parseSweep } from '../api/sweep.ts';
import type { SweepRecord } from '../api/sweeps.ts';
import { UserError } from '../util/errors.ts';
import { createRuns } from '../train/run-manager.ts';
import { resolveRunConfig } from '../train/config.ts';
import { newSweepId, SweepStore } from './sweep-store.ts';

/** Reads a sweep file: a file that is missing or not JSON is a UserError naming it. */
export function readSweepFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError({
      file: path,
      message: `cannot read the sweep file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError({ file: path, message: `not JSON: ${(e as Error).message}` });
  }
}

export function createSweep(o: { file: unknown; fileName?: string; runsDir: string; queue: string | null }): SweepRecord {
  const parsed = parseSweep(o.file);
  const where = o.fileName ? { file: o.fileName } : {};
  if (!parsed.ok) throw new UserError(parsed.issues.map((i) => ({ ...where, ...i })));
  const { sweep, points } = parsed;
  // Env ids and the render host are checked for every point before any run exists.
  for (const p of points) {
    try {
      resolveRunConfig(p.config);
    } catch (e) {
      if (e instanceof UserError)
        throw new UserError(e.details.map((d) => ({ ...where, ...d, field: `point ${JSON.stringify(p.params)}: ${d.field ?? ''}` })));
      throw e;
    }
  }
  const sweeps = new SweepStore(o.runsDir);
  sweeps.runs.ensureWritable();
  const id = newSweepId();
  const runs: SweepRecord['runs'] = [];
  for (const p of points) {
    const label = Object.entries(p.params)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    const name = `${sweep.name}${label ? ` ${label}` : ''}`.slice(0, 200);
    for (const run of createRuns(sweeps.runs, { config: { ...p.config, name }, seeds: sweep.seeds }, { experiment: id })) {
      runs.push({ id: run.id, point: p.index, seed: run.readConfig().config.seed, params: p.params });
    }
  }
  const params = [...Object.keys(sweep.grid ?? {}), ...Object.keys(sweep.random?.params ?? {})];
  const record: SweepRecord = {
    format: 1,
    id,
    name: sweep.name,
    createdAt: new Date().toISOString(),
    file: o.file,
    queue: o.queue,
    params,
    runs,
  };
  sweeps.write(record);
  return record;
}
