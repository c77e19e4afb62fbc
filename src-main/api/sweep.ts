/**
 * The sweep file: a base run config, a search over hyperparameters and env / algo / obs (a grid,
 * random samples from distributions, or both crossed), seeds per point and optional early stopping
 * on eval return. Validated once here (every error names its field) and expanded into the run
 * configs of its points, each checked by the run config's own rules before anything is created.
 *
 * No Node imports here: the renderer imports this file (the New-run form builds sweeps too).
 */
import { z } from 'zod';
import { withPreset } from './preset.ts';
import { parseRunConfig, RunConfigInputSchema, type ConfigIssue, type RunConfigInput } from './run-config.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** A distribution a random search samples one parameter from. */
export const DistributionSchema = z
  .discriminatedUnion('dist', [
    z.strictObject({ dist: z.literal('choice'), values: z.array(z.unknown()).min(1).max(1000) }),
    z.strictObject({ dist: z.literal('uniform'), min: finite, max: finite }),
    z.strictObject({ dist: z.literal('log-uniform'), min: finite.positive(), max: finite.positive() }),
    z.strictObject({ dist: z.literal('int'), min: z.number().int(), max: z.number().int() }),
  ])
  .superRefine((d, ctx) => {
    if ('max' in d && !(d.max > d.min)) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be larger than min (${d.min})` });
  });
export type Distribution = z.infer<typeof DistributionSchema>;

/**
 * Early stopping of poor runs on eval return.
 * - asha (Li et al. 2020): rungs at minSteps × reduction^k; a run reaching a rung goes on only if its
 *   eval return is in the top 1/reduction of the runs that reached that rung so far (asynchronous:
 *   no run waits for the others; until `reduction` runs have reached a rung, everyone goes on).
 * - median (Golovin et al. 2017, Vizier): after minSteps, a run stops when its best eval return so far
 *   is below the median of the other runs' mean eval returns up to the same step (needs minRuns others).
 */
export const EarlyStopSchema = z.discriminatedUnion('rule', [
  z.strictObject({
    rule: z.literal('asha'),
    minSteps: z.number().int().min(1).describe('environment steps of the first rung'),
    reduction: z.number().int().min(2).max(16).default(3).describe('keep the top 1/reduction at each rung; rungs grow by this factor'),
  }),
  z.strictObject({
    rule: z.literal('median'),
    minSteps: z.number().int().min(0).default(0).describe('grace period: no run is stopped before this step'),
    minRuns: z.number().int().min(1).max(1000).default(3).describe('other runs needed at a step before the rule applies'),
  }),
]);
export type EarlyStop = z.infer<typeof EarlyStopSchema>;

/** Keys searched over may not be these: the seed has `seeds`, names and tags are the sweep's. */
const NOT_SEARCHABLE = new Set(['seed', 'name', 'tags', 'hyperparams']);
const paramKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/, 'not a parameter name')
  .refine((k) => !NOT_SEARCHABLE.has(k), {
    message: 'cannot be searched over (the seed: use seeds; name, tags: the sweep names its runs)',
  });

export const SweepFileSchema = z
  .strictObject({
    name: z.string().min(1).max(120).describe('shown in lists; run names start with it'),
    base: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('the run config as `train` takes it (env, algo, steps, hyperparams, …, and optionally a preset)'),
    grid: z.record(paramKey, z.array(z.unknown()).min(1).max(1000)).optional().describe('every combination of these values'),
    random: z
      .strictObject({
        count: z.number().int().min(1).max(1000).describe('random points (crossed with the grid when both are given)'),
        params: z.record(paramKey, DistributionSchema),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1)
          .default(0)
          .describe('seed of the sampler (the same file gives the same points)'),
      })
      .optional(),
    seeds: z.number().int().min(1).max(64).default(1).describe('seeds per point: base seed, base seed + 1, …'),
    earlyStop: EarlyStopSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const points = (s.grid ? Object.values(s.grid).reduce((n, v) => n * v.length, 1) : 1) * (s.random?.count ?? 1) * s.seeds;
    if (points > 1000)
      ctx.addIssue({ code: 'custom', path: s.grid ? ['grid'] : ['seeds'], message: `the sweep has ${points} runs; at most 1000` });
    for (const k of Object.keys(s.random?.params ?? {})) {
      if (s.grid && k in s.grid) ctx.addIssue({ code: 'custom', path: ['random', 'params', k], message: `'${k}' is also in grid` });
    }
  });
export type SweepFile = z.output<typeof SweepFileSchema>;
export type SweepFileInput = z.input<typeof SweepFileSchema>;

/** One point of the search: the searched values and the run config (seed = the base seed). */
export interface SweepPoint {
  index: number;
  params: Record<string, unknown>;
  config: RunConfigInput;
}

export type SweepParse = { ok: true; sweep: SweepFile; points: SweepPoint[] } | { ok: false; issues: ConfigIssue[] };

const TOP_LEVEL = new Set(Object.keys(RunConfigInputSchema.shape));

/**
 * Where a searched key lands in the run config, by the rule `train --set` follows: a run-config field
 * (env, algo, obs, steps, …; `pixels.size` inside pixels), `hyperparams.x`, or else a hyperparameter.
 */
export function configPath(key: string): string[] {
  const parts = key.split('.');
  if (parts[0] === 'hyperparams') return parts;
  if (TOP_LEVEL.has(parts[0]!)) return parts;
  return ['hyperparams', ...parts];
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let o = target;
  for (const p of path.slice(0, -1)) {
    const next = o[p];
    o[p] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    o = o[p] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

/** mulberry32: the sampler's PRNG (small and seedable, so a sweep file always gives the same points). */
function sampler(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value drawn from a distribution (floats rounded to 6 significant digits, as a person would write them). */
export function sample(d: Distribution, random: () => number): unknown {
  const round = (x: number) => Number(x.toPrecision(6));
  switch (d.dist) {
    case 'choice':
      return d.values[Math.floor(random() * d.values.length)];
    case 'uniform':
      return round(d.min + random() * (d.max - d.min));
    case 'log-uniform':
      return round(Math.exp(Math.log(d.min) + random() * (Math.log(d.max) - Math.log(d.min))));
    case 'int':
      return d.min + Math.floor(random() * (d.max - d.min + 1));
  }
}

function baseConfig(base: Record<string, unknown>): { config: Record<string, unknown>; issues: ConfigIssue[] } {
  const { preset, ...rest } = base;
  return preset === undefined ? { config: rest, issues: [] } : withPreset(rest, preset, 'base.preset');
}

function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k ? '.' : ''}${String(p)}`)).join('') || '(root)';
}

/** Whether a run-config issue is about the value at `path` (or inside it, or is that key being unknown). */
function causedBy(issue: ConfigIssue, path: string[]): boolean {
  const at = path.join('.');
  if (issue.field === at || issue.field.startsWith(at + '.') || issue.field.startsWith(at + '[')) return true;
  const last = path[path.length - 1]!;
  return path.slice(0, -1).join('.') === issue.field && issue.message.includes(`"${last}"`);
}

/**
 * Validates a sweep file and expands it into its points (grid × random samples). Each point's run
 * config is checked by parseRunConfig; a problem is reported on the searched key that caused it
 * (`grid.tau`, `random.params.actorLr`) with the value, or on `base.<field>` otherwise.
 */
export function parseSweep(raw: unknown): SweepParse {
  const parsed = SweepFileSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message })) };
  const sweep = parsed.data;
  const base = baseConfig(sweep.base);
  if (base.issues.length) return { ok: false, issues: base.issues };

  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(sweep.grid ?? {})) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  if (sweep.random) {
    const random = sampler(sweep.random.seed);
    const samples = Array.from({ length: sweep.random.count }, () =>
      Object.fromEntries(Object.entries(sweep.random!.params).map(([k, d]) => [k, sample(d, random)])),
    );
    combos = combos.flatMap((c) => samples.map((s) => ({ ...c, ...s })));
  }

  const points: SweepPoint[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const [index, params] of combos.entries()) {
    const config = structuredClone(base.config);
    for (const [key, value] of Object.entries(params)) setPath(config, configPath(key), value);
    const check = parseRunConfig(config);
    if (!check.ok) {
      for (const issue of check.issues) {
        const key = Object.keys(params).find((k) => causedBy(issue, configPath(k)));
        const where = key === undefined ? `base.${issue.field}` : sweep.grid && key in sweep.grid ? `grid.${key}` : `random.params.${key}`;
        const message =
          key === undefined
            ? issue.message
            : `${JSON.stringify(params[key])}: ${issue.field !== configPath(key).join('.') ? `${issue.field}: ` : ''}${issue.message}`;
        const line = `${where}\0${message}`;
        if (!seen.has(line)) issues.push({ field: where, message });
        seen.add(line);
      }
      continue;
    }
    points.push({ index, params, config: config as RunConfigInput });
  }
  if (issues.length) return { ok: false, issues };
  return { ok: true, sweep, points };
}
