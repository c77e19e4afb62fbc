import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { RunConfig } from '../api/run-config.ts';
import {
  RunMetaSchema,
  StatusFileSchema,
  type MetricsRead,
  type RunMeta,
  type RunSummary,
  type StatusFile,
  type StoreProblem,
} from '../api/runs.ts';
import { isUserError, UserError } from '../util/errors.ts';
import { writeFileAtomicSync } from './atomic.ts';
import { MetricsWriter, readMetrics, truncateMetricsAfter } from './metrics.ts';
import { listEpisodes, readEpisode, writeEpisode, type EpisodeRecording } from './episodes.ts';
import { CorruptFileError, decodeTensorFile, verifyTensorFile } from './tensor-file.ts';

/** What checkCheckpoints found per checkpoint file, while the file stays as it was (size, mtime, inode). */
const checkedFiles = new Map<string, { key: string; result: { ok: boolean; problem?: string } }>();

/**
 * The run store: one directory per run under a runs folder.
 *
 *   config.json     what the run was started from (config, env files' hash, versions, backend)
 *   meta.json       name, tags, archived, experiment (edited by the user)
 *   status.json     status, step, latest/best eval (written by the trainer)
 *   metrics.jsonl   append-only records
 *   env/            copy of the env's files (MJCF, task spec, assets): the run resumes on the same task
 *   checkpoints/    ckpt-<step>.bin, self-checking (see tensor-file.ts); the newest few are kept
 *   episodes/       recorded evaluation episodes
 *
 * Every file that is replaced is replaced atomically; a damaged file is reported and skipped.
 */
export const STORE_FORMAT = 1;

export interface StoredEnv {
  id: string;
  xml: string;
  specFile: string;
  origin: string;
  /** Where the env was read from when the run was created. */
  dir: string;
  /** File names under env/ and a SHA-256 over all of them. */
  files: string[];
  sha256: string;
}

export interface StoredConfig {
  format: number;
  id: string;
  createdAt: string;
  experiment: string | null;
  config: RunConfig;
  env: StoredEnv;
  versions: Record<string, string>;
  /** TF.js backend of the latest session and why it was chosen (set when the trainer starts). */
  backend: { name: string; reason: string; networks?: string } | null;
}

export interface CheckpointInfo {
  step: number;
  file: string;
}

const CKPT_RE = /^ckpt-(\d{10})\.bin$/;

/**
 * The real reason of a failed write. Node's recursive mkdir reports ENOENT when it cannot create a
 * folder on a read-only or forbidden file system; the nearest existing folder of the path, asked
 * whether it may be written, names the reason (EROFS, EACCES) instead of "gone".
 */
export function realErrorCode(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | null;
  if (err?.code !== 'ENOENT' || !err.path) return err?.code;
  for (let p = dirname(resolve(err.path)); ; p = dirname(p)) {
    if (existsSync(p)) {
      try {
        accessSync(p, constants.W_OK);
        return 'ENOENT';
      } catch (denied) {
        return (denied as NodeJS.ErrnoException).code ?? 'ENOENT';
      }
    }
    if (dirname(p) === p) return 'ENOENT';
  }
}

/** Turns a failed write into the user's words when it is the disk's fault (full, read-only, not a folder). */
export function storageProblem(e: unknown, what: string): string | null {
  const code = realErrorCode(e);
  const path = (e as NodeJS.ErrnoException | null)?.path;
  const where = path ? ` (${path})` : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full: cannot write ${what}${where}`;
    case 'EFBIG':
      // A file-size limit (ulimit -f, a quota, FAT32's 4 GiB) is a full disk for this file.
      return `the file is larger than the file system or the file-size limit allows: cannot write ${what}${where}`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write ${what}${where}`;
    case 'EROFS':
      return `the runs folder is on a read-only file system: cannot write ${what}${where}`;
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR':
      return `cannot write ${what}: a path in the runs folder is not a folder${where}`;
    case 'ENOENT':
      return `cannot write ${what}: the folder is gone${where}`;
    case 'EIO':
      return `input/output error writing ${what}${where}`;
    default:
      return null;
  }
}

export class RunStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Creates the runs folder if needed; a folder the studio cannot write is a UserError saying why. */
  ensureWritable(): void {
    try {
      mkdirSync(this.root, { recursive: true });
      const probe = join(this.root, `.write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
      writeFileAtomicSync(probe, 'ok');
      unlinkSync(probe);
    } catch (e) {
      const why = storageProblem(e, 'the runs folder') ?? (e as Error).message;
      throw new UserError({ field: 'runsDir', message: `runs folder ${this.root} is not usable: ${why}` });
    }
  }

  /** Creates a run directory with its config, meta and a 'queued' status. */
  create(
    config: RunConfig,
    env: {
      source: { id: string; xml: string; specFile: string; files: { name: string; content: string | Uint8Array }[] };
      origin: string;
      dir: string;
    },
    opts: { experiment?: string | null; versions: Record<string, string>; pid?: number | null },
  ): RunFiles {
    this.ensureWritable();
    const id = newRunId(config);
    const dir = join(this.root, id);
    try {
      mkdirSync(join(dir, 'env'), { recursive: true });
      mkdirSync(join(dir, 'checkpoints'));
      mkdirSync(join(dir, 'episodes'));
      const hash = createEnvHash();
      for (const f of env.source.files) {
        const target = join(dir, 'env', f.name);
        mkdirSync(join(target, '..'), { recursive: true });
        writeFileAtomicSync(target, f.content);
        hash.add(f.name, f.content);
      }
      const now = new Date().toISOString();
      const stored: StoredConfig = {
        format: STORE_FORMAT,
        id,
        createdAt: now,
        experiment: opts.experiment ?? null,
        config,
        env: {
          id: env.source.id,
          xml: env.source.xml,
          specFile: env.source.specFile,
          origin: env.origin,
          dir: env.dir,
          files: env.source.files.map((f) => f.name),
          sha256: hash.digest(),
        },
        versions: opts.versions,
        backend: null,
      };
      const run = new RunFiles(dir);
      run.writeConfig(stored);
      run.writeMeta({ name: config.name ?? id, tags: config.tags, archived: false, experiment: opts.experiment ?? null });
      run.writeStatus({
        status: 'queued',
        step: 0,
        steps: config.steps,
        latestEval: null,
        bestEval: null,
        reason: null,
        checkpointStep: null,
        pid: opts.pid ?? null,
        updatedAt: now,
      });
      writeFileAtomicSync(run.metricsFile, '');
      return run;
    } catch (e) {
      const why = storageProblem(e, 'the new run');
      if (why) throw new UserError({ field: 'runsDir', message: why });
      throw e;
    }
  }

  /** Every run directory (one holding config.json), oldest first. */
  list(): RunFiles[] {
    if (!existsSync(this.root)) return [];
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    return names
      .filter((n) => !n.startsWith('.') && existsSync(join(this.root, n, 'config.json')) && this.inside(join(this.root, n)))
      .sort()
      .map((n) => new RunFiles(join(this.root, n)));
  }

  open(id: string): RunFiles {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(id) || id === '.' || id === '..')
      throw new UserError({ field: 'id', message: `'${id}' is not a run id` });
    const run = RunFiles.open(join(this.root, id));
    if (!this.inside(run.dir))
      throw new UserError({ field: 'id', message: `run '${id}' is a link to a folder outside the runs folder; refused` });
    return run;
  }

  /**
   * Whether a run folder really lies in the runs folder: a symbolic link in it pointing elsewhere
   * (a copied or unpacked runs folder) would let a request by run id read or change files outside.
   */
  private inside(dir: string): boolean {
    try {
      return isWithin(realpathSync(this.root), realpathSync(dir));
    } catch {
      return false;
    }
  }

  delete(id: string): void {
    const run = this.open(id);
    rmSync(run.dir, { recursive: true, force: true });
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function isWithin(root: string, p: string): boolean {
  return p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A relative file name with no '..' and no root: it stays in the folder it is joined to. */
function isPlainRelative(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !name.includes('\0') &&
    !/^([a-zA-Z]:|[\\/])/.test(name) &&
    !name.split(/[\\/]/).some((s) => s === '..' || s === '')
  );
}

function newRunId(config: RunConfig): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const env = basename(config.env)
    .replace(/\.(xml|json)$/i, '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 40);
  return `${t}-${env}-${config.algo}-s${config.seed}-${randomBytes(3).toString('hex')}`;
}

function createEnvHash() {
  const h = createHash('sha256');
  return {
    add(name: string, content: string | Uint8Array) {
      h.update(name);
      h.update('\0');
      h.update(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      h.update('\0');
    },
    digest: () => h.digest('hex'),
  };
}

/** The files of one run. Reads never throw for a damaged file; they report it. */
export class RunFiles {
  readonly dir: string;
  readonly id: string;
  /** The run folder as it resolves on disk (links followed), once known. */
  private realDir: string | null = null;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.id = basename(this.dir);
  }

  /** Opens an existing run directory; a path that is not a run is a UserError. */
  static open(dir: string): RunFiles {
    const full = resolve(dir);
    if (!existsSync(join(full, 'config.json')))
      throw new UserError({ field: 'run', message: `${dir} is not a run folder (no config.json)` });
    return new RunFiles(full);
  }

  /**
   * `path`, a file or folder of this run (existing or about to be written), when it resolves inside
   * the run folder; a link anywhere on the way that leads outside (metrics.jsonl, an episode, a
   * checkpoint or the checkpoints folder pointing elsewhere, from a copied or unpacked run) is a
   * UserError. Every read and write of the run's files goes through here.
   */
  inside(path: string): string {
    const root = (this.realDir ??= realpathSync(this.dir));
    const refuse = () =>
      new UserError({ file: relative(this.dir, path) || '.', message: `links to a place outside the run folder ${this.dir}; refused` });
    // The nearest part of the path that exists decides where a write would land.
    for (let p = path; ; p = dirname(p)) {
      let real: string;
      try {
        real = realpathSync(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || p === this.dir || dirname(p) === p) throw e;
        // A link whose target is missing: writing through it would create a file wherever it points.
        if (isLink(p)) throw refuse();
        continue;
      }
      if (real !== root && !isWithin(root, real)) throw refuse();
      return path;
    }
  }

  get configFile(): string {
    return join(this.dir, 'config.json');
  }
  get metricsFile(): string {
    return join(this.dir, 'metrics.jsonl');
  }
  get checkpointsDir(): string {
    return join(this.dir, 'checkpoints');
  }
  get episodesDir(): string {
    return join(this.dir, 'episodes');
  }
  get envDir(): string {
    return join(this.dir, 'env');
  }

  readConfig(): StoredConfig {
    try {
      return JSON.parse(readFileSync(this.inside(this.configFile), 'utf8')) as StoredConfig;
    } catch (e) {
      if (isUserError(e)) throw e;
      throw new UserError({ file: this.configFile, message: `unreadable run config: ${(e as Error).message}` });
    }
  }

  writeConfig(c: StoredConfig): void {
    writeFileAtomicSync(this.inside(this.configFile), JSON.stringify(c, null, 2) + '\n');
  }

  readStatus(): { status: StatusFile | null; problem: StoreProblem | null } {
    const file = join(this.dir, 'status.json');
    try {
      const r = StatusFileSchema.safeParse(JSON.parse(readFileSync(this.inside(file), 'utf8')));
      if (r.success) return { status: r.data, problem: null };
      return { status: null, problem: { file: 'status.json', message: 'not a valid status file' } };
    } catch (e) {
      return { status: null, problem: { file: 'status.json', message: `unreadable: ${(e as Error).message}` } };
    }
  }

  writeStatus(s: StatusFile): void {
    writeFileAtomicSync(this.inside(join(this.dir, 'status.json')), JSON.stringify(s) + '\n');
  }

  readMeta(): RunMeta {
    try {
      const r = RunMetaSchema.safeParse(JSON.parse(readFileSync(this.inside(join(this.dir, 'meta.json')), 'utf8')));
      if (r.success) return r.data;
    } catch {
      /* falls through to defaults */
    }
    return { name: this.id, tags: [], archived: false, experiment: null };
  }

  writeMeta(m: RunMeta): void {
    writeFileAtomicSync(this.inside(join(this.dir, 'meta.json')), JSON.stringify(m) + '\n');
  }

  readMetrics(sinceLine = 0): MetricsRead {
    return readMetrics(this.inside(this.metricsFile), sinceLine);
  }

  metricsWriter(): MetricsWriter {
    return new MetricsWriter(this.inside(this.metricsFile));
  }

  truncateMetricsAfter(step: number) {
    return truncateMetricsAfter(this.inside(this.metricsFile), step);
  }

  /** Checkpoint files, newest first. */
  listCheckpoints(): CheckpointInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.inside(this.checkpointsDir));
    } catch {
      // Missing or not a folder: no checkpoints to offer (the trainer reports the failed writes).
      return [];
    }
    return names
      .map((f) => ({ f, m: CKPT_RE.exec(f) }))
      .filter((x) => x.m)
      .map((x) => ({ step: Number(x.m![1]), file: join(this.checkpointsDir, x.f) }))
      .sort((a, b) => b.step - a.step);
  }

  checkpointPath(step: number): string {
    return join(this.checkpointsDir, `ckpt-${String(step).padStart(10, '0')}.bin`);
  }

  /**
   * Writes a checkpoint atomically and deletes all but the newest `keep`, sparing the one at step
   * `protect` (the best evaluation, which export picks by default). Returns its path.
   */
  writeCheckpoint(step: number, bytes: Uint8Array, keep: number, protect: number | null = null): string {
    mkdirSync(this.inside(this.checkpointsDir), { recursive: true });
    const path = this.inside(this.checkpointPath(step));
    writeFileAtomicSync(path, bytes);
    for (const old of this.listCheckpoints().slice(keep)) if (old.step !== protect) rmSync(old.file, { force: true });
    return path;
  }

  /**
   * The newest checkpoint that reads back intact, with the problems of any newer ones that did not
   * (they are reported and skipped: the run falls back to the previous checkpoint).
   */
  latestCheckpoint(): {
    checkpoint: { step: number; file: string; meta: unknown; arrays: ReturnType<typeof decodeTensorFile>['arrays'] } | null;
    problems: StoreProblem[];
  } {
    const problems: StoreProblem[] = [];
    for (const c of this.listCheckpoints()) {
      try {
        const { meta, arrays } = decodeTensorFile(readFileSync(this.inside(c.file)));
        return { checkpoint: { step: c.step, file: c.file, meta, arrays }, problems };
      } catch (e) {
        if (!(e instanceof CorruptFileError) && !isUserError(e) && (e as NodeJS.ErrnoException).code === undefined) throw e;
        problems.push({ file: `checkpoints/${basename(c.file)}`, message: `${(e as Error).message}; skipped` });
      }
    }
    return { checkpoint: null, problems };
  }

  /** Integrity of every checkpoint (for `runs show`). */
  /**
   * Each checkpoint checked whole (header, checksum, arrays in bounds). A file is read once while
   * its size, mtime and inode stay: a pixel run's checkpoints with their replay run to gigabytes,
   * and the studio asks on every opening of the run.
   */
  checkCheckpoints(): { step: number; file: string; ok: boolean; problem?: string }[] {
    return this.listCheckpoints().map((c) => {
      let key = '';
      try {
        const st = statSync(c.file);
        key = `${st.size}:${st.mtimeMs}:${st.ino}`;
        const known = checkedFiles.get(c.file);
        if (known?.key === key) return { step: c.step, file: c.file, ...known.result };
      } catch {
        /* reading it below names the problem */
      }
      let result: { ok: boolean; problem?: string };
      try {
        verifyTensorFile(readFileSync(this.inside(c.file)));
        result = { ok: true };
      } catch (e) {
        result = { ok: false, problem: (e as Error).message };
      }
      if (key) checkedFiles.set(c.file, { key, result });
      if (checkedFiles.size > 4096) checkedFiles.delete(checkedFiles.keys().next().value!);
      return { step: c.step, file: c.file, ...result };
    });
  }

  listEpisodes() {
    return listEpisodes(this.inside(this.episodesDir), (p) => this.inside(p));
  }

  readEpisode(id: string) {
    return readEpisode(this.inside(this.episodesDir), id, (p) => this.inside(p));
  }

  writeEpisode(rec: EpisodeRecording) {
    return writeEpisode(this.inside(this.episodesDir), rec, (p) => this.inside(p));
  }

  /**
   * Starting a run over (its checkpoints all damaged, or by choice): its curve, checkpoints and
   * recorded episodes move into `before-start-over-<time>/` inside the run, kept for the user, and
   * the run begins again with an empty curve. Returns that folder.
   */
  setAsideForStartOver(): string {
    const aside = this.inside(join(this.dir, `before-start-over-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}`));
    mkdirSync(aside);
    for (const name of ['metrics.jsonl', 'checkpoints', 'episodes']) {
      const from = this.inside(join(this.dir, name));
      if (existsSync(from)) renameSync(from, join(aside, name));
    }
    mkdirSync(this.checkpointsDir);
    mkdirSync(this.episodesDir);
    writeFileAtomicSync(this.metricsFile, '');
    return aside;
  }

  /** Env files copied into the run at creation. */
  readEnvFiles(): { name: string; content: string | Uint8Array }[] {
    const c = this.readConfig();
    return c.env.files.map((name) => {
      // config.json is a file on disk like any other: a hand-edited or hostile one must not name
      // files outside the run's env/ folder (by '..', an absolute path or a link).
      if (!isPlainRelative(name))
        throw new UserError({
          file: this.configFile,
          field: 'env.files',
          message: `'${String(name)}' is not a file name inside the run's env folder`,
        });
      const p = join(this.envDir, name);
      if (!existsSync(p) || !statSync(p).isFile()) throw new UserError({ file: p, message: "the run's copy of its env file is missing" });
      if (!isWithin(realpathSync(this.envDir), realpathSync(p)))
        throw new UserError({
          file: this.configFile,
          field: 'env.files',
          message: `'${name}' links to a file outside the run's env folder`,
        });
      return { name, content: /\.(xml|json)$/i.test(name) ? readFileSync(p, 'utf8') : new Uint8Array(readFileSync(p)) };
    });
  }

  summary(): RunSummary {
    const c = this.readConfig();
    const meta = this.readMeta();
    const { status } = this.readStatus();
    const s: StatusFile = status ?? {
      status: 'failed',
      step: 0,
      steps: c.config.steps,
      latestEval: null,
      bestEval: null,
      reason: 'status.json is unreadable',
      checkpointStep: null,
      pid: null,
      updatedAt: c.createdAt,
    };
    return {
      id: this.id,
      dir: this.dir,
      name: meta.name,
      tags: meta.tags,
      archived: meta.archived,
      experiment: meta.experiment,
      env: c.config.env,
      algo: c.config.algo,
      obs: c.config.obs,
      seed: c.config.seed,
      status: s.status,
      step: s.step,
      steps: s.steps,
      latestEval: s.latestEval,
      bestEval: s.bestEval,
      reason: s.reason,
      createdAt: c.createdAt,
      updatedAt: s.updatedAt,
    };
  }
}
