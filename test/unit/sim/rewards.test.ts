import { describe, expect, it } from 'vitest';
import { reduce, sigmoid, tolerance, wrapAngle } from '../../../src-main/sim/rewards.ts';

// Values worked out by hand from dm_control's rewards.py formulas.
describe('tolerance (dm_control rewards.tolerance)', () => {
  it('is 1 inside the bounds and an indicator when margin is 0', () => {
    expect(tolerance(0.5, 0, 1)).toBe(1);
    expect(tolerance(1, 0, 1)).toBe(1);
    expect(tolerance(1.0001, 0, 1)).toBe(0);
    expect(tolerance(-16, -Infinity, -15)).toBe(1);
    expect(tolerance(-14, -Infinity, -15)).toBe(0);
  });

  it('reaches value_at_margin at one margin outside, for every sigmoid', () => {
    for (const s of ['gaussian', 'hyperbolic', 'long_tail', 'reciprocal', 'cosine', 'linear', 'quadratic', 'tanh_squared'] as const) {
      expect(tolerance(3, 0, 1, 2, s, 0.1)).toBeCloseTo(0.1, 12);
      expect(tolerance(-2, 0, 1, 2, s, 0.1)).toBeCloseTo(0.1, 12);
    }
  });

  it('matches hand-computed values between the bound and the margin', () => {
    // gaussian: exp(-0.5 (d * sqrt(-2 ln 0.1))^2) = 0.1^(d^2); d = 0.5 -> 0.1^0.25
    expect(tolerance(0.5, 0, 0, 1)).toBeCloseTo(0.1 ** 0.25, 12);
    // linear with value_at_margin 0 (cheetah run): speed 4 of 10 -> 0.4
    expect(tolerance(4, 10, Infinity, 10, 'linear', 0)).toBeCloseTo(0.4, 12);
    expect(tolerance(-1, 10, Infinity, 10, 'linear', 0)).toBe(0);
    // quadratic with value_at_margin 0 (small control): 1 - x^2
    expect(tolerance(0.5, 0, 0, 1, 'quadratic', 0)).toBeCloseTo(0.75, 12);
    // walker move: linear, margin .5, value .5 at margin; speed .75 -> d = .5 -> 1 - .5 * .5 = .75
    expect(tolerance(0.75, 1, Infinity, 0.5, 'linear', 0.5)).toBeCloseTo(0.75, 12);
    // long_tail: 1 / ((d*3)^2 + 1) with scale sqrt(1/0.1 - 1) = 3; d = 1/3 -> 0.5
    expect(sigmoid(1 / 3, 0.1, 'long_tail')).toBeCloseTo(0.5, 12);
    // reciprocal: 1 / (|d| * 9 + 1); d = 1/9 -> 0.5
    expect(sigmoid(1 / 9, 0.1, 'reciprocal')).toBeCloseTo(0.5, 12);
    // cosine: (1 + cos(pi d scale)) / 2 with value 0.5 -> scale 0.5; d = 1 -> 0.5, d = 2 -> 0
    expect(sigmoid(1, 0.5, 'cosine')).toBeCloseTo(0.5, 12);
    expect(sigmoid(2.5, 0.5, 'cosine')).toBe(0);
    // hyperbolic and tanh_squared at d = 0 are 1
    expect(sigmoid(0, 0.1, 'hyperbolic')).toBe(1);
    expect(sigmoid(0, 0.1, 'tanh_squared')).toBe(1);
  });
});

describe('reduce and wrapAngle', () => {
  const v = new Float64Array([3, -4, 1]);
  it('reduces vectors', () => {
    expect(reduce(v, 3, 'mean')).toBe(0);
    expect(reduce(v, 3, 'sum')).toBe(0);
    expect(reduce(v, 3, 'min')).toBe(-4);
    expect(reduce(v, 3, 'max')).toBe(3);
    expect(reduce(v, 3, 'sumsq')).toBe(26);
    expect(reduce(v, 2, 'norm')).toBe(5);
    expect(reduce(v, 3, 'first')).toBe(3);
  });
  it('wraps angles into [-pi, pi)', () => {
    expect(wrapAngle((3 * Math.PI) / 2)).toBeCloseTo(-Math.PI / 2, 12);
    expect(wrapAngle((-3 * Math.PI) / 2)).toBeCloseTo(Math.PI / 2, 12);
    expect(wrapAngle(0.3)).toBeCloseTo(0.3, 12);
  });
});
