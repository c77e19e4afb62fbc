/**
 * The NAF algorithm module: its spec (./spec.ts) with the constructor (learn/algos/naf/agent.ts, whose agent
 * brings its model-based part to the training loop as hooks), the policy the exporter writes, and
 * the conv torso of pixel runs.
 */
import { NafAgent } from './agent.ts';
import type { Algorithm } from '../algorithm.ts';
import { nafSpec, type NafHyperparams } from './spec.ts';

export const naf: Algorithm<NafHyperparams, NafAgent> = {
  ...nafSpec,
  create: ({ encoder, ...o }) => new NafAgent({ ...o, ...(encoder ? { encoder } : {}) }),
  // Gu et al. 2016: the policy is mu(x), the maximiser of Q: the mu columns of [V | mu | L entries].
  policy: (agent) => ({
    params: agent.net,
    hidden: agent.hp.hidden.map((_, i) => ({ prefix: `l${i}` })),
    out: { prefix: 'heads', columns: { start: 1 } },
    encoderPrefix: 'encoder.net.',
  }),
  // One network, one torso, at the network's learning rate.
  pixelEncoders: (hp, make, opts) => (size) => make(size, { network: 'q', lr: opts.encoderLr ?? hp.lr }),
};
