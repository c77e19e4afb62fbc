/**
 * What every algorithm module declares about itself without any code that trains: its name, its
 * paper, its hyperparameter schema with the paper's values and the values a new run gets, its
 * presets, its pixel defaults and its metric names. The renderer imports these specs (the New-run
 * form, the charts), so this file and every `learn/algos/<id>/spec.ts` import zod and nothing from
 * Node. The constructor and the exporter's part live in `learn/algos/<id>/index.ts`.
 *
 * Also here: the hyperparameter fields several algorithms share (replay, warm-up, exploration
 * noise), declared once with their bounds and descriptions.
 */
import { z } from 'zod';

/** A problem with a run's settings, named by field (as api/run-config.ts reports it). */
export interface SpecIssue {
  field: string;
  message: string;
}

/** One metric an update reports: what it measures, and the chart title where its logged name will not do. */
export interface MetricSpec {
  label?: string;
  description: string;
}

/** A named hyperparameter set of one algorithm. */
export interface PresetSpec {
  hyperparams: Readonly<Record<string, unknown>>;
  /**
   * The observations it is for: 'lowdim' (values for state runs: a pixel run is refused them, it
   * has its own networks) or 'pixels' (it makes the run a pixel run and sets its frames, `pixels`).
   */
  obs: 'lowdim' | 'pixels';
  /** The pixel settings (run config `pixels`) of a pixel preset, under the user's. */
  pixels?: Readonly<Record<string, unknown>>;
  description: string;
}

export interface AlgorithmSpec<H extends object = Record<string, unknown>> {
  /** Short id, as in run configs, `--algo` and metrics: lower case. */
  readonly id: string;
  /** How the studio names it, e.g. 'DDPG'. */
  readonly label: string;
  /** The paper it implements: how the studio cites it ('Lillicrap et al. 2015') and its title. */
  readonly paper: { readonly cite: string; readonly title: string };
  /** The hyperparameters: bounds, one-line descriptions, and as defaults what a new run gets. */
  readonly schema: z.ZodType<H, Record<string, unknown>> & { shape: Record<string, z.ZodType> };
  /** The paper's values (each field cites where it comes from where the object is declared). */
  readonly paperDefaults: Readonly<H>;
  /** What a new run gets: the values that learn here, each change from the paper written down. */
  readonly defaults: Readonly<H>;
  /** Named presets (key: the preset's name, unique over all algorithms); '<id>-paper' holds paperDefaults. */
  readonly presets: Readonly<Record<string, PresetSpec>>;
  /** Defaults of pixel-observation runs under the user's values; null: state observations only. */
  readonly pixelDefaults: Readonly<Partial<H>> | null;
  /** The paper's pixel values (over paperDefaults) where pixelDefaults depart from them; absent: pixelDefaults are the paper's. */
  readonly pixelPaper?: Readonly<Partial<H>>;
  /**
   * Metric names the agent's update reports (metrics.jsonl 'update' records), each with a one-line
   * description, in the order the studio charts them.
   */
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  /** Rules between fields the schema cannot say (each issue names its field, 'hyperparams.<name>'). */
  check?(hp: H, obs: 'lowdim' | 'pixels'): SpecIssue[];
}

type Defaulted<T extends z.ZodRawShape> = { -readonly [K in keyof T]: z.ZodDefault<T[K]> };

/**
 * The strict schema of `fields` with `defaults` as every field's default (the description kept):
 * the fields are declared once, the values that fill them where the algorithm documents them.
 */
export function withDefaults<T extends z.ZodRawShape>(
  fields: z.ZodObject<T>,
  defaults: Readonly<z.output<z.ZodObject<T>>>,
): z.ZodObject<Defaulted<T>, z.core.$strict> {
  const shape: Record<string, z.ZodType> = {};
  const d = defaults as Record<string, unknown>;
  for (const [name, field] of Object.entries(fields.shape) as [string, z.ZodType][]) {
    if (!(name in d)) throw new Error(`no default for hyperparameter '${name}'`);
    shape[name] = field.default(d[name] as never).describe(field.description ?? name);
  }
  return z.strictObject(shape) as unknown as z.ZodObject<Defaulted<T>, z.core.$strict>;
}

export const layers = (what: string) => z.array(z.number().int().min(1).max(4096)).min(1).max(6).describe(what);
export const num = (min: number, max: number, what: string) => z.number().min(min).max(max).describe(what);
export const int = (min: number, max: number, what: string) => z.number().int().min(min).max(max).describe(what);
export const bool = (what: string) => z.boolean().describe(what);

/** Fields every algorithm has: the trainer, the replay and the exporter read them from any agent. */
export const common = {
  gamma: num(0, 1, 'discount factor'),
  tau: num(1e-6, 1, 'soft target update rate'),
  batchSize: int(1, 4096, 'minibatch size'),
  replayCapacity: int(100, 10_000_000, 'replay buffer capacity (transitions)'),
  finalLayerInit: z.number().gt(0).max(1).nullable().describe('final-layer init U(-x, x); null: fan-in rule'),
  updatesPerStep: int(1, 100, 'gradient updates per environment step'),
  learningStarts: int(0, 10_000_000, 'environment steps before the first update'),
  randomSteps: int(0, 10_000_000, 'uniform random actions for the first steps'),
  prioritizedReplay: bool('proportional prioritized replay'),
  priorityAlpha: num(0, 1, 'priority exponent alpha'),
  priorityBeta: num(0, 1, 'initial importance-sampling exponent beta'),
  obsNormalization: bool('running observation normalisation (not in the paper)'),
};

/** The part of every algorithm's hyperparameters the shared machinery (trainer, replay) reads. */
export type CommonHyperparams = { [K in keyof typeof common]: z.output<(typeof common)[K]> };

export const EXPLORATION_KINDS = ['ou', 'gaussian', 'param', 'none'] as const;
export type ExplorationKind = (typeof EXPLORATION_KINDS)[number];

/** Action-noise fields of the deterministic-policy algorithms (learn/algos/noise.ts). */
export const exploration = {
  exploration: z.enum(EXPLORATION_KINDS).describe('exploration: ou | gaussian | param (parameter space) | none'),
  ouTheta: num(0, 10, 'Ornstein-Uhlenbeck mean reversion theta'),
  ouSigma: num(0, 10, 'Ornstein-Uhlenbeck scale sigma'),
  gaussianSigma: num(0, 10, 'Gaussian action noise std'),
  paramNoiseTarget: num(1e-4, 10, 'parameter noise: target action-space std (delta)'),
  paramNoiseInitial: num(1e-6, 10, 'parameter noise: initial weight std'),
  noiseStartScale: num(
    1,
    100,
    'action noise at the first exploring step as a multiple of its sigma; it decays linearly to 1x over noiseDecaySteps (DrQ-v2: std 1.0 to 0.1, i.e. 10 with gaussianSigma 0.1)',
  ),
  noiseDecaySteps: int(
    0,
    100_000_000,
    'exploring steps over which the action noise decays from noiseStartScale x sigma to sigma (0: constant noise)',
  ),
};

/**
 * Fields of metrics.jsonl records the training loop writes itself: no update metric may take
 * these names (the trainer drops one that does).
 */
export const RESERVED_METRIC_NAMES: ReadonlySet<string> = new Set([
  'step',
  'time',
  'kind',
  'updates',
  'steps_per_s',
  'episode',
  'episode_return',
  'episode_length',
  'diverged',
  'diverged_episodes',
  'eval_return',
  'eval_return_min',
  'eval_return_max',
  'eval_return_std',
  'eval_returns',
  'episodes',
]);

/** A metric name as metrics.jsonl and the charts key it: snake_case, not a reserved field. */
export function metricNameProblem(name: string): string | null {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) return `metric '${name}': lower-case letters, digits and '_'`;
  if (RESERVED_METRIC_NAMES.has(name)) return `metric '${name}' is a field the training loop writes`;
  return null;
}

/** Metric specs from a name -> description map (metrics charted under their logged names). */
export function described(descriptions: Readonly<Record<string, string>>): Record<string, MetricSpec> {
  return Object.fromEntries(Object.entries(descriptions).map(([name, description]) => [name, { description }]));
}

/** Metrics every value-based update reports (the names old runs' metrics.jsonl carry too). */
export const CRITIC_METRICS = {
  critic_loss: { label: 'Critic loss', description: 'mean squared TD error of the critic(s) on the update batch' },
  q: { label: 'Q', description: 'mean Q(s, a) of the update batch' },
} as const satisfies Record<string, MetricSpec>;
