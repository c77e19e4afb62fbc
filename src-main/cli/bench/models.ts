import type { BenchSuite } from './suite.ts';
import { NAF_PAPER_DEFAULTS } from '../../learn/algos/naf/spec.ts';
import { LinearGaussianDynamics, type Trajectory } from '../../learn/model/dynamics.ts';
import { makeActionNoise } from '../../learn/algos/noise.ts';
import { createEnv } from '../../sim/env.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { Rng } from '../../util/rng.ts';

/**
 * How good are the dynamics models behind NAF's imagination rollouts (Gu et al. 2016, section 5.3)?
 * Episodes are collected with the exploration NAF starts with (OU noise 0.15 / 0.2 around a zero
 * policy); the time-varying linear-Gaussian model is fitted on `fitEpisodes` of them exactly as NAF
 * fits it (ridge, +-window pooling: learn/model/dynamics.ts) and predicts held-out episodes:
 * - one_step_rel_error: mean |x^_{t+1} - x_{t+1}| / |x_{t+1} - x_t| (1 = no better than "nothing
 *   changes"; imagined transitions are only useful well below 1);
 * - rollout_rel_error: the same after an open-loop rollout of `ROLLOUT` steps (NAF's rollout length)
 *   on the recorded actions, relative to |x_{t+10} - x_t|.
 * The 'global' rows fit one time-invariant linear model on all steps of the same episodes (window
 * = horizon): the limit a prior that pools every time step gives. The 'gmm' rows are the paper's
 * fit: the per-step fit (same window) under a GMM prior fitted on the same episodes' transitions
 * (Levine & Abbeel 2014; learn/model/gmm-prior.ts), which pools transitions from similar states;
 * 'gmm-w0' pools no neighbouring steps, as GPS's fit.
 */
const ROLLOUT = NAF_PAPER_DEFAULTS.rolloutLength;
const TASKS = ['cartpole-balance', 'cartpole-swingup', 'pendulum-swingup'];

async function collect(id: string, episodes: number, seed: number): Promise<Trajectory[]> {
  const env = await createEnv(resolveEnv(id), { seed });
  try {
    const rng = new Rng(seed);
    const noise = makeActionNoise('ou', env.info.action.size, NAF_PAPER_DEFAULTS, rng);
    const out: Trajectory[] = [];
    for (let e = 0; e < episodes; e++) {
      const traj: Trajectory = { obs: [env.reset(seed * 1000 + e)], actions: [], rewards: [] };
      noise.reset();
      for (;;) {
        const a = Float32Array.from(noise.sample(), (v) => Math.max(-1, Math.min(1, v)));
        const r = env.step(a);
        traj.actions.push(a);
        traj.rewards.push(r.reward);
        traj.obs.push(r.obs);
        if (r.terminated || r.truncated) break;
      }
      out.push(traj);
    }
    return out;
  } finally {
    env.dispose();
  }
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Mean relative one-step and ROLLOUT-step errors of a fitted model on held-out episodes. */
function errors(model: LinearGaussianDynamics, heldOut: Trajectory[]): { oneStep: number; rollout: number } {
  const x = new Float32Array(model.obsSize);
  const next = new Float32Array(model.obsSize);
  let one = 0;
  let nOne = 0;
  let roll = 0;
  let nRoll = 0;
  for (const e of heldOut) {
    const T = e.actions.length;
    for (let t = 0; t < T; t++) {
      const moved = distance(e.obs[t + 1], e.obs[t]);
      if (moved < 1e-6) continue;
      model.step(t, e.obs[t], e.actions[t], next, null);
      one += distance(next, e.obs[t + 1]) / moved;
      nOne++;
      if (t + ROLLOUT > T || t % ROLLOUT !== 0) continue;
      x.set(e.obs[t]);
      for (let k = 0; k < ROLLOUT; k++) {
        model.step(t + k, x, e.actions[t + k], next, null);
        x.set(next);
      }
      const far = distance(e.obs[t + ROLLOUT], e.obs[t]);
      if (far < 1e-6) continue;
      roll += distance(x, e.obs[t + ROLLOUT]) / far;
      nRoll++;
    }
  }
  return { oneStep: nOne ? one / nOne : NaN, rollout: nRoll ? roll / nRoll : NaN };
}

export const run: BenchSuite = async function* ({ quick }) {
  const heldOutEpisodes = quick ? 2 : 5;
  for (const task of TASKS) {
    for (const fitEpisodes of [NAF_PAPER_DEFAULTS.modelEpisodes, 20]) {
      const episodes = await collect(task, fitEpisodes + heldOutEpisodes, 1);
      const fit = episodes.slice(0, fitEpisodes);
      const heldOut = episodes.slice(fitEpisodes);
      const obsSize = fit[0].obs[0].length;
      const actionSize = fit[0].actions[0].length;
      const horizon = fit[0].actions.length;
      for (const [kind, window] of [
        ['per-step', NAF_PAPER_DEFAULTS.modelWindow],
        ['gmm', NAF_PAPER_DEFAULTS.modelWindow],
        ['gmm-w0', 0],
        ['global', horizon],
      ] as const) {
        const t0 = performance.now();
        const model = new LinearGaussianDynamics(obsSize, actionSize);
        const prior = kind.startsWith('gmm')
          ? { maxClusters: NAF_PAPER_DEFAULTS.modelPriorClusters, strength: NAF_PAPER_DEFAULTS.modelPriorStrength, rng: new Rng(1) }
          : null;
        model.fit(fit, NAF_PAPER_DEFAULTS.modelRidge, window, prior);
        const fitS = (performance.now() - t0) / 1000;
        const e = errors(model, heldOut);
        yield {
          case: `model-${task}-${kind}-${fitEpisodes}ep`,
          model: kind,
          window,
          fit_episodes: fitEpisodes,
          held_out_episodes: heldOutEpisodes,
          one_step_rel_error: +e.oneStep.toFixed(4),
          rollout_rel_error: +e.rollout.toFixed(4),
          rollout_steps: ROLLOUT,
          fit_s: +fitS.toFixed(2),
          ...(model.prior ? { prior_clusters: model.prior.mixture.components, em_iterations: model.prior.iterations } : {}),
        };
      }
    }
  }
};
