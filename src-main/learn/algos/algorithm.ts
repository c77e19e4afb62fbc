/**
 * An algorithm module's descriptor: its spec (learn/algos/spec.ts, what the renderer may read) and
 * the parts that need the learning code — the constructor, the policy network the exporter
 * writes, and how its networks get conv torsos on pixel runs. One per `learn/algos/<id>/index.ts`;
 * the registry is learn/algos/index.ts.
 */
import type { EncoderFactory } from '../nets/encoder.ts';
import type { FlatParams } from '../nets/params.ts';
import type { ConvEncoder, EncoderRole } from '../nets/pixel-nets.ts';
import type { Agent } from '../types.ts';
import type { Executor } from '../exec/executor.ts';
import type { AlgorithmSpec } from './spec.ts';

export interface CreateAgentOptions<H> {
  obsSize: number;
  actionSize: number;
  /** Validated against the spec's schema, defaults filled in. */
  hp: H;
  seed: number;
  /** Torso of every network (pixel runs); absent: the identity on state observations. */
  encoder?: EncoderFactory;
  /** Where the networks run; absent: the executor the active backend selects (learn/exec/select.ts). */
  executor?: Executor;
}

/**
 * The deterministic policy of a trained agent as dense layers over its parameters, after its
 * observation normalisation (agent.obsNorm) and, on pixel runs, its actor's conv torso:
 * (dense, ReLU) x hidden, then the output dense and tanh (export/from-agent.ts turns it into a
 * PolicyGraph).
 */
export interface PolicyNetwork {
  params: FlatParams;
  /** Hidden dense layers by parameter prefix ('l0', ...), with batch norms (by prefix) folded in. */
  hidden: { prefix: string; inNorm?: string | null; outNorm?: string | null }[];
  /** The output layer; `columns`: where it holds several heads side by side, the policy's (first column, count = actions). */
  out: { prefix: string; columns?: { start: number } };
  /** Prefix of the actor's conv torso in getState().tensors (pixel agents), e.g. 'encoder.actor.'. */
  encoderPrefix: string;
}

/** Makes one conv torso for pixel runs (learn/nets/pixel-nets.ts pixelEncoderFactory). */
export type TorsoMaker = (obsSize: number, role: EncoderRole) => ConvEncoder;

/** How the user wired the torsos of a pixel run (learn/algos/pixel-agent.ts PixelAgentOptions). */
export interface PixelTorsoOptions {
  obsSize: number;
  /** One learning rate for every torso; default: the rate of the network each one feeds. */
  encoderLr?: number;
  /** Actor-critic agents: the actor reads the critic's torso detached ('critic') or trains its own ('own'). */
  actorEncoder?: 'critic' | 'own';
  actorEncoderLr?: number;
}

export interface Algorithm<H extends object = Record<string, unknown>, A extends Agent = Agent> extends AlgorithmSpec<H> {
  create(opts: CreateAgentOptions<H>): A;
  /** The policy the exporter writes (see PolicyNetwork). */
  policy(agent: A): PolicyNetwork;
  /**
   * Pixel runs: the EncoderFactory the agent's constructor calls once per network, built from the
   * torso maker. Present exactly when spec.pixelDefaults is not null.
   */
  pixelEncoders?(hp: H, make: TorsoMaker, opts: PixelTorsoOptions): EncoderFactory;
}
