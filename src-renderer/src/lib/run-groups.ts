/**
 * Which runs are seeds of one experiment, and how runs' configs differ. Runs are grouped by their
 * config with the seed and the bookkeeping fields left out, so two runs started separately that
 * differ only by seed are one experiment as much as the runs of one seed sweep.
 */

/** Config fields that do not change what is learned: the seed (what a band spans) and bookkeeping. */
const NOT_THE_EXPERIMENT = new Set(['seed', 'name', 'tags', 'checkpointEvery', 'keepCheckpoints', 'saveReplay']);

/** A config flattened to dotted paths (`hyperparams.actorLr`, `pixels.size`); arrays stay values. */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenConfig(v as Record<string, unknown>, path));
    else out[path] = v;
  }
  return out;
}

/** The same string for configs that differ only by seed and bookkeeping. */
export function experimentKey(config: Record<string, unknown>): string {
  const flat = flattenConfig(config);
  const keys = Object.keys(flat)
    .filter((k) => !NOT_THE_EXPERIMENT.has(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, flat[k]]));
}

/** Groups items by the experiment of their config, in first-seen order. */
export function groupByExperiment<T>(items: T[], configOf: (item: T) => Record<string, unknown>): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = experimentKey(configOf(item));
    const g = groups.get(key);
    if (g) g.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** The config paths whose values differ among the configs (sorted), bookkeeping left out. */
export function differingFields(configs: Record<string, unknown>[]): string[] {
  const flats = configs.map((c) => flattenConfig(c));
  const keys = new Set(flats.flatMap((f) => Object.keys(f)));
  return [...keys]
    .filter((k) => !['name', 'tags'].includes(k))
    .filter((k) => new Set(flats.map((f) => JSON.stringify(f[k] ?? null))).size > 1)
    .sort();
}
