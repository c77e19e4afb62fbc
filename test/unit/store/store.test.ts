import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../../src-main/store/atomic.ts';
import { CorruptFileError, decodeTensorFile, encodeTensorFile } from '../../../src-main/store/tensor-file.ts';
import { MetricColumns, MetricsWriter, readMetrics, truncateMetricsAfter } from '../../../src-main/store/metrics.ts';
import { readEpisode, writeEpisode } from '../../../src-main/store/episodes.ts';
import { RunFiles, RunStore } from '../../../src-main/store/run-store.ts';
import { isUserError } from '../../../src-main/util/errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'rls-store-'));

describe('atomic writes', () => {
  it('replace the file whole and leave no temp files behind', () => {
    const dir = tmp();
    const f = join(dir, 'status.json');
    writeFileAtomicSync(f, 'old');
    writeFileAtomicSync(f, 'new content');
    expect(readFileSync(f, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['status.json']);
  });
});

describe('checkpoint container', () => {
  const arrays = { w: Float32Array.from([1, 2, 3.5]), d: Float64Array.from([Math.PI]), i: Int32Array.from([-7, 9]) };

  it('round-trips arrays and meta exactly', () => {
    const out = decodeTensorFile(encodeTensorFile({ step: 42 }, arrays));
    expect(out.meta).toEqual({ step: 42 });
    expect(Array.from(out.arrays.w)).toEqual([1, 2, 3.5]);
    expect(out.arrays.d[0]).toBe(Math.PI);
    expect(Array.from(out.arrays.i)).toEqual([-7, 9]);
  });

  it('detects a truncated file and a flipped byte', () => {
    const bytes = encodeTensorFile({ step: 1 }, arrays);
    expect(() => decodeTensorFile(bytes.subarray(0, bytes.length - 10))).toThrow(CorruptFileError);
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 40] ^= 0x10;
    expect(() => decodeTensorFile(flipped)).toThrow(/checksum mismatch/);
    expect(() => decodeTensorFile(new Uint8Array(100))).toThrow(/not an RL Studio checkpoint/);
  });

  it('a corrupt newest checkpoint is reported and the previous one is used', () => {
    const run = new RunFiles(tmp());
    run.writeCheckpoint(100, encodeTensorFile({ step: 100 }, arrays), 3);
    const newest = run.writeCheckpoint(200, encodeTensorFile({ step: 200 }, arrays), 3);
    truncateSync(newest, statSync(newest).size - 5);
    const { checkpoint, problems } = run.latestCheckpoint();
    expect(checkpoint?.step).toBe(100);
    expect(checkpoint?.meta).toEqual({ step: 100 });
    expect(problems).toHaveLength(1);
    expect(problems[0].file).toContain('ckpt-0000000200.bin');
    expect(problems[0].message).toMatch(/checksum mismatch.*skipped/);
  });

  it('keeps only the newest checkpoints', () => {
    const run = new RunFiles(tmp());
    for (const s of [1, 2, 3, 4]) run.writeCheckpoint(s, encodeTensorFile({}, {}), 2);
    expect(run.listCheckpoints().map((c) => c.step)).toEqual([4, 3]);
  });

  it('spares the checkpoint of the best evaluation when pruning', () => {
    const run = new RunFiles(tmp());
    for (const s of [1, 2, 3, 4, 5]) run.writeCheckpoint(s, encodeTensorFile({}, {}), 2, 2);
    expect(run.listCheckpoints().map((c) => c.step)).toEqual([5, 4, 2]);
  });
});

describe('metrics.jsonl', () => {
  it('a torn last line is reported and skipped; the rest of the run is read', () => {
    const f = join(tmp(), 'metrics.jsonl');
    const w = new MetricsWriter(f);
    for (let s = 1; s <= 5; s++) w.add({ step: s * 10, time: s, kind: 'episode', episode_return: -s });
    w.flush(true);
    w.close();
    appendFileSync(f, '{"step":60,"time":6,"kind":"epi');
    const r = readMetrics(f);
    expect(r.records.map((x) => x.step)).toEqual([10, 20, 30, 40, 50]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].message).toMatch(/line 6 is cut off/);
  });

  it('a garbage line in the middle is reported, not fatal', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeFileSync(f, '{"step":1,"time":0,"kind":"episode"}\nnot json\n{"step":2,"time":0,"kind":"update"}\n');
    const r = readMetrics(f);
    expect(r.records.map((x) => x.step)).toEqual([1, 2]);
    expect(r.problems[0].message).toMatch(/line 2 is not a valid metric record/);
  });

  it('reads on from a line number (live curves)', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeFileSync(f, '{"step":1,"time":0,"kind":"episode"}\n{"step":2,"time":0,"kind":"episode"}\n');
    const first = readMetrics(f);
    expect(first.lines).toBe(2);
    appendFileSync(f, '{"step":3,"time":0,"kind":"episode"}\n');
    expect(readMetrics(f, first.lines).records.map((x) => x.step)).toEqual([3]);
  });

  it('truncating to a checkpoint step drops later lines and the torn one', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeFileSync(f, [1, 2, 3, 4].map((s) => JSON.stringify({ step: s * 100, time: s, kind: 'update' })).join('\n') + '\n{"step":5');
    const cut = truncateMetricsAfter(f, 200);
    expect(cut).toMatchObject({ kept: 2, dropped: 2 });
    expect(cut.problems).toHaveLength(1);
    const r = readMetrics(f);
    expect(r.records.map((x) => x.step)).toEqual([100, 200]);
    expect(r.problems).toEqual([]);
  });
});

describe('metric columns (downsampled curves of long runs)', () => {
  /** A run of `n` update lines with a Q curve that has one sharp spike and one sharp dip. */
  function longRun(n: number, spikeAt: number, dipAt: number): string {
    const f = join(tmp(), 'metrics.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const q = i === spikeAt ? 1e4 : i === dipAt ? -1e4 : Math.sin(i / 5000) * 50 + (i % 97) / 40;
      lines.push(JSON.stringify({ step: i * 10, time: i * 0.01, kind: 'update', q, critic_loss: 1 / (1 + i) }));
      if (i % 1000 === 0) lines.push(JSON.stringify({ step: i * 10, time: i * 0.01, kind: 'episode', episode_return: -i }));
    }
    writeFileSync(f, lines.join('\n') + '\n');
    return f;
  }

  it('a curve of 10^6 points comes back as a bounded payload that keeps its extremes and ends', () => {
    const n = 1_000_000;
    const f = longRun(n, 123_457, 876_543);
    const cols = new MetricColumns(f).refresh();
    expect(cols.lines).toBe(n + n / 1000);
    expect(cols.columns.get('q')?.length).toBe(n);
    const q = cols.downsample('q', { points: 2000 });
    expect(q.count).toBe(n);
    expect(q.value.length).toBeLessThanOrEqual(2002);
    expect(JSON.stringify(q).length).toBeLessThan(150_000);
    expect(Math.max(...q.value)).toBe(1e4);
    expect(Math.min(...q.value)).toBe(-1e4);
    expect(q.step[q.value.indexOf(1e4)]).toBe(1_234_570);
    expect(q.step[0]).toBe(0);
    expect(q.step.at(-1)).toBe((n - 1) * 10);
    // In x order, each point a real record (step, time and value of one line).
    for (let i = 1; i < q.step.length; i++) expect(q.step[i]).toBeGreaterThan(q.step[i - 1]);
    expect(q.time[500]).toBeCloseTo(q.step[500] / 1000, 9);
    // The other curves of the same records.
    expect(cols.downsample('episode_return', { points: 2000 }).count).toBe(n / 1000);
    expect(cols.downsample('critic_loss', { points: 64 }).value.length).toBeLessThanOrEqual(64);
  }, 60_000);

  it('a zoomed range is resampled at full detail, with the neighbours outside it', () => {
    const f = longRun(100_000, 50_000, 10);
    const cols = new MetricColumns(f).refresh();
    const whole = cols.downsample('q', { points: 200 });
    const zoom = cols.downsample('q', { points: 400, from: 499_000, to: 501_000 });
    // 201 records inside [499000, 501000] plus one neighbour each side: all of them, not a sample.
    expect(zoom.count).toBe(203);
    expect(zoom.value.length).toBe(203);
    expect(zoom.step[0]).toBe(498_990);
    expect(zoom.step.at(-1)).toBe(501_010);
    expect(zoom.value).toContain(1e4);
    expect(whole.value).toContain(1e4);
    const byTime = cols.downsample('q', { points: 100, x: 'time', from: 100, to: 200 });
    expect(byTime.time[1]).toBeGreaterThanOrEqual(100);
    expect(byTime.time.at(-2)).toBeLessThanOrEqual(200);
    expect(byTime.value.length).toBeLessThanOrEqual(100);
  });

  it('reads on from where it stopped, waits for a torn line, and starts over when the file is rewritten', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeFileSync(f, '{"step":1,"time":0,"kind":"update","q":1}\nnot json\n');
    const cols = new MetricColumns(f).refresh();
    expect(cols.lines).toBe(2);
    expect(cols.problems[0].message).toMatch(/line 2 is not a valid metric record/);
    appendFileSync(f, '{"step":2,"time":1,"kind":"update","q":2}\n{"step":3,"ti');
    cols.refresh();
    expect(cols.lines).toBe(3);
    expect(cols.downsample('q', { points: 16 }).value).toEqual([1, 2]);
    // The same line count as readMetrics: getMetrics continues from it.
    expect(readMetrics(f).lines).toBe(3);
    appendFileSync(f, 'me":2,"kind":"update","q":3}\n');
    expect(cols.refresh().downsample('q', { points: 16 }).value).toEqual([1, 2, 3]);
    truncateMetricsAfter(f, 1);
    expect(cols.refresh().downsample('q', { points: 16 }).value).toEqual([1]);
    expect(cols.lines).toBe(1);
    expect(cols.problems).toEqual([]);
  });

  it('a line longer than a read slice is skipped as one bad line', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeFileSync(
      f,
      '{"step":1,"time":0,"kind":"update","q":1}\n' + 'x'.repeat(9 * 1024 * 1024) + '\n{"step":2,"time":1,"kind":"update","q":2}\n',
    );
    const cols = new MetricColumns(f).refresh();
    expect(cols.lines).toBe(3);
    expect(cols.problems).toHaveLength(1);
    expect(cols.downsample('q', { points: 16 }).value).toEqual([1, 2]);
  });
});

describe('recorded episodes', () => {
  it('round-trip qpos, actions and rewards; truncated frames are refused clearly', () => {
    const dir = tmp();
    const qpos = Float64Array.from({ length: 4 * 2 }, (_, i) => i / 3);
    const meta = writeEpisode(dir, {
      step: 500,
      index: 1,
      env: 'x',
      nq: 2,
      actionSize: 1,
      dt: 0.05,
      qpos,
      actions: Float32Array.from([0.1, 0.2, 0.3]),
      rewards: Float32Array.from([1, 2, 3]),
      episodeReturn: 6,
      diverged: false,
    });
    expect(meta.id).toBe('0000000500-1');
    expect(meta.frames).toBe(4);
    const ep = readEpisode(dir, meta.id);
    expect(Array.from(ep.qpos)).toEqual(Array.from(qpos));
    expect(Array.from(ep.rewards)).toEqual([1, 2, 3]);
    expect(ep.actions[2]).toBeCloseTo(0.3);
    truncateSync(join(dir, `${meta.id}.bin`), 10);
    expect(() => readEpisode(dir, meta.id)).toThrow(/truncated/);
    expect(() => readEpisode(dir, '../etc')).toThrow(/not an episode id/);
  });

  it('round-trip the observations and reward terms after the rewards; an episode without them reads as before', () => {
    const dir = tmp();
    const qpos = Float64Array.from({ length: 3 * 1 }, (_, i) => i);
    const observations = {
      spec: {
        size: 2,
        parts: [
          { name: 'angle', offset: 0, size: 1 },
          { name: 'velocity', offset: 1, size: 1 },
        ],
      },
      values: Float32Array.from([0, 1, 2, 3, 4, 5]),
    };
    const rewardTerms = {
      labels: ['upright pole', 'control'],
      combine: 'product' as const,
      values: Float32Array.from([0.5, 1, 0.25, 0.5]),
    };
    const base = {
      step: 7,
      index: 0,
      env: 'x',
      nq: 1,
      actionSize: 1,
      dt: 0.1,
      qpos,
      actions: Float32Array.from([0.1, 0.2]),
      rewards: Float32Array.from([0.5, 0.125]),
      episodeReturn: 0.625,
      diverged: false,
    };
    const meta = writeEpisode(dir, { ...base, observations, rewardTerms });
    expect(meta).toMatchObject({ observation: observations.spec, rewardTerms: { labels: rewardTerms.labels, combine: 'product' } });
    const ep = readEpisode(dir, meta.id);
    expect(Array.from(ep.rewards)).toEqual([0.5, 0.125]);
    expect(Array.from(ep.observations!)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(ep.rewardTerms!)).toEqual([0.5, 1, 0.25, 0.5]);
    const old = readEpisode(dir, writeEpisode(dir, { ...base, index: 1 }).id);
    expect(Array.from(old.rewards)).toEqual([0.5, 0.125]);
    expect(old.observations).toBeUndefined();
    expect(old.rewardTerms).toBeUndefined();
  });
});

describe('runs folder', () => {
  it('a runs folder that cannot be created is a clear user error', () => {
    const dir = tmp();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    let err: unknown;
    try {
      new RunStore(join(file, 'runs')).ensureWritable();
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /runsDir: runs folder .*a-file\/runs is not usable: cannot write the runs folder: a path in the runs folder is not a folder/,
    );
  });
});
