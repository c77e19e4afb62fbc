/**
 * One trainer per run: `trainer.lock` in the run folder names the process that trains it (pid,
 * the process's start time, host, who it is) and is renewed every few seconds (`heartbeatAt`). A
 * second trainer — another `resume`, the studio beside the CLI, a second sweep worker — is refused
 * with who holds the run; a lock whose holder is gone is taken over: on this host a dead pid (or a
 * pid reused by another program), on another host (workers sharing a runs folder) a heartbeat older
 * than `staleMs` (its machine is lost or the worker was killed). A holder that finds its lock taken
 * over (it was thought dead: a stalled machine that comes back) is told through `onLost` and must
 * stop writing the run. Without it, two resumes of one run raced over its files.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Who trains it, as lists show it (`worker host:pid`, `local pool`, `studio`); absent: a CLI or studio run. */
  owner?: string;
  /** Last renewal (ms since the epoch); absent in locks written before heartbeats. */
  heartbeatAt?: number;
}

/** How long a lock of another host may go unrenewed before its holder counts as gone. */
export const DEFAULT_LOCK_STALE_MS = 30_000;

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

/**
 * Whether the process holding a lock still runs. A holder on another host cannot be asked: it counts
 * as alive while its heartbeat is younger than `staleMs`.
 */
export function holderAlive(h: LockHolder, staleMs = DEFAULT_LOCK_STALE_MS): boolean {
  if (h.host !== hostname()) return typeof h.heartbeatAt !== 'number' || Date.now() - h.heartbeatAt <= staleMs;
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
  return `${h.owner ? `${h.owner}, ` : ''}pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}, since ${h.since}`;
}

export interface RunLockOptions {
  /** Who trains it (see LockHolder.owner). */
  owner?: string;
  /** Another host's lock older than this is taken over; this lock is renewed four times as often. */
  staleMs?: number;
  /** Called once if another process takes the lock over: the holder must stop training the run. */
  onLost?: () => void;
}

export class RunLock {
  private timer: NodeJS.Timeout | null = null;
  private lost = false;

  private constructor(
    readonly file: string,
    private text: string,
    private readonly holder: LockHolder,
    private readonly onLost: () => void,
  ) {}

  /**
   * Takes the run's lock for this process or throws a UserError naming the holder. The lock file
   * appears whole (written beside it, then hard-linked into place, which fails if one exists), so
   * a reader never sees a half-written holder.
   */
  static acquire(dir: string, runId: string, opts: RunLockOptions = {}): RunLock {
    const staleMs = opts.staleMs ?? DEFAULT_LOCK_STALE_MS;
    const file = join(dir, LOCK_FILE);
    const me: LockHolder = {
      pid: process.pid,
      processStart: processStart(process.pid),
      host: hostname(),
      since: new Date().toISOString(),
      ...(opts.owner ? { owner: opts.owner } : {}),
      heartbeatAt: Date.now(),
    };
    const text = JSON.stringify(me) + '\n';
    const draft = `${file}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(draft, text);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(draft, file);
          const lock = new RunLock(file, text, me, opts.onLost ?? (() => {}));
          lock.timer = setInterval(() => lock.renew(), Math.max(250, staleMs / 4));
          lock.timer.unref();
          return lock;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const found = readHolder(file);
        if (!found) continue;
        if (found.holder && holderAlive(found.holder, staleMs)) {
          const who = found.holder.pid === process.pid && found.holder.host === me.host ? 'this process' : 'another process';
          throw new UserError({
            field: 'run',
            message: `run ${runId} is being trained by ${who} (${describeHolder(found.holder)}); one trainer per run`,
          });
        }
        // The holder is gone (or the lock is unreadable): take it over, unless someone else just did.
        if (readHolder(file)?.text === found.text) rmSync(file, { force: true });
      }
      throw new UserError({ field: 'run', message: `run ${runId}: another trainer keeps taking its lock; try again` });
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /** Whether another process took the lock over (this one must not write the run any more). */
  get isLost(): boolean {
    return this.lost;
  }

  /** Renews the heartbeat; finds out when another process has taken the lock over. */
  private renew(): void {
    let now: string | null = null;
    try {
      now = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return; // unreadable for now (a network folder): try at the next beat
    }
    if (now !== this.text) {
      if (!this.lost) {
        this.lost = true;
        this.stopRenewing();
        this.onLost();
      }
      return;
    }
    const text = JSON.stringify({ ...this.holder, heartbeatAt: Date.now() }) + '\n';
    const draft = `${this.file}.beat-${process.pid}`;
    try {
      writeFileSync(draft, text);
      renameSync(draft, this.file);
      this.text = text;
    } catch {
      rmSync(draft, { force: true });
      /* a full disk: the next beat tries again; the trainer pauses itself on the same fault */
    }
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Gives the run up (only if the lock is still this one's). */
  release(): void {
    this.stopRenewing();
    try {
      if (readFileSync(this.file, 'utf8') === this.text) rmSync(this.file, { force: true });
    } catch {
      /* gone already, or the folder is unreadable: a dead holder's lock is taken over anyway */
    }
  }
}
