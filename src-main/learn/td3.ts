import type { Td3Hyperparams } from './algos/td3/spec.ts';
import { ActorCriticAgent } from './ddpg.ts';
import type { EncoderFactory } from './encoder.ts';

/**
 * TD3 (Fujimoto et al. 2018): DDPG's code with twin critics (clipped double Q, section 4.2),
 * target policy smoothing (section 5.3) and delayed actor/target updates (section 5.2), all set by
 * TD3_PAPER_DEFAULTS.
 */
export function createTd3(obsSize: number, actionSize: number, hp: Td3Hyperparams, seed: number, encoder?: EncoderFactory): ActorCriticAgent {
  return new ActorCriticAgent({ algo: 'td3', obsSize, actionSize, hp, seed, ...(encoder ? { encoder } : {}) });
}
