/**
 * SAC (Haarnoja et al. 2018) as the studio knows it: hyperparameters, the paper's values, what a
 * new run gets and the metrics. State observations only in this version. No Node imports: the
 * renderer imports this file.
 */
import { z } from 'zod';
import { UPDATE_DIAGNOSTICS } from '../diagnostics.ts';
import { CRITIC_METRICS, common, described, int, layers, num, bool, withDefaults, type AlgorithmSpec } from '../spec.ts';

export const SacFields = z.strictObject({
  actorHidden: layers('actor hidden layer sizes'),
  criticHidden: layers('critic hidden layer sizes (each of the two critics)'),
  actorLr: num(1e-7, 1, 'actor Adam learning rate'),
  criticLr: num(1e-7, 1, 'critic Adam learning rate'),
  alphaLr: num(1e-7, 1, 'temperature (log alpha) Adam learning rate'),
  gamma: common.gamma,
  tau: common.tau,
  batchSize: common.batchSize,
  replayCapacity: common.replayCapacity,
  finalLayerInit: common.finalLayerInit,
  initialAlpha: num(1e-8, 100, 'initial entropy temperature alpha'),
  learnAlpha: bool('tune alpha towards the target entropy (SAC eq. 18)'),
  targetEntropy: z.number().min(-1000).max(1000).nullable().describe('target entropy; null: minus the number of actions'),
  updatesPerStep: int(1, 100, 'gradient updates per environment step'),
  learningStarts: common.learningStarts,
  randomSteps: common.randomSteps,
  prioritizedReplay: common.prioritizedReplay,
  priorityAlpha: common.priorityAlpha,
  priorityBeta: common.priorityBeta,
  obsNormalization: bool('running observation normalisation'),
});

export type SacHyperparams = z.output<typeof SacFields>;

/** SAC, Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications", Table 1. */
export const SAC_PAPER_DEFAULTS: Readonly<SacHyperparams> = Object.freeze({
  /** Table 1: 256 and 256 ReLU units (actor and each of the two critics). */
  actorHidden: [256, 256],
  criticHidden: [256, 256],
  /** Table 1: Adam 3e-4 for actor, critics and log alpha. */
  actorLr: 3e-4,
  criticLr: 3e-4,
  alphaLr: 3e-4,
  /** Table 1: gamma 0.99, tau 0.005, minibatch 256, replay 10^6. */
  gamma: 0.99,
  tau: 0.005,
  batchSize: 256,
  replayCapacity: 1_000_000,
  /** The fan-in rule on every layer (reference code). */
  finalLayerInit: null,
  /** Reference code: alpha starts at 1 and is tuned (section 5, eq. 18) towards -|A| ("dimension of the action space"). */
  initialAlpha: 1,
  learnAlpha: true,
  targetEntropy: null,
  /** Table 1: one gradient step per environment step. */
  updatesPerStep: 1,
  /** Reference code: 10^4 random steps on MuJoCo. */
  learningStarts: 10_000,
  randomSteps: 10_000,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
});

/**
 * What a new SAC run gets: the paper's values with running observation normalisation (see
 * learn/algos/ddpg DDPG_DEFAULTS), batch 128 instead of 256 (an update costs ~2x less on a CPU: 44
 * against 24 per second on one core here), and 1000 random warm-up steps instead of 10^4: SAC
 * explores through its entropy term, so a long uniform warm-up only delays learning. On the dense
 * pendulum (seed 0) the eval return was -458 at 10k steps with 5000 warm-up steps and -76 at 7.5k
 * with 1000.
 */
export const SAC_DEFAULTS: Readonly<SacHyperparams> = Object.freeze({
  ...SAC_PAPER_DEFAULTS,
  obsNormalization: true,
  batchSize: 128,
  learningStarts: 1000,
  randomSteps: 1000,
});

export const sacSpec: AlgorithmSpec<SacHyperparams> = {
  id: 'sac',
  label: 'SAC',
  paper: { cite: 'Haarnoja et al. 2018', title: 'Soft actor-critic algorithms and applications' },
  schema: withDefaults(SacFields, SAC_DEFAULTS),
  paperDefaults: SAC_PAPER_DEFAULTS,
  defaults: SAC_DEFAULTS,
  presets: {
    'sac-paper': {
      hyperparams: SAC_PAPER_DEFAULTS,
      obs: 'lowdim',
      description: 'SAC with the values of Haarnoja et al. 2018 (Applications), Table 1',
    },
  },
  pixelDefaults: null,
  metrics: {
    critic_loss: { label: 'Critic loss', description: 'mean squared soft TD error of the two critics on the update batch' },
    actor_loss: { label: 'Actor loss', description: 'mean of alpha log pi(a|s) - min Q(s, a) over the batch, a drawn from the policy' },
    q: CRITIC_METRICS.q,
    ...described({
      alpha: 'entropy temperature alpha after the update',
      entropy: 'mean -log pi(a|s) of the policy on the update batch',
      actor_saturation: UPDATE_DIAGNOSTICS.actor_saturation,
      actor_abs_action: UPDATE_DIAGNOSTICS.actor_abs_action,
      dq_da: UPDATE_DIAGNOSTICS.dq_da,
      critic_grad_norm: UPDATE_DIAGNOSTICS.critic_grad_norm,
      actor_grad_norm: UPDATE_DIAGNOSTICS.actor_grad_norm,
    }),
  },
};
