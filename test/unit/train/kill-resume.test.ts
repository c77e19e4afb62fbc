import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunFiles } from '../../../src-main/store/run-store.ts';
import { decodeTensorFile } from '../../../src-main/store/tensor-file.ts';
import { decodeCheckpoint } from '../../../src-main/train/checkpoint.ts';
import { RunManager } from '../../../src-main/train/run-manager.ts';

const SMALL = ['--set', 'actorHidden=[32]', '--set', 'criticHidden=[32,32]', '--set', 'learningStarts=64', '--set', 'randomSteps=0'];

function increasing(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x > xs[i - 1]);
}

function nonDecreasing(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x >= xs[i - 1]);
}

describe('kill -9 during training, then resume', () => {
  it('continues from the last checkpoint with continuous metrics, no duplicate steps and no corrupt file', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'rls-kill-'));
    const child = spawn(
      process.execPath,
      [
        'bin/rl-studio.mjs',
        'train',
        '--steps',
        '1600',
        '--checkpoint-every',
        '200',
        '--eval-every',
        '400',
        '--eval-episodes',
        '1',
        ...SMALL,
        '--runs-dir',
        runsDir,
        '--json',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const events: Record<string, unknown>[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killedAt = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) events.push(JSON.parse(l) as Record<string, unknown>);
        const ckpts = events.filter((e) => e.event === 'checkpoint');
        // Past the second checkpoint, mid-interval: the work since it is lost and redone.
        const last = events[events.length - 1];
        if (
          ckpts.length >= 2 &&
          last.event === 'progress' &&
          (last.step as number) > (ckpts[1].step as number) + 50 &&
          child.exitCode === null
        ) {
          child.kill('SIGKILL');
          resolve(last.step as number);
        }
      });
      child.on('exit', (code, sig) =>
        sig === 'SIGKILL' ? undefined : reject(new Error(`train exited (${code}) before it was killed: ${stderr}`)),
      );
    });
    await new Promise((r) => child.once('exit', r));
    expect(killedAt).toBeGreaterThan(450);
    expect(killedAt).toBeLessThan(1600);

    const [id] = readdirSync(runsDir);
    const run = new RunFiles(join(runsDir, id));
    expect(run.readStatus().status?.status).toBe('running');
    // A new studio finds it left running by a dead process.
    const manager = new RunManager({ runsDir });
    expect(manager.list()[0]).toMatchObject({ id, status: 'interrupted' });
    const ckptStep = run.listCheckpoints()[0].step;
    expect(ckptStep).toBeGreaterThanOrEqual(400);

    const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', 'resume', run.dir, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[lines.length - 1]).toMatchObject({ event: 'done', run_dir: run.dir, status: 'done', step: 1600 });
    expect(typeof lines[lines.length - 1].eval_return).toBe('number');
    // The resumed session starts at the checkpoint, not at 0 and not at the step it was killed at.
    const firstProgress = lines.find((l) => l.event === 'progress')!;
    expect(firstProgress.step).toBe(ckptStep);
    expect(r.stderr).toMatch(new RegExp(`resuming from the checkpoint at step ${ckptStep}`));

    const m = run.readMetrics();
    expect(m.problems).toEqual([]);
    const of = (kind: string) => m.records.filter((x) => x.kind === kind);
    expect(of('update').map((x) => x.step)).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600]);
    expect(of('eval').map((x) => x.step)).toEqual([400, 800, 1200, 1600]);
    const episodes = of('episode');
    expect(increasing(episodes.map((x) => x.step))).toBe(true);
    expect(episodes.map((x) => x.episode)).toEqual(episodes.map((_, i) => i + 1));
    // Training time continues across the crash (the redone work is not counted twice in the curve).
    expect(nonDecreasing(m.records.map((x) => x.time))).toBe(true);
    expect(increasing(m.records.map((x) => x.step).filter((s, i, a) => i === 0 || s !== a[i - 1]))).toBe(true);

    expect(run.readStatus().status).toMatchObject({ status: 'done', step: 1600, checkpointStep: 1600 });
    for (const c of run.listCheckpoints()) {
      const { meta, arrays } = decodeTensorFile(readFileSync(c.file));
      expect(decodeCheckpoint(meta, arrays).trainer.step).toBe(c.step);
    }
    const leftovers = [run.dir, run.checkpointsDir, run.episodesDir].flatMap((d) => readdirSync(d)).filter((f) => f.includes('.tmp-'));
    expect(leftovers).toEqual([]);
    // Recordings exist for each evaluation, none past the end.
    expect(run.listEpisodes().episodes.map((e) => e.step)).toEqual([400, 800, 1200, 1600]);

    const ev = spawnSync(process.execPath, ['bin/rl-studio.mjs', 'eval', run.dir, '--episodes', '2', '--json'], { encoding: 'utf8' });
    expect(ev.status, ev.stderr).toBe(0);
    const out = JSON.parse(ev.stdout.trim()) as { eval_return: number; episodes: number; returns: number[] };
    expect(out.episodes).toBe(2);
    expect(Number.isFinite(out.eval_return)).toBe(true);
    // Same checkpoint and the same evaluation seeds as the run's own final evaluation (1 episode).
    expect(out.returns[0]).toBeCloseTo(of('eval')[3].eval_returns ? (of('eval')[3].eval_returns as number[])[0] : NaN, 6);
  });

  it('a damaged newest checkpoint is reported and the run resumes from the one before it', () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'rls-corrupt-'));
    const first = spawnSync(
      process.execPath,
      [
        'bin/rl-studio.mjs',
        'train',
        '--steps',
        '600',
        '--checkpoint-every',
        '200',
        '--eval-episodes',
        '0',
        ...SMALL,
        '--runs-dir',
        runsDir,
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(first.status, first.stderr).toBe(0);
    const run = new RunFiles(join(runsDir, readdirSync(runsDir)[0]));
    const newest = run.listCheckpoints()[0];
    expect(newest.step).toBe(600);
    const bytes = readFileSync(newest.file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(newest.file, bytes);

    const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', 'resume', run.dir, '--steps', '800', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ckpt-0000000600\.bin: checksum mismatch .*skipped/);
    expect(r.stderr).toMatch(/resuming from the checkpoint at step 400/);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'progress')!.step).toBe(400);
    expect(lines[lines.length - 1]).toMatchObject({ event: 'done', status: 'done', step: 800 });
    const m = run.readMetrics();
    expect(m.problems).toEqual([]);
    expect(m.records.filter((x) => x.kind === 'update').map((x) => x.step)).toEqual([200, 400, 600, 800]);
  });
});
