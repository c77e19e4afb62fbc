import type { Rng } from '../../util/rng.ts';
import { clustersFor, fitJointWithPrior, fitMixture, niwPrior, type MixtureFit } from './gmm-prior.ts';
import { solveSpd } from './linalg.ts';

/**
 * Time-varying linear-Gaussian dynamics x_{t+1} ~ N(F_t [x_t; u_t; 1], diag(s_t^2)), fitted per
 * time step on the last episodes (Gu et al. 2016, section 5.3: the last 5), for NAF's imagination
 * rollouts. With ~5 samples per step and ~20 unknowns per row the plain regression is singular.
 * The paper regularises it with a GMM prior (Levine & Abbeel 2014; here `prior`, learn/model/gmm-prior.ts);
 * without one a ridge term does. Deviations from the paper: neighbouring time steps within +-window
 * are pooled (with the prior too); the noise is diagonal.
 * Rewards of imagined steps come from a caller-supplied function, else from a per-step linear
 * reward regression fitted the same way.
 */
export interface Trajectory {
  /** T+1 observations (the last is the final next-observation). */
  obs: Float32Array[];
  /** T actions in [-1, 1]. */
  actions: Float32Array[];
  rewards: number[];
}

export type RewardFn = (obs: Float32Array, action: Float32Array, nextObs: Float32Array) => number;

/** The GMM prior of the fit (Gu et al. 2016, section 5.3). */
export interface GmmPriorOptions {
  /** Most mixture components (GPS: 50); fewer when under 20 transitions each. */
  maxClusters: number;
  /** Pseudo-samples the prior counts as (GPS: 1). */
  strength: number;
  /** Seeds EM's k-means++ start. */
  rng: Rng;
}

export class LinearGaussianDynamics {
  /** Per time step: F (obs x (obs+act+1), row-major), noise std per obs dim, reward weights. */
  readonly steps: { F: Float64Array; std: Float64Array; rw: Float64Array }[] = [];

  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
  ) {}

  /** The mixture of the latest fit with a GMM prior, else null. */
  prior: MixtureFit | null = null;

  get horizon(): number {
    return this.steps.length;
  }

  /**
   * Fits every time step on the samples of steps t-window..t+window of all episodes: a ridge
   * regression, or with `prior` the MAP fit under the GMM prior (the reward regression stays ridge).
   */
  fit(episodes: Trajectory[], ridge: number, window: number, prior: GmmPriorOptions | null = null): void {
    const O = this.obsSize;
    const D = O + this.actionSize + 1;
    const T = Math.min(...episodes.map((e) => e.actions.length));
    this.steps.length = 0;
    const joint = prior ? jointTransitions(episodes, T, O, this.actionSize) : null;
    this.prior =
      prior && joint
        ? fitMixture(joint, episodes.length * T, 2 * O + this.actionSize, clustersFor(episodes.length * T, prior.maxClusters), prior.rng)
        : null;
    const z = new Float64Array(D);
    for (let t = 0; t < T; t++) {
      // A window spanning the whole horizon pools the same rows at every step: one fit serves all.
      if (t > 0 && window >= T - 1) {
        this.steps.push(this.steps[0]);
        continue;
      }
      const XtX = new Float64Array(D * D);
      const XtY = new Float64Array(D * (O + 1));
      const rows: { z: Float64Array; y: Float64Array }[] = [];
      for (const e of episodes) {
        for (let s = Math.max(0, t - window); s <= Math.min(T - 1, t + window); s++) {
          z.set(e.obs[s], 0);
          z.set(e.actions[s], O);
          z[D - 1] = 1;
          const y = new Float64Array(O + 1);
          y.set(e.obs[s + 1], 0);
          y[O] = e.rewards[s];
          rows.push({ z: z.slice(), y });
          for (let i = 0; i < D; i++) {
            for (let j = 0; j < D; j++) XtX[i * D + j] += z[i] * z[j];
            for (let j = 0; j <= O; j++) XtY[i * (O + 1) + j] += z[i] * y[j];
          }
        }
      }
      for (let i = 0; i < D - 1; i++) XtX[i * D + i] += ridge;
      XtX[(D - 1) * D + (D - 1)] += 1e-8;
      const W = solveSpd(XtX, XtY, D, O + 1);
      // W is D x (O+1); F row r = column r of W.
      let F: Float64Array = new Float64Array(O * D);
      const rw = new Float64Array(D);
      for (let i = 0; i < D; i++) {
        for (let r = 0; r < O; r++) F[r * D + i] = W[i * (O + 1) + r];
        rw[i] = W[i * (O + 1) + O];
      }
      if (prior && joint && this.prior) F = this.priorFit(joint, T, episodes.length, t, window, prior.strength);
      const std = new Float64Array(O);
      for (const row of rows) {
        for (let r = 0; r < O; r++) {
          let p = 0;
          for (let i = 0; i < D; i++) p += F[r * D + i] * row.z[i];
          std[r] += (row.y[r] - p) ** 2 / rows.length;
        }
      }
      for (let r = 0; r < O; r++) std[r] = Math.sqrt(std[r]);
      this.steps.push({ F, std, rw });
    }
  }

  /** Step t's dynamics under the GMM prior weighted by the mean responsibility of its (pooled) samples. */
  private priorFit(joint: Float64Array, T: number, episodes: number, t: number, window: number, strength: number): Float64Array {
    const { mixture, responsibilities } = this.prior!;
    const K = mixture.components;
    const J = mixture.dim;
    const first = Math.max(0, t - window);
    const last = Math.min(T - 1, t + window);
    const N = episodes * (last - first + 1);
    const samples = new Float64Array(N * J);
    const w = new Float64Array(K);
    let row = 0;
    for (let e = 0; e < episodes; e++) {
      for (let s = first; s <= last; s++, row++) {
        const n = e * T + s;
        samples.set(joint.subarray(n * J, n * J + J), row * J);
        for (let k = 0; k < K; k++) w[k] += responsibilities[n * K + k] / N;
      }
    }
    const inputs = this.obsSize + this.actionSize;
    return fitJointWithPrior(samples, N, inputs, this.obsSize, niwPrior(mixture, w, strength)).F;
  }

  /** One imagined step at time t (clamped to the fitted horizon); writes x' and returns the model reward. */
  step(t: number, x: Float32Array, u: Float32Array, out: Float32Array, rng: Rng | null): number {
    const { F, std, rw } = this.steps[Math.min(t, this.steps.length - 1)];
    const O = this.obsSize;
    const A = this.actionSize;
    const D = O + A + 1;
    let r = rw[D - 1];
    for (let i = 0; i < O; i++) r += rw[i] * x[i];
    for (let i = 0; i < A; i++) r += rw[O + i] * u[i];
    for (let k = 0; k < O; k++) {
      let v = F[k * D + D - 1];
      for (let i = 0; i < O; i++) v += F[k * D + i] * x[i];
      for (let i = 0; i < A; i++) v += F[k * D + O + i] * u[i];
      out[k] = v + (rng ? std[k] * rng.normal() : 0);
    }
    return r;
  }
}

/** [x_t, u_t, x_{t+1}] of steps 0..T-1 of every episode, episode-major (episodes * T rows). */
function jointTransitions(episodes: Trajectory[], T: number, O: number, A: number): Float64Array {
  const J = 2 * O + A;
  const out = new Float64Array(episodes.length * T * J);
  episodes.forEach((e, i) => {
    for (let s = 0; s < T; s++) {
      const at = (i * T + s) * J;
      out.set(e.obs[s], at);
      out.set(e.actions[s], at + O);
      out.set(e.obs[s + 1], at + O + A);
    }
  });
  return out;
}
