/**
 * `rl-studio bench sweep`: the same short sweep (N runs of DDPG on the dense pendulum, quick preset)
 * trained by one `rl-studio worker` and then by two (one run at a time each), through a real Redis
 * (Debian's redis-server, started here on a free loopback port), with the wall time of each and
 * their ratio; and the job start latency: from a run's job being added to an idle worker taking it
 * (BullMQ's processedOn - timestamp), and to its trainer's first session line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from './suite.ts';
import { UserError } from '../../util/errors.ts';
import { appRoot } from '../../util/paths.ts';
import { createSweep } from '../../sweep/create.ts';
import { enqueueSweep, jobId, openQueue, probeRedis } from '../../sweep/queue.ts';
import { SweepStore } from '../../sweep/sweep-store.ts';
import { SESSIONS_FILE, type SessionRecord } from '../../sweep/train-run.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function startGroup(cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore'], cwd: appRoot() });
  writeFileSync(log, `${cmd} ${args.join(' ')}\n`);
  return child;
}

async function endGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export const run: BenchSuite = async function* ({ quick, log }) {
  const redisServer = process.env.REDIS_SERVER ?? 'redis-server';
  if (spawnSync('sh', ['-c', `command -v ${redisServer}`]).status !== 0)
    throw new UserError({
      field: 'suite',
      message: 'bench sweep needs redis-server (Debian: apt-get install redis-server) or REDIS_SERVER',
    });
  const runs = quick ? 4 : 8;
  const steps = quick ? 600 : 1500;
  const root = mkdtempSync(join(tmpdir(), 'rl-studio-bench-sweep-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = startGroup(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root],
    join(root, 'redis.log'),
  );
  const workers: ChildProcess[] = [];
  try {
    for (let i = 0; ; i++) {
      try {
        await probeRedis(url, 500);
        break;
      } catch (e) {
        if (i > 40) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const file = {
      name: 'bench',
      base: { env: 'pendulum', preset: 'ddpg-quick', steps, evalEvery: steps, evalEpisodes: 1, checkpointEvery: steps, warmupSteps: 200 },
      seeds: runs,
    };
    const latencies: number[] = [];
    const toSession: number[] = [];
    const walls: number[] = [];
    for (const count of [1, 2]) {
      const runsDir = join(root, `runs-${count}`);
      for (let w = 0; w < count; w++) {
        workers.push(
          startGroup(
            process.execPath,
            [join(appRoot(), 'bin', 'rl-studio.mjs'), 'worker', '--queue', url, '--runs-dir', runsDir, '--concurrency', '1'],
            join(root, `worker-${count}-${w}.log`),
          ),
        );
      }
      // Workers are up when they have registered with the queue.
      const queue = openQueue(url);
      try {
        for (let i = 0; (await queue.getWorkersCount()) < count; i++) {
          if (i > 600) throw new Error('the workers did not connect within 60 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        const sweep = createSweep({ file, runsDir, queue: url });
        const t0 = Date.now();
        await enqueueSweep(url, sweep);
        const sweeps = new SweepStore(runsDir);
        while (sweeps.view(sweep.id).state === 'running') await new Promise((r) => setTimeout(r, 200));
        const wall = (Date.now() - t0) / 1000;
        walls.push(wall);
        const view = sweeps.view(sweep.id);
        if (view.state !== 'finished') throw new Error(`the benchmark sweep ended with problems: ${JSON.stringify(view.counts)}`);
        // Jobs taken by an idle worker: the first `count` to start.
        const jobs = (await Promise.all(sweep.runs.map((r) => queue.getJob(jobId(r.id)))))
          .filter((j) => j?.processedOn)
          .sort((a, b) => a!.processedOn! - b!.processedOn!);
        for (const job of jobs.slice(0, count)) {
          latencies.push(job!.processedOn! - job!.timestamp);
          const first = JSON.parse(
            readFileSync(join(runsDir, job!.data.runId as string, SESSIONS_FILE), 'utf8').split('\n')[0]!,
          ) as SessionRecord;
          toSession.push(Date.parse(first.startedAt) - job!.timestamp);
        }
        log(`${count} worker(s): ${runs} runs of ${steps} steps in ${wall.toFixed(1)} s`);
        yield {
          case: `sweep-${count}-worker${count > 1 ? 's' : ''}`,
          runs,
          steps,
          wall_s: wall,
          ...(count > 1 ? { speedup: walls[0]! / wall } : {}),
        };
      } finally {
        await queue.close();
        await Promise.all(workers.splice(0).map((w) => endGroup(w, 'SIGTERM')));
      }
    }
    yield {
      case: 'job-start-latency',
      jobs: latencies.length,
      median_ms: median(latencies),
      max_ms: Math.max(...latencies),
      to_session_median_ms: median(toSession),
    };
  } finally {
    await Promise.all(workers.map((w) => endGroup(w, 'SIGKILL')));
    await endGroup(redis, 'SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
};
