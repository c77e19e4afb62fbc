/**
 * SAC's tanh-squashed Gaussian policy head (Haarnoja et al. 2018, appendix C) as plain loops: the
 * wasm executor's kernels for it (tf-exec.ts computes the same with TF.js ops). The actor's output
 * row is [mu | raw log sigma] (2A units); log sigma is squashed into [LOG_STD_MIN, LOG_STD_MAX] by a
 * tanh (as the reference implementations: bounded, with a gradient that vanishes smoothly).
 */
export const LOG_STD_MIN = -5;
export const LOG_STD_MAX = 2;
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(1 - tanh(u)^2) without cancellation: 2 (log 2 - u - softplus(-2u)). */
function logOneMinusTanhSq(u: number): number {
  const z = -2 * u;
  const softplus = z > 20 ? z : Math.log1p(Math.exp(z));
  return 2 * (Math.LN2 - u - softplus);
}

/**
 * Actions a = tanh(u), u = mu + sigma eps, and per-row log pi(a|s) (the Gaussian log density minus
 * sum log(1 - tanh(u)^2)) for actor outputs `out` [rows x 2A] and standard normal noise eps [rows x A].
 */
export function squashedGaussian(
  out: Float32Array,
  eps: Float32Array,
  rows: number,
  A: number,
  actions: Float32Array,
  logp: Float32Array,
  u: Float32Array,
  sigma: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    let lp = 0;
    for (let i = 0; i < A; i++) {
      const mu = out[r * 2 * A + i];
      const raw = out[r * 2 * A + A + i];
      const logStd = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(raw) + 1);
      const s = Math.exp(logStd);
      const e = eps[r * A + i];
      const ui = mu + s * e;
      u[r * A + i] = ui;
      sigma[r * A + i] = s;
      actions[r * A + i] = Math.tanh(ui);
      lp += -0.5 * e * e - logStd - HALF_LOG_2PI - logOneMinusTanhSq(ui);
    }
    logp[r] = lp;
  }
}

/** What the policy loss mean(alpha log pi(a~|s) - min_j Q_j(s, a~)) needs from the forward pass. */
export interface PolicyLossInputs {
  /** Actor outputs [rows x 2A], the noise [rows x A], a~ and sigma [rows x A]. */
  out: Float32Array;
  eps: Float32Array;
  actions: Float32Array;
  sigma: Float32Array;
  /** Q_j(s, a~) [rows] and d(-mean Q_j)/da~ [rows x A] of the two critics. */
  qA: Float32Array;
  qB: Float32Array;
  dA: Float32Array;
  dB: Float32Array;
  alpha: number;
  rows: number;
  A: number;
}

/**
 * dL/d(out) [rows x 2A] of the policy loss through the reparameterisation (eq. 11), per row with
 * the critic whose Q is smaller.
 */
export function squashedGaussianBackward(x: PolicyLossInputs, dOut: Float32Array): void {
  const { rows, A, alpha } = x;
  for (let r = 0; r < rows; r++) {
    const useB = x.qB[r] < x.qA[r];
    for (let i = 0; i < A; i++) {
      const k = r * A + i;
      const dLda = useB ? x.dB[k] : x.dA[k];
      const ai = x.actions[k];
      // d/du of (alpha log pi - Q) / rows: the squashing term -log(1 - tanh^2 u) has derivative 2 tanh u.
      const dLdu = dLda * (1 - ai * ai) + (alpha * 2 * ai) / rows;
      const th = Math.tanh(x.out[r * 2 * A + A + i]);
      const dLogStdDraw = 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (1 - th * th);
      dOut[r * 2 * A + i] = dLdu;
      // u = mu + exp(log sigma) eps; log pi has -log sigma.
      dOut[r * 2 * A + A + i] = (dLdu * x.sigma[k] * x.eps[k] - alpha / rows) * dLogStdDraw;
    }
  }
}
