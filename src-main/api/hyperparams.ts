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

/**
 * What a new DDPG run gets: the paper's algorithm (one critic, deterministic tanh actor, OU noise,
 * ReLU networks, gamma 0.99) with the changes that made it learn the suite here. Each was
 * found with the learning diagnostics (learn/diagnostics.ts, in every run's metrics) on
 * cheetah-run, where the paper's values stay at 0.2-1 (README, "Why the paper's DDPG did not learn"):
 * - no critic L2 (paper: 1e-2). Adam normalises each weight's gradient, so where the TD gradient
 *   is small next to 1e-2 x W (dm_control rewards lie in [0, 1]; cheetah-run's are ~0 at first)
 *   every critic weight shrinks by ~lr per update: the critic's weight norm fell from 8.3 to 0.025
 *   in 800 updates, dQ/da from 2e-4 to 1e-10, and the actor never moved again.
 * - running observation normalisation (paper: batch norm on the inputs, off here by default since
 *   it saturated the actor on cartpole). Cheetah's velocities are O(10): without it 95 % of the
 *   actor's outputs sat at +-1 within 800 updates and eval stayed at 3-7 after 20k steps; with it
 *   eval reached 43 at 10k steps (same seed, everything else equal).
 * - the action enters the critic at its first layer, actor and critic Adam 1e-3, tau 0.005, batch
 *   100, no L2: the settings of the DDPG re-implementation in the TD3 paper (Fujimoto et al. 2018,
 *   section 6.1, "our DDPG"), which scored 2-3x the paper's values on MuJoCo; with the paper's tau
 *   0.001 the targets trail the critic by ~1000 updates, a tenth of a 100k-step budget.
 * - 5000 uniform random warm-up steps (five 1000-step episodes; paper: none) before the first update.
 * - 256-256 hidden units (paper: 400-300), as the TD3 and SAC reference implementations: half the
 *   multiply-adds, so a 100k-step run takes ~20 instead of ~35 minutes on one core here.
 */
export const DDPG_DEFAULTS: Readonly<DdpgHyperparams> = Object.freeze({
  ...DDPG_PAPER_DEFAULTS,
  actorHidden: [256, 256],
  criticHidden: [256, 256],
  criticL2: 0,
  obsNormalization: true,
  criticActionLayer: 0,
  actorLr: 1e-3,
  tau: 0.005,
  batchSize: 100,
  learningStarts: 5000,
  randomSteps: 5000,
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

/**
 * What a new TD3 run gets: the paper's values with DDPG's measured changes (DDPG_DEFAULTS): running
 * observation normalisation, 256-256 networks, and 5000 random warm-up steps instead of 10^4 (a
 * tenth of a 100k-step budget).
 */
export const TD3_DEFAULTS: Readonly<Td3Hyperparams> = Object.freeze({
  ...TD3_PAPER_DEFAULTS,
  actorHidden: [256, 256],
  criticHidden: [256, 256],
  obsNormalization: true,
  learningStarts: 5000,
  randomSteps: 5000,
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

export interface SacHyperparams {
  /** Actor hidden layer sizes. Haarnoja et al. 2018 (Applications), Table 1: 256 and 256 ReLU units. */
  actorHidden: number[];
  /** Critic hidden layer sizes (two critics). Table 1: 256 and 256. */
  criticHidden: number[];
  /** Actor Adam learning rate. Table 1: 3e-4. */
  actorLr: number;
  /** Critic Adam learning rate. Table 1: 3e-4. */
  criticLr: number;
  /** Temperature (log alpha) Adam learning rate. Table 1: 3e-4. */
  alphaLr: number;
  /** Discount. Table 1: 0.99. */
  gamma: number;
  /** Soft target update rate. Table 1: 0.005. */
  tau: number;
  /** Minibatch size. Table 1: 256. */
  batchSize: number;
  /** Replay buffer capacity in transitions. Table 1: 10^6. */
  replayCapacity: number;
  /** Final-layer init U(-x, x); null uses the fan-in rule. */
  finalLayerInit: number | null;
  /** Initial entropy temperature alpha. Haarnoja et al. 2018 (Applications), reference code: 1. */
  initialAlpha: number;
  /** Tune alpha towards the target entropy (section 5, eq. 18); off keeps initialAlpha. */
  learnAlpha: boolean;
  /** Target entropy; null: -|A| (section 5, "dimension of the action space"). */
  targetEntropy: number | null;
  /** Gradient updates per environment step. Table 1: 1. */
  updatesPerStep: number;
  /** Environment steps before the first update. */
  learningStarts: number;
  /** Uniform random actions for the first steps (reference code: 10^4 on MuJoCo). */
  randomSteps: number;
  prioritizedReplay: boolean;
  priorityAlpha: number;
  priorityBeta: number;
  obsNormalization: boolean;
}

/** SAC, Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications", Table 1. */
export const SAC_PAPER_DEFAULTS: Readonly<SacHyperparams> = Object.freeze({
  actorHidden: [256, 256],
  criticHidden: [256, 256],
  actorLr: 3e-4,
  criticLr: 3e-4,
  alphaLr: 3e-4,
  gamma: 0.99,
  tau: 0.005,
  batchSize: 256,
  replayCapacity: 1_000_000,
  finalLayerInit: null,
  initialAlpha: 1,
  learnAlpha: true,
  targetEntropy: null,
  updatesPerStep: 1,
  learningStarts: 10_000,
  randomSteps: 10_000,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
});

/** What a new NAF run gets: the paper's values with running observation normalisation (see DDPG_DEFAULTS). */
export const NAF_DEFAULTS: Readonly<NafHyperparams> = Object.freeze({ ...NAF_PAPER_DEFAULTS, obsNormalization: true });

/**
 * What a new SAC run gets: the paper's values with running observation normalisation (see
 * DDPG_DEFAULTS), batch 128 instead of 256 (an update costs ~2x less on a CPU: 44 against 24 per
 * second on one core here), and 1000 random warm-up steps instead of 10^4: SAC explores through
 * its entropy term, so a long uniform warm-up only delays learning. On the dense pendulum (seed 0)
 * the eval return was -458 at 10k steps with 5000 warm-up steps and -76 at 7.5k with 1000.
 */
export const SAC_DEFAULTS: Readonly<SacHyperparams> = Object.freeze({
  ...SAC_PAPER_DEFAULTS,
  obsNormalization: true,
  batchSize: 128,
  learningStarts: 1000,
  randomSteps: 1000,
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

export const DdpgHyperparamsSchema = actorCriticSchema(DDPG_DEFAULTS);
export const Td3HyperparamsSchema = actorCriticSchema(TD3_DEFAULTS);

function nafSchema(D: Readonly<NafHyperparams>) {
  return z.strictObject({
  hidden: layers(D.hidden, 'hidden layer sizes of the shared torso'),
  lr: num(D.lr, 1e-7, 1, 'Adam learning rate'),
  gamma: num(D.gamma, 0, 1, 'discount factor'),
  tau: num(D.tau, 1e-6, 1, 'soft target update rate'),
  batchSize: int(D.batchSize, 1, 4096, 'minibatch size'),
  replayCapacity: int(D.replayCapacity, 100, 10_000_000, 'replay buffer capacity (transitions)'),
  updatesPerStep: int(D.updatesPerStep, 1, 100, 'gradient updates per environment step (paper: 5)'),
  finalLayerInit: init(D.finalLayerInit),
  exploration: explorationKind(D.exploration),
  ouTheta: num(D.ouTheta, 0, 10, 'Ornstein-Uhlenbeck mean reversion theta'),
  ouSigma: num(D.ouSigma, 0, 10, 'Ornstein-Uhlenbeck scale sigma'),
  gaussianSigma: num(D.gaussianSigma, 0, 10, 'Gaussian action noise std'),
  paramNoiseTarget: num(D.paramNoiseTarget, 1e-4, 10, 'parameter noise: target action-space std (delta)'),
  paramNoiseInitial: num(D.paramNoiseInitial, 1e-6, 10, 'parameter noise: initial weight std'),
  learningStarts: int(D.learningStarts, 0, 10_000_000, 'environment steps before the first update'),
  randomSteps: int(D.randomSteps, 0, 10_000_000, 'uniform random actions for the first steps'),
  prioritizedReplay: bool(D.prioritizedReplay, 'proportional prioritized replay'),
  priorityAlpha: num(D.priorityAlpha, 0, 1, 'priority exponent alpha'),
  priorityBeta: num(D.priorityBeta, 0, 1, 'initial importance-sampling exponent beta'),
  obsNormalization: bool(D.obsNormalization, 'running observation normalisation (not in the paper)'),
  modelBased: bool(D.modelBased, 'imagination rollouts from fitted linear dynamics (Gu et al. Algorithm 2)'),
  modelEpisodes: int(D.modelEpisodes, 1, 100, 'episodes the dynamics are fitted on'),
  rolloutLength: int(D.rolloutLength, 1, 100, 'imagination rollout length l'),
  imagineStarts: int(D.imagineStarts, 1, 4096, 'start states per imagination round (m)'),
  imagineEvery: int(D.imagineEvery, 1, 1_000_000, 'environment steps between imagination rounds'),
  imaginationCapacity: int(D.imaginationCapacity, 100, 10_000_000, 'imagined-transition buffer capacity'),
  modelRidge: num(D.modelRidge, 0, 1e3, 'ridge regulariser of the dynamics fit'),
  modelWindow: int(D.modelWindow, 0, 50, 'neighbouring time steps pooled per side in the fit'),
  ilqgExploration: num(D.ilqgExploration, 0, 1, 'fraction of training episodes driven by an iLQG controller from the fitted model (Gu et al. 5.2); needs modelBased'),
  ilqgNoise: num(D.ilqgNoise, 0, 10, "scale of the iLQG controller's noise std (covariance -Quu^-1 times its square)"),
});
}

export const NafHyperparamsSchema = nafSchema(NAF_DEFAULTS);

export const SacHyperparamsSchema = z.strictObject({
  actorHidden: layers(SAC_DEFAULTS.actorHidden, 'actor hidden layer sizes'),
  criticHidden: layers(SAC_DEFAULTS.criticHidden, 'critic hidden layer sizes (each of the two critics)'),
  actorLr: num(SAC_DEFAULTS.actorLr, 1e-7, 1, 'actor Adam learning rate'),
  criticLr: num(SAC_DEFAULTS.criticLr, 1e-7, 1, 'critic Adam learning rate'),
  alphaLr: num(SAC_DEFAULTS.alphaLr, 1e-7, 1, 'temperature (log alpha) Adam learning rate'),
  gamma: num(SAC_DEFAULTS.gamma, 0, 1, 'discount factor'),
  tau: num(SAC_DEFAULTS.tau, 1e-6, 1, 'soft target update rate'),
  batchSize: int(SAC_DEFAULTS.batchSize, 1, 4096, 'minibatch size'),
  replayCapacity: int(SAC_DEFAULTS.replayCapacity, 100, 10_000_000, 'replay buffer capacity (transitions)'),
  finalLayerInit: init(SAC_DEFAULTS.finalLayerInit),
  initialAlpha: num(SAC_DEFAULTS.initialAlpha, 1e-8, 100, 'initial entropy temperature alpha'),
  learnAlpha: bool(SAC_DEFAULTS.learnAlpha, 'tune alpha towards the target entropy (SAC eq. 18)'),
  targetEntropy: z.number().min(-1000).max(1000).nullable().default(SAC_DEFAULTS.targetEntropy).describe('target entropy; null: minus the number of actions'),
  updatesPerStep: int(SAC_DEFAULTS.updatesPerStep, 1, 100, 'gradient updates per environment step'),
  learningStarts: int(SAC_DEFAULTS.learningStarts, 0, 10_000_000, 'environment steps before the first update'),
  randomSteps: int(SAC_DEFAULTS.randomSteps, 0, 10_000_000, 'uniform random actions for the first steps'),
  prioritizedReplay: bool(SAC_DEFAULTS.prioritizedReplay, 'proportional prioritized replay'),
  priorityAlpha: num(SAC_DEFAULTS.priorityAlpha, 0, 1, 'priority exponent alpha'),
  priorityBeta: num(SAC_DEFAULTS.priorityBeta, 0, 1, 'initial importance-sampling exponent beta'),
  obsNormalization: bool(SAC_DEFAULTS.obsNormalization, 'running observation normalisation'),
});

export const HYPERPARAM_SCHEMAS = {
  ddpg: DdpgHyperparamsSchema,
  td3: Td3HyperparamsSchema,
  naf: NafHyperparamsSchema,
  sac: SacHyperparamsSchema,
} as const;

/** What a new run of each algorithm gets (the schemas' defaults). */
export const ALGO_DEFAULTS = {
  ddpg: DDPG_DEFAULTS,
  td3: TD3_DEFAULTS,
  naf: NAF_DEFAULTS,
  sac: SAC_DEFAULTS,
} as const;

/** The papers' exact values, each one click away as the '<algo>-paper' preset. */
export const PAPER_DEFAULTS = {
  ddpg: DDPG_PAPER_DEFAULTS,
  td3: TD3_PAPER_DEFAULTS,
  naf: NAF_PAPER_DEFAULTS,
  sac: SAC_PAPER_DEFAULTS,
} as const;

export type Algo = keyof typeof HYPERPARAM_SCHEMAS;

/**
 * Named hyperparameter presets (deviations from the paper written down where each is defined).
 * `rl-studio train` with no arguments uses 'ddpg-quick'.
 */
export const PRESETS = {
  'ddpg-quick': { algo: 'ddpg' as Algo, hyperparams: DDPG_QUICK_PRESET as Readonly<Record<string, unknown>>, description: 'DDPG with small networks and fast targets for a result in about a minute (see DDPG_QUICK_PRESET)' },
  'ddpg-paper': { algo: 'ddpg' as Algo, hyperparams: DDPG_PAPER_DEFAULTS as Readonly<Record<string, unknown>>, description: 'DDPG with the exact values of Lillicrap et al. 2015, supplement 7' },
  'td3-paper': { algo: 'td3' as Algo, hyperparams: TD3_PAPER_DEFAULTS as Readonly<Record<string, unknown>>, description: 'TD3 with the exact values of Fujimoto et al. 2018, section 6.1' },
  'naf-paper': { algo: 'naf' as Algo, hyperparams: NAF_PAPER_DEFAULTS as Readonly<Record<string, unknown>>, description: 'NAF with the values of Gu et al. 2016 (200-200, 5 updates per step, tau 0.001)' },
  'sac-paper': { algo: 'sac' as Algo, hyperparams: SAC_PAPER_DEFAULTS as Readonly<Record<string, unknown>>, description: 'SAC with the values of Haarnoja et al. 2018 (Applications), Table 1' },
} as const;
export type PresetName = keyof typeof PRESETS;

/**
 * Defaults of pixel-observation runs, under the user's hyperparameters. DDPG supplement 7: 2 x 200
 * fully connected after the convs, actions at the first of them, final layer init U(-3e-4, 3e-4),
 * batch 16; NAF reuses that setting (Gu et al. 2016). Deviation: the replay holds 10^5
 * transitions, not 10^6 — with the paper's three rendered frames per step each transition keeps
 * 3 new 64x64 RGB frames (37 KB raw); PixelReplay keeps them run-length encoded, and 10^5
 * transitions measured 0.16 GB (cartpole) to 1.1 GB (cheetah, walker). The store grows as it fills.
 * Pixels are already in [0, 1]: no running observation normalisation.
 */
export const PIXEL_HYPERPARAM_DEFAULTS = {
  ddpg: { actorHidden: [200, 200], criticHidden: [200, 200], criticActionLayer: 0, finalLayerInit: 3e-4, batchSize: 16, replayCapacity: 100_000, obsNormalization: false },
  naf: { hidden: [200, 200], finalLayerInit: 3e-4, batchSize: 16, replayCapacity: 100_000, obsNormalization: false },
} as const;
