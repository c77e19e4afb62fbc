/**
 * Hyperparameters of the learning algorithms: typed, documented, validated once at the boundary.
 * Each algorithm has a frozen defaults object whose fields cite the paper the number comes from,
 * and a zod schema (descriptions, defaults, bounds) the New-run form is built from.
 *
 * No Node imports here: the renderer imports this file.
 */
import { z } from 'zod';

export type ExplorationKind = 'ou' | 'gaussian' | 'param' | 'none';

/** Fields shared by DDPG and TD3 (TD3 is DDPG with its three tricks switched on). */
export interface ActorCriticHyperparams {
  /** Actor hidden layer sizes. DDPG supplement 7: 400 and 300 ReLU units. */
  actorHidden: number[];
  /** Critic hidden layer sizes. DDPG supplement 7: 400 and 300 ReLU units. */
  criticHidden: number[];
  /** 0-based hidden layer the action enters the critic at. DDPG supplement 7: "not included until the 2nd hidden layer" (1). TD3: input layer (0). */
  criticActionLayer: number;
  /** Actor Adam learning rate. DDPG supplement 7: 1e-4. */
  actorLr: number;
  /** Critic Adam learning rate. DDPG supplement 7: 1e-3. */
  criticLr: number;
  /** L2 weight decay on critic weights. DDPG supplement 7: 1e-2. */
  criticL2: number;
  /** Discount. DDPG supplement 7: 0.99. */
  gamma: number;
  /** Soft target update rate. DDPG supplement 7: 0.001. */
  tau: number;
  /** Minibatch size. DDPG supplement 7: 64 (low-dimensional). */
  batchSize: number;
  /** Replay buffer capacity in transitions. DDPG supplement 7: 10^6. */
  replayCapacity: number;
  /** Final-layer init U(-x, x); null uses the fan-in rule of the hidden layers. DDPG supplement 7: 3e-3. */
  finalLayerInit: number | null;
  /** Exploration strategy. DDPG: Ornstein-Uhlenbeck; TD3: Gaussian; param: Plappert et al. 2017. */
  exploration: ExplorationKind;
  /** OU mean-reversion rate. DDPG supplement 7: 0.15. */
  ouTheta: number;
  /** OU scale. DDPG supplement 7: 0.2. */
  ouSigma: number;
  /** Std of Gaussian action noise. TD3 section 6.1: 0.1. */
  gaussianSigma: number;
  /** Target action std for adaptive parameter noise (delta). Plappert et al. 2017: 0.2. */
  paramNoiseTarget: number;
  /** Initial parameter-noise std. Plappert et al. 2017 (baselines): 0.1. */
  paramNoiseInitial: number;
  /** Twin critics, clipped double Q. TD3 section 4.2; off in DDPG. */
  twinCritics: boolean;
  /** Actor and target updates every d critic updates. TD3 section 5.2: 2; DDPG: 1. */
  policyDelay: number;
  /** Target policy smoothing noise std. TD3 section 5.3: 0.2; DDPG: 0. */
  targetNoise: number;
  /** Clip of the target smoothing noise. TD3 section 6.1: 0.5. */
  targetNoiseClip: number;
  /** Gradient updates per environment step. Both papers: 1. */
  updatesPerStep: number;
  /** Environment steps before the first update (not stated by DDPG; one minibatch). */
  learningStarts: number;
  /** Uniform random actions for the first steps. TD3 section 6.1: 10^4; DDPG: 0. */
  randomSteps: number;
  /** Proportional prioritized replay (Schaul et al. 2016); not in the paper. */
  prioritizedReplay: boolean;
  /** Priority exponent alpha. Schaul et al. 2016, proportional: 0.6. */
  priorityAlpha: number;
  /** Initial importance-sampling exponent beta, annealed to 1. Schaul et al. 2016: 0.4. */
  priorityBeta: number;
  /** Running observation normalisation; not in the paper, off by default. */
  obsNormalization: boolean;
  /**
   * Batch normalisation of the state input and hidden layers (the critic's only below the action).
   * DDPG supplement 7 used it for the low-dimensional tasks; off by default because the suite's
   * observations are already O(1) and TD3's DDPG re-implementation (Fujimoto et al. 2018) drops it.
   */
  batchNorm: boolean;
}

export type DdpgHyperparams = ActorCriticHyperparams;
export type Td3Hyperparams = ActorCriticHyperparams;

/** DDPG, Lillicrap et al. 2015, supplementary section 7 (low-dimensional experiments). */
export const DDPG_PAPER_DEFAULTS: Readonly<DdpgHyperparams> = Object.freeze({
  actorHidden: [400, 300],
  criticHidden: [400, 300],
  criticActionLayer: 1,
  actorLr: 1e-4,
  criticLr: 1e-3,
  criticL2: 1e-2,
  gamma: 0.99,
  tau: 0.001,
  batchSize: 64,
  replayCapacity: 1_000_000,
  finalLayerInit: 3e-3,
  exploration: 'ou' as ExplorationKind,
  ouTheta: 0.15,
  ouSigma: 0.2,
  gaussianSigma: 0.1,
  paramNoiseTarget: 0.2,
  paramNoiseInitial: 0.1,
  twinCritics: false,
  policyDelay: 1,
  targetNoise: 0,
  targetNoiseClip: 0.5,
  updatesPerStep: 1,
  learningStarts: 64,
  randomSteps: 0,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
  batchNorm: false,
});

/**
 * DDPG "quick" preset: still DDPG (one critic, no target smoothing, no delayed actor, OU noise
 * 0.15/0.2), sized for a result in about a minute instead of the paper's 10^6-step runs. Deviations
 * from supplement 7, each because the paper's number is tuned for long runs:
 * - 64-64 ReLU actor and critic instead of 400-300 (~40x fewer multiply-adds per update);
 * - actor Adam 1e-3 instead of 1e-4 and tau 0.005 instead of 0.001 (targets and actor follow the
 *   critic in ~200 updates instead of ~1000), as TD3's settings;
 * - no critic L2 (1e-2 in the paper);
 * - the action enters the critic at its first layer (as TD3) instead of the 2nd: with 64-unit
 *   layers and the action one ReLU layer below Q, the critic was close to linear in the action,
 *   dQ/da kept one sign over the whole action range and the tanh actor saturated at a constant
 *   +-1 (dense pendulum, 10k steps: 2 of 3 seeds ended at -1050/-625 or stuck at a constant
 *   action, also with actor lr 1e-4 or 3e-4; with the action at the input all 3 reached -100..-135
 *   within 5k steps);
 * - batch 128 instead of 64;
 * - 1000 uniform random warm-up steps (5 pendulum episodes) before the first update, instead of
 *   acting with the untrained actor plus OU noise (the paper: none; TD3: 10^4).
 * Measured on the dense pendulum (see test/unit/learn/learns-pendulum.test.ts).
 */
export const DDPG_QUICK_PRESET: Readonly<DdpgHyperparams> = Object.freeze({
  ...DDPG_PAPER_DEFAULTS,
  actorHidden: [64, 64],
  criticHidden: [64, 64],
  criticActionLayer: 0,
  actorLr: 1e-3,
  criticL2: 0,
  tau: 0.005,
  batchSize: 128,
  learningStarts: 1000,
  randomSteps: 1000,
});

/** TD3, Fujimoto et al. 2018, section 6.1 and Table 3. */
export const TD3_PAPER_DEFAULTS: Readonly<Td3Hyperparams> = Object.freeze({
  ...DDPG_PAPER_DEFAULTS,
  criticActionLayer: 0,
  actorLr: 1e-3,
  criticLr: 1e-3,
  criticL2: 0,
  tau: 0.005,
  batchSize: 100,
  finalLayerInit: null,
  exploration: 'gaussian' as ExplorationKind,
  twinCritics: true,
  policyDelay: 2,
  targetNoise: 0.2,
  targetNoiseClip: 0.5,
  learningStarts: 10_000,
  randomSteps: 10_000,
});

export interface NafHyperparams {
  /** Hidden layer sizes of the shared torso. Gu et al. 2016, section 6: two layers of 200 ReLU units. */
  hidden: number[];
  /** Adam learning rate. Gu et al. 2016 (supplement): 1e-3. */
  lr: number;
  /** Discount. Gu et al. 2016: 0.99 (as DDPG). */
  gamma: number;
  /** Soft target update rate. Gu et al. 2016: 0.001 (as DDPG). */
  tau: number;
  /** Minibatch size. Not stated for NAF; DDPG's 64. */
  batchSize: number;
  /** Replay buffer capacity in transitions. 10^6 as DDPG. */
  replayCapacity: number;
  /** Gradient updates per environment step. Gu et al. 2016, section 6: 5. */
  updatesPerStep: number;
  /** Final-layer init U(-x, x) of the V, mu and L heads (as DDPG supplement 7). */
  finalLayerInit: number | null;
  exploration: ExplorationKind;
  ouTheta: number;
  ouSigma: number;
  gaussianSigma: number;
  paramNoiseTarget: number;
  paramNoiseInitial: number;
  learningStarts: number;
  randomSteps: number;
  prioritizedReplay: boolean;
  priorityAlpha: number;
  priorityBeta: number;
  obsNormalization: boolean;
  /** Imagination rollouts from fitted time-varying linear dynamics. Gu et al. 2016, Algorithm 2. */
  modelBased: boolean;
  /** Episodes the dynamics are fitted on. Gu et al. 2016, section 5.3: the last 5. */
  modelEpisodes: number;
  /** Imagination rollout length l. Gu et al. 2016, section 6.3: 5-10. */
  rolloutLength: number;
  /** Start states m drawn from the fitted episodes per imagination round (Algorithm 2: m). */
  imagineStarts: number;
  /** Environment steps between imagination rounds (Algorithm 2: every m steps). */
  imagineEvery: number;
  /** Imagined-transition buffer capacity. */
  imaginationCapacity: number;
  /** Ridge regulariser of the per-time-step dynamics regression (few samples per step). */
  modelRidge: number;
  /** Neighbouring time steps pooled on each side when fitting step t. */
  modelWindow: number;
  /** Fraction of training episodes driven by an iLQG controller from the fitted model (Gu et al. 2016, section 5.2); needs modelBased. */
  ilqgExploration: number;
  /** Scale of the iLQG controller's noise std; covariance ilqgNoise^2 (-Quu)^-1 (linear-Gaussian controllers, Levine & Abbeel 2014). */
  ilqgNoise: number;
}

export const NAF_PAPER_DEFAULTS: Readonly<NafHyperparams> = Object.freeze({
  hidden: [200, 200],
  lr: 1e-3,
  gamma: 0.99,
  tau: 0.001,
  batchSize: 64,
  replayCapacity: 1_000_000,
  updatesPerStep: 5,
  finalLayerInit: 3e-3,
  exploration: 'ou' as ExplorationKind,
  ouTheta: 0.15,
  ouSigma: 0.2,
  gaussianSigma: 0.1,
  paramNoiseTarget: 0.2,
  paramNoiseInitial: 0.1,
  learningStarts: 64,
  randomSteps: 0,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
  modelBased: false,
  modelEpisodes: 5,
  rolloutLength: 10,
  imagineStarts: 64,
  imagineEvery: 64,
  imaginationCapacity: 100_000,
  modelRidge: 1e-3,
  modelWindow: 2,
  ilqgExploration: 0,
  ilqgNoise: 1,
});

const layers = (d: number[], what: string) =>
  z.array(z.number().int().min(1).max(4096)).min(1).max(6).default(d).describe(what);
const num = (d: number, min: number, max: number, what: string) => z.number().min(min).max(max).default(d).describe(what);
const int = (d: number, min: number, max: number, what: string) => z.number().int().min(min).max(max).default(d).describe(what);
const bool = (d: boolean, what: string) => z.boolean().default(d).describe(what);
const init = (d: number | null) =>
  z.number().gt(0).max(1).nullable().default(d).describe('final-layer init U(-x, x); null: fan-in rule');
const explorationKind = (d: ExplorationKind) =>
  z.enum(['ou', 'gaussian', 'param', 'none']).default(d).describe('exploration: ou | gaussian | param (parameter space) | none');

function actorCriticSchema(d: Readonly<ActorCriticHyperparams>) {
  return z.strictObject({
    actorHidden: layers(d.actorHidden, 'actor hidden layer sizes'),
    criticHidden: layers(d.criticHidden, 'critic hidden layer sizes'),
    criticActionLayer: int(d.criticActionLayer, 0, 5, 'hidden layer (0-based) where the action enters the critic'),
    actorLr: num(d.actorLr, 1e-7, 1, 'actor Adam learning rate'),
    criticLr: num(d.criticLr, 1e-7, 1, 'critic Adam learning rate'),
    criticL2: num(d.criticL2, 0, 1, 'L2 weight decay on critic weights'),
    gamma: num(d.gamma, 0, 1, 'discount factor'),
    tau: num(d.tau, 1e-6, 1, 'soft target update rate'),
    batchSize: int(d.batchSize, 1, 4096, 'minibatch size'),
    replayCapacity: int(d.replayCapacity, 100, 10_000_000, 'replay buffer capacity (transitions)'),
    finalLayerInit: init(d.finalLayerInit),
    exploration: explorationKind(d.exploration),
    ouTheta: num(d.ouTheta, 0, 10, 'Ornstein-Uhlenbeck mean reversion theta'),
    ouSigma: num(d.ouSigma, 0, 10, 'Ornstein-Uhlenbeck scale sigma'),
    gaussianSigma: num(d.gaussianSigma, 0, 10, 'Gaussian action noise std'),
    paramNoiseTarget: num(d.paramNoiseTarget, 1e-4, 10, 'parameter noise: target action-space std (delta)'),
    paramNoiseInitial: num(d.paramNoiseInitial, 1e-6, 10, 'parameter noise: initial weight std'),
    twinCritics: bool(d.twinCritics, 'twin critics with clipped double-Q target (TD3)'),
    policyDelay: int(d.policyDelay, 1, 100, 'critic updates per actor and target update (TD3: 2)'),
    targetNoise: num(d.targetNoise, 0, 10, 'target policy smoothing noise std (TD3: 0.2)'),
    targetNoiseClip: num(d.targetNoiseClip, 0, 10, 'clip of the target smoothing noise'),
    updatesPerStep: int(d.updatesPerStep, 1, 100, 'gradient updates per environment step'),
    learningStarts: int(d.learningStarts, 0, 10_000_000, 'environment steps before the first update'),
    randomSteps: int(d.randomSteps, 0, 10_000_000, 'uniform random actions for the first steps'),
    prioritizedReplay: bool(d.prioritizedReplay, 'proportional prioritized replay'),
    priorityAlpha: num(d.priorityAlpha, 0, 1, 'priority exponent alpha'),
    priorityBeta: num(d.priorityBeta, 0, 1, 'initial importance-sampling exponent beta'),
    obsNormalization: bool(d.obsNormalization, 'running observation normalisation (not in the paper)'),
    batchNorm: bool(d.batchNorm, "batch normalisation of state input and hidden layers, as DDPG's low-dimensional experiments"),
  });
}

export const DdpgHyperparamsSchema = actorCriticSchema(DDPG_PAPER_DEFAULTS);
export const Td3HyperparamsSchema = actorCriticSchema(TD3_PAPER_DEFAULTS);

export const NafHyperparamsSchema = z.strictObject({
  hidden: layers(NAF_PAPER_DEFAULTS.hidden, 'hidden layer sizes of the shared torso'),
  lr: num(NAF_PAPER_DEFAULTS.lr, 1e-7, 1, 'Adam learning rate'),
  gamma: num(NAF_PAPER_DEFAULTS.gamma, 0, 1, 'discount factor'),
  tau: num(NAF_PAPER_DEFAULTS.tau, 1e-6, 1, 'soft target update rate'),
  batchSize: int(NAF_PAPER_DEFAULTS.batchSize, 1, 4096, 'minibatch size'),
  replayCapacity: int(NAF_PAPER_DEFAULTS.replayCapacity, 100, 10_000_000, 'replay buffer capacity (transitions)'),
  updatesPerStep: int(NAF_PAPER_DEFAULTS.updatesPerStep, 1, 100, 'gradient updates per environment step (paper: 5)'),
  finalLayerInit: init(NAF_PAPER_DEFAULTS.finalLayerInit),
  exploration: explorationKind(NAF_PAPER_DEFAULTS.exploration),
  ouTheta: num(NAF_PAPER_DEFAULTS.ouTheta, 0, 10, 'Ornstein-Uhlenbeck mean reversion theta'),
  ouSigma: num(NAF_PAPER_DEFAULTS.ouSigma, 0, 10, 'Ornstein-Uhlenbeck scale sigma'),
  gaussianSigma: num(NAF_PAPER_DEFAULTS.gaussianSigma, 0, 10, 'Gaussian action noise std'),
  paramNoiseTarget: num(NAF_PAPER_DEFAULTS.paramNoiseTarget, 1e-4, 10, 'parameter noise: target action-space std (delta)'),
  paramNoiseInitial: num(NAF_PAPER_DEFAULTS.paramNoiseInitial, 1e-6, 10, 'parameter noise: initial weight std'),
  learningStarts: int(NAF_PAPER_DEFAULTS.learningStarts, 0, 10_000_000, 'environment steps before the first update'),
  randomSteps: int(NAF_PAPER_DEFAULTS.randomSteps, 0, 10_000_000, 'uniform random actions for the first steps'),
  prioritizedReplay: bool(NAF_PAPER_DEFAULTS.prioritizedReplay, 'proportional prioritized replay'),
  priorityAlpha: num(NAF_PAPER_DEFAULTS.priorityAlpha, 0, 1, 'priority exponent alpha'),
  priorityBeta: num(NAF_PAPER_DEFAULTS.priorityBeta, 0, 1, 'initial importance-sampling exponent beta'),
  obsNormalization: bool(NAF_PAPER_DEFAULTS.obsNormalization, 'running observation normalisation (not in the paper)'),
  modelBased: bool(NAF_PAPER_DEFAULTS.modelBased, 'imagination rollouts from fitted linear dynamics (Gu et al. Algorithm 2)'),
  modelEpisodes: int(NAF_PAPER_DEFAULTS.modelEpisodes, 1, 100, 'episodes the dynamics are fitted on'),
  rolloutLength: int(NAF_PAPER_DEFAULTS.rolloutLength, 1, 100, 'imagination rollout length l'),
  imagineStarts: int(NAF_PAPER_DEFAULTS.imagineStarts, 1, 4096, 'start states per imagination round (m)'),
  imagineEvery: int(NAF_PAPER_DEFAULTS.imagineEvery, 1, 1_000_000, 'environment steps between imagination rounds'),
  imaginationCapacity: int(NAF_PAPER_DEFAULTS.imaginationCapacity, 100, 10_000_000, 'imagined-transition buffer capacity'),
  modelRidge: num(NAF_PAPER_DEFAULTS.modelRidge, 0, 1e3, 'ridge regulariser of the dynamics fit'),
  modelWindow: int(NAF_PAPER_DEFAULTS.modelWindow, 0, 50, 'neighbouring time steps pooled per side in the fit'),
  ilqgExploration: num(NAF_PAPER_DEFAULTS.ilqgExploration, 0, 1, 'fraction of training episodes driven by an iLQG controller from the fitted model (Gu et al. 5.2); needs modelBased'),
  ilqgNoise: num(NAF_PAPER_DEFAULTS.ilqgNoise, 0, 10, "scale of the iLQG controller's noise std (covariance -Quu^-1 times its square)"),
});

export const HYPERPARAM_SCHEMAS = {
  ddpg: DdpgHyperparamsSchema,
  td3: Td3HyperparamsSchema,
  naf: NafHyperparamsSchema,
} as const;

export const PAPER_DEFAULTS = {
  ddpg: DDPG_PAPER_DEFAULTS,
  td3: TD3_PAPER_DEFAULTS,
  naf: NAF_PAPER_DEFAULTS,
} as const;

export type Algo = keyof typeof HYPERPARAM_SCHEMAS;

/**
 * Named hyperparameter presets (deviations from the paper written down where each is defined).
 * `rl-studio train` with no arguments uses 'ddpg-quick'.
 */
export const PRESETS = {
  'ddpg-quick': { algo: 'ddpg' as Algo, hyperparams: DDPG_QUICK_PRESET, description: 'DDPG with small networks and fast targets for a result in about a minute (see DDPG_QUICK_PRESET)' },
} as const;
export type PresetName = keyof typeof PRESETS;

/**
 * Defaults of pixel-observation runs, under the user's hyperparameters. DDPG supplement 7: 2 x 200
 * fully connected after the convs, actions at the first of them, final layer init U(-3e-4, 3e-4),
 * batch 16; NAF reuses that setting (Gu et al. 2016). Deviation: the replay holds 10^5
 * transitions, not 10^6 — with the paper's three rendered frames per step each transition keeps
 * 3 new 64x64 RGB frames (37 KB raw); PixelReplay keeps them run-length encoded, and 10^5
 * transitions measured 0.16 GB (cartpole) to 1.1 GB (cheetah, walker). The store grows as it fills.
 */
export const PIXEL_HYPERPARAM_DEFAULTS = {
  ddpg: { actorHidden: [200, 200], criticHidden: [200, 200], criticActionLayer: 0, finalLayerInit: 3e-4, batchSize: 16, replayCapacity: 100_000 },
  naf: { hidden: [200, 200], finalLayerInit: 3e-4, batchSize: 16, replayCapacity: 100_000 },
} as const;
