/**
 * A run made before update statistics became an open map of named metrics (test/fixtures/old-runs:
 * a TD3 run trained to 400 steps by commit 0e607a7, checkpointed at 400 with its replay) still
 * opens, charts under the same titles, and resumes from its checkpoint, its curves continuing
 * under the same metric names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudioService } from '../../../src-main/service/studio-service.ts';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import type { MetricSeriesSet, RunView } from '../../../src-main/api/studio-api.ts';
import { ControlState, runSession } from '../../../src-main/train/session.ts';
import { callOk, closeTempService, openTempService, type TempService } from '../service/temp-service.ts';

const ID = '20261203-165646-pendulum-td3-s0-4041ed';
const FIXTURE = join(import.meta.dirname, '../../fixtures/old-runs', ID);

describe('a run from before the open metric map', () => {
  let temp: TempService | undefined;
  let home: string;
  let service: StudioService;
  let runDir: string;

  beforeAll(async () => {
    temp = await openTempService('algos-17a-old-run-', (h) => cpSync(FIXTURE, join(h, 'runs', ID), { recursive: true }));
    ({ home, service } = temp);
    runDir = join(home, 'runs', ID);
  });

  afterAll(() => closeTempService(temp));

  const call = <T>(method: string, params: unknown): Promise<T> => callOk<T>(service, method, params);

  it('opens with its losses under their titles, resumes from its checkpoint and continues the same curves', async () => {
    const view = await call<RunView>('getRun', { id: ID, metrics: 'none' });
    expect(view.summary).toMatchObject({ algo: 'td3', step: 400, status: 'done' });
    expect(view.metricInfo.critic_loss?.label).toBe('Critic loss');
    expect(view.metricInfo.actor_loss?.label).toBe('Actor loss');
    expect(view.metricInfo.q?.label).toBe('Q');
    const before = await call<MetricSeriesSet>('getMetricSeries', { id: ID, keys: ['critic_loss', 'actor_loss', 'q'] });
    expect(before.series.critic_loss.count).toBe(2);

    const events: TrainEvent[] = [];
    const end = await runSession({ runDir, steps: 800 }, new ControlState(), (e) => events.push(e));
    expect(end).toMatchObject({ status: 'done', step: 800 });
    // From the old checkpoint, nothing skipped as unreadable.
    expect(events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.message : ''))).toEqual([
      'resuming from the checkpoint at step 400',
    ]);

    const updates = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.kind === 'update');
    expect(updates.map((u) => u.step)).toEqual([200, 400, 600, 800]);
    for (const u of updates)
      for (const name of ['critic_loss', 'actor_loss', 'q']) expect(Number.isFinite(u[name]), `${name} at ${String(u.step)}`).toBe(true);
    const after = await call<MetricSeriesSet>('getMetricSeries', { id: ID, keys: ['critic_loss', 'actor_loss', 'q'] });
    for (const name of ['critic_loss', 'actor_loss', 'q']) expect(after.series[name].count, name).toBe(4);
  });
});
