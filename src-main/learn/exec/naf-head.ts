/**
 * NAF's quadratic head (Gu et al. 2016, section 4) as plain loops: the wasm executor's kernel for
 * it (tf-exec.ts computes the same with TF.js ops). A row of head outputs [V | pre-tanh mu |
 * packed lower triangle of L, diagonal pre-exp] gives Q(x, u) = V - 1/2 |L^T (u - mu)|^2 with
 * mu = tanh(pre-mu) and P = L L^T.
 */

/** Outputs of NAF's head layer for n action dimensions: V, mu and the n(n+1)/2 entries of L. */
export function nafHeadSize(n: number): number {
  return 1 + n + (n * (n + 1)) / 2;
}

/**
 * Q per row into q [rows], and dLoss/dHeads [rows x H] into dHeads for the loss
 * mean w (Q - y)^2 (weights null: 1), from head outputs [rows x H] and actions [rows x n].
 */
export function nafQuadratic(
  heads: Float32Array,
  n: number,
  rows: number,
  actions: Float32Array,
  y: Float32Array,
  weights: Float32Array | null,
  dHeads: Float32Array,
  q: Float32Array,
): void {
  const H = nafHeadSize(n);
  const L = new Float64Array(n * n);
  const d = new Float64Array(n);
  const w = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const o = r * H;
    // Unpack L (row-major packed lower triangle; diagonal exponentiated) and d = u - mu.
    let k = o + 1 + n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++, k++) L[i * n + j] = i === j ? Math.exp(heads[k]) : heads[k];
      d[i] = actions[r * n + i] - Math.tanh(heads[o + 1 + i]);
    }
    // w = L^T d, A = -1/2 |w|^2.
    let A = 0;
    for (let j = 0; j < n; j++) {
      let s2 = 0;
      for (let i = j; i < n; i++) s2 += L[i * n + j] * d[i];
      w[j] = s2;
      A -= 0.5 * s2 * s2;
    }
    const qr = heads[o] + A;
    q[r] = qr;
    const g = (2 * (weights ? weights[r] : 1) * (qr - y[r])) / rows;
    dHeads[o] = g;
    // dA/dmu_i = (L w)_i, through tanh; dA/dL_ij = -w_j d_i (i >= j), through exp on the diagonal.
    for (let i = 0; i < n; i++) {
      let lw = 0;
      for (let j = 0; j <= i; j++) lw += L[i * n + j] * w[j];
      const mu = Math.tanh(heads[o + 1 + i]);
      dHeads[o + 1 + i] = g * lw * (1 - mu * mu);
    }
    k = o + 1 + n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++, k++) dHeads[k] = g * -w[j] * d[i] * (i === j ? L[i * n + i] : 1);
    }
  }
}

/**
 * Index maps between the packed lower triangle (row-major, k = i(i+1)/2 + j) and the flat n x n
 * matrix: `unpack[i * n + j]` is k for j <= i and P (one past the last packed entry: a zero
 * column) above the diagonal; `pack[k]` is i * n + j; `diagonal[i * n + j]` is 1 on the diagonal.
 */
export function triangleMaps(n: number): { unpack: Int32Array; pack: Int32Array; diagonal: Float32Array } {
  const P = (n * (n + 1)) / 2;
  const unpack = new Int32Array(n * n).fill(P);
  const pack = new Int32Array(P);
  const diagonal = new Float32Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++, k++) {
      unpack[i * n + j] = k;
      pack[k] = i * n + j;
      if (i === j) diagonal[i * n + j] = 1;
    }
  return { unpack, pack, diagonal };
}
