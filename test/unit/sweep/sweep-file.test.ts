// The sweep file (api/sweep.ts): points of a grid and of random search, distributions in their
// bounds, every mistake reported on its field, and the analysis `sweep show` and the sweep page share.
import { describe, expect, it } from 'vitest';
import { parseSweep } from '../../../src-main/api/sweep.ts';
import { importance, spearman, sweepState, summarisePoints, bestPoint, type SweepRunView } from '../../../src-main/api/sweeps.ts';

const issuesOf = (raw: unknown) => {
  const r = parseSweep(raw);
  if (r.ok) throw new Error('expected the sweep to be refused');
  return r.issues;
};

describe('sweep file', () => {
  it('expands the issue example: a grid over tau with the base config', () => {
    const r = parseSweep({ name: 'tau', base: { env: 'pendulum', algo: 'ddpg', steps: 4000 }, grid: { tau: [0.005, 0.01] }, seeds: 2 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.points.map((p) => p.params)).toEqual([{ tau: 0.005 }, { tau: 0.01 }]);
    expect(r.points[1]!.config).toMatchObject({ env: 'pendulum', algo: 'ddpg', steps: 4000, hyperparams: { tau: 0.01 } });
    expect(r.sweep.seeds).toBe(2);
  });

  it('crosses grid keys, and env / algo / obs / run fields land at the top of the config', () => {
    const r = parseSweep({
      name: 'x',
      grid: { algo: ['ddpg', 'td3'], env: ['pendulum', 'cartpole-balance'], steps: [100], 'hyperparams.gamma': [0.9] },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.points).toHaveLength(4);
    expect(r.points[3]!.config).toMatchObject({ algo: 'td3', env: 'cartpole-balance', steps: 100, hyperparams: { gamma: 0.9 } });
  });

  it('samples random points inside their distributions, the same ones for the same sampler seed', () => {
    const file = {
      name: 'r',
      base: { preset: 'ddpg-quick' },
      random: {
        count: 40,
        seed: 7,
        params: {
          actorLr: { dist: 'log-uniform', min: 1e-5, max: 1e-2 },
          tau: { dist: 'uniform', min: 0.001, max: 0.02 },
          batchSize: { dist: 'int', min: 16, max: 64 },
          exploration: { dist: 'choice', values: ['ou', 'gaussian'] },
        },
      },
    };
    const a = parseSweep(file);
    const b = parseSweep(file);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.points.map((p) => p.params)).toEqual(b.points.map((p) => p.params));
    const lr = a.points.map((p) => p.params.actorLr as number);
    expect(Math.min(...lr)).toBeGreaterThanOrEqual(1e-5);
    expect(Math.max(...lr)).toBeLessThanOrEqual(1e-2);
    // Log-uniform: about half the samples below the geometric middle (3.2e-4), not ~3 % as uniform would give.
    expect(lr.filter((x) => x < 3.2e-4).length).toBeGreaterThan(10);
    expect(
      a.points.every(
        (p) => Number.isInteger(p.params.batchSize) && (p.params.batchSize as number) >= 16 && (p.params.batchSize as number) <= 64,
      ),
    ).toBe(true);
    expect(new Set(a.points.map((p) => p.params.exploration))).toEqual(new Set(['ou', 'gaussian']));
    // The preset's hyperparameters stay under the searched ones.
    expect(a.points[0]!.config.hyperparams).toMatchObject({ actorHidden: [64, 64] });
    const other = parseSweep({ ...file, random: { ...file.random, seed: 8 } });
    expect(other.ok && other.points[0]!.params).not.toEqual(a.points[0]!.params);
  });

  it('names the field of every mistake', () => {
    expect(issuesOf({ base: {} })).toContainEqual(expect.objectContaining({ field: 'name' }));
    expect(issuesOf({ name: 'a', grid: { tau: [] } })).toContainEqual(expect.objectContaining({ field: 'grid.tau' }));
    expect(issuesOf({ name: 'a', grid: { seed: [1, 2] } })).toContainEqual(expect.objectContaining({ field: 'grid.seed' }));
    expect(issuesOf({ name: 'a', random: { count: 2, params: { tau: { dist: 'uniform', min: 1, max: 0.5 } } } })).toContainEqual(
      expect.objectContaining({ field: 'random.params.tau.max' }),
    );
    expect(issuesOf({ name: 'a', random: { count: 2, params: { tau: { dist: 'log-uniform', min: 0, max: 1 } } } })).toContainEqual(
      expect.objectContaining({ field: 'random.params.tau.min' }),
    );
    expect(issuesOf({ name: 'a', random: { count: 2, params: { tau: { dist: 'normal', mean: 0 } } } })[0]!.field).toMatch(
      /^random\.params\.tau/,
    );
    expect(issuesOf({ name: 'a', seeds: 0 })).toContainEqual(expect.objectContaining({ field: 'seeds' }));
    expect(issuesOf({ name: 'a', earlyStop: { rule: 'asha', minSteps: 0 } })).toContainEqual(
      expect.objectContaining({ field: 'earlyStop.minSteps' }),
    );
    expect(issuesOf({ name: 'a', earlyStop: { rule: 'hyperband' } })[0]!.field).toMatch(/^earlyStop/);
    expect(issuesOf({ name: 'a', colour: 'red' })[0]!.message).toMatch(/colour/);
    // A searched value the run config refuses is reported on the searched key, with the value.
    const tau = issuesOf({ name: 'a', grid: { tau: [0.01, -1] } });
    expect(tau).toEqual([expect.objectContaining({ field: 'grid.tau', message: expect.stringContaining('-1') })]);
    expect(issuesOf({ name: 'a', grid: { algo: ['ddpg', 'ppo'] } })).toContainEqual(
      expect.objectContaining({ field: 'grid.algo', message: expect.stringContaining('ppo') }),
    );
    expect(issuesOf({ name: 'a', grid: { noSuchKnob: [1] } })).toContainEqual(expect.objectContaining({ field: 'grid.noSuchKnob' }));
    // And a bad base field on the base.
    expect(issuesOf({ name: 'a', base: { steps: -5 } })).toContainEqual(expect.objectContaining({ field: 'base.steps' }));
    expect(issuesOf({ name: 'a', base: { preset: 'fast' } })).toContainEqual(expect.objectContaining({ field: 'base.preset' }));
    expect(issuesOf({ name: 'a', grid: { tau: Array(100).fill(0.01), gamma: Array(20).fill(0.9) } })[0]!.message).toMatch(/2000 runs/);
  });
});

const view = (
  id: string,
  point: number,
  params: Record<string, unknown>,
  finalReturn: number | null,
  status: SweepRunView['status'] = 'done',
  earlyStopped = false,
): SweepRunView => ({
  id,
  point,
  seed: 0,
  params,
  status,
  step: 10,
  steps: 10,
  reason: null,
  earlyStopped,
  finalReturn,
  bestReturn: finalReturn,
});

describe('sweep analysis', () => {
  it('spearman: +1 for any increasing relation, -1 decreasing, null when constant', () => {
    expect(spearman([1, 2, 3, 4], [1, 10, 100, 1000])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
  });

  it('importance ranks the parameter that drives the result; categories by their mean', () => {
    const runs = [
      view('a', 0, { lr: 1, env: 'x' }, 10),
      view('b', 1, { lr: 2, env: 'y' }, 20),
      view('c', 2, { lr: 3, env: 'x' }, 30),
      view('d', 3, { lr: 4, env: 'y' }, 40),
    ];
    const imp = importance(['lr', 'env'], runs);
    expect(imp[0]).toEqual({ key: 'lr', correlation: 1 });
    expect(imp[1]!.correlation!).toBeLessThan(1);
  });

  it('seeds of one point as mean and spread; the best point by mean final return', () => {
    const runs = [view('a', 0, { tau: 1 }, 10), view('b', 0, { tau: 1 }, 30), view('c', 1, { tau: 2 }, 25), view('d', 1, { tau: 2 }, 15)];
    const points = summarisePoints(runs);
    expect(points[0]).toMatchObject({ point: 0, meanFinal: 20, runs: ['a', 'b'] });
    expect(points[0]!.stdFinal).toBeCloseTo(Math.sqrt(200));
    expect(bestPoint(points)!.point).toBe(0);
  });

  it('a sweep is finished when every run is done or stopped early by its rule', () => {
    expect(sweepState([view('a', 0, {}, 1), view('b', 0, {}, 1, 'stopped', true)])).toBe('finished');
    expect(sweepState([view('a', 0, {}, 1), view('b', 0, {}, 1, 'running')])).toBe('running');
    expect(sweepState([view('a', 0, {}, 1), view('b', 0, {}, 1, 'failed')])).toBe('ended-with-problems');
  });
});
