/** Agents from an algorithm id and user hyperparameters, through the algorithm registry (learn/algos). */
import { UserError, zodDetails } from '../../util/errors.ts';
import type { EncoderFactory } from '../nets/encoder.ts';
import { getAlgorithm, type AgentOf } from './index.ts';
import type { BuiltInAlgo } from './specs.ts';
import type { Agent } from '../types.ts';
import type { ActionSpec } from '../../sim/types.ts';

/** The agent a call to createAgent returns: the shipped algorithm's class, else the interface. */
export type AgentFor<K extends string> = K extends BuiltInAlgo ? AgentOf<K> : Agent;

/**
 * Builds an agent from an algorithm id (learn/algos registry), the env's sizes, user
 * hyperparameters (validated against the algorithm's zod schema; missing fields take its defaults)
 * and a seed. An unknown algorithm or an invalid value is a UserError naming the field.
 */
export function createAgent<K extends string>(
  algo: K,
  obsSize: number,
  action: ActionSpec | number,
  hyperparams: Record<string, unknown>,
  seed: number,
  encoder?: EncoderFactory,
): AgentFor<K> {
  const algorithm = getAlgorithm(algo);
  const hp = resolveHyperparams(algo, hyperparams);
  const actionSize = typeof action === 'number' ? action : action.size;
  return algorithm.create({ obsSize, actionSize, hp, seed, ...(encoder ? { encoder } : {}) }) as AgentFor<K>;
}

/** Validated hyperparameters with defaults filled in (what a run's config records). */
export function resolveHyperparams(algo: string, hyperparams: Record<string, unknown>): Record<string, unknown> {
  const parsed = getAlgorithm(algo).schema.safeParse(hyperparams);
  if (!parsed.success)
    throw new UserError(
      zodDetails(
        undefined,
        parsed.error.issues.map((i) => ({ ...i, path: ['hyperparams', ...i.path] })),
      ),
    );
  return parsed.data;
}
