/**
 * Agents with the paper's pixel networks: any registered algorithm with pixel defaults, its dense
 * heads sized by them and a conv torso (learn/nets/pixel-nets.ts) per network, wired by the algorithm's
 * own pixelEncoders (which torso each network trains or reads).
 */
import { UserError } from '../../util/errors.ts';
import { resolveHyperparams } from './factory.ts';
import { PIXEL_CONV_DEFAULTS, pixelEncoderFactory, type ConvLayerSpec, type PixelShape } from '../nets/pixel-nets.ts';
import type { Agent } from '../types.ts';
import type { Executor } from '../exec/executor.ts';
import { getAlgorithm } from './index.ts';
import { pixelAlgos } from './specs.ts';

export interface PixelAgentOptions {
  algo: string;
  shape: PixelShape;
  actionSize: number;
  /** Overrides on top of the algorithm's pixel defaults. */
  hyperparams?: Record<string, unknown>;
  seed: number;
  layers?: readonly ConvLayerSpec[];
  /** Units of a dense + tanh feature trunk after the conv layers (0 or absent: none; see PixelEncoder). */
  trunk?: number;
  /** LayerNorm in the trunk (dense -> LN -> tanh, DrQ-v2 / SAC-AE). */
  trunkNorm?: boolean;
  /** Conv kernels (PixelEncoderConfig.kernels); default native on the tensorflow and webgpu backends. */
  kernels?: 'native' | 'arena';
  /** Where the dense networks run; absent: the executor the active backend selects (learn/exec/select.ts). */
  executor?: Executor;
  /** One learning rate for every conv torso; default: the rate of the network each one feeds. */
  encoderLr?: number;
  /**
   * Actor-critic agents (DDPG/TD3): which conv torso the actor reads.
   * 'critic' (default): the first critic's, detached (DetachedEncoder; DrQ-v2 and SAC-AE practice):
   *   one torso, trained by the first critic's TD loss only (TD3's second critic reads it detached
   *   as well; DrQ-v2 trains its one encoder with both critics' losses); an update runs two torso
   *   forwards (critic, critic target) and one backward instead of five and two (seven and three
   *   for TD3).
   * 'own': the DDPG paper's separate actor torso, trained by the actor's gradient at
   *   actorEncoderLr (0 freezes it at its initialisation).
   */
  actorEncoder?: 'critic' | 'own';
  /** Learning rate of the actor's own conv torso (actorEncoder 'own'). Default: as encoderLr. */
  actorEncoderLr?: number;
}

/** The algorithm's pixel defaults under `overrides` (a fresh object: its arrays are not shared). */
export function pixelHyperparams(algo: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const defaults = getAlgorithm(algo).pixelDefaults;
  if (defaults === null) throw new UserError({ field: 'algo', message: `pixel runs train ${pixelAlgos().join(', ')}, not ${algo}` });
  return { ...structuredClone(defaults as Record<string, unknown>), ...overrides };
}

/** An agent of `opts.algo` on pixel observations of `opts.shape`. */
export function createPixelAgent(opts: PixelAgentOptions): Agent {
  const algorithm = getAlgorithm(opts.algo);
  const overrides = pixelHyperparams(opts.algo, opts.hyperparams);
  if (!algorithm.pixelEncoders) throw new Error(`algorithm '${opts.algo}' has pixel defaults but no pixelEncoders`);
  const hp = resolveHyperparams(opts.algo, overrides);
  const obsSize = opts.shape.height * opts.shape.width * opts.shape.channels;
  const make = pixelEncoderFactory({
    ...opts.shape,
    layers: opts.layers ?? PIXEL_CONV_DEFAULTS,
    lr: 1e-3,
    seed: opts.seed ^ 0x5eed,
    trunk: opts.trunk ?? 0,
    trunkNorm: opts.trunkNorm ?? false,
    ...(opts.kernels ? { kernels: opts.kernels } : {}),
  });
  const torso = {
    obsSize,
    ...(opts.encoderLr !== undefined ? { encoderLr: opts.encoderLr } : {}),
    ...(opts.actorEncoder ? { actorEncoder: opts.actorEncoder } : {}),
    ...(opts.actorEncoderLr !== undefined ? { actorEncoderLr: opts.actorEncoderLr } : {}),
  };
  const encoder = algorithm.pixelEncoders(hp, make, torso);
  return algorithm.create({
    obsSize,
    actionSize: opts.actionSize,
    hp,
    seed: opts.seed,
    encoder,
    ...(opts.executor ? { executor: opts.executor } : {}),
  });
}
