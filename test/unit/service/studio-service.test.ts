import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';
import {
  decodeF32,
  type EnvCheck,
  type EnvListEntry,
  type EnvPreview,
  type EpisodeList,
  type EpisodeReplay,
  type InFile,
  type RunRow,
  type Settings,
  type StudioInfo,
} from '../../../src-main/api/studio-api.ts';
import { installedTensorflowPackages } from '../../../src-main/service/backend-status.ts';
import type { RunSummary } from '../../../src-main/api/runs.ts';
import type { TrainEvent } from '../../../src-main/api/events.ts';

const envFiles = (dir: string, rename?: string): InFile[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.xml') || n.endsWith('.json'))
    .map((n) => ({
      name: rename ? n.replace(/^[^.]+/, rename) : n,
      encoding: 'utf8' as const,
      content: readFileSync(join(dir, n), 'utf8'),
    }));

/** The built-in pendulum as a user would drop it: MJCF, task spec and the included common/ files. */
const pendulumFiles = (name: string): InFile[] => [
  ...['pendulum.xml', 'pendulum.task.json'].map((n) => ({
    name: n.replace('pendulum', name),
    encoding: 'utf8' as const,
    content: readFileSync(join('resources/envs', n), 'utf8'),
  })),
  ...readdirSync('resources/envs/common').map((n) => ({
    name: `common/${n}`,
    encoding: 'utf8' as const,
    content: readFileSync(join('resources/envs/common', n), 'utf8'),
  })),
];

/** Tiny nets and budgets so a real run trains in seconds on a shared 2-core machine. */
const tinyRun = (over: Record<string, unknown> = {}) => ({
  env: 'pendulum',
  algo: 'ddpg',
  steps: 400,
  evalEvery: 400,
  evalEpisodes: 1,
  checkpointEvery: 400,
  hyperparams: { actorHidden: [16], criticHidden: [16, 16], batchSize: 16, learningStarts: 32, replayCapacity: 2000 },
  ...over,
});

describe('StudioService dispatch', () => {
  let home: string;
  let service: StudioService;
  const events: { event: string; data: unknown }[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'rls-service-'));
    process.env.RL_STUDIO_HOME = home;
    service = await StudioService.create({
      mode: 'browser',
      settings: new FileSettingsStore(join(home, 'settings.json'), { runsDir: join(home, 'runs') }),
      maxConcurrentRuns: 1,
    });
    service.subscribe((event, data) => events.push({ event, data }));
  });

  afterAll(async () => {
    await service?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const ok = async <T>(method: string, params: unknown): Promise<T> => {
    const r = await service.dispatch(method, params);
    if (!r.ok) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
    return r.result as T;
  };

  it('refuses unknown methods and invalid params as user errors naming the field', async () => {
    const a = await service.dispatch('dropTables', {});
    expect(a).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'method' }] } });
    const b = await service.dispatch('getRun', { id: '../etc' });
    expect(b).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'id' }] } });
    const c = await service.dispatch('controlRun', { id: 'x', action: 'explode' });
    expect(c).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'action' }] } });
  });

  it('lists the built-in suite and previews an env with its scene and initial pose', async () => {
    const list = await ok<EnvListEntry[]>('listEnvs', {});
    expect(list.map((e) => e.id)).toEqual(expect.arrayContaining(['pendulum', 'cartpole-swingup', 'cheetah-run']));
    const p = await ok<EnvPreview>('getEnv', { id: 'cheetah-run' });
    expect(p.summary.actionSize).toBe(6);
    expect(p.scene.geoms.some((g) => g.type === 'plane')).toBe(true);
    expect(decodeF32(p.poses).length).toBe(p.scene.bodies.length * 7);
    const missing = await service.dispatch('getEnv', { id: 'no-such-env' });
    expect(missing).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'env' }] } });
  });

  it('validates dropped files: errors name the file, a valid env comes with a preview and can be added', async () => {
    const bad = await ok<EnvCheck>('validateEnv', { files: envFiles('test/fixtures/envs/malformed') });
    expect(bad.ok).toBe(false);
    expect(bad.errors[0].file).toMatch(/env\.(xml|task\.json)/);
    expect(bad.preview).toBeUndefined();
    const good = await ok<EnvCheck>('validateEnv', { files: pendulumFiles('my-pendulum') });
    expect(good.ok).toBe(true);
    expect(good.preview!.scene.bodies.length).toBeGreaterThan(1);
    const added = await ok<{ id: string }>('addEnv', { files: pendulumFiles('my-pendulum') });
    expect(added.id).toBe('my-pendulum');
    expect(events.some((e) => e.event === 'envs')).toBe(true);
    const list = await ok<EnvListEntry[]>('listEnvs', {});
    expect(list.find((e) => e.id === 'my-pendulum')?.source).toBe('user');
    const again = await service.dispatch('addEnv', { files: pendulumFiles('my-pendulum') });
    expect(again).toMatchObject({ ok: false, error: { user: true } });
  });

  it('removes a library env, and refuses to remove a built-in one or one that is not there', async () => {
    await ok('addEnv', { files: pendulumFiles('gone-pendulum') });
    expect((await ok<EnvListEntry[]>('listEnvs', {})).some((e) => e.id === 'gone-pendulum')).toBe(true);
    await ok('removeEnv', { id: 'gone-pendulum' });
    expect((await ok<EnvListEntry[]>('listEnvs', {})).some((e) => e.id === 'gone-pendulum')).toBe(false);
    expect(await service.dispatch('removeEnv', { id: 'gone-pendulum' })).toMatchObject({
      ok: false,
      error: { user: true, errors: [{ field: 'id' }] },
    });
    expect(await service.dispatch('removeEnv', { id: 'cheetah-run' })).toMatchObject({
      ok: false,
      error: { user: true, errors: [{ field: 'id', message: expect.stringContaining('built-in') }] },
    });
    expect(await service.dispatch('removeEnv', { id: '../runs' })).toMatchObject({
      ok: false,
      error: { user: true, errors: [{ field: 'id' }] },
    });
  });

  it('refuses an invalid run config field by field and creates, tags, archives and deletes runs', async () => {
    const bad = await service.dispatch('createRun', { config: tinyRun({ hyperparams: { actorLr: -1 } }) });
    expect(bad).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'hyperparams.actorLr' }] } });
    const sweep = await ok<RunSummary[]>('createRun', { config: tinyRun({ name: 'sweep' }), seeds: 2, start: false });
    expect(sweep.map((r) => r.seed)).toEqual([0, 1]);
    expect(sweep[0].experiment).toBeTruthy();
    expect(sweep[0].experiment).toBe(sweep[1].experiment);
    const rows = await ok<RunRow[]>('listRuns', {});
    expect(rows.find((r) => r.id === sweep[0].id)?.hyperparams.actorHidden).toEqual([16]);
    const tagged = await ok<RunSummary>('updateRun', { id: sweep[0].id, tags: ['baseline'], archived: true });
    expect(tagged.tags).toEqual(['baseline']);
    expect((await ok<RunRow[]>('listRuns', {})).some((r) => r.id === sweep[0].id)).toBe(false);
    expect((await ok<RunRow[]>('listRuns', { includeArchived: true })).some((r) => r.id === sweep[0].id)).toBe(true);
    for (const r of sweep) await ok('deleteRun', { id: r.id });
    expect(await ok<RunRow[]>('listRuns', { includeArchived: true })).toEqual([]);
    expect(events.filter((e) => e.event === 'runs').length).toBeGreaterThanOrEqual(3);
  });

  it('trains a real run, forwards its events, and replays its recorded episode as body poses', async () => {
    const [run] = await ok<RunSummary[]>('createRun', { config: tinyRun() });
    const done = new Promise<void>((resolve) => {
      service.subscribe((event, data) => {
        const e = data as TrainEvent;
        if (event === 'run' && e.runId === run.id && e.type === 'status' && ['done', 'failed'].includes(e.status)) resolve();
      });
    });
    await done;
    await service.runs.runManager.waitForEnd(run.id);
    const runEvents = events.filter((e) => e.event === 'run').map((e) => e.data as TrainEvent);
    expect(runEvents.some((e) => e.type === 'eval' && e.runId === run.id)).toBe(true);
    const view = await ok<{ summary: RunSummary; metrics: { records: { kind: string }[] }; backend: { name: string } }>('getRun', {
      id: run.id,
    });
    expect(view.summary.status).toBe('done');
    // The studio's status names the backend the newest run trained on, not the setting.
    const info = await ok<StudioInfo>('info', {});
    expect(info).toMatchObject({ backend: { name: view.backend.name }, backendSetting: 'auto' });
    expect(info.backend.reason).toContain(run.id);
    const evalRecord = view.metrics.records.find((r) => r.kind === 'eval') as
      { eval_returns: number[]; eval_return_min: number; eval_return_max: number; eval_return_std: number } | undefined;
    // The spread over the evaluation episodes is recorded for the studio's eval band.
    expect(evalRecord).toMatchObject({
      eval_return_min: Math.min(...evalRecord!.eval_returns),
      eval_return_max: Math.max(...evalRecord!.eval_returns),
      eval_return_std: 0,
    });
    const chunk = await ok<{ records: unknown[]; lines: number }>('getMetrics', { id: run.id, sinceLine: 1 });
    expect(chunk.records.length).toBe(view.metrics.records.length - 1);
    const eps = await ok<EpisodeList>('listEpisodes', { id: run.id });
    expect(eps.episodes.length).toBe(1);
    const rep = await ok<EpisodeReplay>('getEpisode', { id: run.id, episode: eps.episodes[0].id });
    expect(decodeF32(rep.poses).length).toBe(rep.meta.frames * rep.scene.bodies.length * 7);
    const rewards = decodeF32(rep.rewards);
    expect(rewards.length).toBe(rep.meta.frames - 1);
    // The actuator's name from the MJCF labels the action trace.
    expect(rep.actuators).toEqual(['torque']);
    // Observations per frame with their parts' names, and the pendulum's three summed reward terms
    // per step, which add up to the recorded reward.
    expect(rep.observations!.parts.map((p) => p.name)).toEqual(['orientation', 'velocity']);
    expect(decodeF32(rep.observations!.values).length).toBe(rep.meta.frames * rep.observations!.size);
    expect(rep.rewardTerms).toMatchObject({ labels: ['joint_pos hinge', 'joint_vel hinge', 'control'], combine: 'sum' });
    const terms = decodeF32(rep.rewardTerms!.values);
    expect(terms.length).toBe(rewards.length * 3);
    for (let t = 0; t < rewards.length; t++) expect(terms[3 * t] + terms[3 * t + 1] + terms[3 * t + 2]).toBeCloseTo(rewards[t], 3);
    const exported = await ok<{ name: string; base64: string }>('exportPolicy', { id: run.id, format: 'onnx' });
    expect(exported.name).toMatch(/\.onnx$/);
    expect(Buffer.from(exported.base64, 'base64').length).toBeGreaterThan(1000);
    const live = await service.dispatch('watchLive', { id: run.id, on: true });
    expect(live).toMatchObject({ ok: false, error: { user: true } });
  });

  it('streams live frames of a training run as body poses while watched, then pauses, resumes and stops it', async () => {
    const [run] = await ok<RunSummary[]>('createRun', { config: tinyRun({ steps: 200_000, evalEvery: 100_000 }) });
    await new Promise<void>((resolve) => {
      const off = service.subscribe((event, data) => {
        const e = data as TrainEvent;
        if (event === 'run' && e.runId === run.id && e.type === 'progress') {
          off();
          resolve();
        }
      });
    });
    const frame = new Promise<{ poses: string; runId: string }>((resolve) => {
      const off = service.subscribe((event, data) => {
        if (event === 'live') {
          off();
          resolve(data as { poses: string; runId: string });
        }
      });
    });
    await ok('watchLive', { id: run.id, on: true });
    const f = await frame;
    const preview = await ok<EnvPreview>('getEnv', { id: 'pendulum' });
    expect(f.runId).toBe(run.id);
    expect(decodeF32(f.poses).length).toBe(preview.scene.bodies.length * 7);
    await ok('watchLive', { id: run.id, on: false });
    const paused = new Promise<void>((resolve) => {
      const off = service.subscribe((event, data) => {
        const e = data as TrainEvent;
        if (event === 'run' && e.runId === run.id && e.type === 'status' && e.status === 'paused') {
          off();
          resolve();
        }
      });
    });
    await ok('controlRun', { id: run.id, action: 'pause' });
    await paused;
    await ok('controlRun', { id: run.id, action: 'resume' });
    const stopped = await ok<RunSummary>('controlRun', { id: run.id, action: 'stop' });
    expect(stopped.status).toBe('stopped');
  });

  it('refuses the tensorflow backend setting when its packages are missing, saying why', async () => {
    const r = await service.dispatch('setSettings', { settings: { backend: 'tensorflow' } });
    if (installedTensorflowPackages().length === 0) {
      expect(r).toMatchObject({ ok: false, error: { user: true, errors: [{ field: 'backend' }] } });
      expect(JSON.stringify(r)).toContain('@tensorflow/tfjs-node');
      expect((await ok<Settings>('getSettings', {})).backend).toBe('auto');
    } else {
      expect(r.ok).toBe(true);
      await ok('setSettings', { settings: { backend: 'auto' } });
    }
    // A backend that is always there is taken, and new runs' workers are told.
    await ok('setSettings', { settings: { backend: 'cpu' } });
    expect(process.env.RL_STUDIO_BACKEND).toBe('cpu');
    expect((await ok<StudioInfo>('info', {})).backendSetting).toBe('cpu');
    await ok('setSettings', { settings: { backend: 'auto' } });
  });

  it('moves to another runs folder when the setting changes, and back', async () => {
    const before = await ok<RunRow[]>('listRuns', { includeArchived: true });
    expect(before.length).toBeGreaterThan(0);
    const other = join(home, 'other-runs');
    const s = await ok<{ runsDir: string }>('setSettings', { settings: { runsDir: other } });
    expect(s.runsDir).toBe(other);
    expect(await ok<RunRow[]>('listRuns', { includeArchived: true })).toEqual([]);
    await ok('setSettings', { settings: { runsDir: join(home, 'runs') } });
    expect((await ok<RunRow[]>('listRuns', { includeArchived: true })).map((r) => r.id)).toEqual(before.map((r) => r.id));
  });
});
