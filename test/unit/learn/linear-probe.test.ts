import { describe, it, expect } from 'vitest';
import { fitRidge, moments, readOut, rSquared } from '../../../src-main/learn/nets/linear-probe.ts';

describe('linear probe (bench probe and the pixel run feature probe)', () => {
  it('R^2 per dimension matches hand-computed values', () => {
    const actual = [
      [1, 1, 5, 1],
      [2, 2, 5, 2],
      [3, 3, 5, 3],
      [4, 4, 5, 4],
    ];
    const predicted = [
      [1, 2.5, 5, 4],
      [2, 2.5, 5, 3],
      [3, 2.5, 5, 2],
      [5, 2.5, 5, 1],
    ];
    const r2 = rSquared(predicted, actual);
    // Dimension 0: mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 1: 1 - 1/5.
    expect(r2[0]).toBeCloseTo(0.8, 12);
    // Predicting the mean explains nothing.
    expect(r2[1]).toBeCloseTo(0, 12);
    // A constant target predicted exactly: 1 - 0 / max(0, 1e-12).
    expect(r2[2]).toBe(1);
    // Reversed: SS_res = 9 + 1 + 1 + 9 = 20, worse than the mean: 1 - 20/5.
    expect(r2[3]).toBeCloseTo(-3, 12);
    expect(() => rSquared(predicted.slice(1), actual)).toThrow(/3 predictions for 4 targets/);
  });

  it('moments: mean and population std per dimension, std 1 where a dimension never varies', () => {
    const { mean, std } = moments([
      [1, 7],
      [3, 7],
    ]);
    expect([...mean]).toEqual([2, 7]);
    expect([...std]).toEqual([1, 1]);
  });

  it('ridge readout solves the penalised normal equations (hand-solved 2 x 2 system)', () => {
    // x = 1, 2, 3; y = 2x. With lambda n = 1 on [w, b]: [[15, 6], [6, 4]] [w, b] = [28, 12],
    // so w = (4*28 - 6*12) / 24 = 5/3 and b = (15*12 - 6*28) / 24 = 1/2.
    const fit = fitRidge([[1], [2], [3]], [[2], [4], [6]], 1 / 3);
    expect(fit.weights[0][0]).toBeCloseTo(5 / 3, 10);
    expect(fit.bias[0]).toBeCloseTo(0.5, 10);
    expect(readOut(fit, [3])[0]).toBeCloseTo(5 + 0.5, 10);
  });

  it('ridge readout recovers an exact linear map of several features and targets', () => {
    const xs = [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, -1],
    ];
    const ys = xs.map(([a, b]) => [2 * a - b + 3, -a + 0.5]);
    const fit = fitRidge(xs, ys, 1e-12);
    const r2 = rSquared(
      xs.map((x) => readOut(fit, x)),
      ys,
    );
    expect(r2[0]).toBeCloseTo(1, 8);
    expect(r2[1]).toBeCloseTo(1, 8);
    expect(fit.weights[0][0]).toBeCloseTo(2, 6);
    expect(fit.weights[1][0]).toBeCloseTo(-1, 6);
    expect(fit.bias[0]).toBeCloseTo(3, 6);
  });
});
