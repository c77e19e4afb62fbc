import type { Arena } from './simd.ts';
import type { FlatParams, ParamSpec } from './params.ts';

/**
 * Batch normalisation (Ioffe & Szegedy 2015) for the dense networks, as DDPG's low-dimensional
 * experiments use it (supplement 7: "on the state input and all layers of the mu network and all
 * layers of the Q network prior to the action input").
 *
 * A normalisation with parameter prefix P over n units has four parameter slots in the network's
 * FlatParams: P.gamma (scale, starts at 1), P.beta (shift, 0), and the running statistics P.mean
 * and P.var (0 and 1), which are `stat` slots: never given a gradient, decayed or perturbed, but
 * saved with the network and soft-updated into its target like every other parameter.
 *
 * Modes: 'train' normalises with the batch's statistics; 'update' also moves the running
 * statistics towards them (the online networks' forward passes in an update); 'infer' uses the
 * running statistics (acting, evaluation, the target networks, export), so a policy is a fixed
 * function of its input.
 */
export type NormMode = 'train' | 'update' | 'infer';

/** Running statistics: r <- MOMENTUM r + (1 - MOMENTUM) batch (Keras' default). */
export const BN_MOMENTUM = 0.99;
export const BN_EPS = 1e-3;

export function bnSpecs(prefix: string, units: number): ParamSpec[] {
  return [
    { name: `${prefix}.gamma`, shape: [units], bound: 0, fill: 1, decay: false },
    { name: `${prefix}.beta`, shape: [units], bound: 0, fill: 0, decay: false },
    { name: `${prefix}.mean`, shape: [units], bound: 0, fill: 0, decay: false, stat: true },
    { name: `${prefix}.var`, shape: [units], bound: 0, fill: 1, decay: false, stat: true },
  ];
}

/**
 * v [rows x n] <- gamma * (v - mean) / sqrt(var + eps) + beta, in place. In 'train'/'update' mode
 * the batch statistics are used and xhat and 1/sqrt(var + eps) are kept under `scratch` for
 * bnBackward; one row always uses the running statistics.
 */
export function bnForward(
  ar: Arena,
  p: FlatParams,
  prefix: string,
  v: Float32Array,
  rows: number,
  n: number,
  mode: NormMode,
  scratch: string,
): void {
  const gamma = p.view(`${prefix}.gamma`);
  const beta = p.view(`${prefix}.beta`);
  const rMean = p.view(`${prefix}.mean`);
  const rVar = p.view(`${prefix}.var`);
  if (mode === 'infer' || rows < 2) {
    for (let j = 0; j < n; j++) {
      const s = gamma[j] / Math.sqrt(rVar[j] + BN_EPS);
      const t = beta[j] - rMean[j] * s;
      for (let r = 0; r < rows; r++) v[r * n + j] = v[r * n + j] * s + t;
    }
    return;
  }
  const xhat = ar.get(`${scratch}.xhat`, rows * n);
  const istd = ar.get(`${scratch}.istd`, n);
  const mean = ar.get(`${scratch}.mean`, n).fill(0);
  const sq = ar.get(`${scratch}.sq`, n).fill(0);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) mean[j] += v[r * n + j];
  for (let j = 0; j < n; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      const d = v[r * n + j] - mean[j];
      sq[j] += d * d;
    }
  }
  for (let j = 0; j < n; j++) {
    const variance = sq[j] / rows;
    istd[j] = 1 / Math.sqrt(variance + BN_EPS);
    if (mode === 'update') {
      rMean[j] = BN_MOMENTUM * rMean[j] + (1 - BN_MOMENTUM) * mean[j];
      // The running variance estimates the population's: the unbiased batch variance.
      rVar[j] = BN_MOMENTUM * rVar[j] + (1 - BN_MOMENTUM) * (sq[j] / (rows - 1));
    }
  }
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) {
      const x = (v[o + j] - mean[j]) * istd[j];
      xhat[o + j] = x;
      v[o + j] = gamma[j] * x + beta[j];
    }
  }
}

/**
 * Backward through a 'train'/'update' bnForward: given dL/d(output) in d, writes dL/dgamma and
 * dL/dbeta into g (laid out as the parameters) and writes dL/d(input) back into d:
 *   dx = gamma istd / N (N dy - sum dy - xhat sum(dy xhat)).
 * d is row-major [rows x n], or transposed [n x rows] when `transposed`. When dT is given, the
 * input gradient is also written there in the other layout.
 */
export function bnBackward(
  ar: Arena,
  p: FlatParams,
  g: Float32Array | null,
  prefix: string,
  d: Float32Array,
  transposed: boolean,
  rows: number,
  n: number,
  scratch: string,
  dT: Float32Array | null,
): void {
  const gamma = p.view(`${prefix}.gamma`);
  const xhat = ar.get(`${scratch}.xhat`, rows * n);
  const istd = ar.get(`${scratch}.istd`, n);
  const sdy = ar.get(`${scratch}.sdy`, n).fill(0);
  const sdyx = ar.get(`${scratch}.sdyx`, n).fill(0);
  const at = (r: number, j: number) => (transposed ? j * rows + r : r * n + j);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      const dy = d[at(r, j)];
      sdy[j] += dy;
      sdyx[j] += dy * xhat[r * n + j];
    }
  }
  if (g) {
    const sg = p.slot(`${prefix}.gamma`);
    const sb = p.slot(`${prefix}.beta`);
    for (let j = 0; j < n; j++) {
      g[sg.offset + j] = sdyx[j];
      g[sb.offset + j] = sdy[j];
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      const i = at(r, j);
      const dx = ((gamma[j] * istd[j]) / rows) * (rows * d[i] - sdy[j] - xhat[r * n + j] * sdyx[j]);
      d[i] = dx;
      if (dT) dT[transposed ? r * n + j : j * rows + r] = dx;
    }
  }
}

/**
 * The affine map a normalisation computes in 'infer' mode, y = x * scale + shift per unit (for
 * folding it into the neighbouring dense layer of an exported policy).
 */
export function bnAffine(p: FlatParams, prefix: string): { scale: Float32Array; shift: Float32Array } {
  const gamma = p.view(`${prefix}.gamma`);
  const beta = p.view(`${prefix}.beta`);
  const mean = p.view(`${prefix}.mean`);
  const variance = p.view(`${prefix}.var`);
  const scale = new Float32Array(gamma.length);
  const shift = new Float32Array(gamma.length);
  for (let j = 0; j < gamma.length; j++) {
    scale[j] = gamma[j] / Math.sqrt(variance[j] + BN_EPS);
    shift[j] = beta[j] - mean[j] * scale[j];
  }
  return { scale, shift };
}
