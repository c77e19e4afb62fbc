import { describe, it, expect } from 'vitest';
import { LinearGaussianDynamics, type GmmPriorOptions, type Trajectory } from '../../../src-main/learn/model/dynamics.ts';
import { fitMixture } from '../../../src-main/learn/model/gmm-prior.ts';
import { Rng } from '../../../src-main/util/rng.ts';

/**
 * A nonlinear system whose episodes start close together, as NAF's and GPS's do: the per-time-step
 * fit sees 3 similar samples per step, too few for its 4 unknowns per row, and one linear model of
 * all steps misses the sine; a mixture pooled over all steps knows the local linearisations.
 */
const O = 2;
const A = 1;
const T = 50;
const DT = 0.05;

function step(x: ArrayLike<number>, u: ArrayLike<number>): Float32Array {
  // A pendulum swinging through most of a turn: theta'' = -10 sin(theta) + 2 u, semi-implicit Euler.
  const omega = x[1] + DT * (-10 * Math.sin(x[0]) + 2 * u[0]);
  return Float32Array.of(x[0] + DT * omega, omega);
}

function episodes(n: number, rng: Rng): Trajectory[] {
  return Array.from({ length: n }, () => {
    const e: Trajectory = { obs: [Float32Array.of(2.5 + 0.1 * rng.normal(), 0.1 * rng.normal())], actions: [], rewards: [] };
    for (let t = 0; t < T; t++) {
      const u = Float32Array.of(rng.range(-1, 1));
      const next = step(e.obs[t], u);
      e.actions.push(u);
      e.rewards.push(0);
      e.obs.push(next);
    }
    return e;
  });
}

/** Mean |x^' - x'| / |x' - x| of one-step predictions on held-out episodes (1: no better than "nothing changes"). */
function oneStepError(model: LinearGaussianDynamics, heldOut: Trajectory[]): number {
  const out = new Float32Array(O);
  let sum = 0;
  let n = 0;
  for (const e of heldOut) {
    for (let t = 0; t < T; t++) {
      model.step(t, e.obs[t], e.actions[t], out, null);
      const moved = Math.hypot(e.obs[t + 1][0] - e.obs[t][0], e.obs[t + 1][1] - e.obs[t][1]);
      if (moved < 1e-6) continue;
      sum += Math.hypot(out[0] - e.obs[t + 1][0], out[1] - e.obs[t + 1][1]) / moved;
      n++;
    }
  }
  return sum / n;
}

const gmm = (strength: number, seed = 3, maxClusters = 50): GmmPriorOptions => ({ maxClusters, strength, rng: new Rng(seed) });

describe('GMM prior of the dynamics fit (Gu et al. 2016, 5.3)', () => {
  it('recovers two well-separated Gaussian clusters by EM', () => {
    const rng = new Rng(5);
    const N = 600;
    const data = new Float64Array(N * 2);
    for (let n = 0; n < N; n++) {
      const second = n % 3 === 0;
      data[n * 2] = (second ? 5 : -2) + 0.5 * rng.normal();
      data[n * 2 + 1] = (second ? 1 : 3) + (second ? 0.2 : 1) * rng.normal();
    }
    const { mixture } = fitMixture(data, N, 2, 2, new Rng(1));
    const k = mixture.means[0] > 0 ? 0 : 1;
    expect(mixture.weights[k]).toBeCloseTo(1 / 3, 1);
    expect(mixture.means[k * 2]).toBeCloseTo(5, 0);
    expect(mixture.means[k * 2 + 1]).toBeCloseTo(1, 0);
    expect(mixture.means[(1 - k) * 2]).toBeCloseTo(-2, 0);
    expect(Math.sqrt(mixture.covariances[k * 4 + 3])).toBeCloseTo(0.2, 1);
    expect(Math.sqrt(mixture.covariances[(1 - k) * 4 + 3])).toBeCloseTo(1, 1);
  });

  it('predicts held-out transitions of a swinging pendulum far better than the per-step and global fits of 3 episodes', () => {
    const rng = new Rng(11);
    const fit = episodes(3, rng);
    const heldOut = episodes(20, rng);
    const perStep = new LinearGaussianDynamics(O, A);
    perStep.fit(fit, 1e-6, 0);
    const withPrior = new LinearGaussianDynamics(O, A);
    withPrior.fit(fit, 1e-6, 0, gmm(1));
    const global = new LinearGaussianDynamics(O, A);
    global.fit(fit, 1e-6, T);
    const plain = oneStepError(perStep, heldOut);
    const prior = oneStepError(withPrior, heldOut);
    const pooled = oneStepError(global, heldOut);
    console.log(
      `pendulum one-step relative error, 3 episodes: per-step ${plain.toFixed(3)}, GMM prior ${prior.toFixed(3)}, global ${pooled.toFixed(3)}`,
    );
    // GPS's rule: 150 transitions, at least 20 per component.
    expect(withPrior.prior?.mixture.components).toBe(7);
    expect(prior).toBeLessThan(0.3);
    expect(prior).toBeLessThan(plain / 3);
    expect(prior).toBeLessThan(pooled / 2);
  });

  it('tends to the per-step fit when each step has many samples and the prior is weak', () => {
    const rng = new Rng(12);
    const fit = episodes(40, rng);
    const perStep = new LinearGaussianDynamics(O, A);
    // The ridge on X^T X of 40 samples equals the conditioning regulariser 1e-6 on their covariance.
    perStep.fit(fit, 40e-6, 0);
    const weak = new LinearGaussianDynamics(O, A);
    weak.fit(fit, 1e-9, 0, gmm(1e-6, 3, 4));
    const strong = new LinearGaussianDynamics(O, A);
    strong.fit(fit, 1e-9, 0, gmm(1e4, 3, 4));
    const gap = (m: LinearGaussianDynamics) => {
      let worst = 0;
      for (let t = 0; t < T; t++)
        for (let i = 0; i < m.steps[t].F.length; i++) worst = Math.max(worst, Math.abs(m.steps[t].F[i] - perStep.steps[t].F[i]));
      return worst;
    };
    console.log(`largest |F - F_per-step|: weak prior ${gap(weak).toExponential(2)}, strong ${gap(strong).toExponential(2)}`);
    expect(gap(weak)).toBeLessThan(1e-4);
    // A strong prior moves the fit away from the samples of its step: the check above is not vacuous.
    expect(gap(strong)).toBeGreaterThan(0.05);
  });

  it('is deterministic for a seed', () => {
    const fit = episodes(3, new Rng(13));
    const a = new LinearGaussianDynamics(O, A);
    const b = new LinearGaussianDynamics(O, A);
    a.fit(fit, 1e-6, 2, gmm(1, 7));
    b.fit(fit, 1e-6, 2, gmm(1, 7));
    for (let t = 0; t < T; t++) expect(Array.from(a.steps[t].F)).toEqual(Array.from(b.steps[t].F));
  });
});
