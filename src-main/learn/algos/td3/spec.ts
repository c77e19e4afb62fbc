/**
 * TD3 (Fujimoto et al. 2018) as the studio knows it: DDPG's hyperparameters (learn/algos/ddpg) with
 * twin critics, delayed actor updates and target policy smoothing switched on. No Node imports:
 * the renderer imports this file.
 */
import {
  ACTOR_CRITIC_METRICS,
  ActorCriticFields,
  checkActorCritic,
  DDPG_PAPER_DEFAULTS,
  DDPG_PIXEL_DEFAULTS,
  DDPG_PIXEL_PAPER,
  type ActorCriticHyperparams,
} from '../ddpg/spec.ts';
import { withDefaults, type AlgorithmSpec } from '../spec.ts';

export type Td3Hyperparams = ActorCriticHyperparams;

/** TD3, Fujimoto et al. 2018, section 6.1 and Table 3 (fields not named here as DDPG's). */
export const TD3_PAPER_DEFAULTS: Readonly<Td3Hyperparams> = Object.freeze({
  ...DDPG_PAPER_DEFAULTS,
  /** Section 6.1: the action enters the critic's input layer; Adam 1e-3 for both; no L2. */
  criticActionLayer: 0,
  actorLr: 1e-3,
  criticLr: 1e-3,
  criticL2: 0,
  /** Section 6.1: tau 0.005, minibatch 100. */
  tau: 0.005,
  batchSize: 100,
  /** The reference code's PyTorch default init (fan-in rule) on every layer. */
  finalLayerInit: null,
  /** Section 6.1: Gaussian exploration noise N(0, 0.1). */
  exploration: 'gaussian',
  /** Section 4.2: clipped double Q. */
  twinCritics: true,
  /** Section 5.2: actor and targets every d = 2 critic updates. */
  policyDelay: 2,
  /** Section 5.3 / 6.1: target smoothing noise 0.2 clipped to 0.5. */
  targetNoise: 0.2,
  targetNoiseClip: 0.5,
  /** Section 6.1: 10^4 steps of uniform random actions before learning. */
  learningStarts: 10_000,
  randomSteps: 10_000,
});

/**
 * What a new TD3 run gets: the paper's values with DDPG's measured changes (learn/algos/ddpg
 * DDPG_DEFAULTS): running observation normalisation, 256-256 networks, and 5000 random warm-up
 * steps instead of 10^4 (a tenth of a 100k-step budget).
 */
export const TD3_DEFAULTS: Readonly<Td3Hyperparams> = Object.freeze({
  ...TD3_PAPER_DEFAULTS,
  actorHidden: [256, 256],
  criticHidden: [256, 256],
  obsNormalization: true,
  learningStarts: 5000,
  randomSteps: 5000,
});

export const td3Spec: AlgorithmSpec<Td3Hyperparams> = {
  id: 'td3',
  label: 'TD3',
  paper: { cite: 'Fujimoto et al. 2018', title: 'Addressing function approximation error in actor-critic methods' },
  schema: withDefaults(ActorCriticFields, TD3_DEFAULTS),
  paperDefaults: TD3_PAPER_DEFAULTS,
  defaults: TD3_DEFAULTS,
  presets: {
    'td3-paper': {
      hyperparams: TD3_PAPER_DEFAULTS,
      obs: 'lowdim',
      description: 'TD3 with the exact values of Fujimoto et al. 2018, section 6.1',
    },
  },
  // DDPG's pixel defaults, themselves close to TD3 (TD3 reports no pixel experiments).
  pixelDefaults: DDPG_PIXEL_DEFAULTS,
  pixelPaper: DDPG_PIXEL_PAPER,
  metrics: ACTOR_CRITIC_METRICS,
  check: checkActorCritic,
};
