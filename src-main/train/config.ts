import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, RUN_DEFAULTS, type RunConfig } from '../api/run-config.ts';
import { findAlgorithmSpec } from '../learn/algos/specs.ts';
import { UserError } from '../util/errors.ts';
import { appRoot } from '../util/paths.ts';
import { renderHostPageDir } from '../render/host.ts';
import { findChromium } from '../render/headless.ts';
import { parseTaskSpec, resolveEnv, type ResolvedEnv } from '../sim/registry.ts';
import type { EnvSource } from '../sim/env.ts';
import type { RunFiles } from '../store/run-store.ts';

/**
 * Turns what the user gave into a config the trainer can run, or refuses it before anything starts:
 * every issue names its field (a negative learning rate, a batch larger than the buffer, an unknown
 * env, pixels without the render host).
 */
export function resolveRunConfig(raw: unknown): { config: RunConfig; env: ResolvedEnv } {
  const pixels = isObject(raw) && raw.obs === 'pixels';
  const parsed = parseRunConfig(pixels ? withPixelDefaults(raw) : raw);
  if (!parsed.ok) throw new UserError(parsed.issues);
  const config = parsed.config;
  if (config.obs === 'pixels') {
    const issues: { field: string; message: string }[] = [];
    for (const check of [() => renderHostPageDir(), () => findChromium()]) {
      try {
        check();
      } catch (e) {
        issues.push({ field: 'obs', message: `pixel observations need the render host: ${(e as Error).message}` });
      }
    }
    if (config.hyperparams.prioritizedReplay)
      issues.push({ field: 'hyperparams.prioritizedReplay', message: 'prioritized replay is not available with pixel observations' });
    if (issues.length) throw new UserError(issues);
  }
  const env = resolveEnv(config.env);
  return { config, env };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The algorithm's pixel-network defaults (its spec's pixelDefaults), resolved here so config.json
 * records what the pixel agent uses; null for an unknown algorithm or one without a pixel variant.
 */
export function pixelHyperparamDefaults(algo: unknown): Record<string, unknown> | null {
  const defaults = typeof algo === 'string' ? findAlgorithmSpec(algo)?.pixelDefaults : null;
  return defaults ? structuredClone(defaults as Record<string, unknown>) : null;
}

function withPixelDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  // An algorithm without a pixel variant keeps its own hyperparameters: parseRunConfig names the algo.
  const defaults = pixelHyperparamDefaults(raw.algo ?? RUN_DEFAULTS.algo);
  if (!defaults) return raw;
  const given = isObject(raw.hyperparams) ? raw.hyperparams : raw.hyperparams === undefined ? {} : null;
  if (given === null) return raw; // not an object: the schema names the field
  return { ...raw, hyperparams: { ...defaults, ...given } };
}

/** The env a run trains on: the copy of its files taken when the run was created. */
export function runEnvSource(run: RunFiles): EnvSource {
  const c = run.readConfig();
  const files = run.readEnvFiles();
  const spec = files.find((f) => f.name === c.env.specFile);
  if (!spec) throw new UserError({ file: join(run.envDir, c.env.specFile), message: "the run's task spec is missing" });
  return {
    id: c.env.id,
    xml: c.env.xml,
    specFile: c.env.specFile,
    spec: parseTaskSpec(c.env.specFile, typeof spec.content === 'string' ? spec.content : Buffer.from(spec.content).toString('utf8')),
    files,
  };
}

/** Versions recorded in every run's config.json (read from the packages, so TF.js is not loaded here). */
export function versions(): Record<string, string> {
  const pkg = (name: string): string => {
    const p = join(appRoot(), 'node_modules', ...name.split('/'), 'package.json');
    try {
      return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version : 'unknown';
    } catch {
      return 'unknown';
    }
  };
  let studio = 'unknown';
  try {
    studio = (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* left unknown */
  }
  return { rlStudio: studio, tfjs: pkg('@tensorflow/tfjs'), mujoco: pkg('@mujoco/mujoco'), node: process.versions.node };
}
