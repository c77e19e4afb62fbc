// Faults with real processes: kill -9 of the whole CLI many times (aimed at checkpoint writes),
// the trainer's worker thread dying abruptly beside another run, and a full disk (a file-size
// limit: `ulimit -f` gives EFBIG, which Node reports instead of dying of SIGXFSZ). Each resumes or
// reports clearly, and the run store stays intact: every checkpoint there passes its checksum,
// metrics.jsonl parses except at most a detected torn last line, status.json is valid.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunFiles } from '../../../src-main/store/run-store.ts';
import { decodeTensorFile } from '../../../src-main/store/tensor-file.ts';
import { decodeCheckpoint } from '../../../src-main/train/checkpoint.ts';
import { RunManager } from '../../../src-main/train/run-manager.ts';
import type { RunWorker } from '../../../src-main/train/host.ts';
import type { TrainEvent } from '../../../src-main/api/events.ts';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'bin/rl-studio.mjs');
const TINY = [
  '--set',
  'actorHidden=[8]',
  '--set',
  'criticHidden=[8,8]',
  '--set',
  'learningStarts=64',
  '--set',
  'randomSteps=0',
  '--eval-every',
  '1000000',
  '--eval-episodes',
  '0',
];
const homes: string[] = [];

afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `rls-fault-${tag}-`));
  homes.push(d);
  return d;
}

/** The run store invariants after any fault. Returns the newest intact checkpoint's step. */
function expectIntact(run: RunFiles, label: string): number {
  const ckpts = run.listCheckpoints();
  for (const c of ckpts) {
    const { meta, arrays } = decodeTensorFile(readFileSync(c.file)); // throws on a bad checksum
    expect(decodeCheckpoint(meta, arrays).trainer.step, `${label}: ${c.file}`).toBe(c.step);
  }
  const m = run.readMetrics();
  // At most one problem: a torn last line, detected and reported as such.
  expect(m.problems.length, `${label}: ${JSON.stringify(m.problems)}`).toBeLessThanOrEqual(1);
  if (m.problems.length) {
    expect(m.problems[0].message, label).toMatch(new RegExp(`^line ${m.lines}( is cut off| has no line end)`));
  }
  const { status, problem } = run.readStatus();
  expect(problem, label).toBeNull();
  expect(status, label).not.toBeNull();
  expect(() => run.readConfig(), label).not.toThrow();
  return ckpts[0]?.step ?? 0;
}

interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], opts: { ulimitBlocks?: number } = {}): Proc {
  const child = opts.ulimitBlocks
    ? // sh's `ulimit -f` counts 512-byte blocks; exec keeps the pid the node process's own.
      spawn('sh', ['-c', `ulimit -f ${opts.ulimitBlocks} && exec "$0" "$@"`, process.execPath, CLI, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))) };
  child.stdout!.on('data', (d: Buffer) => (p.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  return p;
}

const events = (p: Proc) =>
  p.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Resolves when `pred` holds for the process's output (polled), or rejects when it exits first. */
async function until(p: Proc, pred: () => boolean, what: string): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (!pred()) {
    if (exited) throw new Error(`exited before ${what}: ${p.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('fault tests (real processes)', () => {
  it('kill -9 of the CLI, again and again, aimed at checkpoint writes: the store stays intact and the run finishes', async () => {
    const runsDir = tempDir('kill');
    const STEPS = 600;
    // A checkpoint every 20 steps: writes are frequent, so kills land on and around them.
    let p = start(['train', '--steps', String(STEPS), '--checkpoint-every', '20', ...TINY, '--runs-dir', runsDir, '--json']);
    await until(p, () => events(p).some((e) => e.event === 'checkpoint'), 'the first checkpoint');
    p.child.kill('SIGKILL');
    await p.exited;
    const run = new RunFiles(join(runsDir, readdirSync(runsDir)[0]));
    let last = expectIntact(run, 'kill 1');
    expect(last).toBeGreaterThanOrEqual(20);

    // Each resume is killed the moment a checkpoint's temp file appears (inotify), i.e. during the
    // write, or after a random number of writes; whichever the machine's load makes it.
    const kills = 3;
    let hitMidWrite = 0;
    for (let k = 0; k < kills; k++) {
      p = start(['resume', run.dir, '--json']);
      const skip = k % 2 === 0 ? 0 : 1 + Math.floor(Math.random() * 3);
      let seen = 0;
      const watcher = watch(run.checkpointsDir, (_type, name) => {
        if (!name || !String(name).includes('.tmp-') || p.child.exitCode !== null) return;
        if (seen++ < skip) return;
        p.child.kill('SIGKILL');
      });
      const end = await p.exited;
      watcher.close();
      expect(end.signal, `resume ${k + 1} should have been killed: ${p.stderr.slice(-1500)}`).toBe('SIGKILL');
      if (readdirSync(run.checkpointsDir).some((f) => f.includes('.tmp-'))) hitMidWrite++;
      const step = expectIntact(run, `kill ${k + 2}`);
      // Never backwards: the newest intact checkpoint only moves on.
      expect(step).toBeGreaterThanOrEqual(last);
      last = step;
      expect(p.stderr).not.toMatch(/\n\s+at /);
    }
    process.stderr.write(`faults: ${kills + 1} kills, ${hitMidWrite} left a half-written checkpoint temp file behind\n`);

    // Whatever the kills hit, leave one half-written checkpoint of a dead process (the last victim)
    // for certain: the next session must clear it.
    const deadPid = p.child.pid!;
    writeFileSync(join(run.checkpointsDir, `ckpt-0000099999.bin.tmp-${deadPid}-1`), new Uint8Array(4096));
    expect(run.listCheckpoints()[0].step).toBe(last);

    // A last resume, left alone, finishes the run from where the checkpoints say.
    p = start(['resume', run.dir, '--json']);
    const end = await p.exited;
    expect(end.code, p.stderr).toBe(0);
    const done = events(p).pop()!;
    expect(done).toMatchObject({ event: 'done', status: 'done', step: STEPS });
    expectIntact(run, 'finished');
    const m = run.readMetrics();
    expect(m.problems).toEqual([]);
    // The curve has each update step once, in order, across all the crashes.
    const updates = m.records.filter((r) => r.kind === 'update').map((r) => r.step);
    expect(updates.every((s, i) => i === 0 || s > updates[i - 1])).toBe(true);
    expect(updates[updates.length - 1]).toBe(STEPS);
    expect(run.readStatus().status).toMatchObject({ status: 'done', step: STEPS, checkpointStep: STEPS });
    // Half-written temp files of the killed sessions were cleared when training resumed (session.ts).
    const leftovers = [run.dir, run.checkpointsDir, run.episodesDir].flatMap((d) => readdirSync(d)).filter((f) => f.includes('.tmp-'));
    expect(leftovers).toEqual([]);
  });

  it('a trainer worker thread that dies abruptly fails its run with the reason; the run beside it finishes; the dead one resumes', async () => {
    const runsDir = tempDir('worker');
    const manager = new RunManager({ runsDir, maxConcurrent: 2 });
    const tiny = {
      env: 'pendulum',
      algo: 'ddpg' as const,
      evalEvery: 1_000_000,
      evalEpisodes: 0,
      checkpointEvery: 50,
      hyperparams: { actorHidden: [8], criticHidden: [8, 8] },
    };
    const [victim] = manager.create({ ...tiny, steps: 100_000 }, { start: false });
    const [bystander] = manager.create({ ...tiny, steps: 300, seed: 1 }, { start: false });
    const seen: TrainEvent[] = [];
    manager.subscribe((e) => seen.push(e));
    manager.start(victim.id);
    manager.start(bystander.id);
    while (!seen.some((e) => e.runId === victim.id && e.type === 'checkpoint')) await new Promise((r) => setTimeout(r, 20));
    // Like a crash in WASM or the thread running out of memory: terminated mid-step, no goodbye.
    const live = (manager as unknown as { live: Map<string, { worker: RunWorker }> }).live;
    await live.get(victim.id)!.worker.kill();
    const end = await manager.waitForEnd(victim.id);
    expect(end.status).toBe('failed');
    expect(end.reason).toMatch(/the trainer thread stopped unexpectedly/);
    const run = manager.store.open(victim.id);
    expect(run.readStatus().status).toMatchObject({ status: 'failed', reason: expect.stringMatching(/stopped unexpectedly/), pid: null });
    const ckpt = expectIntact(run, 'dead worker');
    expect(ckpt).toBeGreaterThanOrEqual(50);

    expect(await manager.waitForEnd(bystander.id)).toMatchObject({ status: 'done', step: 300 });
    expectIntact(manager.store.open(bystander.id), 'bystander');

    // The failed run resumes from its last checkpoint (a shorter target keeps this quick).
    manager.resume(victim.id, { steps: ckpt + 100 });
    expect(await manager.waitForEnd(victim.id)).toMatchObject({ status: 'done', step: ckpt + 100 });
    expectIntact(run, 'resumed');
    expect(run.readMetrics().problems).toEqual([]);
    await manager.shutdown();
  });

  it('a full disk (file-size limit) pauses the run with the reason; the CLI exits 1 with the resume hint, the run keeps its last checkpoint, reads paused, and resumes once there is room', async () => {
    const runsDir = tempDir('disk');
    const STEPS = 800;
    // 32 x 512 bytes: checkpoints (which carry the replay buffer) outgrow it after a few hundred steps.
    const p = start(['train', '--steps', String(STEPS), '--checkpoint-every', '50', ...TINY, '--runs-dir', runsDir, '--json'], {
      ulimitBlocks: 32,
    });
    await until(p, () => /paused: .*(disk is full|file-size limit)/.test(p.stderr), 'the disk-full pause');
    expect(p.stderr).toMatch(
      /the file is larger than the file system or the file-size limit allows: cannot write (a checkpoint|metrics\.jsonl|status\.json)/,
    );
    const run = new RunFiles(join(runsDir, readdirSync(runsDir)[0]));
    // The CLI cannot free space for the user: it ends by itself (no signal) and says how to continue.
    const end = await p.exited;
    expect(end).toEqual({ code: 1, signal: null });
    expect(p.stderr).toMatch(/the run paused: .*file-size limit.*rl-studio resume/);
    expect(run.readStatus().status).toMatchObject({ status: 'paused', pid: null, reason: expect.stringMatching(/file-size limit/) });
    // The studio opening this runs folder later still shows it paused, with the reason.
    expect(new RunManager({ runsDir }).list()[0]).toMatchObject({ status: 'paused', reason: expect.stringMatching(/file-size limit/) });
    expect(p.stderr).not.toMatch(/\n\s+at /);
    expect(events(p).pop()).toMatchObject({ event: 'done', status: 'paused' });
    const ckpt = expectIntact(run, 'disk full');
    expect(ckpt).toBeGreaterThanOrEqual(50);
    expect(ckpt).toBeLessThan(STEPS);
    expect(existsSync(run.checkpointPath(ckpt))).toBe(true);
    expect(readdirSync(run.checkpointsDir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // Room again: resume finishes the run.
    const r = start(['resume', run.dir, '--json']);
    const rEnd = await r.exited;
    expect(rEnd.code, r.stderr).toBe(0);
    expect(events(r).pop()).toMatchObject({ event: 'done', status: 'done', step: STEPS });
    expectIntact(run, 'after resume');
    const updates = run
      .readMetrics()
      .records.filter((x) => x.kind === 'update')
      .map((x) => x.step);
    expect(updates.every((s, i) => i === 0 || s > updates[i - 1])).toBe(true);
  });
});
