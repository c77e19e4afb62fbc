/**
 * Reward shaping functions, ported from dm_control (`dm_control/utils/rewards.py`, Tassa et al.
 * 2018): tolerance() is 1 inside the bounds and falls off outside them with one of eight sigmoids,
 * scaled so the value at distance `margin` is `value_at_margin`.
 */
import type { Reduce, Sigmoid } from '../api/task-spec.ts';

/**
 * dm_control `_sigmoids(x, value_at_1, sigmoid)`: a function of x >= 0 (distance in margins) that
 * equals 1 at 0 and `valueAt1` at 1.
 */
export function sigmoid(x: number, valueAt1: number, kind: Sigmoid): number {
  return scaledSigmoid(x * sigmoidScale(valueAt1, kind), kind);
}

/** The factor each sigmoid applies to x so that it passes through `valueAt1` at 1 (once per reward term, not per step). */
export function sigmoidScale(valueAt1: number, kind: Sigmoid): number {
  switch (kind) {
    case 'gaussian':
      return Math.sqrt(-2 * Math.log(valueAt1));
    case 'hyperbolic':
      return Math.acosh(1 / valueAt1);
    case 'long_tail':
      return Math.sqrt(1 / valueAt1 - 1);
    case 'reciprocal':
      return 1 / valueAt1 - 1;
    case 'cosine':
      return Math.acos(2 * valueAt1 - 1) / Math.PI;
    case 'linear':
      return 1 - valueAt1;
    case 'quadratic':
      return Math.sqrt(1 - valueAt1);
    case 'tanh_squared':
      return Math.atanh(Math.sqrt(1 - valueAt1));
  }
}

/** The sigmoid at s = x * sigmoidScale(valueAt1, kind). */
export function scaledSigmoid(s: number, kind: Sigmoid): number {
  switch (kind) {
    case 'gaussian':
      return Math.exp(-0.5 * s ** 2);
    case 'hyperbolic':
      return 1 / Math.cosh(s);
    case 'long_tail':
      return 1 / (s ** 2 + 1);
    case 'reciprocal':
      return 1 / (Math.abs(s) + 1);
    case 'cosine':
      return Math.abs(s) < 1 ? (1 + Math.cos(Math.PI * s)) / 2 : 0;
    case 'linear':
      return Math.abs(s) < 1 ? 1 - s : 0;
    case 'quadratic':
      return Math.abs(s) < 1 ? 1 - s * s : 0;
    case 'tanh_squared':
      return 1 - Math.tanh(s) ** 2;
  }
}

/** dm_control `tolerance(x, bounds=(lower, upper), margin, sigmoid, value_at_margin)` for a scalar. */
export function tolerance(x: number, lower: number, upper: number, margin = 0, kind: Sigmoid = 'gaussian', valueAtMargin = 0.1): number {
  return scaledTolerance(x, lower, upper, margin, kind, sigmoidScale(valueAtMargin, kind));
}

/** tolerance() with the sigmoid's scale computed beforehand (`sigmoidScale(valueAtMargin, kind)`). */
export function scaledTolerance(x: number, lower: number, upper: number, margin: number, kind: Sigmoid, scale: number): number {
  if (lower <= x && x <= upper) return 1;
  if (margin === 0) return 0;
  const d = (x < lower ? lower - x : x - upper) / margin;
  return scaledSigmoid(d * scale, kind);
}

/** Reduces a vector of term values to a scalar (the `reduce` field of a reward term). */
export function reduce(values: Float64Array, n: number, how: Reduce): number {
  if (n === 0) return 0;
  switch (how) {
    case 'first':
      return values[0];
    case 'mean':
    case 'sum': {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i];
      return how === 'mean' ? s / n : s;
    }
    case 'min': {
      let m = values[0];
      for (let i = 1; i < n; i++) if (values[i] < m) m = values[i];
      return m;
    }
    case 'max': {
      let m = values[0];
      for (let i = 1; i < n; i++) if (values[i] > m) m = values[i];
      return m;
    }
    case 'max_abs': {
      let m = Math.abs(values[0]);
      for (let i = 1; i < n; i++) if (Math.abs(values[i]) > m || Number.isNaN(values[i])) m = Math.abs(values[i]);
      return m;
    }
    case 'sumsq':
    case 'norm': {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i] * values[i];
      return how === 'norm' ? Math.sqrt(s) : s;
    }
  }
}

/** Folds an angle into [-pi, pi] (gym Pendulum's angle_normalize). */
export function wrapAngle(a: number): number {
  return ((((a + Math.PI) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)) - Math.PI;
}
