import { HYPERPARAM_SCHEMAS, type Algo, type DdpgHyperparams, type NafHyperparams, type SacHyperparams, type Td3Hyperparams } from '../api/hyperparams.ts';
import { UserError, zodDetails } from '../util/errors.ts';
import { ActorCriticAgent } from './ddpg.ts';
import type { EncoderFactory } from './encoder.ts';
import { NafAgent } from './naf.ts';
import { SacAgent } from './sac.ts';
import type { ActionSpec } from '../sim/types.ts';

export type AnyAgent = ActorCriticAgent | NafAgent | SacAgent;

/**
 * Builds an agent from an algorithm name, the env's sizes, user hyperparameters (validated against
 * the algorithm's zod schema; missing fields take the paper defaults) and a seed. Invalid values
 * are a UserError naming the field.
 */
export function createAgent(algo: 'ddpg', obsSize: number, action: ActionSpec | number, hyperparams: Partial<DdpgHyperparams> | Record<string, unknown>, seed: number, encoder?: EncoderFactory): ActorCriticAgent;
export function createAgent(algo: 'td3', obsSize: number, action: ActionSpec | number, hyperparams: Partial<Td3Hyperparams> | Record<string, unknown>, seed: number, encoder?: EncoderFactory): ActorCriticAgent;
export function createAgent(algo: 'naf', obsSize: number, action: ActionSpec | number, hyperparams: Partial<NafHyperparams> | Record<string, unknown>, seed: number, encoder?: EncoderFactory): NafAgent;
export function createAgent(algo: 'sac', obsSize: number, action: ActionSpec | number, hyperparams: Partial<SacHyperparams> | Record<string, unknown>, seed: number, encoder?: EncoderFactory): SacAgent;
export function createAgent(algo: Algo, obsSize: number, action: ActionSpec | number, hyperparams: Record<string, unknown>, seed: number, encoder?: EncoderFactory): AnyAgent;
export function createAgent(algo: Algo, obsSize: number, action: ActionSpec | number, hyperparams: Record<string, unknown>, seed: number, encoder?: EncoderFactory): AnyAgent {
  const schema = HYPERPARAM_SCHEMAS[algo];
  if (!schema) throw new UserError({ field: 'algo', message: `unknown algorithm '${algo}' (choose ${Object.keys(HYPERPARAM_SCHEMAS).join(', ')})` });
  const parsed = schema.safeParse(hyperparams);
  if (!parsed.success) throw new UserError(zodDetails(undefined, parsed.error.issues.map((i) => ({ ...i, path: ['hyperparams', ...i.path] }))));
  const actionSize = typeof action === 'number' ? action : action.size;
  const enc = encoder ? { encoder } : {};
  if (algo === 'sac') {
    if (encoder) throw new UserError({ field: 'obs', message: 'SAC trains from low-dimensional state in this version; pixel runs: ddpg, td3 or naf' });
    return new SacAgent({ obsSize, actionSize, hp: parsed.data as SacHyperparams, seed });
  }
  if (algo === 'naf') return new NafAgent({ obsSize, actionSize, hp: parsed.data as NafHyperparams, seed, ...enc });
  return new ActorCriticAgent({ algo, obsSize, actionSize, hp: parsed.data as DdpgHyperparams, seed, ...enc });
}

/** Validated hyperparameters with defaults filled in (what a run's config records). */
export function resolveHyperparams(algo: Algo, hyperparams: Record<string, unknown>): DdpgHyperparams | Td3Hyperparams | NafHyperparams | SacHyperparams {
  const parsed = HYPERPARAM_SCHEMAS[algo].safeParse(hyperparams);
  if (!parsed.success) throw new UserError(zodDetails(undefined, parsed.error.issues.map((i) => ({ ...i, path: ['hyperparams', ...i.path] }))));
  return parsed.data as DdpgHyperparams | Td3Hyperparams | NafHyperparams | SacHyperparams;
}
