/**
 * The studio's tracker logic without a browser: which metrics get charts (any logged name, counters
 * left out), runs grouped by config minus seed, config differences, config values in one line,
 * and the CSV a chart downloads.
 */
import { describe, expect, it } from 'vitest';
import { appendRecords, chartedMetrics, metricLabel, SeriesSet } from '../../../src-renderer/src/lib/series.ts';
import { metricInfo } from '../../../src-main/api/runs.ts';
import { differingFields, experimentKey, groupByExperiment } from '../../../src-renderer/src/lib/run-groups.ts';
import { fmtValue } from '../../../src-renderer/src/lib/format.ts';
import { curvesCsv, fileStem } from '../../../src-renderer/src/lib/chart-files.ts';

describe('metric series', () => {
  it('takes every numeric field a record carries, whatever its name, and charts all but counters and the eval spread', () => {
    const set = new SeriesSet();
    appendRecords(set, [
      { step: 10, time: 1, kind: 'update', critic_loss: 0.5, actor_saturation: 0.2, updates: 3, note: 'text' },
      { step: 20, time: 2, kind: 'eval', eval_return: 10, eval_return_min: 5, eval_return_max: 15, eval_returns: [5, 15] },
      { step: 30, time: 3, kind: 'update', critic_loss: Number.NaN, q_scale: 4 },
    ]);
    expect(set.get('actor_saturation').y()).toEqual(new Float64Array([0.2]));
    expect(set.get('critic_loss').length).toBe(1);
    expect(set.get('eval_return_max').y()).toEqual(new Float64Array([15]));
    // Without descriptions (a run of an algorithm no longer registered): every name as logged, by name.
    expect(chartedMetrics(set.keys())).toEqual(['actor_saturation', 'critic_loss', 'eval_return', 'q_scale']);
    // With the run's algorithm's (getRun's metricInfo): the returns, its declared metrics in its order, then the rest.
    const info = metricInfo('ddpg');
    expect(chartedMetrics(set.keys(), info)).toEqual(['eval_return', 'critic_loss', 'actor_saturation', 'q_scale']);
    expect(metricLabel('critic_loss', info)).toBe('Critic loss');
    expect(metricLabel('q_scale', info)).toBe('q_scale');
  });

  it("charts an old run's records (critic_loss, actor_loss null before the first actor step, q) under today's titles", () => {
    const set = new SeriesSet();
    appendRecords(set, [
      { step: 200, time: 1, kind: 'update', critic_loss: 0.5, actor_loss: null, q: 0.1, updates: 10, steps_per_s: 900 },
      { step: 400, time: 2, kind: 'update', critic_loss: 0.4, actor_loss: -0.2, q: 0.2, dq_da: 0.01, updates: 20, steps_per_s: 950 },
      { step: 1000, time: 3, kind: 'episode', episode: 1, episode_return: -1200, episode_length: 1000 },
    ]);
    const info = metricInfo('ddpg');
    const charted = chartedMetrics(set.keys(), info);
    expect(charted.slice(0, 4)).toEqual(['episode_return', 'critic_loss', 'actor_loss', 'q']);
    expect(charted.map((k) => metricLabel(k, info))).toEqual([
      'Episode return',
      'Critic loss',
      'Actor loss',
      'Q',
      'dq_da',
      'Steps/s',
      'episode_length',
    ]);
    expect(set.get('actor_loss').y()).toEqual(new Float64Array([-0.2]));
  });
});

describe('runs as experiments', () => {
  const cfg = (seed: number, lr: number, name = 'x'): Record<string, unknown> => ({
    env: 'pendulum',
    seed,
    name,
    tags: [name],
    hyperparams: { actorLr: lr, actorHidden: [64, 64] },
    pixels: { size: 64 },
  });

  it('puts runs differing only by seed (and name, tags) in one group, whatever sweep they came from', () => {
    expect(experimentKey(cfg(1, 1e-3, 'a'))).toBe(experimentKey(cfg(2, 1e-3, 'b')));
    expect(experimentKey(cfg(1, 1e-3))).not.toBe(experimentKey(cfg(1, 3e-4)));
    const groups = groupByExperiment([cfg(1, 1e-3), cfg(1, 3e-4), cfg(2, 1e-3)], (c) => c);
    expect(groups.map((g) => g.map((c) => c.seed))).toEqual([[1, 2], [1]]);
  });

  it('lists the config paths that differ, nested ones by their dotted path', () => {
    const other = { ...cfg(2, 3e-4), pixels: { size: 84 } };
    expect(differingFields([cfg(1, 1e-3), other])).toEqual(['hyperparams.actorLr', 'pixels.size', 'seed']);
    expect(differingFields([cfg(1, 1e-3), cfg(1, 1e-3, 'renamed')])).toEqual([]);
  });
});

describe('config values in one line', () => {
  it('shows layer sizes with ×, words with commas, objects as key: value, never [object Object]', () => {
    expect(fmtValue([400, 300])).toBe('400×300');
    expect(fmtValue(['baseline', 'e2e'])).toBe('baseline, e2e');
    expect(fmtValue({ size: 64, stacking: 'repeats' })).toBe('size: 64, stacking: repeats');
  });
});

describe('chart downloads', () => {
  it('writes every curve in long form with quoted labels, named after the chart', () => {
    const csv = curvesCsv(
      [
        { label: 'a, b', x: [1, 2], y: [0.5, 0.25] },
        { label: 'c', x: [3], y: [-1] },
      ],
      'step',
    );
    expect(csv).toBe('curve,step,value\n"a, b",1,0.5\n"a, b",2,0.25\nc,3,-1\n');
    expect(fileStem('My run: Eval return')).toBe('my-run-eval-return');
  });
});
