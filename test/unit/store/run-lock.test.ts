// The run lock across machines sharing a runs folder: another host's holder cannot be asked whether
// it lives, so its heartbeat decides; a holder whose lock is taken over is told to stop.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, RunLock } from '../../../src-main/store/run-lock.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function runDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'run-lock-'));
  dirs.push(d);
  return d;
}
const remote = (heartbeatAt: number) =>
  JSON.stringify({
    pid: 4242,
    processStart: '1',
    host: 'another-machine',
    since: '2026-01-01T00:00:00.000Z',
    owner: 'worker another-machine:4242',
    heartbeatAt,
  });

describe('run lock', () => {
  it("another host's lock holds while its heartbeat is fresh and is taken over once it is older than staleMs", () => {
    const dir = runDir();
    writeFileSync(join(dir, LOCK_FILE), remote(Date.now()));
    expect(() => RunLock.acquire(dir, 'r1', { staleMs: 5000 })).toThrow(
      /run r1 is being trained by another process \(worker another-machine:4242, pid 4242 on another-machine, since .*\); one trainer per run/,
    );
    writeFileSync(join(dir, LOCK_FILE), remote(Date.now() - 6000));
    const lock = RunLock.acquire(dir, 'r1', { staleMs: 5000, owner: 'local pool' });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, owner: 'local pool' });
    lock.release();
  });

  it('renews its heartbeat, and a holder whose lock another process took over is told once', async () => {
    const dir = runDir();
    let lost = 0;
    const lock = RunLock.acquire(dir, 'r2', { staleMs: 1000, onLost: () => lost++ });
    const first = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { heartbeatAt: number };
    await new Promise((r) => setTimeout(r, 700));
    const later = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { heartbeatAt: number };
    expect(later.heartbeatAt).toBeGreaterThan(first.heartbeatAt);
    expect(lost).toBe(0);
    writeFileSync(join(dir, LOCK_FILE), remote(Date.now()));
    await new Promise((r) => setTimeout(r, 700));
    expect(lost).toBe(1);
    expect(lock.isLost).toBe(true);
    lock.release();
    // Release leaves the new holder's lock alone.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ host: 'another-machine' });
  });
});
