import type { Rng } from '../../util/rng.ts';
import { cholesky, solveSpd } from './linalg.ts';

/**
 * The Gaussian-mixture prior of the time-varying linear-Gaussian dynamics fit (Gu et al. 2016,
 * section 5.3: "fitted using a Gaussian mixture model prior", after Levine & Abbeel 2014 and the
 * guided-policy-search code's DynamicsPriorGMM / gauss_fit_joint_prior, Levine et al. 2016).
 * A full-covariance mixture is fitted by EM on the joint vectors [x_t, u_t, x_{t+1}] of every
 * transition; for time step t the components, weighted by the mean responsibility of step t's
 * samples, give a normal-inverse-Wishart prior (mu0, Phi, m, n0) that is combined with step t's
 * few samples into a MAP joint Gaussian, then conditioned on [x, u] for x'.
 * Deviations from GPS: EM starts from k-means++ centres (GPS: random assignments) in coordinates
 * scaled to unit variance, so the 1e-6 covariance regulariser is relative; m = n0 = strength (GPS:
 * m = 1 and n0 = (N - 2 - D) / N, times strength); the MAP mean (m mu0 + N mu) / (m + N) is used
 * where GPS keeps the empirical mean.
 */

/** GPS's DynamicsPriorGMM: at least 20 transitions per component. */
export const MIN_SAMPLES_PER_CLUSTER = 20;
/** GPS's GMM.update: at most 100 EM iterations, stopping at a relative log-likelihood gain of 1e-5. */
const MAX_EM_ITERATIONS = 100;
const EM_TOLERANCE = 1e-5;
/** GPS: 1e-6 I added to each component's covariance (here in unit-variance coordinates). */
const COVARIANCE_REGULARISER = 1e-6;
/** GPS's dynamics 'regularization': 1e-6 I on the [x, u] block before conditioning. */
const CONDITIONING_REGULARISER = 1e-6;

export interface GaussianMixture {
  components: number;
  dim: number;
  /** Mixing weights (components). */
  weights: Float64Array;
  /** Component means (components x dim) and covariances (components x dim x dim), row-major. */
  means: Float64Array;
  covariances: Float64Array;
}

export interface MixtureFit {
  mixture: GaussianMixture;
  /** Posterior responsibilities of the fitted points (points x components, row-major). */
  responsibilities: Float64Array;
  logLikelihood: number;
  iterations: number;
}

/** Components GPS would use for n points: max(2, min(maxClusters, n / MIN_SAMPLES_PER_CLUSTER)). */
export function clustersFor(points: number, maxClusters: number): number {
  return Math.max(2, Math.min(maxClusters, Math.floor(points / MIN_SAMPLES_PER_CLUSTER)));
}

/** Fits a K-component full-covariance mixture by EM to `points` rows of `data` (points x dim). */
export function fitMixture(data: Float64Array, points: number, dim: number, components: number, rng: Rng): MixtureFit {
  const N = points;
  const D = dim;
  const K = Math.min(components, N);
  // Unit-variance coordinates: the regulariser and the k-means++ distances then weigh every dimension alike.
  const shift = new Float64Array(D);
  const scale = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) shift[d] += data[n * D + d] / N;
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) scale[d] += (data[n * D + d] - shift[d]) ** 2 / N;
  for (let d = 0; d < D; d++) scale[d] = Math.sqrt(scale[d]) || 1;
  const y = new Float64Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) y[n * D + d] = (data[n * D + d] - shift[d]) / scale[d];

  const resp = kmeansPlusPlusAssignments(y, N, D, K, rng);
  const weights = new Float64Array(K);
  const means = new Float64Array(K * D);
  const covs = new Float64Array(K * D * D);
  const logp = new Float64Array(N * K);
  const diff = new Float64Array(D);
  let previous = -Infinity;
  let logLikelihood = -Infinity;
  let iterations = 0;
  for (; iterations < MAX_EM_ITERATIONS; iterations++) {
    // M-step. A component that lost all its points restarts as the whole data set (as GPS's reboot).
    for (let k = 0; k < K; k++) {
      let mass = 0;
      for (let n = 0; n < N; n++) mass += resp[n * K + k];
      weights[k] = Math.max(mass / N, 1e-12);
      const empty = mass < 1e-6;
      const w = (n: number) => (empty ? 1 / N : resp[n * K + k] / mass);
      const mu = means.subarray(k * D, k * D + D);
      mu.fill(0);
      for (let n = 0; n < N; n++) {
        const wn = w(n);
        for (let d = 0; d < D; d++) mu[d] += wn * y[n * D + d];
      }
      const S = covs.subarray(k * D * D, (k + 1) * D * D);
      S.fill(0);
      for (let n = 0; n < N; n++) {
        const wn = w(n);
        if (wn === 0) continue;
        for (let d = 0; d < D; d++) diff[d] = y[n * D + d] - mu[d];
        for (let i = 0; i < D; i++) {
          const wi = wn * diff[i];
          for (let j = 0; j <= i; j++) S[i * D + j] += wi * diff[j];
        }
      }
      for (let i = 0; i < D; i++) {
        S[i * D + i] += COVARIANCE_REGULARISER;
        for (let j = 0; j < i; j++) S[j * D + i] = S[i * D + j];
      }
    }
    let total = 0;
    for (let k = 0; k < K; k++) total += weights[k];
    for (let k = 0; k < K; k++) weights[k] /= total;
    // E-step.
    logLikelihood = expectation(y, N, D, K, weights, means, covs, logp, resp);
    if (logLikelihood - previous <= EM_TOLERANCE * Math.abs(logLikelihood)) break;
    previous = logLikelihood;
  }
  // Back to data coordinates.
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < D; i++) {
      means[k * D + i] = shift[i] + scale[i] * means[k * D + i];
      for (let j = 0; j < D; j++) covs[k * D * D + i * D + j] *= scale[i] * scale[j];
    }
  }
  return {
    mixture: { components: K, dim: D, weights, means, covariances: covs },
    responsibilities: resp,
    logLikelihood,
    iterations: iterations + 1,
  };
}

/** k-means++ centres (D^2 sampling), then each point assigned wholly to its nearest centre. */
function kmeansPlusPlusAssignments(y: Float64Array, N: number, D: number, K: number, rng: Rng): Float64Array {
  const nearest = new Float64Array(N).fill(Infinity);
  const owner = new Int32Array(N);
  let centre = rng.int(N);
  for (let k = 0; k < K; k++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      let d2 = 0;
      for (let d = 0; d < D; d++) d2 += (y[n * D + d] - y[centre * D + d]) ** 2;
      if (d2 < nearest[n]) {
        nearest[n] = d2;
        owner[n] = k;
      }
      sum += nearest[n];
    }
    if (k === K - 1) break;
    let pick = rng.uniform() * sum;
    centre = N - 1;
    for (let n = 0; n < N; n++) {
      pick -= nearest[n];
      if (pick < 0) {
        centre = n;
        break;
      }
    }
  }
  const resp = new Float64Array(N * K);
  for (let n = 0; n < N; n++) resp[n * K + owner[n]] = 1;
  return resp;
}

/** Writes the responsibilities and returns the log-likelihood of the points. */
function expectation(
  y: Float64Array,
  N: number,
  D: number,
  K: number,
  weights: Float64Array,
  means: Float64Array,
  covs: Float64Array,
  logp: Float64Array,
  resp: Float64Array,
): number {
  const L = new Float64Array(D * D);
  const z = new Float64Array(D);
  for (let k = 0; k < K; k++) {
    L.set(covs.subarray(k * D * D, (k + 1) * D * D));
    if (!cholesky(L, D)) {
      // Not positive definite in floating point: a broad component that claims nothing.
      for (let n = 0; n < N; n++) logp[n * K + k] = -Infinity;
      continue;
    }
    let halfLogDet = 0;
    for (let d = 0; d < D; d++) halfLogDet += Math.log(L[d * D + d]);
    const c = Math.log(weights[k]) - halfLogDet - 0.5 * D * Math.log(2 * Math.PI);
    for (let n = 0; n < N; n++) {
      let q = 0;
      for (let i = 0; i < D; i++) {
        let s = y[n * D + i] - means[k * D + i];
        for (let j = 0; j < i; j++) s -= L[i * D + j] * z[j];
        z[i] = s / L[i * D + i];
        q += z[i] * z[i];
      }
      logp[n * K + k] = c - 0.5 * q;
    }
  }
  let ll = 0;
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logp[n * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logp[n * K + k] - max);
    for (let k = 0; k < K; k++) resp[n * K + k] = Math.exp(logp[n * K + k] - max) / sum;
    ll += max + Math.log(sum);
  }
  return ll;
}

export interface NiwPrior {
  /** Prior mean mu0 and scale matrix Phi (dim x dim), and the pseudo-counts m (of the mean) and n0 (of Phi). */
  mu0: Float64Array;
  Phi: Float64Array;
  m: number;
  n0: number;
}

/**
 * GPS's DynamicsPriorGMM.eval: the mixture's moments under the component weights `w` (the mean
 * responsibility of the queried points): mu0 = sum w_k mu_k, Phi = strength * sum w_k (Sigma_k +
 * (mu_k - mu0)(mu_k - mu0)^T), m = n0 = strength.
 */
export function niwPrior(mixture: GaussianMixture, w: Float64Array, strength: number): NiwPrior {
  const { components: K, dim: D, means, covariances } = mixture;
  const mu0 = new Float64Array(D);
  for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) mu0[d] += w[k] * means[k * D + d];
  const Phi = new Float64Array(D * D);
  for (let k = 0; k < K; k++) {
    if (w[k] === 0) continue;
    for (let i = 0; i < D; i++) {
      const di = means[k * D + i] - mu0[i];
      for (let j = 0; j < D; j++)
        Phi[i * D + j] += strength * w[k] * (covariances[k * D * D + i * D + j] + di * (means[k * D + j] - mu0[j]));
    }
  }
  return { mu0, Phi, m: strength, n0: strength };
}

export interface ConditionalDynamics {
  /** x' = F [x; u; 1]: inputs x outputs F, row-major (outputs x (inputs + 1)). */
  F: Float64Array;
  /** Diagonal of the conditional (noise) covariance of x'. */
  noiseVar: Float64Array;
}

/**
 * GPS's gauss_fit_joint_prior: the MAP joint Gaussian of samples (points x (inputs + outputs)) under
 * the NIW prior, Sigma = (Phi + N S + (N m / (N + m)) (mu - mu0)(mu - mu0)^T) / (N + n0) with S the
 * samples' (1/N) covariance, mean (m mu0 + N mu) / (m + N); conditioned on the first `inputs`
 * coordinates. Without a prior (null) it is the plain Gaussian fit (singular with few samples).
 */
export function fitJointWithPrior(
  samples: Float64Array,
  N: number,
  inputs: number,
  outputs: number,
  prior: NiwPrior | null,
): ConditionalDynamics {
  const D = inputs + outputs;
  const mu = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mu[d] += samples[n * D + d] / N;
  const Sigma = new Float64Array(D * D);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < D; i++) {
      const di = samples[n * D + i] - mu[i];
      for (let j = 0; j <= i; j++) Sigma[i * D + j] += di * (samples[n * D + j] - mu[j]);
    }
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) Sigma[j * D + i] = Sigma[i * D + j];
  // Sigma now holds N S (the scatter matrix).
  let divisor = N;
  if (prior) {
    const { mu0, Phi, m, n0 } = prior;
    const shrink = (N * m) / (N + m);
    for (let i = 0; i < D; i++)
      for (let j = 0; j < D; j++) Sigma[i * D + j] += Phi[i * D + j] + shrink * (mu[i] - mu0[i]) * (mu[j] - mu0[j]);
    for (let d = 0; d < D; d++) mu[d] = (m * mu0[d] + N * mu[d]) / (m + N);
    divisor = N + n0;
  }
  for (let i = 0; i < D * D; i++) Sigma[i] /= divisor;
  // Condition x' on z = [x, u]: W = Sigma_zz^-1 Sigma_zx' (inputs x outputs).
  const P = inputs;
  const Szz = new Float64Array(P * P);
  const Szy = new Float64Array(P * outputs);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < P; j++) Szz[i * P + j] = Sigma[i * D + j];
    Szz[i * P + i] += CONDITIONING_REGULARISER;
    for (let r = 0; r < outputs; r++) Szy[i * outputs + r] = Sigma[i * D + P + r];
  }
  const W = solveSpd(Szz, Szy, P, outputs);
  const F = new Float64Array(outputs * (P + 1));
  const noiseVar = new Float64Array(outputs);
  for (let r = 0; r < outputs; r++) {
    let c = mu[P + r];
    let explained = 0;
    for (let i = 0; i < P; i++) {
      F[r * (P + 1) + i] = W[i * outputs + r];
      c -= W[i * outputs + r] * mu[i];
      explained += W[i * outputs + r] * Szy[i * outputs + r];
    }
    F[r * (P + 1) + P] = c;
    noiseVar[r] = Math.max(Sigma[(P + r) * D + P + r] - explained, 0);
  }
  return { F, noiseVar };
}
