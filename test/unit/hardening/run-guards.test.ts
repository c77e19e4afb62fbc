// What keeps a run whole when it is resumed carelessly: a run whose checkpoints are all damaged
// is refused (its curve untouched) unless the user starts it over on purpose; one trainer per run
// (a lock naming pid and process start, taken over when its holder is dead); and a read-only
// folder named as such, not as "the folder is gone".
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunManager } from '../../../src-main/train/run-manager.ts';
import { LOCK_FILE, processStart } from '../../../src-main/store/run-lock.ts';
import { exportPolicyTo } from '../../../src-main/export/index.ts';
import { RunStore } from '../../../src-main/store/run-store.ts';

const ROOT = resolve(__dirname, '../../..');
const TINY = {
  env: 'pendulum',
  algo: 'ddpg' as const,
  evalEpisodes: 0,
  evalEvery: 1_000_000,
  checkpointEvery: 100,
  hyperparams: { actorHidden: [8], criticHidden: [8, 8], learningStarts: 50, randomSteps: 0 },
};
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function runsDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `issue-15-guards-${tag}-`));
  homes.push(d);
  return d;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/rl-studio.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A finished 200-step run with checkpoints at 100 and 200. */
async function trainedRun(tag: string) {
  const m = new RunManager({ runsDir: runsDir(tag), maxConcurrent: 1 });
  const [run] = m.create({ ...TINY, steps: 200 }, { start: true });
  expect(await m.waitForEnd(run.id)).toMatchObject({ status: 'done', step: 200 });
  return { m, run, files: m.store.open(run.id) };
}

describe('run guards', () => {
  it('resume refuses a run whose checkpoints are all damaged (exit 2, curve untouched); --start-over trains it again and keeps the old curve', async () => {
    const { m, run, files } = await trainedRun('damaged');
    for (const c of files.listCheckpoints()) {
      const bytes = readFileSync(c.file);
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(c.file, bytes);
    }
    const curve = readFileSync(files.metricsFile, 'utf8');
    expect(() => m.resume(run.id, { steps: 300 })).toThrow(/every checkpoint of run .* is damaged .*--start-over/);
    const r = cli(['resume', files.dir, '--steps', '300']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/every checkpoint of run .* is damaged/);
    expect(readFileSync(files.metricsFile, 'utf8')).toBe(curve);
    expect(files.listCheckpoints()).toHaveLength(2);
    expect(existsSync(join(files.dir, LOCK_FILE))).toBe(false);

    m.resume(run.id, { steps: 100, startOver: true });
    expect(await m.waitForEnd(run.id)).toMatchObject({ status: 'done', step: 100 });
    const aside = readdirSync(files.dir).filter((n) => n.startsWith('before-start-over-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(files.dir, aside[0], 'metrics.jsonl'), 'utf8')).toBe(curve);
    expect(readdirSync(join(files.dir, aside[0], 'checkpoints')).sort()).toEqual(['ckpt-0000000100.bin', 'ckpt-0000000200.bin']);
    expect(files.listCheckpoints().map((c) => c.step)).toEqual([100]);
    expect(Math.max(...files.readMetrics().records.map((x) => x.step))).toBe(100);
    await m.shutdown();
  });

  it("one trainer per run: a second is refused naming the holder; a dead holder's lock (or a reused pid) is taken over", async () => {
    const { m, run, files } = await trainedRun('lock');
    const lockFile = join(files.dir, LOCK_FILE);
    m.resume(run.id, { steps: 100_000 });
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; processStart: string | null };
    expect(holder.pid).toBe(process.pid);
    expect(holder.processStart).toBe(processStart(process.pid));
    // Another process (the CLI) and another manager in this one are refused; nothing of the run changes.
    const r = cli(['resume', files.dir, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`run ${run.id} is being trained by another process \\(pid ${process.pid}, since .*\\); one trainer per run`),
    );
    const other = new RunManager({ runsDir: m.store.root });
    expect(() => other.resume(run.id)).toThrow(/is being trained by this process/);
    await expect(other.delete(run.id)).rejects.toThrow(/being trained by another process/);
    await m.stop(run.id);
    expect(existsSync(lockFile)).toBe(false);

    // A holder that is gone: a pid that exited, and our own pid with another start time (reused).
    const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
    for (const stale of [
      { pid: Number(dead.stdout.trim()), processStart: '1' },
      { pid: process.pid, processStart: 'not-this-process' },
    ]) {
      writeFileSync(lockFile, JSON.stringify({ ...stale, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
      other.resume(run.id, { steps: (files.readStatus().status?.step ?? 0) + 100 });
      expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, processStart: processStart(process.pid) });
      expect(await other.waitForEnd(run.id)).toMatchObject({ status: 'done' });
      expect(existsSync(lockFile)).toBe(false);
    }
    await other.shutdown();
    await m.shutdown();
  });

  it('a read-only (or forbidden) folder is named as such when starting a run, creating one and exporting into it', async () => {
    const { m, run, files } = await trainedRun('readonly');
    await m.shutdown();
    const dir = m.store.root;
    // Root ignores permission bits: a read-only bind mount gives the real EROFS; others get EACCES from chmod.
    const root = process.getuid?.() === 0;
    const undo = root ? () => spawnSync('umount', [dir]) : () => chmodSync(dir, 0o755);
    if (root) {
      const mounted = spawnSync('mount', ['--bind', '-o', 'ro', dir, dir]);
      expect(mounted.status, `this test needs mount as root: ${mounted.stderr}`).toBe(0);
    } else chmodSync(dir, 0o555);
    const reason = root ? /read-only file system/ : /no permission|permission denied/;
    try {
      const again = new RunManager({ runsDir: dir });
      if (root) expect(() => again.resume(run.id, { steps: 300 })).toThrow(reason);
      expect(() => new RunStore(join(dir, 'new-folder', 'runs')).ensureWritable()).toThrow(reason);
      expect(() => new RunStore(join(dir, 'new-folder', 'runs')).ensureWritable()).not.toThrow(/gone/);
      await expect(exportPolicyTo(files.dir, 'json', join(dir, 'exports', 'policy'))).rejects.toThrow(
        root ? /read-only file system/ : /permission denied/,
      );
      expect(files.readStatus().status).toMatchObject({ status: 'done', step: 200 });
    } finally {
      undo();
    }
    mkdirSync(join(dir, 'writable-again'));
  });
});
