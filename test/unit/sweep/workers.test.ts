// Sweeps on many workers, for real: Debian's redis-server on a loopback port of our own, two
// `rl-studio worker` processes over one shared runs folder and a 4-run sweep. One worker is killed
// with kill -9 while its runs train and Redis is restarted: every run still finishes, each resumed
// at most once and from its checkpoint, by the other worker, and its metrics read line by line with
// the steps continuing.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepView } from '../../../src-main/api/sweeps.ts';
import type { SessionRecord } from '../../../src-main/sweep/train-run.ts';

const PORT = 18380;
const QUEUE = `redis://127.0.0.1:${PORT}`;
const root = mkdtempSync('/tmp/issue-18-workers-');
const runsDir = join(root, 'runs');
const started: ChildProcess[] = [];

/** A process in its own group (ended as a group), output to a log file. */
function start(cmd: string, args: string[], log: string): ChildProcess {
  const out = join(root, log);
  writeFileSync(out, '');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RL_STUDIO_HOME: join(root, 'home') },
  });
  child.stdout!.on('data', (d: Buffer) => writeFileSync(out, d, { flag: 'a' }));
  child.stderr!.on('data', (d: Buffer) => writeFileSync(out, d, { flag: 'a' }));
  started.push(child);
  return child;
}

function endGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));

const redisServer = process.env.REDIS_SERVER ?? 'redis-server';
function startRedis(): ChildProcess {
  // Append-only file: the queue survives the restart, as a real deployment's would.
  return start(
    redisServer,
    ['--port', String(PORT), '--bind', '127.0.0.1', '--dir', root, '--appendonly', 'yes', '--save', ''],
    'redis.log',
  );
}

async function until<T>(what: string, f: () => T | null | undefined | false, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}\n${readdirSync(root)
          .filter((f) => f.endsWith('.log'))
          .map((f) => `--- ${f}\n${readFileSync(join(root, f), 'utf8').slice(-3000)}`)
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

const redisUp = () =>
  spawnSync(process.execPath, [
    '-e',
    `require('net').connect(${PORT},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`,
  ]).status === 0;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: join(root, 'home') },
    timeout: 400_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sessions = (runId: string): SessionRecord[] => {
  const f = join(runsDir, runId, 'sessions.jsonl');
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SessionRecord)
    : [];
};
const checkpointSteps = (runId: string) =>
  existsSync(join(runsDir, runId, 'checkpoints'))
    ? readdirSync(join(runsDir, runId, 'checkpoints'))
        .filter((f) => /^ckpt-\d+\.bin$/.test(f))
        .map((f) => Number(/\d+/.exec(f)![0]))
    : [];

afterAll(async () => {
  for (const c of started) endGroup(c);
  await Promise.all(started.map(exited));
  rmSync(root, { recursive: true, force: true });
});

describe('sweep on BullMQ workers', () => {
  it('finishes every run after a worker is killed with -9 and Redis restarts', async () => {
    let redis = startRedis();
    await until('redis-server', redisUp, 20_000);
    const worker = (name: string) =>
      start(
        process.execPath,
        ['bin/rl-studio.mjs', 'worker', '--queue', QUEUE, '--runs-dir', runsDir, '--concurrency', '2', '--lock-ms', '3000'],
        `${name}.log`,
      );
    const a = worker('worker-a');
    const b = worker('worker-b');
    await until(
      'both workers to connect',
      () => ['worker-a', 'worker-b'].every((n) => readFileSync(join(root, `${n}.log`), 'utf8').includes('runs at once')),
      60_000,
    );

    const file = join(root, 'sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'tau',
        base: {
          env: 'pendulum',
          preset: 'ddpg-quick',
          steps: 1500,
          evalEvery: 500,
          evalEpisodes: 1,
          checkpointEvery: 300,
          warmupSteps: 100,
        },
        grid: { tau: [0.005, 0.02] },
        seeds: 2,
      }),
    );
    const created = cli(['sweep', 'create', file, '--queue', QUEUE, '--runs-dir', runsDir, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const sweep = JSON.parse(created.stdout.trim()) as { id: string; runs: { id: string }[] };
    const ids = sweep.runs.map((r) => r.id);
    expect(ids).toHaveLength(4);

    // Kill worker A once one of its runs has a checkpoint and is still training.
    const victim = await until('a checkpoint of a run on worker A', () =>
      ids.find((id) => sessions(id)[0]?.pid === a.pid && checkpointSteps(id).length > 0 && !checkpointSteps(id).includes(1500)),
    );
    endGroup(a, 'SIGKILL');
    await exited(a);
    const killedAt = Math.max(...checkpointSteps(victim));
    const onA = ids.filter((id) => sessions(id)[0]?.pid === a.pid);

    // Redis goes down and comes back while B trains; B reconnects and the queue (append-only file) survives.
    endGroup(redis, 'SIGTERM');
    await exited(redis);
    await new Promise((r) => setTimeout(r, 1500));
    redis = startRedis();
    await until('redis-server back', redisUp, 20_000);

    const waited = cli(['sweep', 'wait', sweep.id, '--runs-dir', runsDir, '--timeout', '360', '--json']);
    const logs = ['worker-a', 'worker-b'].map((n) => readFileSync(join(root, `${n}.log`), 'utf8')).join('\n---\n');
    expect(waited.code, waited.stderr + logs).toBe(0);
    const view = JSON.parse(waited.stdout.trim()) as SweepView;
    expect(view.runs.map((r) => [r.status, r.step])).toEqual(ids.map(() => ['done', 1500]));
    expect(logs).toMatch(/queue connection problem/);

    for (const id of ids) {
      const s = sessions(id);
      expect(s.length, id).toBeLessThanOrEqual(2); // resumed at most once
      if (onA.includes(id)) {
        expect(s.map((x) => x.pid)).toEqual([a.pid, b.pid]);
        expect(s[1]!.fromStep % 300).toBe(0);
      } else expect(s.map((x) => x.pid)).toEqual([b.pid]);
      // Metrics: every line parses; eval at each evaluation step once; steps never go back.
      const records = readFileSync(join(runsDir, id, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; step: number });
      expect(records.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([500, 1000, 1500]);
      const steps = records.filter((r) => r.kind === 'episode' || r.kind === 'update').map((r) => r.step);
      expect(steps.every((x, i) => i === 0 || x >= steps[i - 1]!)).toBe(true);
      expect(steps[steps.length - 1]).toBe(1500);
    }
    expect(sessions(victim)[1]!.fromStep).toBeGreaterThanOrEqual(killedAt);
    expect(sessions(victim)[1]!.fromStep).toBeGreaterThan(0);
  });
});
