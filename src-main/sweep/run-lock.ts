/**
 * One trainer per run across processes and machines sharing a runs folder: `<run>/train.lock` names
 * its holder (host, pid) and is refreshed every few seconds. A lock whose holder is a dead process on
 * this host, or whose heartbeat is older than `staleMs` (the holder's machine is gone), is taken over;
 * a holder that finds its lock taken (it was thought dead) must stop training. BullMQ already hands a
 * job to one worker at a time; this guards the run itself (a stalled-then-recovered worker, a
 * `resume` by hand while a worker trains it).
 */
import { openSync, closeSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { UserError } from '../util/errors.ts';

export const LOCK_FILE = 'train.lock';

interface LockContent {
  owner: string;
  host: string;
  pid: number;
  token: string;
  heartbeatAt: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockContent | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return null;
  }
}

export class RunLock {
  private timer: NodeJS.Timeout | null = null;
  private lost = false;

  private constructor(
    private readonly file: string,
    private readonly content: LockContent,
    private readonly onLost: () => void,
  ) {}

  /** Takes the run's lock or throws a UserError naming who holds it. `onLost` runs if another process takes it over. */
  static acquire(runDir: string, owner: string, opts: { staleMs?: number; onLost?: () => void } = {}): RunLock {
    const staleMs = opts.staleMs ?? 30_000;
    const file = join(runDir, LOCK_FILE);
    const content: LockContent = { owner, host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex'), heartbeatAt: Date.now() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, JSON.stringify(content));
        closeSync(fd);
        const lock = new RunLock(file, content, opts.onLost ?? (() => {}));
        lock.timer = setInterval(() => lock.heartbeat(), Math.max(500, staleMs / 4));
        lock.timer.unref();
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = readLock(file);
      const stale = held === null || (held.host === content.host ? !pidAlive(held.pid) || held.pid === process.pid : Date.now() - held.heartbeatAt > staleMs);
      if (!stale) throw new UserError({ field: 'run', message: `${runDir} is being trained by ${held.owner} (pid ${held.pid} on ${held.host})` });
      // Take the stale lock over: rename is atomic, and the renamed file must be the one judged stale.
      const aside = `${file}.stale-${content.token}`;
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (held && moved && moved.token !== held.token) {
        renameSync(aside, file); // someone else took it over in between: theirs stands
        throw new UserError({ field: 'run', message: `${runDir} was just taken over by ${moved.owner}` });
      }
      unlinkSync(aside);
    }
    throw new UserError({ field: 'run', message: `could not take the lock of ${runDir}` });
  }

  private heartbeat(): void {
    const now = readLock(this.file);
    if (!now || now.token !== this.content.token) {
      if (!this.lost) {
        this.lost = true;
        this.onLost();
      }
      return;
    }
    try {
      writeFileAtomicSync(this.file, JSON.stringify({ ...this.content, heartbeatAt: Date.now() }));
    } catch {
      /* a full disk: the next beat tries again; the trainer pauses itself on the same fault */
    }
  }

  /** Whether another process took the lock over (this one must not write the run any more). */
  get isLost(): boolean {
    return this.lost;
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const now = readLock(this.file);
    if (now?.token === this.content.token) {
      try {
        unlinkSync(this.file);
      } catch {
        /* already gone */
      }
    }
  }
}
