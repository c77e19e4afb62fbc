import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import { TrainEventSchema } from '../../../src-main/api/events.ts';
import { LOCK_LOST_REASON, RunManager } from '../../../src-main/train/run-manager.ts';
import { LOCK_FILE } from '../../../src-main/store/run-lock.ts';
import { LIVE_FRAME_MS } from '../../../src-main/train/trainer.ts';
import { RunFiles } from '../../../src-main/store/run-store.ts';

const SMALL = { actorHidden: [32], criticHidden: [32, 32], learningStarts: 64, randomSteps: 0, batchSize: 64 };

function waitFor(m: RunManager, pred: (e: TrainEvent) => boolean, ms = 60_000): Promise<TrainEvent> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => (off(), rej(new Error('timed out waiting for an event'))), ms);
    const off = m.subscribe((e) => {
      if (pred(e)) {
        clearTimeout(timer);
        off();
        res(e);
      }
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RunManager', () => {
  it('pauses, resumes and stops a run; every event matches its schema; the live view is throttled', async () => {
    const m = new RunManager({ runsDir: mkdtempSync(join(tmpdir(), 'rls-rm-')), maxConcurrent: 2 });
    const seen: TrainEvent[] = [];
    m.subscribe((e) => seen.push(e));
    const [run] = m.create({ steps: 200_000, checkpointEvery: 50_000, evalEpisodes: 0, hyperparams: SMALL }, { start: true });
    const id = run.id;
    await waitFor(m, (e) => e.type === 'progress' && e.step >= 300);

    m.setLive(id, true);
    const frames: TrainEvent[] = [];
    const off = m.subscribe((e) => e.type === 'frame' && frames.push(e));
    await sleep(1000);
    off();
    m.setLive(id, false);
    expect(frames.length).toBeGreaterThan(3);
    // At most one frame per LIVE_FRAME_MS (60 a second), give or take the edges of the second.
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(1000 / LIVE_FRAME_MS) + 3);
    expect(frames[0]).toMatchObject({ type: 'frame', runId: id, qpos: [expect.any(Number)] });

    const paused = waitFor(m, (e) => e.type === 'status' && e.status === 'paused');
    m.pause(id);
    const p = (await paused) as Extract<TrainEvent, { type: 'status' }>;
    const files = new RunFiles(run.dir);
    // Pausing checkpoints, so a crash while paused loses nothing.
    expect(files.listCheckpoints()[0].step).toBe(p.step);
    expect(files.readStatus().status).toMatchObject({ status: 'paused', step: p.step });
    const before = seen.length;
    await sleep(700);
    expect(seen.slice(before).filter((e) => e.type === 'progress' && e.step > p.step)).toEqual([]);
    expect(m.get(id).summary).toMatchObject({ status: 'paused', step: p.step });

    m.resume(id);
    await waitFor(m, (e) => e.type === 'progress' && e.step > p.step + 200);
    await m.stop(id);
    const stopped = files.readStatus().status!;
    expect(stopped.status).toBe('stopped');
    expect(files.listCheckpoints()[0].step).toBe(stopped.step);
    expect(m.list()[0]).toMatchObject({ id, status: 'stopped', step: stopped.step });

    // A stopped run resumes from its checkpoint in a new worker.
    m.resume(id);
    const again = (await waitFor(m, (e) => e.type === 'progress')) as Extract<TrainEvent, { type: 'progress' }>;
    expect(again.step).toBe(stopped.step);
    await waitFor(m, (e) => e.type === 'progress' && e.step > stopped.step + 200);
    await m.shutdown();
    const steps = files
      .readMetrics()
      .records.filter((r) => r.kind === 'update')
      .map((r) => r.step);
    expect(new Set(steps).size).toBe(steps.length);
    for (const e of seen) expect(TrainEventSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
  });

  it('a seed sweep is N runs in one experiment, trained through a queue of limited width', async () => {
    const m = new RunManager({ runsDir: mkdtempSync(join(tmpdir(), 'rls-rm-')), maxConcurrent: 2 });
    const runs = m.create({ config: { seed: 5, steps: 200_000, evalEpisodes: 0, hyperparams: SMALL, name: 'sweep' }, seeds: 3 });
    expect(runs.map((r) => r.seed)).toEqual([5, 6, 7]);
    expect(runs[0].experiment).toMatch(/^exp-/);
    expect(new Set(runs.map((r) => r.experiment)).size).toBe(1);
    expect(runs.map((r) => r.name)).toEqual(['sweep (seed 5)', 'sweep (seed 6)', 'sweep (seed 7)']);
    for (const r of runs) m.start(r.id);
    expect(
      m
        .list()
        .map((r) => r.status)
        .sort(),
    ).toEqual(['queued', 'running', 'running']);
    const third = runs.find((r) => m.get(r.id).summary.status === 'queued')!;
    const first = runs.find((r) => r.id !== third.id)!;
    await waitFor(m, (e) => e.type === 'progress' && e.runId === first.id && e.step > 0);
    const started = waitFor(m, (e) => e.type === 'progress' && e.runId === third.id);
    await m.stop(first.id);
    await started;
    expect(m.get(third.id).summary.status).toBe('running');
    await m.shutdown();
    expect(m.list().map((r) => r.status)).toEqual(['stopped', 'stopped', 'stopped']);
    // Tags, names and the archive flag live beside the run.
    m.tag(first.id, ['baseline']);
    m.archive(first.id);
    expect(m.list().map((r) => r.id)).not.toContain(first.id);
    expect(m.list({ includeArchived: true }).find((r) => r.id === first.id)).toMatchObject({ tags: ['baseline'], archived: true });
    await m.delete(first.id);
    expect(m.list({ includeArchived: true })).toHaveLength(2);
  });

  it('a runs folder that refuses writes pauses the run with the reason; it resumes once fixed', async () => {
    const m = new RunManager({ runsDir: mkdtempSync(join(tmpdir(), 'rls-rm-')), maxConcurrent: 1 });
    const [run] = m.create({ steps: 1200, checkpointEvery: 400, evalEpisodes: 0, hyperparams: SMALL }, { start: true });
    const files = new RunFiles(run.dir);
    await waitFor(m, (e) => e.type === 'checkpoint' && e.step === 400);
    // Root ignores permissions: a regular file where the checkpoints folder was makes the next write fail.
    rmSync(files.checkpointsDir, { recursive: true });
    writeFileSync(files.checkpointsDir, 'in the way');
    const paused = (await waitFor(m, (e) => e.type === 'status' && e.status === 'paused')) as Extract<TrainEvent, { type: 'status' }>;
    expect(paused.reason).toMatch(/cannot write a checkpoint: a path in the runs folder is not a folder/);
    expect(m.get(run.id).summary).toMatchObject({ status: 'paused', reason: paused.reason });
    rmSync(files.checkpointsDir);
    mkdirSync(files.checkpointsDir);
    m.resume(run.id);
    const end = await m.waitForEnd(run.id);
    expect(end).toMatchObject({ status: 'done', step: 1200 });
    expect(files.listCheckpoints()[0].step).toBe(1200);
    // Warm-up (DDPG: 64 random-action steps) then one update per env step, none lost or repeated by the pause.
    const updates = files.readMetrics().records.filter((r) => r.kind === 'update');
    expect(updates[updates.length - 1].updates).toBe(1200 - 64 + 1);
  });

  it('a run whose lock another trainer takes over stops here at once and is no longer written by this process', async () => {
    const m = new RunManager({ runsDir: mkdtempSync(join(tmpdir(), 'rls-rm-')), maxConcurrent: 1, lockStaleMs: 1000 });
    const [run] = m.create({ steps: 200_000, checkpointEvery: 100_000, evalEpisodes: 0, hyperparams: SMALL }, { start: true });
    const files = new RunFiles(run.dir);
    await waitFor(m, (e) => e.type === 'progress' && e.step >= 200);
    // Another machine's worker decided this process had stalled and took the lock (store/run-lock.ts).
    const theirs =
      JSON.stringify({
        pid: 4242,
        processStart: '1',
        host: 'another-machine',
        since: new Date().toISOString(),
        owner: 'worker another-machine:4242',
        heartbeatAt: Date.now(),
      }) + '\n';
    writeFileSync(join(run.dir, LOCK_FILE), theirs);
    const stopped = (await waitFor(m, (e) => e.type === 'status' && e.runId === run.id, 10_000)) as Extract<TrainEvent, { type: 'status' }>;
    expect(stopped).toMatchObject({ status: 'stopped', reason: LOCK_LOST_REASON });
    const metricsSize = statSync(files.metricsFile).size;
    await sleep(1500);
    // Nothing more from this process: its curve stopped growing and the other trainer's lock stands.
    expect(statSync(files.metricsFile).size).toBe(metricsSize);
    expect(readFileSync(join(run.dir, LOCK_FILE), 'utf8')).toBe(theirs);
    await m.shutdown();
    expect(readFileSync(join(run.dir, LOCK_FILE), 'utf8')).toBe(theirs);
  });

  it('physics that diverges truncates the episode, counts it, and training goes on; evaluations are recorded', async () => {
    const m = new RunManager({ runsDir: mkdtempSync(join(tmpdir(), 'rls-rm-')), maxConcurrent: 1 });
    const [run] = m.create(
      { env: resolve('test/fixtures/envs/blowup'), steps: 300, evalEvery: 300, evalEpisodes: 2, warmupSteps: 300, hyperparams: SMALL },
      { start: true },
    );
    expect(await m.waitForEnd(run.id)).toMatchObject({ status: 'done', step: 300 });
    const records = m.get(run.id).metrics.records;
    const episodes = records.filter((r) => r.kind === 'episode');
    expect(episodes.some((r) => r.diverged === true)).toBe(true);
    const last = episodes[episodes.length - 1];
    expect(last.diverged_episodes).toBe(episodes.filter((r) => r.diverged).length);
    const { episodes: recorded } = m.listEpisodes(run.id);
    expect(recorded.map((e) => e.id)).toEqual(['0000000300-0', '0000000300-1']);
    const ep = m.readEpisode(run.id, recorded[0].id);
    expect(ep.qpos.length).toBe(ep.meta.frames * ep.meta.nq);
    expect(ep.rewards.length).toBe(ep.meta.frames - 1);
  });
});
