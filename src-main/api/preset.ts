/**
 * A named preset (an algorithm spec's presets, learn/algos/<id>/spec.ts) applied to a run config as
 * the user gave it: the preset's algorithm, its hyperparameters under the user's, and for a pixel
 * preset pixel observations with its frame settings under the user's. One place for `train
 * --preset` and a sweep file's `base.preset`. No Node imports: the renderer imports this file.
 */
import { allPresets } from '../learn/algos/specs.ts';
import type { ConfigIssue } from './run-config.ts';

const OBS_WORDS = { lowdim: 'state observations (lowdim)', pixels: 'pixel observations' } as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `config` under preset `name`; issues name `field` (e.g. '--preset', 'base.preset') and why. */
export function withPreset(
  config: Record<string, unknown>,
  name: unknown,
  field: string,
): { config: Record<string, unknown>; issues: ConfigIssue[] } {
  const presets = allPresets();
  const p = typeof name === 'string' && Object.hasOwn(presets, name) ? presets[name] : undefined;
  const label = typeof name === 'string' ? name : JSON.stringify(name);
  if (!p) return { config, issues: [{ field, message: `unknown preset '${label}'; presets: ${Object.keys(presets).join(', ')}` }] };
  if (config.algo !== undefined && config.algo !== p.algo)
    return { config, issues: [{ field, message: `preset '${label}' is for ${p.algo}, not ${String(config.algo)}` }] };
  if (config.obs !== undefined && config.obs !== p.obs)
    return { config, issues: [{ field, message: `preset '${label}' is for ${OBS_WORDS[p.obs]}, not ${String(config.obs)}` }] };
  // The user's values over the preset's; a value that is not an object stays for the schema to name.
  const under = (preset: Readonly<Record<string, unknown>>, given: unknown): unknown =>
    given === undefined ? structuredClone(preset) : isObject(given) ? { ...structuredClone(preset), ...given } : given;
  const out: Record<string, unknown> = { ...config, algo: p.algo, hyperparams: under(p.hyperparams, config.hyperparams) };
  if (p.obs === 'pixels') out.obs = p.obs;
  if (p.pixels !== undefined) out.pixels = under(p.pixels, config.pixels);
  return { config: out, issues: [] };
}
