/** Small dense SPD solves (row-major Float64Array) shared by the dynamics fit, its GMM prior and iLQG. */

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

/** In-place lower Cholesky factor of the SPD m x m matrix M (row-major); false when not positive definite. */
export function cholesky(M: Float64Array, m: number): boolean {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = M[i * m + j];
      for (let k = 0; k < j; k++) s -= M[i * m + k] * M[j * m + k];
      if (i === j) {
        if (!(s > 0)) return false;
        M[i * m + i] = Math.sqrt(s);
      } else M[i * m + j] = s / M[j * m + j];
    }
    for (let j = i + 1; j < m; j++) M[i * m + j] = 0;
  }
  return true;
}

/** Solves L L^T X = B in place (B is m x c, row-major). */
export function cholSolve(L: Float64Array, m: number, B: Float64Array, c: number): void {
  for (let col = 0; col < c; col++) {
    for (let i = 0; i < m; i++) {
      let s = B[i * c + col];
      for (let k = 0; k < i; k++) s -= L[i * m + k] * B[k * c + col];
      B[i * c + col] = s / L[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = B[i * c + col];
      for (let k = i + 1; k < m; k++) s -= L[k * m + i] * B[k * c + col];
      B[i * c + col] = s / L[i * m + i];
    }
  }
}
