/**
 * The DDPG algorithm module: its spec (./spec.ts) with the constructor (learn/algos/ddpg/agent.ts, the
 * actor-critic agent TD3 shares), the policy the exporter writes, and the conv torsos of pixel runs.
 */
import { ActorCriticAgent } from './agent.ts';
import type { EncoderFactory } from '../../nets/encoder.ts';
import { DetachedEncoder } from '../../nets/pixel-nets.ts';
import type { Algorithm, PixelTorsoOptions, PolicyNetwork, TorsoMaker } from '../algorithm.ts';
import { ddpgSpec, type ActorCriticHyperparams } from './spec.ts';

/** The deterministic tanh actor; batch norm, in its inference form affine per unit, folded into the dense layers. */
export function actorCriticPolicy(agent: ActorCriticAgent): PolicyNetwork {
  const bn = agent.hp.batchNorm;
  return {
    params: agent.actor,
    hidden: agent.hp.actorHidden.map((_, i) => ({ prefix: `l${i}`, inNorm: bn && i === 0 ? 'bnIn' : null, outNorm: bn ? `bn${i}` : null })),
    out: { prefix: 'out' },
    encoderPrefix: 'encoder.actor.',
  };
}

/**
 * Conv torsos of an actor-critic agent. Each trains at the learning rate of the network it feeds
 * (DDPG: critic 1e-3, an own actor torso 1e-4). ActorCriticAgent asks for its encoders in the order
 * actor, actor target, critics, critic targets, which the counting below relies on.
 * - actorEncoder 'critic' (default): the actor reads the first critic's torso detached (DrQ-v2 and
 *   SAC-AE practice; see learn/nets/pixel-nets.ts), and TD3's second critic reads it detached as well.
 * - 'own': the DDPG paper's separate actor torso, trained by the actor's gradient at actorEncoderLr.
 */
export function actorCriticEncoders(hp: ActorCriticHyperparams, make: TorsoMaker, opts: PixelTorsoOptions): EncoderFactory {
  let made = 0;
  if ((opts.actorEncoder ?? 'critic') === 'own') {
    return (size) => {
      const actor = made++ < 2;
      return make(
        size,
        actor
          ? { network: 'actor', lr: opts.actorEncoderLr ?? opts.encoderLr ?? hp.actorLr }
          : { network: 'critic', lr: opts.encoderLr ?? hp.criticLr },
      );
    };
  }
  if (opts.actorEncoderLr !== undefined)
    throw new Error("actorEncoderLr needs actorEncoder 'own' (by default the actor reads the critic's torso, which the critic trains)");
  // Made with the actor (and its target), handed to the first critic (and its target) after;
  // TD3's second critic (and its target) read them detached too.
  const critic = make(opts.obsSize, { network: 'critic', lr: opts.encoderLr ?? hp.criticLr });
  const target = make(opts.obsSize, { network: 'critic', lr: opts.encoderLr ?? hp.criticLr });
  const critics = hp.twinCritics ? 2 : 1;
  return () => {
    const i = made++;
    if (i === 2) return critic;
    if (i === 2 + critics) return target;
    return new DetachedEncoder(i === 0 || (i > 2 && i < 2 + critics) ? critic : target);
  };
}

export const ddpg: Algorithm<ActorCriticHyperparams, ActorCriticAgent> = {
  ...ddpgSpec,
  create: ({ encoder, ...o }) => new ActorCriticAgent({ algo: 'ddpg', ...o, ...(encoder ? { encoder } : {}) }),
  policy: actorCriticPolicy,
  pixelEncoders: actorCriticEncoders,
};
