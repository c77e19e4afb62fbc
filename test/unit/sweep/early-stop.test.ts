// Early stopping rules on eval curves: ASHA keeps the top 1/reduction at each rung, the median rule
// stops a run whose best is below the others' running means; neither acts before it has enough runs.
import { describe, expect, it } from 'vitest';
import { ashaRungs, earlyStopDecision, type EvalPoint } from '../../../src-main/sweep/early-stop.ts';

const curve = (...pts: [number, number][]): EvalPoint[] => pts.map(([step, evalReturn]) => ({ step, evalReturn }));

describe('ASHA', () => {
  const rule = { rule: 'asha' as const, minSteps: 100, reduction: 3 };
  it('puts rungs at minSteps x reduction^k', () => {
    expect(ashaRungs(rule, 1000)).toEqual([100, 300, 900]);
  });

  it('stops a run below the top third at a rung once three runs reached it, and only at the rung', () => {
    const curves = new Map([
      ['a', curve([100, 50])],
      ['b', curve([100, 40])],
      ['c', curve([100, 10])],
    ]);
    expect(earlyStopDecision(rule, 'c', curves)).toMatch(/^early-stopped by ASHA at rung 100/);
    expect(earlyStopDecision(rule, 'a', curves)).toBeNull();
    // Between rungs nothing is decided.
    curves.set('c', curve([100, 10], [200, 5]));
    expect(earlyStopDecision(rule, 'c', curves)).toBeNull();
  });

  it('lets everyone go on until `reduction` runs reached the rung', () => {
    const curves = new Map([
      ['a', curve([100, 50])],
      ['b', curve([100, 10])],
    ]);
    expect(earlyStopDecision(rule, 'b', curves)).toBeNull();
  });
});

describe('median rule', () => {
  const rule = { rule: 'median' as const, minSteps: 200, minRuns: 2 };
  it('stops a run whose best is below the median of the others, after the grace period', () => {
    const curves = new Map([
      ['a', curve([100, 10], [200, 30])],
      ['b', curve([100, 20], [200, 40])],
      ['c', curve([100, 1], [200, 5])],
    ]);
    expect(earlyStopDecision(rule, 'c', curves)).toMatch(/^early-stopped by the median rule at step 200/);
    expect(earlyStopDecision(rule, 'a', curves)).toBeNull();
    curves.set('c', curve([100, 1]));
    expect(earlyStopDecision(rule, 'c', curves)).toBeNull(); // in the grace period
  });
});
