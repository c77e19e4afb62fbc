/**
 * The SAC algorithm module: its spec (./spec.ts) with the constructor (learn/algos/sac/agent.ts) and the policy
 * the exporter writes. State observations only: no pixel torsos.
 */
import { SacAgent } from './agent.ts';
import type { Algorithm } from '../algorithm.ts';
import { sacSpec, type SacHyperparams } from './spec.ts';

export const sac: Algorithm<SacHyperparams, SacAgent> = {
  ...sacSpec,
  create: ({ encoder, ...o }) => {
    if (encoder) throw new Error('SAC trains from low-dimensional state in this version');
    return new SacAgent(o);
  },
  // The deterministic policy is the squashed mean: the first columns of the actor's [mu | log sigma].
  policy: (agent) => ({
    params: agent.actor,
    hidden: agent.hp.actorHidden.map((_, i) => ({ prefix: `l${i}` })),
    out: { prefix: 'out', columns: { start: 0 } },
    encoderPrefix: 'encoder.actor.',
  }),
};
