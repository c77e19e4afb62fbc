/**
 * Finding environments: built-in (resources/envs), the user's library (userEnvsDir()), or a path
 * (an MJCF with a sibling `<name>.task.json`, or a folder with one of each). `resolveEnv` is the one
 * resolver the trainer, the server and the CLI use; `validateEnvFiles` checks files in memory
 * (drag-in) with the same code.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { TaskSpecSchema, wellFormedParts, type EnvSummary, type EnvValidation, type TaskSpec } from '../api/task-spec.ts';
import { UserError, zodDetails, type ErrorDetail } from '../util/errors.ts';
import { builtinEnvsDir, userEnvsDir } from '../util/paths.ts';
import { asText, byteLength, MAX_FILE_BYTES, MAX_FILES, precheckFiles, referencedFiles, type EnvFile } from './files.ts';
import { MujocoEnv, type EnvSource } from './env.ts';
import { loadModel } from './mujoco.ts';
import { compileTask } from './task.ts';
import { loadMujocoModule, type Mujoco, type MjModel } from './mujoco.ts';

/** A resolved env: its source files in memory plus where it came from. */
export interface ResolvedEnv extends EnvSource {
  name: string;
  description: string;
  origin: 'builtin' | 'user' | 'path';
  /** Folder the files were read from. */
  dir: string;
}

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const TASK_SUFFIX = '.task.json';

/** Parses a task spec file's text; errors name the file and the field. */
export function parseTaskSpec(file: string, text: string): TaskSpec {
  const r = checkTaskSpec(file, text);
  if (!r.spec) throw new UserError(r.errors);
  return r.spec;
}

/**
 * Checks a task spec file's text. On schema errors, `partial` holds the parts that are well-formed
 * on their own, so the caller can still check their names against the model in the same pass.
 */
export function checkTaskSpec(file: string, text: string): { spec?: TaskSpec; partial?: TaskSpec; errors: ErrorDetail[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { errors: [{ file, message: `not valid JSON: ${(e as Error).message}` }] };
  }
  const r = TaskSpecSchema.safeParse(json);
  if (r.success) return { spec: r.data, errors: [] };
  return { partial: wellFormedParts(json) ?? undefined, errors: zodDetails(file, r.error.issues) };
}

/** The MJCF a spec's text names in its `model` field, if it names one (malformed specs name none). */
export function specModel(text: string): string | undefined {
  try {
    const m = (JSON.parse(text) as { model?: unknown } | null)?.model;
    return typeof m === 'string' && m.toLowerCase().endsWith('.xml') ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The MJCF path for a spec file on disk: its `model` field, else `<stem>.xml` beside it. */
function modelPathFor(specPath: string): string {
  const text = statSync(specPath, { throwIfNoEntry: false })?.isFile() ? readFileSync(specPath, 'utf8') : '';
  const named = specModel(text);
  return named ? join(dirname(specPath), named) : `${specPath.slice(0, -TASK_SUFFIX.length)}.xml`;
}

/**
 * Picks the main MJCF and the task spec among in-memory files: the MJCF a spec names in `model`,
 * `<name>.xml` beside `<name>.task.json`, or the only top-level .xml beside the only .task.json.
 */
export function pickEnvFiles(files: { name: string; content?: string | Uint8Array }[]): { xml: string; spec: string } {
  const specs = files.filter((f) => f.name.endsWith(TASK_SUFFIX) && !f.name.includes('/'));
  if (specs.length === 0)
    throw new UserError({
      message: `no task spec: add a '<name>${TASK_SUFFIX}' file beside the MJCF (\`rl-studio envs init MODEL.xml\` writes a starter)`,
    });
  const xmls = files.filter((f) => f.name.toLowerCase().endsWith('.xml') && !f.name.includes('/'));
  for (const s of specs) {
    const named = s.content === undefined ? undefined : specModel(asText(s.content));
    if (named) {
      if (!files.some((f) => f.name === named))
        throw new UserError({ file: s.name, field: 'model', message: `names '${named}', which is not among the env's files` });
      return { xml: named, spec: s.name };
    }
    const stem = s.name.slice(0, -TASK_SUFFIX.length);
    if (xmls.some((x) => x.name === `${stem}.xml`)) return { xml: `${stem}.xml`, spec: s.name };
  }
  if (specs.length === 1 && xmls.length === 1) return { xml: xmls[0].name, spec: specs[0].name };
  if (xmls.length === 0) throw new UserError({ file: specs[0].name, message: 'no MJCF (.xml) file beside the task spec' });
  throw new UserError({
    message: `cannot tell which MJCF goes with which task spec: name them '<name>.xml' and '<name>${TASK_SUFFIX}', or name the MJCF in the spec's "model" field`,
  });
}

/** Reads an env from disk: the MJCF at `xmlPath`, its task spec, and every file the MJCF references. */
function readEnvFromDisk(xmlPath: string, specPath: string, id: string, origin: ResolvedEnv['origin']): ResolvedEnv {
  const dir = dirname(xmlPath);
  const xml = basename(xmlPath);
  const readText = (name: string): string | null => {
    const p = join(dir, name);
    return existsSync(p) && statSync(p).isFile() && statSync(p).size <= MAX_FILE_BYTES ? readFileSync(p, 'utf8') : null;
  };
  const { names, errors } = referencedFiles(readText, xml);
  if (errors.length) throw new UserError(errors);
  const files: EnvFile[] = [];
  for (const name of names) {
    const p = join(dir, name);
    if (!existsSync(p)) throw new UserError({ file: xml, message: `references '${name}', which does not exist in ${dir}` });
    const size = statSync(p).size;
    if (size > MAX_FILE_BYTES)
      throw new UserError({
        file: name,
        message: `file is ${(size / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`,
      });
    files.push({ name, content: name.toLowerCase().endsWith('.xml') ? readFileSync(p, 'utf8') : new Uint8Array(readFileSync(p)) });
  }
  const specName = basename(specPath);
  if (statSync(specPath).size > MAX_FILE_BYTES)
    throw new UserError({ file: specName, message: `file is over ${MAX_FILE_BYTES / 1048576} MB` });
  const specText = readFileSync(specPath, 'utf8');
  const spec = parseTaskSpec(specName, specText);
  files.push({ name: specName, content: specText });
  return { id, xml, specFile: specName, spec, files, name: spec.name, description: spec.description, origin, dir };
}

/** The env at a filesystem path (MJCF file or folder), or null if the path does not exist. */
function envAtPath(p: string): ResolvedEnv | null {
  const abs = resolve(p);
  if (!existsSync(abs)) return null;
  if (statSync(abs).isDirectory()) {
    const entries = readdirSync(abs);
    const { xml, spec } = pickEnvFiles(
      entries.map((name) => ({ name, ...(name.endsWith(TASK_SUFFIX) ? { content: readFileSync(join(abs, name), 'utf8') } : {}) })),
    );
    return readEnvFromDisk(join(abs, xml), join(abs, spec), spec.slice(0, -TASK_SUFFIX.length), 'path');
  }
  if (abs.endsWith(TASK_SUFFIX)) {
    const xmlPath = modelPathFor(abs);
    if (!existsSync(xmlPath)) throw new UserError({ file: basename(abs), message: `its MJCF ${basename(xmlPath)} does not exist` });
    return readEnvFromDisk(xmlPath, abs, basename(abs.slice(0, -TASK_SUFFIX.length)), 'path');
  }
  const stem = abs.replace(/\.xml$/i, '');
  const specPath = `${stem}${TASK_SUFFIX}`;
  if (!existsSync(specPath))
    throw new UserError({
      file: basename(abs),
      message: `no task spec beside it: expected ${basename(specPath)} (\`rl-studio envs init ${basename(abs)}\` writes a starter)`,
    });
  return readEnvFromDisk(abs, specPath, basename(stem), 'path');
}

function libraryEnv(dir: string, id: string, origin: 'builtin' | 'user'): ResolvedEnv | null {
  const specPath = join(dir, `${id}${TASK_SUFFIX}`);
  if (existsSync(specPath)) {
    const xmlPath = modelPathFor(specPath);
    if (existsSync(xmlPath)) return readEnvFromDisk(xmlPath, specPath, id, origin);
  }
  const folder = join(dir, id);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    const env = envAtPath(folder);
    if (env) return { ...env, id, origin };
  }
  return null;
}

/**
 * Resolves an env by id (built-in first, then the user's library) or by path. Throws a UserError
 * naming the file and field when anything is wrong.
 */
export function resolveEnv(idOrPath: string): ResolvedEnv {
  if (ID_RE.test(idOrPath) && !idOrPath.endsWith('.xml') && !idOrPath.endsWith('.json')) {
    const env = libraryEnv(builtinEnvsDir(), idOrPath, 'builtin') ?? libraryEnv(userEnvsDir(), idOrPath, 'user');
    if (env) return env;
  }
  const env = envAtPath(idOrPath);
  if (env) return env;
  const known = listEnvIds().map((e) => e.id);
  throw new UserError({
    field: 'env',
    message: `no env '${idOrPath}': not a built-in or library id (${known.join(', ')}) and no such file or folder`,
  });
}

/**
 * An env named by id only (built-in or the user's library), as requests from the studio name them:
 * a path would let a client of the studio (a browser beyond loopback) read MJCF anywhere on the
 * machine and tell existing files from missing ones by the answers. Paths are for the local CLI.
 */
export function resolveEnvId(id: string): ResolvedEnv {
  if (!listEnvIds().some((e) => e.id === id)) {
    throw new UserError({
      field: 'env',
      message: `no env '${id.slice(0, 200)}' among the studio's environments (built-in or added); add it first, then use its id`,
    });
  }
  return resolveEnv(id);
}

/** Ids of every built-in and library env (without loading them). */
export function listEnvIds(): { id: string; origin: 'builtin' | 'user'; dir: string }[] {
  const out: { id: string; origin: 'builtin' | 'user'; dir: string }[] = [];
  for (const [dir, origin] of [
    [builtinEnvsDir(), 'builtin'],
    [userEnvsDir(), 'user'],
  ] as const) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir).sort()) {
      if (entry.endsWith(TASK_SUFFIX)) {
        const id = entry.slice(0, -TASK_SUFFIX.length);
        if (existsSync(modelPathFor(join(dir, entry))) && !out.some((e) => e.id === id)) out.push({ id, origin, dir });
      } else if (statSync(join(dir, entry)).isDirectory() && ID_RE.test(entry) && !out.some((e) => e.id === entry)) {
        if (readdirSync(join(dir, entry)).some((n) => n.endsWith(TASK_SUFFIX))) out.push({ id: entry, origin, dir });
      }
    }
  }
  return out;
}

/** Summary of a resolved env (compiles the model once to count observations and actions). */
export async function summarizeEnv(
  env: ResolvedEnv,
): Promise<EnvSummary & { obsParts: { name: string; offset: number; size: number }[]; actuators: string[]; timestep: number }> {
  const mj = await loadMujocoModule();
  const e = new MujocoEnv(mj, env);
  try {
    return {
      id: env.id,
      name: env.name,
      source: env.origin,
      obsSize: e.info.obs.size,
      actionSize: e.info.action.size,
      episodeLength: e.info.episodeLength,
      frameSkip: e.info.frameSkip,
      controlTimestep: e.info.controlTimestep,
      description: env.description,
      ...(env.spec.camera ? { camera: env.spec.camera } : {}),
      obsParts: e.info.obs.parts,
      actuators: e.info.action.names,
      timestep: e.info.controlTimestep / e.info.frameSkip,
    };
  } finally {
    e.dispose();
  }
}

type ListedEnv = EnvSummary & { error?: string };

/**
 * listEnvs' summaries, by where the env was found: compiling every model on each call is what
 * listing would otherwise cost. An entry holds for as long as the files it was made from keep their
 * size, modification time and inode (a rewrite or a replacement changes one of them).
 */
const summaries = new Map<string, { files: string[]; stamp: string; summary: ListedEnv }>();

function stampOf(files: string[]): string {
  return files
    .map((f) => {
      const st = statSync(f, { throwIfNoEntry: false });
      return st ? `${st.size}:${st.mtimeMs}:${st.ino}` : '-';
    })
    .join('|');
}

/** Summaries of every built-in and library env; a broken library env is listed with its error. */
export async function listEnvs(): Promise<ListedEnv[]> {
  const out: ListedEnv[] = [];
  for (const { id, origin, dir } of listEnvIds()) {
    const key = join(dir, id);
    const cached = summaries.get(key);
    if (cached && stampOf(cached.files) === cached.stamp) {
      out.push({ ...cached.summary });
      continue;
    }
    summaries.delete(key);
    let env: ResolvedEnv;
    try {
      env = resolveEnv(id);
    } catch (e) {
      // Not cached: which files it needs is unknown until it resolves (and resolving compiles nothing).
      out.push(brokenEnv(id, origin, e));
      continue;
    }
    // The env's files, and for a folder env the folder, whose listing decides which MJCF is the main one.
    const files = env.files.map((f) => join(env.dir, ...f.name.split('/')));
    if (env.dir !== dir) files.push(env.dir);
    const stamp = stampOf(files);
    let summary: ListedEnv;
    try {
      const { obsParts: _p, actuators: _a, timestep: _t, ...s } = await summarizeEnv(env);
      summary = s;
    } catch (e) {
      summary = brokenEnv(id, origin, e);
    }
    summaries.set(key, { files, stamp, summary });
    out.push({ ...summary });
  }
  return out;
}

function brokenEnv(id: string, origin: 'builtin' | 'user', e: unknown): ListedEnv {
  return {
    id,
    name: id,
    source: origin,
    obsSize: 0,
    actionSize: 0,
    episodeLength: 0,
    frameSkip: 0,
    controlTimestep: 0,
    description: '',
    error: (e as Error).message,
  };
}

/**
 * The first reason a set of in-memory env files is refused before anything reads them: too many,
 * a name that is not a relative path inside the env's folder, or a file over the size limit.
 */
export function fileSetProblem(files: EnvFile[]): ErrorDetail | null {
  if (files.length > MAX_FILES) return { message: `too many files (${files.length}); at most ${MAX_FILES}` };
  for (const f of files) {
    if (!/^[^\\:*?"<>|\0]+$/.test(f.name) || f.name.split('/').some((s) => s === '..' || s === '') || f.name.startsWith('/')) {
      return { file: f.name, message: "file names must be relative paths inside the env's folder" };
    }
    if (byteLength(f.content) > MAX_FILE_BYTES)
      return {
        file: f.name,
        message: `file is ${(byteLength(f.content) / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`,
      };
  }
  return null;
}

/** Agent steps of random actions run by validation to catch physics that blows up. */
const VALIDATION_STEPS = 300;

/**
 * Validates an env given as in-memory files (drag-in, `envs validate`): file checks, MuJoCo
 * compilation, task-spec names, and a short random rollout that must not diverge. Never throws for
 * user mistakes: they come back in `errors`.
 */
export async function validateEnvFiles(files: EnvFile[], id?: string): Promise<EnvValidation> {
  const fail = (errors: ErrorDetail[]): EnvValidation => ({ ok: false, errors });
  try {
    const refused = fileSetProblem(files);
    if (refused) return fail([refused]);
    const pick = pickEnvFiles(files);
    const pre = precheckFiles(files, pick.xml);
    const specFile = files.find((f) => f.name === pick.spec)!;
    const checked = checkTaskSpec(pick.spec, asText(specFile.content));
    const spec = checked.spec;
    const errors: ErrorDetail[] = [...pre, ...checked.errors];
    if (!pre.length && checked.partial) errors.push(...(await nameErrors(files, pick.xml, pick.spec, checked.partial)));
    if (errors.length || !spec) return fail(errors);
    const envId = id ?? pick.spec.slice(0, -TASK_SUFFIX.length);
    const source: EnvSource = { id: envId, xml: pick.xml, specFile: pick.spec, spec, files };
    const mj = await loadMujocoModule();
    const env = new MujocoEnv(mj, source);
    try {
      const warnings = rolloutCheck(mj, env);
      if (warnings.diverged) {
        return fail([
          {
            file: pick.xml,
            message: `the simulation diverged within ${VALIDATION_STEPS} steps of random actions (${warnings.list.join(', ') || 'non-finite state'}); check masses, inertias, timestep and actuator gains`,
          },
        ]);
      }
      return {
        ok: true,
        errors: [],
        info: {
          id: envId,
          name: spec.name,
          source: 'path',
          obsSize: env.info.obs.size,
          actionSize: env.info.action.size,
          episodeLength: env.info.episodeLength,
          frameSkip: env.info.frameSkip,
          controlTimestep: env.info.controlTimestep,
          description: spec.description,
          ...(spec.camera ? { camera: spec.camera } : {}),
          obsParts: env.info.obs.parts,
          actuators: env.info.action.names,
          warnings: warnings.list,
        },
      };
    } finally {
      env.dispose();
    }
  } catch (e) {
    if (e instanceof UserError) return fail(e.details);
    throw e;
  }
}

/** Naming mistakes of a spec's well-formed parts (compiled against the model; none if the model does not compile). */
async function nameErrors(files: EnvFile[], xml: string, specFile: string, partial: TaskSpec): Promise<ErrorDetail[]> {
  const mj = await loadMujocoModule();
  let model: MjModel;
  try {
    model = loadModel(mj, files, xml);
  } catch (e) {
    if (e instanceof UserError) return e.details;
    throw e;
  }
  const data = new mj.MjData(model);
  try {
    return compileTask(mj, model, data, partial, specFile).errors;
  } finally {
    data.delete();
    model.delete();
  }
}

function rolloutCheck(_mj: Mujoco, env: MujocoEnv): { diverged: boolean; list: string[] } {
  // A fixed seed so validation gives the same answer every time.
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  env.reset(0);
  const a = new Float64Array(env.info.action.size);
  for (let t = 0; t < VALIDATION_STEPS; t++) {
    for (let i = 0; i < a.length; i++) a[i] = rand();
    const r = env.step(a);
    if (r.diverged) return { diverged: true, list: env.warnings() };
    if (r.terminated || r.truncated) env.reset();
  }
  return { diverged: false, list: env.warnings() };
}

/** Reads an env path (MJCF or folder) into in-memory files for validation. */
export function readEnvPath(p: string): { files: EnvFile[]; id: string } {
  const abs = resolve(p);
  if (!existsSync(abs)) throw new UserError({ file: p, message: 'no such file or folder' });
  if (statSync(abs).isDirectory()) {
    const files: EnvFile[] = [];
    const walk = (d: string, depth: number): void => {
      for (const entry of readdirSync(d)) {
        const full = join(d, entry);
        const st = statSync(full);
        if (st.isDirectory()) {
          if (depth < 4) walk(full, depth + 1);
          continue;
        }
        if (files.length >= MAX_FILES) throw new UserError({ file: p, message: `more than ${MAX_FILES} files in the folder` });
        const name = relative(abs, full).split(sep).join('/');
        if (st.size > MAX_FILE_BYTES)
          throw new UserError({
            file: name,
            message: `file is ${(st.size / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`,
          });
        files.push({ name, content: /\.(xml|json)$/i.test(name) ? readFileSync(full, 'utf8') : new Uint8Array(readFileSync(full)) });
      }
    };
    walk(abs, 0);
    return { files, id: basename(abs) };
  }
  const xmlPath = abs.endsWith(TASK_SUFFIX) ? modelPathFor(abs) : abs;
  const st = statSync(xmlPath, { throwIfNoEntry: false });
  if (!st) throw new UserError({ file: basename(xmlPath), message: 'no such file' });
  if (st.size > MAX_FILE_BYTES)
    throw new UserError({
      file: basename(xmlPath),
      message: `file is ${(st.size / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`,
    });
  const specPath = abs.endsWith(TASK_SUFFIX) ? abs : `${xmlPath.replace(/\.xml$/i, '')}${TASK_SUFFIX}`;
  const stem = specPath.slice(0, -TASK_SUFFIX.length);
  if (!existsSync(specPath))
    throw new UserError({
      file: basename(xmlPath),
      message: `no task spec beside it: expected ${basename(specPath)} (\`rl-studio envs init ${basename(xmlPath)}\` writes a starter)`,
    });
  const files = readModelFiles(xmlPath);
  files.push({ name: basename(specPath), content: readFileSync(specPath, 'utf8') });
  return { files, id: basename(stem) };
}

/** Reads an MJCF and every file it references (missing ones are left for validation to report). */
export function readModelFiles(xmlPath: string): EnvFile[] {
  const dir = dirname(xmlPath);
  const readText = (name: string): string | null => {
    const f = join(dir, name);
    const s = statSync(f, { throwIfNoEntry: false });
    return s?.isFile() && s.size <= MAX_FILE_BYTES ? readFileSync(f, 'utf8') : null;
  };
  const { names } = referencedFiles(readText, basename(xmlPath));
  const files: EnvFile[] = [];
  for (const name of names) {
    const f = join(dir, name);
    const s = statSync(f, { throwIfNoEntry: false });
    if (!s?.isFile()) continue; // reported as missing by validation
    if (s.size > MAX_FILE_BYTES)
      throw new UserError({
        file: name,
        message: `file is ${(s.size / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB`,
      });
    files.push({ name, content: /\.(xml|json)$/i.test(name) ? readFileSync(f, 'utf8') : new Uint8Array(readFileSync(f)) });
  }
  return files;
}

/**
 * Validates an env and copies it into the user's library as `<id>/` (atomically: written to a
 * temporary folder, then renamed). Returns the new id.
 */
export async function addUserEnv(files: EnvFile[], id: string, opts: { overwrite?: boolean } = {}): Promise<{ id: string; dir: string }> {
  if (!ID_RE.test(id)) throw new UserError({ field: 'id', message: `'${id}' is not a valid env id (letters, digits, '.', '_', '-')` });
  if (existsSync(join(builtinEnvsDir(), `${id}${TASK_SUFFIX}`)))
    throw new UserError({ field: 'id', message: `'${id}' is a built-in env; choose another name` });
  const v = await validateEnvFiles(files, id);
  if (!v.ok) throw new UserError(v.errors);
  const root = userEnvsDir();
  const dest = join(root, id);
  if (existsSync(dest) && !opts.overwrite)
    throw new UserError({ field: 'id', message: `an env '${id}' is already in the library (${dest})` });
  const tmp = join(root, `.${id}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const { xml, spec } = pickEnvFiles(files);
  const specText = asText(files.find((f) => f.name === spec)?.content ?? '');
  for (const f of files) {
    // The library stores `<id>.xml` + `<id>.task.json` so ids and file names agree (an MJCF the spec names in `model` keeps its name).
    const name = f.name === xml && !specModel(specText) ? `${id}.xml` : f.name === spec ? `${id}${TASK_SUFFIX}` : f.name;
    const target = join(tmp, ...name.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
  if (existsSync(dest)) rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  summaries.delete(join(root, id));
  return { id, dir: dest };
}
