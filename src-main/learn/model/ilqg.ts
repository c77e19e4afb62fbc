import type { Rng } from '../../util/rng.ts';
import type { Trajectory } from './dynamics.ts';
import { cholesky, cholSolve, solveSpd } from './linalg.ts';

/**
 * iLQG exploration from the fitted model (Gu et al. 2016, sections 5.1-5.2): a linear-Gaussian
 * controller computed by an LQR backward pass on the time-varying linear dynamics of
 * LinearGaussianDynamics and a per-time-step quadratic reward model fitted the same way (pooled
 * +-window neighbouring steps, ridge). The fitted model is linear and the reward quadratic, so one
 * backward pass gives the optimal controller of that model; no forward iterations are needed.
 *
 * Conventions: rewards are maximised; z = [x; u]; the controller acts in absolute coordinates,
 * u_t = k_t + K_t x_t + e, e ~ N(0, s^2 (-Quu_t)^{-1}) (the linear-Gaussian controllers of guided
 * policy search, Levine & Abbeel 2014), clipped to [-1, 1]. Where -Quu_t is not positive definite
 * (a fitted reward convex in u), mu I is added, mu grown tenfold until the Cholesky factor exists.
 */

/** r(x, u) ~ 1/2 z^T H z + g^T z + c, z = [x; u]; H symmetric n x n (row-major), n = obs + act. */
export interface QuadraticReward {
  H: Float64Array;
  g: Float64Array;
  c: number;
}

export class QuadraticRewardModel {
  readonly steps: QuadraticReward[] = [];

  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
  ) {}

  get horizon(): number {
    return this.steps.length;
  }

  /**
   * Ridge least squares per time step t on the samples of steps t-window..t+window of every
   * episode. Features: z_i z_j (i <= j), z, 1; the constant is not regularised. With `concave`, each
   * H is projected onto the negative semidefinite matrices (eigenvalues above 0 set to 0): a local
   * quadratic fit of a bump-shaped reward (dm_control's tolerance products) is often convex in some
   * direction, and on a long horizon such a direction makes the value grow without bound.
   */
  fit(episodes: Trajectory[], ridge: number, window: number, concave = false): void {
    const O = this.obsSize;
    const n = O + this.actionSize;
    const nq = (n * (n + 1)) / 2;
    const P = nq + n + 1;
    const T = Math.min(...episodes.map((e) => e.actions.length));
    const phi = episodes.map((e) =>
      Array.from({ length: T }, (_, s) => {
        const z = new Float64Array(n);
        z.set(e.obs[s], 0);
        z.set(e.actions[s], O);
        const f = new Float64Array(P);
        let q = 0;
        for (let i = 0; i < n; i++) for (let j = i; j < n; j++) f[q++] = z[i] * z[j];
        f.set(z, nq);
        f[P - 1] = 1;
        return f;
      }),
    );
    this.steps.length = 0;
    const XtX = new Float64Array(P * P);
    const Xty = new Float64Array(P);
    for (let t = 0; t < T; t++) {
      XtX.fill(0);
      Xty.fill(0);
      for (let e = 0; e < episodes.length; e++) {
        for (let s = Math.max(0, t - window); s <= Math.min(T - 1, t + window); s++) {
          const f = phi[e][s];
          const y = episodes[e].rewards[s];
          for (let i = 0; i < P; i++) {
            const fi = f[i];
            if (fi === 0) continue;
            for (let j = 0; j < P; j++) XtX[i * P + j] += fi * f[j];
            Xty[i] += fi * y;
          }
        }
      }
      for (let i = 0; i < P - 1; i++) XtX[i * P + i] += ridge;
      XtX[P * P - 1] += 1e-8;
      const w = solveSpd(XtX, Xty, P, 1);
      const H = new Float64Array(n * n);
      let q = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++, q++) {
          if (i === j) H[i * n + i] = 2 * w[q];
          else H[i * n + j] = H[j * n + i] = w[q];
        }
      }
      const g = w.slice(nq, nq + n);
      let c = w[P - 1];
      if (concave) {
        projectNegativeSemidefinite(H, n);
        // g and c refitted to what the projected quadratic leaves unexplained.
        const m = n + 1;
        const G = new Float64Array(m * m);
        const b = new Float64Array(m);
        for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) G[i * m + j] = XtX[(nq + i) * P + nq + j];
        for (let e = 0; e < episodes.length; e++) {
          for (let s = Math.max(0, t - window); s <= Math.min(T - 1, t + window); s++) {
            const f = phi[e][s];
            let quad = 0;
            for (let i = 0; i < n; i++) {
              let hz = 0;
              for (let j = 0; j < n; j++) hz += H[i * n + j] * f[nq + j];
              quad += 0.5 * f[nq + i] * hz;
            }
            const y = episodes[e].rewards[s] - quad;
            for (let i = 0; i < m; i++) b[i] += f[nq + i] * y;
          }
        }
        const v = solveSpd(G, b, m, 1);
        g.set(v.subarray(0, n));
        c = v[n];
      }
      this.steps.push({ H, g, c });
    }
  }

  /** The model's reward at time t (clamped to the fitted horizon). */
  value(t: number, x: ArrayLike<number>, u: ArrayLike<number>): number {
    const { H, g, c } = this.steps[Math.min(t, this.steps.length - 1)];
    const O = this.obsSize;
    const n = O + this.actionSize;
    const zi = (i: number) => (i < O ? x[i] : u[i - O]);
    let r = c;
    for (let i = 0; i < n; i++) {
      let hz = 0;
      for (let j = 0; j < n; j++) hz += H[i * n + j] * zi(j);
      r += zi(i) * (0.5 * hz + g[i]);
    }
    return r;
  }
}

/** Replaces the symmetric n x n matrix S (row-major) by V min(Lambda, 0) V^T (cyclic Jacobi eigendecomposition). */
export function projectNegativeSemidefinite(S: Float64Array, n: number): void {
  const a = S.slice();
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm = 0;
  for (const v of a) norm += v * v;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * Math.max(norm, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // Columns p, q of a, then rows p, q of a, then columns p, q of V.
        rotate(a, n, p, q, n, c, s);
        rotate(a, 1, p * n, q * n, n, c, s);
        rotate(V, n, p, q, n, c, s);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += V[i * n + k] * Math.min(a[k * n + k], 0) * V[j * n + k];
      S[i * n + j] = v;
    }
  }
}

/** Per time step: u = k + K x (K act x obs, row-major) and the Cholesky factor L of -Quu (+ mu I). */
export class LinearGaussianController {
  private readonly eps: Float64Array;

  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
    readonly K: Float64Array[],
    readonly k: Float64Array[],
    readonly L: Float64Array[],
    /** The regulariser mu added to -Quu at each step (0 where -Quu was already positive definite). */
    readonly mu: Float64Array,
  ) {
    this.eps = new Float64Array(actionSize);
  }

  get horizon(): number {
    return this.K.length;
  }

  /**
   * Writes u = clip(k_t + K_t x + s L_t^{-T} n) into out, n ~ N(0, I) from rng (covariance
   * s^2 (-Quu)^{-1}); no noise when rng is null or s is 0. t must be below the horizon.
   */
  act(t: number, x: ArrayLike<number>, out: Float32Array, noiseScale: number, rng: Rng | null): Float32Array {
    const O = this.obsSize;
    const A = this.actionSize;
    const K = this.K[t];
    const k = this.k[t];
    const L = this.L[t];
    const e = this.eps;
    if (rng && noiseScale > 0) {
      for (let i = 0; i < A; i++) e[i] = rng.normal();
      for (let i = A - 1; i >= 0; i--) {
        let s = e[i];
        for (let j = i + 1; j < A; j++) s -= L[j * A + i] * e[j];
        e[i] = s / L[i * A + i];
      }
    } else e.fill(0);
    for (let i = 0; i < A; i++) {
      let u = k[i] + noiseScale * e[i];
      for (let j = 0; j < O; j++) u += K[i * O + j] * x[j];
      out[i] = Math.max(-1, Math.min(1, u));
    }
    return out;
  }
}

/**
 * LQR backward pass (maximising) on x_{t+1} = F_t [x; u; 1] and r_t = 1/2 z^T H_t z + g_t^T z + c_t,
 * V_T = 0, V_t = r_t + discount * V_{t+1}. Q blocks from Qzz = H + d Fz^T Vxx Fz and
 * Qz = g + d Fz^T (Vxx f + vx); K = (-Quu + mu I)^{-1} Qux, k = (-Quu + mu I)^{-1} Qu; the value
 * update uses the unregularised Quu (Tassa et al. 2012), so V is the value of the gains used.
 * With every H negative semidefinite, Q is jointly concave and so is V for any gains; with a
 * reward fitted convex in some state direction V can grow without bound. Returns null when the
 * pass yields non-finite values.
 */
export function lqgBackward(
  dynamics: readonly { F: Float64Array }[],
  reward: readonly QuadraticReward[],
  obsSize: number,
  actionSize: number,
  discount = 1,
): LinearGaussianController | null {
  const O = obsSize;
  const A = actionSize;
  const n = O + A;
  const D = n + 1;
  const T = Math.min(dynamics.length, reward.length);
  const Vxx = new Float64Array(O * O);
  const vx = new Float64Array(O);
  const W = new Float64Array(O * n);
  const b = new Float64Array(O);
  const Qzz = new Float64Array(n * n);
  const Qz = new Float64Array(n);
  const Quu = new Float64Array(A * A);
  const M = new Float64Array(A * A);
  const Ks: Float64Array[] = new Array<Float64Array>(T);
  const ks: Float64Array[] = new Array<Float64Array>(T);
  const Ls: Float64Array[] = new Array<Float64Array>(T);
  const mus = new Float64Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const F = dynamics[t].F;
    const { H, g } = reward[t];
    // W = Vxx Fz, b = Vxx f + vx.
    for (let i = 0; i < O; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < O; l++) s += Vxx[i * O + l] * F[l * D + j];
        W[i * n + j] = s;
      }
      let s = vx[i];
      for (let l = 0; l < O; l++) s += Vxx[i * O + l] * F[l * D + n];
      b[i] = s;
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < O; l++) s += F[l * D + i] * W[l * n + j];
        Qzz[i * n + j] = H[i * n + j] + discount * s;
      }
      let s = 0;
      for (let l = 0; l < O; l++) s += F[l * D + i] * b[l];
      Qz[i] = g[i] + discount * s;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) Qzz[i * n + j] = Qzz[j * n + i] = 0.5 * (Qzz[i * n + j] + Qzz[j * n + i]);
    let scale = 0;
    for (let i = 0; i < A; i++) {
      for (let j = 0; j < A; j++) Quu[i * A + j] = Qzz[(O + i) * n + O + j];
      scale = Math.max(scale, Math.abs(Quu[i * A + i]));
    }
    let mu = 0;
    for (;;) {
      for (let i = 0; i < A * A; i++) M[i] = -Quu[i];
      for (let i = 0; i < A; i++) M[i * A + i] += mu;
      if (cholesky(M, A)) break;
      mu = mu === 0 ? 1e-6 * Math.max(1, scale) : mu * 10;
      if (!Number.isFinite(mu) || mu > 1e12 * Math.max(1, scale)) return null;
    }
    mus[t] = mu;
    // [K | k] = M^{-1} [Qux | Qu].
    const Kk = new Float64Array(A * (O + 1));
    for (let i = 0; i < A; i++) {
      for (let j = 0; j < O; j++) Kk[i * (O + 1) + j] = Qzz[(O + i) * n + j];
      Kk[i * (O + 1) + O] = Qz[O + i];
    }
    cholSolve(M, A, Kk, O + 1);
    const K = new Float64Array(A * O);
    const k = new Float64Array(A);
    for (let i = 0; i < A; i++) {
      for (let j = 0; j < O; j++) K[i * O + j] = Kk[i * (O + 1) + j];
      k[i] = Kk[i * (O + 1) + O];
    }
    // Vxx = Qxx + K^T Quu K + K^T Qux + Qux^T K; vx = Qx + K^T Quu k + K^T Qu + Qux^T k.
    for (let i = 0; i < O; i++) {
      for (let j = 0; j < O; j++) {
        let s = Qzz[i * n + j];
        for (let a = 0; a < A; a++) {
          let quk = 0;
          for (let c = 0; c < A; c++) quk += Quu[a * A + c] * K[c * O + j];
          s += K[a * O + i] * quk + K[a * O + i] * Qzz[(O + a) * n + j] + Qzz[(O + a) * n + i] * K[a * O + j];
        }
        Vxx[i * O + j] = s;
      }
      let s = Qz[i];
      for (let a = 0; a < A; a++) {
        let quk = 0;
        for (let c = 0; c < A; c++) quk += Quu[a * A + c] * k[c];
        s += K[a * O + i] * (quk + Qz[O + a]) + Qzz[(O + a) * n + i] * k[a];
      }
      vx[i] = s;
    }
    for (let i = 0; i < O; i++) for (let j = 0; j < i; j++) Vxx[i * O + j] = Vxx[j * O + i] = 0.5 * (Vxx[i * O + j] + Vxx[j * O + i]);
    for (const v of Vxx) if (!Number.isFinite(v)) return null;
    for (const v of vx) if (!Number.isFinite(v)) return null;
    Ks[t] = K;
    ks[t] = k;
    Ls[t] = M.slice();
  }
  return new LinearGaussianController(O, A, Ks, ks, Ls, mus);
}

/** Plane rotation of two strided lines of m (elements i0 + k*stride and j0 + k*stride, k < n): (x, y) -> (c x - s y, s x + c y). */
function rotate(m: Float64Array, stride: number, i0: number, j0: number, n: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const x = m[i0 + k * stride];
    const y = m[j0 + k * stride];
    m[i0 + k * stride] = c * x - s * y;
    m[j0 + k * stride] = s * x + c * y;
  }
}
