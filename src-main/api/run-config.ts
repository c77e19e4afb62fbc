/**
 * The run config: everything a training run is started from, validated once at the boundary (CLI
 * flags, the New-run form, a createRun request). Hyperparameters are checked by the algorithm's own
 * schema (learn/algos/<id>/spec.ts, through the registry learn/algos/specs.ts) and come back with
 * the defaults filled in, so config.json records every number the run used.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';
import { algorithmIds, findAlgorithmSpec, pixelAlgos, type BuiltInAlgo } from '../learn/algos/specs.ts';
import type { CommonHyperparams } from '../learn/algos/spec.ts';
import { CONV_TORSO_NAMES } from '../learn/nets/conv-torsos.ts';
import { PIXEL_SETTINGS_DEFAULTS, PIXEL_SETTINGS_PAPER } from './pixel-settings.ts';
export { PIXEL_SETTINGS_DEFAULTS, PIXEL_SETTINGS_PAPER };
export const OBS_KINDS = ['lowdim', 'pixels'] as const;
export type ObsKind = (typeof OBS_KINDS)[number];

/** Defaults of a new run: DDPG on the dense pendulum, sized to give a result in about a minute on one core. */
export const RUN_DEFAULTS = Object.freeze({
  env: 'pendulum',
  algo: 'ddpg' satisfies BuiltInAlgo as string,
  obs: 'lowdim' as ObsKind,
  seed: 0,
  steps: 4000,
  evalEvery: 1000,
  evalEpisodes: 5,
  checkpointEvery: 1000,
  keepCheckpoints: 3,
  saveReplay: true,
  tags: [] as string[],
});

/**
 * The run `rl-studio train` trains with no arguments, and the New-run form suggests for this env:
 * a preset sized for a result in about a minute on one core (its deviations are written down where
 * the preset is declared).
 */
export const QUICK_RUN = Object.freeze({ env: 'pendulum', preset: 'ddpg-quick' });

/** Pixel observation settings (used when obs is 'pixels'); api/pixel-settings.ts has the paper's and the defaults. */
export const PixelSettingsSchema = z.strictObject({
  size: z.number().int().min(32).max(256).default(PIXEL_SETTINGS_DEFAULTS.size).describe('frames are size x size pixels (paper: 64)'),
  actionRepeat: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(PIXEL_SETTINGS_DEFAULTS.actionRepeat)
    .describe('physics steps per agent step, the action held (paper: 3)'),
  stacking: z
    .enum(['repeats', 'sliding'])
    .default(PIXEL_SETTINGS_DEFAULTS.stacking)
    .describe(
      "'repeats': every repeat rendered and stacked (paper); 'sliding': one frame per step, the last `stack` steps (a third of the replay memory)",
    ),
  stack: z
    .number()
    .int()
    .min(1)
    .max(8)
    .default(PIXEL_SETTINGS_DEFAULTS.stack)
    .describe("frames per observation with 'sliding' stacking ('repeats': the action repeats)"),
  shift: z
    .number()
    .int()
    .min(0)
    .max(16)
    .default(PIXEL_SETTINGS_DEFAULTS.shift)
    .describe('random-shift augmentation of replayed frames, in pixels (DrQ); 0: none'),
  trunk: z
    .number()
    .int()
    .min(0)
    .max(1024)
    .default(PIXEL_SETTINGS_DEFAULTS.trunk)
    .describe('units of a dense + tanh feature trunk after the conv layers (SAC-AE); 0: none (paper)'),
  trunkNorm: z
    .boolean()
    .default(PIXEL_SETTINGS_DEFAULTS.trunkNorm)
    .describe("LayerNorm before the trunk's tanh (DrQ-v2): without it the tanh saturates within ~100 updates"),
  nStep: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(PIXEL_SETTINGS_DEFAULTS.nStep)
    .describe('n-step returns: rewards of n steps summed before bootstrapping (DrQ-v2: 3); 1: none (paper)'),
  antialias: z
    .boolean()
    .default(PIXEL_SETTINGS_DEFAULTS.antialias)
    .describe('multisample anti-aliased frames, as MuJoCo renders: a thin pole shows sub-pixel motion'),
  conv: z
    .enum(CONV_TORSO_NAMES)
    .default(PIXEL_SETTINGS_DEFAULTS.conv)
    .describe(
      "conv torso: 'fast' (4x4/4, 3x3/2, 3x3/1; 3 layers x 32 as the paper, strides ours) or 'drq' (DrQ-v2: 3x3/2 then three 3x3/1; ~20x the multiply-adds)",
    ),
});
export type PixelSettings = z.output<typeof PixelSettingsSchema>;

/** A run's pixel settings; a setting its config.json lacks (added later) is the paper's, which runs trained with before. */
export function pixelSettings(config: Pick<RunConfig, 'pixels'>): PixelSettings {
  // Settings added later are absent from older runs' configs: they trained with the paper's value,
  // the default of every version before the defaults moved (api/pixel-settings.ts).
  return { ...PIXEL_SETTINGS_PAPER, ...(config.pixels as Partial<PixelSettings> | undefined) };
}

const count = (d: number, min: number, what: string) => z.number().int().min(min).max(1_000_000_000).default(d).describe(what);

/** What the user gives (every field but env has a default). */
export const RunConfigInputSchema = z.strictObject({
  /** Built-in or library env id, or a path to an MJCF with its task spec. */
  env: z.string().min(1).max(1024).default(RUN_DEFAULTS.env).describe('environment id or path'),
  // Checked against the registry when parsed, so an algorithm registered later is accepted.
  algo: z
    .string()
    .default(RUN_DEFAULTS.algo)
    .refine((id) => findAlgorithmSpec(id) !== undefined, {
      error: (i) => `unknown algorithm '${String(i.input)}' (choose ${algorithmIds().join(', ')})`,
    })
    .describe('learning algorithm'),
  obs: z.enum(OBS_KINDS).default(RUN_DEFAULTS.obs).describe('observation type: low-dimensional state or rendered pixels'),
  pixels: PixelSettingsSchema.default(() => ({ ...PIXEL_SETTINGS_DEFAULTS })).describe('pixel observation settings (obs pixels)'),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(RUN_DEFAULTS.seed)
    .describe('seed of the env, the networks and exploration'),
  steps: count(RUN_DEFAULTS.steps, 1, 'environment steps to train for'),
  evalEvery: count(RUN_DEFAULTS.evalEvery, 1, 'environment steps between evaluations'),
  evalEpisodes: count(RUN_DEFAULTS.evalEpisodes, 0, 'deterministic episodes per evaluation (recorded for replay)'),
  checkpointEvery: count(
    RUN_DEFAULTS.checkpointEvery,
    1,
    'environment steps between checkpoints (at most this much work is lost on a crash)',
  ),
  keepCheckpoints: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(RUN_DEFAULTS.keepCheckpoints)
    .describe('checkpoints kept on disk (older ones are deleted)'),
  /**
   * Warm-up: uniform random actions and no updates for the first steps. null takes the algorithm's
   * own numbers, max(randomSteps, learningStarts) (DDPG: 64, one minibatch; TD3: 10^4).
   */
  warmupSteps: z
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .nullable()
    .default(null)
    .describe('random-action steps before learning; null: the algorithm default'),
  saveReplay: z.boolean().default(RUN_DEFAULTS.saveReplay).describe('store the replay buffer in checkpoints (exact resume; larger files)'),
  hyperparams: z.record(z.string(), z.unknown()).default({}).describe('algorithm hyperparameters; missing ones take the paper defaults'),
  name: z.string().max(200).optional().describe('display name'),
  tags: z.array(z.string().min(1).max(64)).max(32).default(RUN_DEFAULTS.tags).describe('tags'),
});
export type RunConfigInput = z.input<typeof RunConfigInputSchema>;

/** Validated hyperparameters: the fields every algorithm has, and the algorithm's own. */
export type ResolvedHyperparams = CommonHyperparams & Record<string, unknown>;

/** A validated config with the hyperparameters complete. */
export type RunConfig = Omit<z.output<typeof RunConfigInputSchema>, 'hyperparams' | 'warmupSteps'> & {
  hyperparams: ResolvedHyperparams;
  /** Resolved: random-action steps before the first update. */
  warmupSteps: number;
};

/** A seed sweep: one config trained with N seeds (seed, seed+1, ...) as one experiment. */
export const SweepInputSchema = z.strictObject({
  config: z.unknown(),
  seeds: z.number().int().min(1).max(64).default(1),
});

export interface ConfigIssue {
  field: string;
  message: string;
}

export type ParseResult = { ok: true; config: RunConfig } | { ok: false; issues: ConfigIssue[] };

function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k ? '.' : ''}${String(p)}`)).join('') || '(root)';
}

/**
 * Validates a run config: shape and bounds, the hyperparameters against the algorithm's schema,
 * and the cross-field rules (batch within the replay buffer). Every issue names its field. The env
 * itself is resolved later on the engine side (the renderer cannot read files).
 */
export function parseRunConfig(raw: unknown): ParseResult {
  const base = RunConfigInputSchema.safeParse(raw ?? {});
  if (!base.success) return { ok: false, issues: base.error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message })) };
  const c = base.data;
  const spec = findAlgorithmSpec(c.algo)!;
  const hp = spec.schema.safeParse(c.hyperparams);
  if (!hp.success)
    return { ok: false, issues: hp.error.issues.map((i) => ({ field: fieldOf(['hyperparams', ...i.path]), message: i.message })) };
  const h = hp.data as ResolvedHyperparams;
  const issues: ConfigIssue[] = [];
  if (h.batchSize > h.replayCapacity)
    issues.push({
      field: 'hyperparams.batchSize',
      message: `batch size ${h.batchSize} is larger than the replay buffer (${h.replayCapacity})`,
    });
  issues.push(...(spec.check?.(h, c.obs) ?? []));
  if (c.obs === 'pixels' && spec.pixelDefaults === null)
    issues.push({
      field: 'algo',
      message: `pixel runs train ${pixelAlgos().join(', ')}; ${c.algo} trains from low-dimensional state in this version`,
    });
  if (issues.length) return { ok: false, issues };
  const warmupSteps = c.warmupSteps ?? Math.max(h.randomSteps, h.learningStarts);
  return { ok: true, config: { ...c, hyperparams: h, warmupSteps } };
}
