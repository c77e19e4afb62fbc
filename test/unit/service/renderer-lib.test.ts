/**
 * The renderer's pure helpers (no DOM): curve smoothing and downsampling, seed bands, and the runs
 * table's filter language. They live with the service tests because both sides of StudioApi
 * agree on these numbers.
 */
import { describe, expect, it } from 'vitest';
import { debiasedEma, downsampleMinMax, meanBand } from '../../../src-renderer/src/lib/series.ts';
import { matches, parseQuery } from '../../../src-renderer/src/lib/run-query.ts';
import { blendPoses } from '../../../src-renderer/src/lib/poses.ts';
import type { RunRow } from '../../../src-main/api/studio-api.ts';

describe('curve helpers', () => {
  it('debiased EMA starts at the first value and keeps a constant constant', () => {
    expect(debiasedEma([5, 5, 5, 5], 0.9)[0]).toBeCloseTo(5);
    expect(Array.from(debiasedEma([3, 3, 3], 0.99))).toEqual([3, 3, 3].map((v) => expect.closeTo(v, 9)));
    expect(Array.from(debiasedEma([1, 2, 3], 0))).toEqual([1, 2, 3]);
    const s = debiasedEma([0, 10], 0.5);
    // EMA 0.5*0 + 0.5*10 = 5, debiased by 1 - 0.5^2.
    expect(s[1]).toBeCloseTo(5 / 0.75);
  });

  it('downsamples a million points to a few per pixel and keeps every extreme', () => {
    const n = 1_000_000;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = i;
      y[i] = Math.sin(i / 1000);
    }
    y[123_457] = 40;
    y[876_543] = -40;
    const d = downsampleMinMax(x, y, 800);
    expect(d.x.length).toBeLessThanOrEqual(4 * 800);
    expect(Math.max(...d.y)).toBe(40);
    expect(Math.min(...d.y)).toBe(-40);
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
    const zoomed = downsampleMinMax(x, y, 800, 500_000, 500_100);
    expect(zoomed.x[0]).toBeLessThanOrEqual(500_000);
    expect(zoomed.x.at(-1)).toBeGreaterThanOrEqual(500_100);
    // 500000..500100 plus the neighbour on the left (the right edge is a point itself).
    expect(zoomed.x.length).toBe(102);
  });

  it('gives the mean of seeds with a ±1 std band on a shared grid', () => {
    const b = meanBand(
      [
        { x: [0, 10], y: [0, 0] },
        { x: [0, 10], y: [2, 2] },
      ],
      5,
    );
    expect(b.x).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(b.mean).toEqual([1, 1, 1, 1, 1]);
    expect(b.lo).toEqual([0, 0, 0, 0, 0]);
    expect(b.hi).toEqual([2, 2, 2, 2, 2]);
  });
});

const row = (over: Partial<RunRow>): RunRow => ({
  id: 'r1',
  dir: '/tmp/r1',
  name: 'run',
  tags: [],
  archived: false,
  experiment: null,
  env: 'pendulum',
  algo: 'ddpg',
  obs: 'lowdim',
  seed: 0,
  status: 'done',
  step: 1000,
  steps: 1000,
  latestEval: null,
  bestEval: null,
  reason: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  hyperparams: {},
  ...over,
});

describe('runs filter', () => {
  const naf = row({ id: 'naf1', algo: 'naf', hyperparams: { lr: 1e-4, hidden: [200, 200] }, tags: ['baseline'] });
  const ddpg = row({
    id: 'ddpg1',
    algo: 'ddpg',
    env: 'cheetah-run',
    hyperparams: { actorLr: 1e-4, criticLr: 1e-3 },
    bestEval: { step: 5, evalReturn: 300 },
  });

  it('combines field comparisons, short hyperparameter names and free text', () => {
    const q = parseQuery('algo=naf lr<1e-3');
    expect(q.errors).toEqual([]);
    expect(matches(naf, q)).toBe(true);
    expect(matches(ddpg, q)).toBe(false);
    // `lr` covers actorLr and criticLr: one below the bound is enough.
    expect(matches(ddpg, parseQuery('lr<1e-3'))).toBe(true);
    expect(matches(ddpg, parseQuery('criticLr<1e-3'))).toBe(false);
    expect(matches(ddpg, parseQuery('best>=300 env~cheetah'))).toBe(true);
    expect(matches(naf, parseQuery('best>=300'))).toBe(false);
    expect(matches(naf, parseQuery('tag=baseline'))).toBe(true);
    expect(matches(ddpg, parseQuery('tag=baseline'))).toBe(false);
    expect(matches(naf, parseQuery('NAF1'))).toBe(true);
    expect(matches(naf, parseQuery('algo!=naf'))).toBe(false);
  });

  it('reports a comparison without a value', () => {
    expect(parseQuery('lr<').errors).toEqual(["'lr<' has no value"]);
  });
});

describe('replay pose blending', () => {
  // Two bodies, three frames: body 0 moves along x and turns about z by 90 degrees per frame;
  // body 1 stays put but its quaternion flips sign between frames 1 and 2 (the same rotation).
  const c = Math.SQRT1_2;
  const poses = Float32Array.from(
    [
      [0, 0, 0, 1, 0, 0, 0, 5, 5, 5, 1, 0, 0, 0],
      [2, 0, 0, c, 0, 0, c, 5, 5, 5, 1, 0, 0, 0],
      [4, 0, 0, 0, 0, 0, 1, 5, 5, 5, -1, 0, 0, 0],
    ].flat(),
  );
  const out = new Float32Array(14);

  it('gives the recorded frame at whole frames and past the end', () => {
    expect(Array.from(blendPoses(poses, 2, 1, out))).toEqual(Array.from(poses.subarray(14, 28)));
    expect(Array.from(blendPoses(poses, 2, 7.5, out))).toEqual(Array.from(poses.subarray(28, 42)));
  });

  it('moves positions linearly and turns along the shorter arc, halfway being half the turn', () => {
    blendPoses(poses, 2, 0.5, out);
    expect(out[0]).toBeCloseTo(1, 6);
    // Halfway between 0 and 90 degrees about z: 45 degrees, q = (cos 22.5, 0, 0, sin 22.5).
    expect(out[3]).toBeCloseTo(Math.cos(Math.PI / 8), 6);
    expect(out[6]).toBeCloseTo(Math.sin(Math.PI / 8), 6);
    expect(Math.hypot(out[3], out[4], out[5], out[6])).toBeCloseTo(1, 6);
    // q and -q: no swing through another orientation on the way.
    blendPoses(poses, 2, 1.5, out);
    expect(Array.from(out.subarray(7, 14))).toEqual([5, 5, 5, 1, 0, 0, 0]);
    expect(out[0]).toBeCloseTo(3, 6);
  });
});
