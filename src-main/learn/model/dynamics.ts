import type { Rng } from '../../util/rng.ts';

/**
 * Time-varying linear-Gaussian dynamics x_{t+1} ~ N(F_t [x_t; u_t; 1], diag(s_t^2)), fitted per
 * time step on the last episodes (Gu et al. 2016, section 5.3: the last 5), for NAF's imagination
 * rollouts. With ~5 samples per step and ~20 unknowns per row the plain regression is singular;
 * deviations from the paper (which uses a GMM prior, as Levine & Abbeel 2014): neighbouring time
 * steps within +-window are pooled and a ridge term regularises the fit; the noise is diagonal.
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

export class LinearGaussianDynamics {
  /** Per time step: F (obs x (obs+act+1), row-major), noise std per obs dim, reward weights. */
  readonly steps: { F: Float64Array; std: Float64Array; rw: Float64Array }[] = [];

  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
  ) {}

  get horizon(): number {
    return this.steps.length;
  }

  fit(episodes: Trajectory[], ridge: number, window: number): void {
    const O = this.obsSize;
    const D = O + this.actionSize + 1;
    const T = Math.min(...episodes.map((e) => e.actions.length));
    this.steps.length = 0;
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
      const F = new Float64Array(O * D);
      const rw = new Float64Array(D);
      for (let i = 0; i < D; i++) {
        for (let r = 0; r < O; r++) F[r * D + i] = W[i * (O + 1) + r];
        rw[i] = W[i * (O + 1) + O];
      }
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

/** Solves (SPD) A X = B by Cholesky; A is n x n, B is n x m, both row-major. */
export function solveSpd(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * n + j];
    }
  }
  const X = new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = B[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
      y[i] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * X[k * m + c];
      X[i * m + c] = s / L[i * n + i];
    }
  }
  return X;
}
