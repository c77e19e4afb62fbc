/**
 * Runs as BullMQ jobs on Redis: the queue URL, the connection options every part uses (reconnecting
 * for ever, as BullMQ wants for workers), a probe that turns an unreachable Redis into one clear line,
 * and enqueueing a sweep's runs. A job names a run by id only: each worker finds it in its own
 * mount of the shared runs folder.
 */
import { Queue, type RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../util/errors.ts';
import type { SweepRecord } from '../api/sweeps.ts';

export const QUEUE_NAME = 'rl-studio-runs';

/** What a job carries. */
export interface RunJob {
  sweepId: string;
  runId: string;
}

/** A job's id is its run's: enqueueing a run twice (a retried create) adds it once. */
export function jobId(runId: string): string {
  return `run-${runId}`;
}

/** Parses `redis://host:port[/db]`; anything else is a UserError naming --queue. */
export function parseQueueUrl(url: string): { host: string; port: number; db: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError({ field: '--queue', message: `'${url}' is not a URL; expected redis://HOST:PORT` });
  }
  if (u.protocol !== 'redis:') throw new UserError({ field: '--queue', message: `'${url}' is not a redis:// URL` });
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!u.hostname || !Number.isInteger(db) || db < 0)
    throw new UserError({ field: '--queue', message: `'${url}' has no host or a bad database number` });
  return { host: u.hostname, port, db };
}

/** Connection options for BullMQ: retry for ever with a capped backoff, so a restarting Redis is waited for. */
export function connectionOptions(url: string): RedisOptions {
  const { host, port, db } = parseQueueUrl(url);
  return { host, port, db, maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (times) => Math.min(200 * times, 2000) };
}

/** Fails fast with one line when Redis cannot be reached (nothing else is started first). */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  const { host, port, db } = parseQueueUrl(url);
  const client = new Redis({
    host,
    port,
    db,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | null = null;
  client.on('error', (e: Error) => (cause ??= e)); // the socket's error says why ("Connection is closed" does not)
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const code = (cause as NodeJS.ErrnoException | null)?.code ?? (e as NodeJS.ErrnoException).code;
    throw new UserError({ field: '--queue', message: `cannot reach Redis at ${url}: ${code ?? (e as Error).message}` });
  } finally {
    client.disconnect();
  }
}

export function openQueue(url: string): Queue {
  return new Queue(QUEUE_NAME, { connection: connectionOptions(url) });
}

/** Adds one job per run; a run's job is retried (by any worker) when its trainer is shut down or fails to start. */
export async function enqueueSweep(url: string, sweep: SweepRecord, runIds: string[] = sweep.runs.map((r) => r.id)): Promise<void> {
  await probeRedis(url);
  const queue = openQueue(url);
  try {
    await queue.addBulk(
      runIds.map((runId) => ({
        name: 'train',
        data: { sweepId: sweep.id, runId },
        opts: { jobId: jobId(runId), attempts: 20, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: 1000, removeOnFail: 1000 },
      })),
    );
  } finally {
    await queue.close();
  }
}
