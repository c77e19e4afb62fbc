/**
 * Learning diagnostics: the signs that tell why an agent does or does not learn, measured on the
 * update batch and written into every 'update' metric record under the names below (the one place
 * these metric names are written). The studio charts them like any other metric.
 *
 * They answer the questions that decide whether DDPG-style learning is alive:
 * - is the actor's tanh saturated (outputs pinned at +-1, gradient through tanh ~0)?
 * - does the critic give the actor a learning signal (|dQ/da|), and what scale are the Q values?
 * - does the critic's L2 decay outweigh its TD gradient (the critic then shrinks towards a function
 *   that is nearly linear in the action, whose dQ/da keeps one sign and drives the actor to +-1)?
 */

/** Metric names (metrics.jsonl 'update' records) and what each measures. */
export const UPDATE_DIAGNOSTICS = {
  actor_saturation: 'fraction of actor outputs with |a| > 0.99 on the update batch',
  actor_abs_action: 'mean |a| of the actor outputs on the update batch',
  dq_da: "mean |dQ/da| at a = mu(s): the actor's learning signal",
  q_target: "mean TD target r + gamma Q(s', a') of the batch",
  critic_grad_norm: "L2 norm of the critic's TD-loss gradient",
  critic_decay_norm: "L2 norm of the critic's weight-decay gradient (criticL2 x W)",
  actor_grad_norm: "L2 norm of the actor's gradient",
} as const;
export type UpdateDiagnostic = keyof typeof UPDATE_DIAGNOSTICS;

/** Diagnostics are measured on every k-th update (they cost a pass over the parameters). */
export const DIAGNOSTICS_EVERY = 10;

/** |a| above this counts as saturated: tanh'(atanh 0.99) = 0.02, a 50x weaker gradient. */
export const SATURATED = 0.99;

/** Fraction of entries with |x| > SATURATED and mean |x|, over the first n entries. */
export function saturation(actions: Float32Array, n: number): { saturated: number; meanAbs: number } {
  let sat = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(actions[i]);
    abs += v;
    if (v > SATURATED) sat++;
  }
  return { saturated: n ? sat / n : 0, meanAbs: n ? abs / n : 0 };
}

/** Euclidean norm of the first n entries (scaled by `scale` per entry when given). */
export function l2norm(x: Float32Array, n = x.length, scale?: Float32Array): number {
  let s = 0;
  if (scale) for (let i = 0; i < n; i++) s += (x[i] * scale[i]) ** 2;
  else for (let i = 0; i < n; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** Mean |x| over the first n entries. */
export function meanAbs(x: Float32Array, n = x.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(x[i]);
  return n ? s / n : 0;
}
