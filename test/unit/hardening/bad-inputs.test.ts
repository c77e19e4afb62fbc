// The corpus of bad inputs (test/fixtures/bad, plus the older test/fixtures/envs cases), walked
// through the real entry points: each gets a clear error naming the file and field with the reason,
// never a stack trace, and nothing else is lost or corrupted (the process answers on, the library
// is unchanged, other runs' files are byte-identical).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { readEnvPath, resolveEnv, validateEnvFiles } from '../../../src-main/sim/registry.ts';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { parseRunConfig } from '../../../src-main/api/run-config.ts';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';
import { RunFiles } from '../../../src-main/store/run-store.ts';
import { UserError, type ErrorDetail } from '../../../src-main/util/errors.ts';
import type { InFile, MetricsChunk, RunRow } from '../../../src-main/api/studio-api.ts';
import type { EnvFile } from '../../../src-main/sim/files.ts';

const ROOT = resolve(__dirname, '../../..');
const FIX = resolve(ROOT, 'test/fixtures');
const CLI = join(ROOT, 'bin/rl-studio.mjs');
const STACK = /\n\s+at |\.ts:\d+:\d+/;

interface Expect {
  file?: string;
  field?: string | RegExp;
  message: RegExp;
}

/** Every bad env of the corpus and the first error it must produce. */
const ENV_CASES: Record<string, Expect> = {
  'bad/envs/billion-laughs': { file: 'env.xml', field: 'line 2', message: /DOCTYPE declarations are not accepted \(entity expansion\)/ },
  'bad/envs/external-entity': { file: 'env.xml', field: 'line 2', message: /DOCTYPE/ },
  'bad/envs/deep-nesting': { file: 'env.xml', message: /nested deeper than 100 levels/ },
  'bad/envs/mesh-escape': { file: 'env.xml', field: '<mesh file="../../../../../etc/passwd">', message: /leaves the env's folder/ },
  'bad/envs/mesh-absolute': { file: 'env.xml', field: '<mesh file="/etc/passwd">', message: /leaves the env's folder/ },
  'bad/envs/meshdir-escape': { file: 'env.xml', field: '<mesh file="secret.stl">', message: /leaves the env's folder/ },
  'bad/envs/texture-url': { file: 'env.xml', field: /<texture file="https:/, message: /leaves the env's folder/ },
  'bad/envs/include-missing': { file: 'env.xml', field: '<include file>', message: /'parts.xml', which is not among the env's files/ },
  'bad/envs/include-cycle': { file: 'env.xml', message: /'a.xml' already included/ },
  'bad/envs/garbage-mesh': { file: 'env.xml', message: /decoder failed for mesh file 'm.stl'/ },
  'bad/envs/binary-xml': { file: 'env.xml', field: 'line 1', message: /malformed XML/ },
  'bad/envs/empty-xml': { file: 'env.xml', field: 'line 1', message: /malformed XML/ },
  'bad/envs/not-mujoco': { file: 'env.xml', message: /Unrecognized XML model type: 'html'/ },
  'bad/envs/nan-physics': { file: 'env.xml', field: '<option timestep>', message: /is NaN; the timestep must be a positive number/ },
  'bad/envs/infinite-mass': { file: 'env.xml', message: /number is too large in attribute 'mass'/ },
  'bad/envs/spec-missing': { message: /no task spec/ },
  'bad/envs/spec-not-json': { file: 'env.task.json', message: /not valid JSON/ },
  'bad/envs/spec-wrong-types': { file: 'env.task.json', field: 'name', message: /expected string, received number/ },
  'bad/envs/spec-unknown-reward': { file: 'env.task.json', field: 'reward', message: /exactly one of the keys/ },
  'bad/envs/spec-proto': { file: 'env.task.json', field: '(root)', message: /Unrecognized keys: "__proto__", "constructor"/ },
  'envs/malformed': { file: 'env.xml', field: 'line 6', message: /malformed XML/ },
  'envs/mujoco-refuses': { file: 'env.xml', message: /unknown transmission target 'no_such_joint'/ },
  'envs/doctype': { file: 'env.xml', field: 'line 2', message: /DOCTYPE/ },
  'envs/escape-include': { file: 'env.xml', field: /\.\.\/\.\.\/secret\.xml/, message: /leaves the env's folder/ },
  'envs/unknown-names': { file: 'env.task.json', field: 'observations[0].exclude[0]', message: /unknown joint 'elbow'/ },
  'envs/out-of-range': { file: 'env.task.json', message: /./ },
  'envs/blowup': { file: 'env.xml', message: /diverged/ },
};

/** Invalid run configs and the field each must be refused on. */
const CONFIG_CASES: Record<string, { field: string; message: RegExp; service?: true }> = {
  'unknown-algo': { field: 'algo', message: /unknown algorithm 'ppo' \(choose ddpg, td3, naf, sac/ },
  'negative-steps': { field: 'steps', message: /Too small/ },
  'string-steps': { field: 'steps', message: /expected number, received string/ },
  'huge-steps': { field: 'steps', message: /Too big/ },
  'unknown-field': { field: '(root)', message: /Unrecognized key: "stepz"/ },
  'bad-hidden': { field: 'hyperparams.actorHidden[0]', message: /Too small/ },
  'negative-lr': { field: 'hyperparams.actorLr', message: /Too small/ },
  'batch-over-replay': { field: 'hyperparams.batchSize', message: /larger than the replay buffer/ },
  'seed-float': { field: 'seed', message: /expected int/ },
  'not-an-object': { field: '(root)', message: /expected object, received array/ },
  // Well-formed configs whose env the studio does not have: refused by the service, by id.
  'unknown-env': { field: 'env', message: /no env 'no-such-env-anywhere' among the studio's environments/, service: true },
  'env-path-escape': { field: 'env', message: /no env '..\/..\/..\/..\/etc\/passwd' among the studio's environments/, service: true },
};

function expectDetail(d: ErrorDetail | undefined, e: Expect, label: string): void {
  expect(d, label).toBeDefined();
  if (e.file) expect(d!.file, label).toBe(e.file);
  if (typeof e.field === 'string') expect(d!.field, label).toBe(e.field);
  else if (e.field) expect(d!.field, label).toMatch(e.field);
  expect(d!.message, label).toMatch(e.message);
  expect(JSON.stringify(d), label).not.toMatch(STACK);
}

const toInFiles = (files: EnvFile[]): InFile[] =>
  files.map((f) =>
    typeof f.content === 'string'
      ? { name: f.name, encoding: 'utf8', content: f.content }
      : { name: f.name, encoding: 'base64', content: Buffer.from(f.content).toString('base64') },
  );

/** SHA-256 of every file under a folder (relative names), to prove nothing was touched. */
function treeHash(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

describe('bad-inputs corpus', () => {
  let home: string;
  let runsDir: string;
  let service: StudioService;
  let goodRun: RunFiles;
  let goodHash: Record<string, string>;
  const savedHome = process.env.RL_STUDIO_HOME;
  const env = () => ({ ...process.env, RL_STUDIO_HOME: home });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'rls-bad-'));
    process.env.RL_STUDIO_HOME = home;
    runsDir = join(home, 'runs');
    // One real, finished run: the "other run" that must come through every bad input untouched,
    // and the source of the damaged copies below.
    const r = await cli(
      [
        'train',
        '--steps',
        '300',
        '--checkpoint-every',
        '100',
        '--eval-every',
        '300',
        '--eval-episodes',
        '1',
        '--set',
        'actorHidden=[8]',
        '--set',
        'criticHidden=[8,8]',
        '--runs-dir',
        runsDir,
        '--json',
      ],
      env(),
    );
    expect(r.status, r.stderr).toBe(0);
    goodRun = new RunFiles(join(runsDir, readdirSync(runsDir)[0]));
    goodHash = treeHash(goodRun.dir);
    service = await StudioService.create({
      mode: 'browser',
      settings: new FileSettingsStore(join(home, 'settings.json'), { runsDir }),
      maxConcurrentRuns: 1,
    });
  });

  afterAll(async () => {
    await service?.close();
    if (savedHome === undefined) delete process.env.RL_STUDIO_HOME;
    else process.env.RL_STUDIO_HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('the corpus on disk is what the table lists (nothing untested)', () => {
    const onDisk = [
      ...readdirSync(join(FIX, 'bad/envs')).map((d) => `bad/envs/${d}`),
      ...readdirSync(join(FIX, 'envs')).map((d) => `envs/${d}`),
    ].sort();
    expect(onDisk).toEqual(Object.keys(ENV_CASES).sort());
    expect(
      readdirSync(join(FIX, 'bad/configs'))
        .map((f) => f.replace(/\.json$/, ''))
        .sort(),
    ).toEqual(Object.keys(CONFIG_CASES).sort());
  });

  it('envs: validateEnvFiles, StudioService validateEnv and addEnv each refuse with the file, field and reason', async () => {
    const library = join(home, 'envs');
    const libraryBefore = treeHash(library);
    for (const [dir, want] of Object.entries(ENV_CASES)) {
      const { files, id } = readEnvPath(join(FIX, dir));
      const v = await validateEnvFiles(files, id);
      expect(v.ok, dir).toBe(false);
      expectDetail(v.errors[0], want, `${dir} validateEnvFiles`);

      const viaService = await service.dispatch('validateEnv', { files: toInFiles(files) });
      expect(viaService.ok, dir).toBe(true);
      const check = (viaService as { result: { ok: boolean; errors: ErrorDetail[]; starter?: { specText: string } } }).result;
      if (dir === 'bad/envs/spec-missing') {
        // A bare MJCF dropped in the studio gets what `envs init` gives: a starter spec that validates.
        expect(check.ok, dir).toBe(true);
        expect(check.starter?.specText, dir).toContain('"observations"');
      } else {
        expect(check.ok, dir).toBe(false);
        expectDetail(check.errors[0], want, `${dir} validateEnv`);
      }

      const add = await service.dispatch('addEnv', { files: toInFiles(files), id: 'should-not-exist' });
      expect(add.ok, dir).toBe(false);
      if (!add.ok) {
        expect(add.error.user, dir).toBe(true);
        expectDetail(add.error.errors[0], want, `${dir} addEnv`);
      }
    }
    // Entity expansion stayed unexpanded, and no prototype was polluted by '__proto__' keys.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(treeHash(library)).toEqual(libraryBefore);
  });

  it('a file over 20 MB is refused before it is read whole, on disk and uploaded', async () => {
    const dir = join(home, 'huge');
    mkdirSync(dir);
    writeFileSync(join(dir, 'env.task.json'), readFileSync(join(FIX, 'bad/envs/empty-xml/env.task.json')));
    writeFileSync(join(dir, 'env.xml'), '');
    truncateSync(join(dir, 'env.xml'), 21 * 1024 * 1024);
    expect(() => readEnvPath(dir)).toThrow(UserError);
    try {
      readEnvPath(dir);
    } catch (e) {
      expectDetail((e as UserError).details[0], { file: 'env.xml', message: /21.0 MB; the limit is 20 MB/ }, 'readEnvPath');
    }
    const r = await service.dispatch('validateEnv', {
      files: [
        { name: 'env.xml', encoding: 'utf8', content: '<'.repeat(21 * 1024 * 1024) },
        { name: 'env.task.json', encoding: 'utf8', content: '{}' },
      ],
    });
    expect(r).toMatchObject({
      ok: true,
      result: { ok: false, errors: [{ file: 'env.xml', message: expect.stringMatching(/limit is 20 MB/) }] },
    });
  });

  it('CLI envs validate --json: exit 2, {ok:false, errors} naming the file, one line on stderr, no stack', async () => {
    // A few representative ones (each is a process start); the table above covers the rest in-process.
    const dirs = ['bad/envs/billion-laughs', 'bad/envs/deep-nesting', 'bad/envs/nan-physics'];
    const results = await Promise.all(dirs.map((d) => cli(['envs', 'validate', join(FIX, d), '--json'], env())));
    results.forEach((r, i) => {
      const dir = dirs[i];
      expect(r.status, `${dir}: ${r.stderr}`).toBe(2);
      const out = JSON.parse(r.stdout.trim()) as { ok: boolean; errors: ErrorDetail[] };
      expect(out.ok, dir).toBe(false);
      expectDetail(out.errors[0], ENV_CASES[dir], `${dir} CLI`);
      expect(r.stderr, dir).toMatch(/^rl-studio: /);
      expect(r.stderr, dir).not.toMatch(STACK);
    });
  });

  it('run configs: parseRunConfig and createRun refuse each field by name, and create nothing', async () => {
    const before = readdirSync(runsDir).sort();
    for (const [name, want] of Object.entries(CONFIG_CASES)) {
      const raw = JSON.parse(readFileSync(join(FIX, 'bad/configs', `${name}.json`), 'utf8')) as unknown;
      const parsed = parseRunConfig(raw);
      if (want.service) expect(parsed.ok, name).toBe(true);
      else {
        expect(parsed.ok, name).toBe(false);
        if (!parsed.ok) {
          expect(parsed.issues[0].field, name).toBe(want.field);
          expect(parsed.issues[0].message, name).toMatch(want.message);
        }
      }
      const r = await service.dispatch('createRun', { config: raw, start: false });
      expect(r.ok, name).toBe(false);
      if (!r.ok) {
        expect(r.error.user, name).toBe(true);
        expect(r.error.errors[0].field, name).toBe(want.field);
        expect(r.error.errors[0].message, name).toMatch(want.message);
        expect(JSON.stringify(r), name).not.toMatch(STACK);
      }
    }
    expect(readdirSync(runsDir).sort()).toEqual(before);
  });

  it('NaN and infinite actions are refused naming the action, and the env steps on unharmed', async () => {
    const e = await MujocoEnv.create(resolveEnv('cartpole-balance'));
    try {
      e.reset(0);
      const n = e.info.action.size;
      for (const bad of [NaN, Infinity, -Infinity]) {
        const a = new Array<number>(n).fill(0);
        a[n - 1] = bad;
        expect(() => e.step(a)).toThrow(UserError);
        try {
          e.step(a);
        } catch (err) {
          expect((err as UserError).details[0]).toEqual({
            field: `action[${n - 1}]`,
            message: `is ${bad}; actions must be finite numbers in [-1, 1]`,
          });
        }
      }
      expect(() => e.step([])).toThrow(/expected \d+ values, got 0/);
      const r = e.step(new Array<number>(n).fill(0.5));
      expect(Array.from(r.obs).every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(r.reward)).toBe(true);
    } finally {
      e.dispose();
    }
  });

  it('damaged run files: each is reported naming the file, the rest of the run reads, other runs are untouched', async () => {
    const copy = (id: string) => {
      cpSync(goodRun.dir, join(runsDir, id), { recursive: true });
      return new RunFiles(join(runsDir, id));
    };
    // metrics.jsonl torn mid-line (a crash during an append) and a garbage line in the middle.
    const torn = copy('torn-metrics');
    const lines = readFileSync(torn.metricsFile, 'utf8').trimEnd().split('\n');
    writeFileSync(
      torn.metricsFile,
      [lines[0], '{"kind":"update","st\u0000\u0000', ...lines.slice(1), '{"kind":"update","step":3'].join('\n'),
    );
    const m = (await service.dispatch('getMetrics', { id: 'torn-metrics' })) as { ok: true; result: MetricsChunk };
    expect(m.ok).toBe(true);
    expect(m.result.records.length).toBe(lines.length);
    expect(m.result.problems.map((p) => p.file)).toEqual(['metrics.jsonl', 'metrics.jsonl']);
    expect(m.result.problems[0].message).toMatch(/^line 2 /);
    expect(m.result.problems[1].message).toMatch(new RegExp(`^line ${lines.length + 2} (is cut off|has no line end)`));

    // Truncated checkpoints: the newest is skipped with its name, then all of them.
    const ck = copy('truncated-ckpt');
    const ckpts = ck.listCheckpoints();
    // Checked whole, once while unchanged; a checkpoint damaged in place (same size) is checked again.
    expect(ck.checkCheckpoints().map((c) => c.ok)).toEqual(ckpts.map(() => true));
    const damaged = readFileSync(ckpts[0].file);
    damaged[damaged.length >> 1] ^= 0xff;
    writeFileSync(ckpts[0].file, damaged);
    expect(ck.checkCheckpoints()[0]).toMatchObject({ file: ckpts[0].file, ok: false, problem: expect.stringMatching(/checksum mismatch/) });
    truncateSync(ckpts[0].file, Math.floor(statSync(ckpts[0].file).size / 2));
    const latest = ck.latestCheckpoint();
    expect(latest.checkpoint?.step).toBe(ckpts[1].step);
    expect(latest.problems).toEqual([
      { file: `checkpoints/${ckpts[0].file.split('/').pop()}`, message: expect.stringMatching(/truncated or damaged.*skipped/) },
    ]);
    for (const c of ckpts) truncateSync(c.file, 7);
    expect(ck.latestCheckpoint().checkpoint).toBeNull();
    expect(ck.checkCheckpoints().every((c) => !c.ok && /not an RL Studio checkpoint|truncated/.test(c.problem ?? ''))).toBe(true);

    // A truncated config.json: getRun names it; the table still lists the other runs.
    const cfg = copy('truncated-config');
    writeFileSync(cfg.configFile, readFileSync(cfg.configFile).subarray(0, 80));
    const g = await service.dispatch('getRun', { id: 'truncated-config' });
    expect(g.ok).toBe(false);
    if (!g.ok) {
      expect(g.error.user).toBe(true);
      expect(g.error.errors[0]).toMatchObject({ file: cfg.configFile, message: expect.stringMatching(/unreadable run config/) });
      expect(JSON.stringify(g)).not.toMatch(STACK);
    }

    // Garbage status.json: the run is listed as failed with the reason.
    const st = copy('bad-status');
    writeFileSync(join(st.dir, 'status.json'), '{"status": "running", "step": "lots"');
    // A truncated episode recording: its replay is refused naming the file.
    const ep = copy('truncated-episode');
    const epId = ep.listEpisodes().episodes[0].id;
    truncateSync(join(ep.episodesDir, `${epId}.bin`), 10);
    const replay = await service.dispatch('getEpisode', { id: 'truncated-episode', episode: epId });
    expect(replay).toMatchObject({
      ok: false,
      error: { user: true, errors: [{ file: `episodes/${epId}.bin`, message: expect.stringMatching(/truncated/) }] },
    });

    const rows = (await service.dispatch('listRuns', {})) as { ok: true; result: RunRow[] };
    expect(rows.ok).toBe(true);
    const byId = new Map(rows.result.map((r) => [r.id, r]));
    expect(byId.get('bad-status')).toMatchObject({ status: 'failed', reason: 'status.json is unreadable' });
    for (const id of [goodRun.id, 'torn-metrics', 'truncated-ckpt', 'truncated-episode']) expect(byId.has(id), id).toBe(true);

    // The good run: every file byte-identical, and it still reads and replays.
    expect(treeHash(goodRun.dir)).toEqual(goodHash);
    expect((await service.dispatch('getRun', { id: goodRun.id })).ok).toBe(true);
    const goodEp = goodRun.listEpisodes().episodes[0].id;
    expect((await service.dispatch('getEpisode', { id: goodRun.id, episode: goodEp })).ok).toBe(true);
    // And the CLI reads the damaged folder without a stack trace.
    const show = spawnSync(process.execPath, [CLI, 'runs', 'list', '--runs-dir', runsDir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: env(),
    });
    expect(show.status, show.stderr).toBe(0);
    expect(show.stderr).not.toMatch(STACK);
  });
});
