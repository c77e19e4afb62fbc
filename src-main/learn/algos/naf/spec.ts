/**
 * NAF with model-based acceleration (Gu et al. 2016) as the studio knows it: hyperparameters,
 * the paper's values, what a new run gets, pixel defaults and metrics. No Node imports: the
 * renderer imports this file.
 */
import { z } from 'zod';
import { CRITIC_METRICS, common, exploration, int, layers, num, bool, withDefaults, type AlgorithmSpec, type SpecIssue } from '../spec.ts';

export const NafFields = z.strictObject({
  hidden: layers('hidden layer sizes of the shared torso'),
  lr: num(1e-7, 1, 'Adam learning rate'),
  gamma: common.gamma,
  tau: common.tau,
  batchSize: common.batchSize,
  replayCapacity: common.replayCapacity,
  updatesPerStep: int(1, 100, 'gradient updates per environment step (paper: 5)'),
  finalLayerInit: common.finalLayerInit,
  ...exploration,
  learningStarts: common.learningStarts,
  randomSteps: common.randomSteps,
  prioritizedReplay: common.prioritizedReplay,
  priorityAlpha: common.priorityAlpha,
  priorityBeta: common.priorityBeta,
  obsNormalization: common.obsNormalization,
  modelBased: bool('imagination rollouts from fitted linear dynamics (Gu et al. Algorithm 2)'),
  modelEpisodes: int(1, 100, 'episodes the dynamics are fitted on'),
  rolloutLength: int(1, 100, 'imagination rollout length l'),
  imagineStarts: int(1, 4096, 'start states per imagination round (m)'),
  imagineEvery: int(1, 1_000_000, 'environment steps between imagination rounds'),
  imaginationCapacity: int(100, 10_000_000, 'imagined-transition buffer capacity'),
  modelRidge: num(0, 1e3, 'ridge regulariser of the dynamics fit'),
  modelWindow: int(0, 50, 'neighbouring time steps pooled per side in the fit'),
  modelPrior: z.enum(['none', 'gmm']).describe('prior of the dynamics fit: none (ridge only) | gmm (Gaussian mixture, Gu et al. 5.3)'),
  modelPriorClusters: int(2, 200, 'most GMM prior components (fewer when under 20 transitions each)'),
  modelPriorStrength: num(1e-3, 1e6, 'pseudo-samples the GMM prior counts as in each step fit'),
  ilqgExploration: num(
    0,
    1,
    'fraction of training episodes driven by an iLQG controller from the fitted model (Gu et al. 5.2); needs modelBased',
  ),
  ilqgNoise: num(0, 10, "scale of the iLQG controller's noise std (covariance -Quu^-1 times its square)"),
});

export type NafHyperparams = z.output<typeof NafFields>;

/** NAF, Gu et al. 2016 (fields the paper leaves open as DDPG's supplement 7). */
export const NAF_PAPER_DEFAULTS: Readonly<NafHyperparams> = Object.freeze({
  /** Section 6: two hidden layers of 200 ReLU units, shared by V, mu and L. */
  hidden: [200, 200],
  /** Supplement: Adam 1e-3. */
  lr: 1e-3,
  /** As DDPG: gamma 0.99, tau 0.001, replay 10^6; the minibatch is not stated for NAF (DDPG's 64). */
  gamma: 0.99,
  tau: 0.001,
  batchSize: 64,
  replayCapacity: 1_000_000,
  /** Section 6: 5 updates per environment step. */
  updatesPerStep: 5,
  /** Final layers of the V, mu and L heads U(-3e-3, 3e-3), as DDPG supplement 7. */
  finalLayerInit: 3e-3,
  /** Ornstein-Uhlenbeck noise 0.15 / 0.2 as DDPG. */
  exploration: 'ou',
  ouTheta: 0.15,
  ouSigma: 0.2,
  gaussianSigma: 0.1,
  paramNoiseTarget: 0.2,
  paramNoiseInitial: 0.1,
  /** Constant action noise, as both papers (DrQ-v2 decays it: noiseStartScale, noiseDecaySteps). */
  noiseStartScale: 1,
  noiseDecaySteps: 0,
  learningStarts: 64,
  randomSteps: 0,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
  /** Imagination rollouts from fitted time-varying linear dynamics: Algorithm 2 (off: plain NAF). */
  modelBased: false,
  /** Section 5.3: the dynamics are fitted on the last 5 episodes. */
  modelEpisodes: 5,
  /** Section 6.3: rollout length l of 5-10. */
  rolloutLength: 10,
  /** Algorithm 2: m start states per imagination round, every m steps. */
  imagineStarts: 64,
  imagineEvery: 64,
  /** Not stated: the imagined-transition buffer. */
  imaginationCapacity: 100_000,
  /** Not stated: a ridge on the per-step regression, which has few samples per time step. */
  modelRidge: 1e-3,
  /** Not stated: neighbouring time steps pooled on each side when fitting step t. */
  modelWindow: 2,
  /**
   * Section 5.3: the models are "fitted using a Gaussian mixture model prior" (Levine & Abbeel 2014);
   * its size and strength are GPS's defaults (max_clusters 50, strength 1).
   */
  modelPrior: 'gmm',
  modelPriorClusters: 50,
  modelPriorStrength: 1,
  /** Section 5.2: iLQG exploration from the fitted model, here a fraction of training episodes (off). */
  ilqgExploration: 0,
  /** Linear-Gaussian controllers (Levine & Abbeel 2014): covariance ilqgNoise^2 (-Quu)^-1. */
  ilqgNoise: 1,
});

/**
 * What a new NAF run gets: the paper's values with running observation normalisation (see
 * learn/algos/ddpg DDPG_DEFAULTS) and Adam 3e-4 instead of 1e-3. At the paper's 1e-3, 5 updates per
 * step drove the dense pendulum's policy into spinning on most seeds (eval return at 10k steps,
 * seeds 0-7: -80, -495, -275, -397, -877, -1227, -216, -20795; random -1250); at 3e-4 seven of eight
 * balance (-77, -129, -249, -156, -149, -147, -166, and -12042), at 1e-4 five (-77, -138, -1092,
 * -198, -1332, -151, -178, -903). `rl-studio train --env pendulum --algo naf --steps 10000 --seed S
 * --eval-every 2500 --eval-episodes 10 --set lr=L`; curves in docs/benchmarks/pendulum-seeds-2026-12-04.jsonl (cases naf-pendulum lr=L).
 */
export const NAF_DEFAULTS: Readonly<NafHyperparams> = Object.freeze({
  ...NAF_PAPER_DEFAULTS,
  obsNormalization: true,
  lr: 3e-4,
  /** Ridge-only fits until a measurement shows the GMM prior helps NAF here (see cli/bench/models.ts). */
  modelPrior: 'none',
});

/** Pixel runs: the DDPG supplement's pixel setting (Gu et al. 2016 reuse it); see learn/algos/ddpg DDPG_PIXEL_DEFAULTS. */
export const NAF_PIXEL_DEFAULTS: Readonly<Partial<NafHyperparams>> = Object.freeze({
  hidden: [200, 200],
  finalLayerInit: 3e-4,
  batchSize: 16,
  replayCapacity: 100_000,
  obsNormalization: false,
});

function checkNaf(hp: NafHyperparams, obs: 'lowdim' | 'pixels'): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (hp.ilqgExploration > 0 && !hp.modelBased)
    issues.push({ field: 'hyperparams.ilqgExploration', message: 'iLQG exploration acts on the fitted model: it needs modelBased=true' });
  if (obs === 'pixels' && hp.modelBased)
    issues.push({
      field: 'hyperparams.modelBased',
      message: "NAF's model-based mode needs low-dim states; it is not available with pixel observations",
    });
  return issues;
}

export const nafSpec: AlgorithmSpec<NafHyperparams> = {
  id: 'naf',
  label: 'NAF',
  paper: { cite: 'Gu et al. 2016', title: 'Continuous deep Q-learning with model-based acceleration' },
  schema: withDefaults(NafFields, NAF_DEFAULTS),
  paperDefaults: NAF_PAPER_DEFAULTS,
  defaults: NAF_DEFAULTS,
  presets: {
    'naf-paper': {
      hyperparams: NAF_PAPER_DEFAULTS,
      obs: 'lowdim',
      description: 'NAF with the values of Gu et al. 2016 (200-200, 5 updates per step, tau 0.001)',
    },
  },
  pixelDefaults: NAF_PIXEL_DEFAULTS,
  metrics: {
    critic_loss: {
      label: 'Critic loss',
      description: 'mean squared TD error of Q = V + A on the update batch (imagined batches included)',
    },
    q: CRITIC_METRICS.q,
  },
  check: checkNaf,
};
