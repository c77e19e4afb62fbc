import { describe, expect, it } from 'vitest';
import { combineSeeds, meanOverSeeds, normalise, runScores } from '../../../src-main/api/scores.ts';
import { publishedFor } from '../../../src-main/api/published.ts';

// Hand-computed values: references random 100, planner 900 (span 800).
const ref = { random_return: 100, planner_return: 900 };

describe('normalised scores (DDPG paper: random = 0, planner = 1)', () => {
  it('maps the random return to 0, the planner return to 1, and scales linearly between and beyond', () => {
    expect(normalise(100, ref)).toBe(0);
    expect(normalise(900, ref)).toBe(1);
    expect(normalise(500, ref)).toBe(0.5);
    expect(normalise(1100, ref)).toBe(1.25);
    expect(normalise(-100, ref)).toBe(-0.25);
    // Negative returns (dense pendulum): random -1200, planner -200; -700 is half way.
    expect(normalise(-700, { random_return: -1200, planner_return: -200 })).toBe(0.5);
  });

  it('gives no score without references or with a planner no better than random', () => {
    expect(normalise(500, null)).toBeNull();
    expect(normalise(500, { random_return: 3, planner_return: 3 })).toBeNull();
    expect(normalise(500, { random_return: 3, planner_return: 0 })).toBeNull();
  });

  it('R_av is the mean eval return over training and R_best the best, per run', () => {
    expect(runScores({ steps: [1000, 2000, 3000, 4000], returns: [100, 300, 700, 500] })).toEqual({ rAv: 400, rBest: 700 });
    expect(runScores({ steps: [], returns: [] })).toBeNull();
  });

  it("over seeds, R_av is the mean of the runs' R_av and R_best the best of their R_best", () => {
    const a = runScores({ steps: [1, 2], returns: [100, 300] })!; // rAv 200, rBest 300
    const b = runScores({ steps: [1, 2], returns: [500, 700] })!; // rAv 600, rBest 700
    const c = combineSeeds([a, b])!;
    expect(c).toEqual({ rAv: 400, rBest: 700 });
    expect(normalise(c.rAv, ref)).toBe(0.375);
    expect(normalise(c.rBest, ref)).toBe(0.75);
    expect(combineSeeds([])).toBeNull();
  });

  it('averages curves over seeds on the union of their steps, with the min..max band', () => {
    const m = meanOverSeeds([
      { steps: [10, 20, 30], returns: [1, 2, 3] },
      { steps: [10, 20], returns: [5, 8] },
    ]);
    expect(m.steps).toEqual([10, 20, 30]);
    expect(m.mean).toEqual([3, 5, 3]);
    expect(m.low).toEqual([1, 2, 3]);
    expect(m.high).toEqual([5, 8, 3]);
  });

  it('shows the published DDPG Table 1 and CURL State SAC numbers for the matching tasks only', () => {
    const cheetah = publishedFor('cheetah-run', 'lowdim');
    expect(cheetah.map((p) => p.value)).toEqual(['R_av 0.903 / R_best 1.206', '616±18 @100k, 795±30 @500k']);
    expect(publishedFor('cheetah-run', 'pixels').map((p) => p.value)).toEqual(['R_av 0.457 / R_best 0.792']);
    expect(publishedFor('pendulum', 'lowdim')).toEqual([]);
  });
});
