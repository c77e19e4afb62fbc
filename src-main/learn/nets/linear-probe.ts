/**
 * Linear probes: how much of a state vector can be read off a feature vector. Used by the feature
 * probe of the pixel learning run (scripts/pixel-experiment.ts: a ridge readout of the critic torso's
 * features during RL) and by `rl-studio bench probe` (cli/bench/probe.ts: the torso trained with a
 * linear head, supervised). Plain float64 arithmetic on rows; no tensors.
 */

/** Per-dimension coefficient of determination, R^2 = 1 - SS_res / SS_tot, with the rows' own mean. */
export function rSquared(predicted: readonly ArrayLike<number>[], actual: readonly ArrayLike<number>[]): number[] {
  if (predicted.length !== actual.length) throw new Error(`rSquared: ${predicted.length} predictions for ${actual.length} targets`);
  if (!actual.length) return [];
  const D = actual[0].length;
  return Array.from({ length: D }, (_, d) => {
    let mean = 0;
    for (const y of actual) mean += y[d];
    mean /= actual.length;
    let ssTot = 0;
    let ssRes = 0;
    for (let i = 0; i < actual.length; i++) {
      ssTot += (actual[i][d] - mean) ** 2;
      ssRes += (actual[i][d] - predicted[i][d]) ** 2;
    }
    // A constant target (no variance) explains nothing: 1 - SS_res / ~0 is very negative, not NaN.
    return 1 - ssRes / Math.max(ssTot, 1e-12);
  });
}

/** Per-dimension mean and standard deviation of rows (a dimension that never varies gets std 1). */
export function moments(rows: readonly ArrayLike<number>[]): { mean: Float64Array; std: Float64Array } {
  const D = rows[0].length;
  const mean = new Float64Array(D);
  const std = new Float64Array(D);
  for (const r of rows) for (let d = 0; d < D; d++) mean[d] += r[d];
  for (let d = 0; d < D; d++) mean[d] /= rows.length;
  for (const r of rows) for (let d = 0; d < D; d++) std[d] += (r[d] - mean[d]) ** 2;
  for (let d = 0; d < D; d++) std[d] = Math.sqrt(std[d] / rows.length) || 1;
  return { mean, std };
}

/** A fitted linear readout: y_d = sum_i x_i w[i][d] + bias[d]. */
export interface LinearReadout {
  weights: Float64Array[];
  bias: Float64Array;
}

export function readOut(readout: LinearReadout, x: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(readout.bias);
  for (let i = 0; i < readout.weights.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const w = readout.weights[i];
    for (let d = 0; d < y.length; d++) y[d] += xi * w[d];
  }
  return y;
}

/**
 * Ridge regression of every target dimension on the features plus a constant, from the normal
 * equations (X^T X + lambda n I) w = X^T y solved once by Gauss-Jordan elimination with partial
 * pivoting (the constant is penalised like the features). O(F^3): meant for up to ~10^3 features.
 */
export function fitRidge(features: readonly ArrayLike<number>[], targets: readonly ArrayLike<number>[], lambda = 1e-3): LinearReadout {
  const F = features[0].length + 1;
  const D = targets[0].length;
  const A = Array.from({ length: F }, () => new Float64Array(F + D));
  const f = new Float64Array(F);
  for (let r = 0; r < features.length; r++) {
    const x = features[r];
    const y = targets[r];
    for (let i = 0; i < F - 1; i++) f[i] = x[i];
    f[F - 1] = 1;
    for (let i = 0; i < F; i++) {
      const fi = f[i];
      if (fi === 0) continue;
      const row = A[i];
      for (let j = 0; j < F; j++) row[j] += fi * f[j];
      for (let d = 0; d < D; d++) row[F + d] += fi * y[d];
    }
  }
  for (let i = 0; i < F; i++) A[i][i] += lambda * features.length;
  for (let c = 0; c < F; c++) {
    let p = c;
    for (let i = c + 1; i < F; i++) if (Math.abs(A[i][c]) > Math.abs(A[p][c])) p = i;
    [A[c], A[p]] = [A[p], A[c]];
    for (let i = 0; i < F; i++) {
      if (i === c) continue;
      const k = A[i][c] / A[c][c];
      if (k === 0) continue;
      for (let j = c; j < F + D; j++) A[i][j] -= k * A[c][j];
    }
  }
  const solve = (i: number) => Float64Array.from({ length: D }, (_, d) => A[i][F + d] / A[i][i]);
  return { weights: Array.from({ length: F - 1 }, (_, i) => solve(i)), bias: solve(F - 1) };
}
