/**
 * The TD3 algorithm module: its spec (./spec.ts) over DDPG's actor-critic agent (learn/algos/ddpg/agent.ts)
 * with the three tricks its hyperparameters switch on; export and pixel torsos as DDPG's.
 */
import { ActorCriticAgent } from '../ddpg/agent.ts';
import type { Algorithm } from '../algorithm.ts';
import { actorCriticEncoders, actorCriticPolicy } from '../ddpg/index.ts';
import { td3Spec, type Td3Hyperparams } from './spec.ts';

export const td3: Algorithm<Td3Hyperparams, ActorCriticAgent> = {
  ...td3Spec,
  create: ({ encoder, ...o }) => new ActorCriticAgent({ algo: 'td3', ...o, ...(encoder ? { encoder } : {}) }),
  policy: actorCriticPolicy,
  pixelEncoders: actorCriticEncoders,
};
