/**
 * One trainer per run: `trainer.lock` in the run folder names the process that trains it (pid,
 * the process's start time, host). A second trainer — another `resume`, the studio beside the CLI
 * — is refused with who holds the run; a lock whose holder is gone (killed, crashed, a pid reused
 * by another program) is taken over. Without it, two resumes of one run raced over its files.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.ts';

export const LOCK_FILE = 'trainer.lock';

export interface LockHolder {
  pid: number;
  /** The holder process's start (Linux: clock ticks after boot, from /proc); null where unknown. */
  processStart: string | null;
  host: string;
  /** When the lock was taken (ISO time). */
  since: string;
}

/** A process's start time, which tells it apart from a later process given the same pid. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may hold spaces and ')', so count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process holding a lock still runs. A holder on another host cannot be checked and counts as alive. */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(h.pid);
  return h.processStart === null || start === null || start === h.processStart;
}

function readHolder(file: string): { text: string; holder: LockHolder | null } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return { text, holder: Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null };
  } catch {
    return { text, holder: null };
  }
}

/** The live process training the run in `dir`, if any. */
export function runLockHolder(dir: string): LockHolder | null {
  const found = readHolder(join(dir, LOCK_FILE));
  return found?.holder && holderAlive(found.holder) ? found.holder : null;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}, since ${h.since}`;
}

export class RunLock {
  private constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  /**
   * Takes the run's lock for this process or throws a UserError naming the holder. The lock file
   * appears whole (written beside it, then hard-linked into place, which fails if one exists), so
   * a reader never sees a half-written holder.
   */
  static acquire(dir: string, runId: string): RunLock {
    const file = join(dir, LOCK_FILE);
    const me: LockHolder = { pid: process.pid, processStart: processStart(process.pid), host: hostname(), since: new Date().toISOString() };
    const text = JSON.stringify(me) + '\n';
    const draft = `${file}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(draft, text);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(draft, file);
          return new RunLock(file, text);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const found = readHolder(file);
        if (!found) continue;
        if (found.holder && holderAlive(found.holder)) {
          const who = found.holder.pid === process.pid && found.holder.host === me.host ? 'this process' : 'another process';
          throw new UserError({ field: 'run', message: `run ${runId} is being trained by ${who} (${describeHolder(found.holder)}); one trainer per run` });
        }
        // The holder is gone (or the lock is unreadable): take it over, unless someone else just did.
        if (readHolder(file)?.text === found.text) rmSync(file, { force: true });
      }
      throw new UserError({ field: 'run', message: `run ${runId}: another trainer keeps taking its lock; try again` });
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /** Gives the run up (only if the lock is still this one's). */
  release(): void {
    try {
      if (readFileSync(this.file, 'utf8') === this.text) rmSync(this.file, { force: true });
    } catch {
      /* gone already, or the folder is unreadable: a dead holder's lock is taken over anyway */
    }
  }
}
