/**
 * DDPG (Lillicrap et al. 2015) as the studio knows it: the actor-critic hyperparameters (shared
 * with TD3, which is DDPG with its three tricks switched on), the paper's values, what a new run
 * gets, the presets and the metrics. No Node imports: the renderer imports this file.
 */
import { z } from 'zod';
import { PIXEL_SETTINGS_PAPER } from '../../../api/pixel-settings.ts';
import { UPDATE_DIAGNOSTICS } from '../diagnostics.ts';
import {
  CRITIC_METRICS,
  common,
  described,
  exploration,
  int,
  layers,
  num,
  bool,
  withDefaults,
  type AlgorithmSpec,
  type MetricSpec,
  type SpecIssue,
} from '../spec.ts';

/** The fields of DDPG and TD3, in the order the New-run form shows them. */
export const ActorCriticFields = z.strictObject({
  actorHidden: layers('actor hidden layer sizes'),
  criticHidden: layers('critic hidden layer sizes'),
  criticActionLayer: int(0, 5, 'hidden layer (0-based) where the action enters the critic'),
  actorLr: num(1e-7, 1, 'actor Adam learning rate'),
  criticLr: num(1e-7, 1, 'critic Adam learning rate'),
  criticL2: num(0, 1, 'L2 weight decay on critic weights'),
  gamma: common.gamma,
  tau: common.tau,
  batchSize: common.batchSize,
  replayCapacity: common.replayCapacity,
  finalLayerInit: common.finalLayerInit,
  ...exploration,
  twinCritics: bool('twin critics with clipped double-Q target (TD3)'),
  policyDelay: int(1, 100, 'critic updates per actor and target update (TD3: 2)'),
  targetNoise: num(0, 10, 'target policy smoothing noise std (TD3: 0.2)'),
  targetNoiseClip: num(0, 10, 'clip of the target smoothing noise'),
  actionL2: num(
    0,
    100,
    "penalty lambda x mean(a^2) on the actor's actions in its loss (HER, Andrychowicz et al. 2017: 1.0): keeps the tanh actor out of saturation while dQ/da carries no signal",
  ),
  actionL2Margin: num(
    0,
    0.99,
    'actions with |a| up to this margin are free of the action penalty, which becomes lambda x mean(max(|a| - margin, 0)^2); 0: the plain penalty',
  ),
  preTanhPenalty: num(
    0,
    100,
    "penalty lambda x mean(log cosh(u)) on the actor's pre-tanh outputs u (a = tanh u): its pull lambda tanh(u) holds where the tanh saturates and passes neither dQ/da nor the action penalty back, so a saturated actor can leave saturation",
  ),
  updatesPerStep: common.updatesPerStep,
  learningStarts: common.learningStarts,
  randomSteps: common.randomSteps,
  prioritizedReplay: common.prioritizedReplay,
  priorityAlpha: common.priorityAlpha,
  priorityBeta: common.priorityBeta,
  obsNormalization: common.obsNormalization,
  batchNorm: bool("batch normalisation of state input and hidden layers, as DDPG's low-dimensional experiments"),
});

export type ActorCriticHyperparams = z.output<typeof ActorCriticFields>;
export type DdpgHyperparams = ActorCriticHyperparams;

/** DDPG, Lillicrap et al. 2015, supplementary section 7 (low-dimensional experiments). */
export const DDPG_PAPER_DEFAULTS: Readonly<DdpgHyperparams> = Object.freeze({
  /** Supplement 7: 400 and 300 ReLU units (actor and critic). */
  actorHidden: [400, 300],
  criticHidden: [400, 300],
  /** Supplement 7: actions "not included until the 2nd hidden layer" (0-based 1). TD3: the input layer (0). */
  criticActionLayer: 1,
  /** Supplement 7: Adam, actor 1e-4, critic 1e-3, critic L2 1e-2. */
  actorLr: 1e-4,
  criticLr: 1e-3,
  criticL2: 1e-2,
  /** Supplement 7: gamma 0.99, tau 0.001, minibatch 64, replay 10^6. */
  gamma: 0.99,
  tau: 0.001,
  batchSize: 64,
  replayCapacity: 1_000_000,
  /** Supplement 7: final layers U(-3e-3, 3e-3); null would use the hidden layers' fan-in rule. */
  finalLayerInit: 3e-3,
  /** Supplement 7: Ornstein-Uhlenbeck noise, theta 0.15, sigma 0.2. Gaussian: TD3 section 6.1 (0.1). */
  exploration: 'ou',
  ouTheta: 0.15,
  ouSigma: 0.2,
  gaussianSigma: 0.1,
  /** Adaptive parameter noise (Plappert et al. 2017): target action std 0.2, initial std 0.1 (baselines). */
  paramNoiseTarget: 0.2,
  paramNoiseInitial: 0.1,
  /** Constant action noise, as both papers (DrQ-v2 decays it: noiseStartScale, noiseDecaySteps). */
  noiseStartScale: 1,
  noiseDecaySteps: 0,
  /** TD3's tricks, off in DDPG: twin critics (section 4.2), actor every d updates (5.2), target smoothing (5.3). */
  twinCritics: false,
  policyDelay: 1,
  targetNoise: 0,
  targetNoiseClip: 0.5,
  /** Not in DDPG or TD3: no action penalty. */
  actionL2: 0,
  actionL2Margin: 0,
  preTanhPenalty: 0,
  /** Both papers: one update per environment step. */
  updatesPerStep: 1,
  /** Not stated by DDPG: one minibatch. */
  learningStarts: 64,
  /** DDPG: no uniform warm-up (TD3 section 6.1: 10^4). */
  randomSteps: 0,
  /** Proportional prioritized replay (Schaul et al. 2016: alpha 0.6, beta 0.4 annealed to 1); not in the paper. */
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  /** Running observation normalisation; not in the paper. */
  obsNormalization: false,
  /**
   * Batch normalisation of the state input and hidden layers (the critic's only below the action).
   * Supplement 7 used it for the low-dimensional tasks; off by default because the suite's
   * observations are already O(1) and TD3's DDPG re-implementation (Fujimoto et al. 2018) drops it.
   */
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
 * found with the learning diagnostics (learn/algos/diagnostics.ts, in every run's metrics) on
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

/**
 * The defaults with the action penalty lambda mean(mu^2) = 0.1 in the actor's loss (actionL2; HER's
 * action_l2), for sparse rewards. Measured at 100k steps, seed 0, against the defaults (docs/benchmarks/
 * learning-curves-2026-12-03.jsonl, cases `ddpg-<task> actionL2=0.1`; final / mean of the last five evals):
 * finger-spin 746 / 659 (defaults 0 / 0: before the first success the actor saturates and stays, the
 * penalty keeps it in range), cartpole-balance 999 / 999 (918 / 836), cartpole-swingup 792 / 783
 * (786 / 840), walker-walk 764 / 814 (919 / 830), cheetah-run 148 / 103 (144 / 161), reacher-easy
 * 374 / 341 (280 / 535), hopper-stand 6 (2), and pendulum-swingup 14 / 163 (906 / 906): there the
 * swing-up needs full torque, and the penalty's pull 2 lambda mu outweighs dQ/da (~0.02), so the
 * actor's mean |a| stayed at 0.03. Not the default for that reason: a penalty on the action's absolute
 * scale against a Q gradient on the task's reward scale.
 */
export const DDPG_ACTION_PENALTY_PRESET: Readonly<DdpgHyperparams> = Object.freeze({
  ...DDPG_DEFAULTS,
  actionL2: 0.1,
});

/**
 * The DDPG paper's pixel networks (supplement 7): 2 x 200 fully connected after the convs, actions at
 * the first of them, final layer init U(-3e-4, 3e-4), batch 16. Deviation: the replay holds 10^5
 * transitions, not 10^6 — with the paper's three rendered frames per step each transition keeps 3 new
 * 64x64 RGB frames (37 KB raw); PixelReplay keeps them run-length encoded, and 10^5 transitions
 * measured 0.16 GB (cartpole) to 1.1 GB (cheetah, walker). The store grows as it fills. Pixels are
 * already in [0, 1]: no running observation normalisation.
 */
export const DDPG_PIXEL_PAPER: Readonly<Partial<ActorCriticHyperparams>> = Object.freeze({
  actorHidden: [200, 200],
  criticHidden: [200, 200],
  criticActionLayer: 0,
  finalLayerInit: 3e-4,
  batchSize: 16,
  replayCapacity: 100_000,
  obsNormalization: false,
});

/**
 * What a new pixel run gets, under the user's hyperparameters: the paper's pixel networks with the
 * changes under which pixel DDPG balanced cartpole here (with the frame settings of
 * api/pixel-settings.ts PIXEL_SETTINGS_DEFAULTS; cartpole-balance, 20k agent steps: 926 final, >= 916
 * from 12k on; the paper's values stayed at 136-690, below doing nothing, 734). As DrQ-v2 (Yarats et
 * al. 2021), which is DDPG with these: twin critics with clipped double-Q targets, target smoothing
 * noise 0.2 clipped to 0.3, Gaussian exploration (0.2), tau 0.01, critic Adam 3e-4 (paper 1e-3),
 * 1000 random warm-up steps and batch 64 (paper 16: at 16 the same run stayed at 430-684). And
 * the pre-tanh penalty 0.01: without it every 84 x 84 run locked its actor at one end of the tanh
 * (eval 136, actor gradient exactly 0) within its first 1000 updates.
 */
export const DDPG_PIXEL_DEFAULTS: Readonly<Partial<ActorCriticHyperparams>> = Object.freeze({
  ...DDPG_PIXEL_PAPER,
  batchSize: 64,
  tau: 0.01,
  criticL2: 0,
  criticLr: 3e-4,
  twinCritics: true,
  targetNoise: 0.2,
  targetNoiseClip: 0.3,
  exploration: 'gaussian',
  gaussianSigma: 0.2,
  randomSteps: 1000,
  learningStarts: 1000,
  preTanhPenalty: 0.01,
});

/** Metrics of the actor-critic update (learn/algos/ddpg/agent.ts): its losses, Q, and the learning diagnostics. */
export const ACTOR_CRITIC_METRICS: Readonly<Record<string, MetricSpec>> = Object.freeze({
  critic_loss: CRITIC_METRICS.critic_loss,
  actor_loss: { label: 'Actor loss', description: '-mean Q(s, mu(s)) on the update batch, before the actor step (on actor steps only)' },
  q: CRITIC_METRICS.q,
  ...described(UPDATE_DIAGNOSTICS),
});

/** The rule between fields the schema cannot state: the action enters at an existing critic layer. */
export function checkActorCritic(hp: ActorCriticHyperparams): SpecIssue[] {
  if (hp.criticActionLayer < hp.criticHidden.length) return [];
  return [
    { field: 'hyperparams.criticActionLayer', message: `must be below the number of critic hidden layers (${hp.criticHidden.length})` },
  ];
}

export const ddpgSpec: AlgorithmSpec<DdpgHyperparams> = {
  id: 'ddpg',
  label: 'DDPG',
  paper: { cite: 'Lillicrap et al. 2015', title: 'Continuous control with deep reinforcement learning' },
  schema: withDefaults(ActorCriticFields, DDPG_DEFAULTS),
  paperDefaults: DDPG_PAPER_DEFAULTS,
  defaults: DDPG_DEFAULTS,
  presets: {
    'ddpg-quick': {
      hyperparams: DDPG_QUICK_PRESET,
      obs: 'lowdim',
      description: 'DDPG with small networks and fast targets for a result in about a minute (see DDPG_QUICK_PRESET)',
    },
    'ddpg-paper': {
      hyperparams: DDPG_PAPER_DEFAULTS,
      obs: 'lowdim',
      description: 'DDPG with the exact values of Lillicrap et al. 2015, supplement 7 (state runs; pixel runs: ddpg-pixels-paper)',
    },
    'ddpg-pixels-paper': {
      hyperparams: { ...DDPG_PAPER_DEFAULTS, ...DDPG_PIXEL_PAPER },
      obs: 'pixels',
      pixels: PIXEL_SETTINGS_PAPER,
      description:
        "pixel DDPG with the paper's values and frames (supplement 7: 64x64, 3 repeats stacked, 200-200, batch 16, tau 0.001): cartpole-balance 199 at 20k steps (best 258; pixel defaults 926 and 984)",
    },
    'ddpg-action-penalty': {
      hyperparams: DDPG_ACTION_PENALTY_PRESET,
      obs: 'lowdim',
      description:
        'the defaults with an action penalty of 0.1 in the actor loss, for sparse rewards: finger-spin 746 at 100k (defaults 0); hurts swing-ups (pendulum-swingup 14, defaults 906)',
    },
  },
  pixelDefaults: DDPG_PIXEL_DEFAULTS,
  pixelPaper: DDPG_PIXEL_PAPER,
  metrics: ACTOR_CRITIC_METRICS,
  check: checkActorCritic,
};
