/**
 * The run view's data for long runs and runs not yet started, through StudioService.dispatch as the
 * renderer calls it: a run of 10^6 metric lines opens without its file crossing over (getRun without
 * records, getMetricSeries bounded, peaks kept, zoom at full detail), and a run created with
 * start=false is offered Start, not Pause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';
import type { MetricSeriesSet, MetricsChunk, RunRow, RunView } from '../../../src-main/api/studio-api.ts';
import type { RunSummary } from '../../../src-main/api/runs.ts';
import { callOk, closeTempService, openTempService, type TempService } from './temp-service.ts';

const tinyRun = {
  env: 'pendulum',
  algo: 'ddpg',
  steps: 300,
  evalEvery: 300,
  evalEpisodes: 0,
  checkpointEvery: 300,
  hyperparams: { actorHidden: [8], criticHidden: [8, 8], batchSize: 16, learningStarts: 32, randomSteps: 0, replayCapacity: 1000 },
};

describe('run metrics and not-started runs over StudioApi', () => {
  let temp: TempService | undefined;
  let home: string;
  let service: StudioService;

  beforeAll(async () => {
    temp = await openTempService('rls-run-metrics-');
    ({ home, service } = temp);
  });

  afterAll(() => closeTempService(temp));

  const call = <T>(method: string, params: unknown): Promise<T> => callOk<T>(service, method, params);

  it('opens a run of 10^6 metric lines as bounded, downsampled curves that keep their extremes', async () => {
    const [run] = await call<(RunSummary & { dir: string })[]>('createRun', { config: { ...tinyRun, name: 'million' }, start: false });
    const N = 1_000_000;
    const lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const q = i === 400_000 ? 777 : i === 600_000 ? -777 : Math.sin(i / 5000) * 50;
      lines.push(`{"step":${i * 10},"time":${i / 100},"kind":"update","q":${q},"critic_loss":${1 / (i + 1)}}`);
    }
    appendFileSync(join(run.dir, 'metrics.jsonl'), lines.join('\n') + '\n');

    const view = await call<RunView>('getRun', { id: run.id, metrics: 'none' });
    expect(view.metrics.records).toEqual([]);
    expect(view.metrics.lines).toBe(N);
    expect(JSON.stringify(view).length).toBeLessThan(20_000);

    const all = await call<MetricSeriesSet>('getMetricSeries', { id: run.id, keys: ['q', 'critic_loss', 'episode_return'], points: 2000 });
    expect(all.downsampled).toBe(true);
    expect(all.lines).toBe(N);
    expect(JSON.stringify(all).length).toBeLessThan(300_000);
    const q = all.series.q;
    expect(q.count).toBe(N);
    expect(q.value.length).toBeLessThanOrEqual(2002);
    expect(Math.max(...q.value)).toBe(777);
    expect(Math.min(...q.value)).toBe(-777);
    expect(q.step[q.value.indexOf(777)]).toBe(4_000_000);
    expect(all.series.episode_return).toMatchObject({ count: 0, value: [] });

    // Zooming in: the range comes back whole (every record in it), by step or by wall time.
    const zoom = await call<MetricSeriesSet>('getMetricSeries', { id: run.id, keys: ['q'], points: 2000, from: 3_995_000, to: 4_005_000 });
    expect(zoom.downsampled).toBe(false);
    expect(zoom.series.q.value.length).toBe(1003);
    expect(zoom.series.q.value).toContain(777);
    const byTime = await call<MetricSeriesSet>('getMetricSeries', {
      id: run.id,
      keys: ['q'],
      points: 100,
      x: 'time',
      from: 5000,
      to: 6000,
    });
    expect(byTime.series.q.value.length).toBeLessThanOrEqual(100);
    expect(byTime.series.q.value).toContain(-777);

    // New lines are read on from where the last read ended, and getMetrics continues from `lines`.
    appendFileSync(join(run.dir, 'metrics.jsonl'), `{"step":${N * 10},"time":${N / 100},"kind":"update","q":5000}\n`);
    const grown = await call<MetricSeriesSet>('getMetricSeries', { id: run.id, keys: ['q'], points: 2000 });
    expect(grown.lines).toBe(N + 1);
    expect(grown.series.q.value.at(-1)).toBe(5000);
    const tail = await call<MetricsChunk>('getMetrics', { id: run.id, sinceLine: all.lines });
    expect(tail.records.map((r) => r.q)).toEqual([5000]);

    const refused = await service.dispatch('getMetricSeries', { id: run.id, points: 10 ** 6 });
    expect(refused).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'points' }] } });
    for (const id of ['../etc', '..', 'no-such-run'])
      expect(await service.dispatch('getMetricSeries', { id }), id).toMatchObject({ ok: false, error: { user: true } });
    await call('deleteRun', { id: run.id });
  }, 120_000);

  it('offers Start, not Pause, for a run created with start=false', async () => {
    const [run] = await call<RunSummary[]>('createRun', { config: tinyRun, start: false });
    expect(run.status).toBe('queued');
    expect((await call<RunView>('getRun', { id: run.id })).notStarted).toBe(true);
    expect((await call<RunRow[]>('listRuns', {})).find((r) => r.id === run.id)?.notStarted).toBe(true);
    const pause = await service.dispatch('controlRun', { id: run.id, action: 'pause' });
    expect(pause).toMatchObject({ ok: false, error: { user: true } });
    await call('controlRun', { id: run.id, action: 'stop' });
    expect((await call<RunView>('getRun', { id: run.id, metrics: 'none' })).notStarted).toBe(true);

    // A restarted studio on the same folder still offers Start (not Resume of an 'interrupted' run).
    await service.close();
    service = temp!.service = await StudioService.create({
      mode: 'browser',
      settings: new FileSettingsStore(join(home, 'settings.json'), { runsDir: join(home, 'runs') }),
      maxConcurrentRuns: 1,
    });
    const reopened = await call<RunView>('getRun', { id: run.id, metrics: 'none' });
    expect(reopened.summary.status).toBe('queued');
    expect(reopened.notStarted).toBe(true);

    await call('controlRun', { id: run.id, action: 'start' });
    const started = await call<RunView>('getRun', { id: run.id, metrics: 'none' });
    expect(started.notStarted).toBeUndefined();
    expect(['queued', 'running']).toContain(started.summary.status);
    const end = await service.runs.runManager.waitForEnd(run.id);
    expect(end.status).toBe('done');
    const done = await call<RunView>('getRun', { id: run.id, metrics: 'none' });
    expect(done.metrics.lines).toBeGreaterThan(0);
    const series = await call<MetricSeriesSet>('getMetricSeries', { id: run.id });
    expect(series.series.critic_loss.value.length).toBeGreaterThan(0);
    expect(series.lines).toBe(done.metrics.lines);
  }, 120_000);
});
