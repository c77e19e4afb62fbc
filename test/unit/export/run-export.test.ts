import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import type { Agent } from '../../../src-main/learn/types.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { createEnv } from '../../../src-main/sim/env.ts';
import type { Env } from '../../../src-main/sim/types.ts';
import { RunFiles } from '../../../src-main/store/run-store.ts';
import { decodeTensorFile } from '../../../src-main/store/tensor-file.ts';
import { decodeCheckpoint } from '../../../src-main/train/checkpoint.ts';
import { runEnvSource } from '../../../src-main/train/config.ts';
import { EXPORT_FORMATS, exportPolicy, exportPolicyTo, loadExportedPolicy } from '../../../src-main/export/index.ts';
import { evaluateExportedPolicy } from '../../../src-main/export/evaluate.ts';

/**
 * End to end on a real run: a short DDPG run (with running observation normalisation) on a
 * pendulum whose torque range is asymmetric (-2..1), trained by the CLI; exported in each format;
 * the files read back must act like the checkpoint's agent and reproduce the run's eval return in
 * the env. Bad input through the CLI exits 2 with one line.
 */
const TOL = 1e-5;
const FIXTURE = 'test/fixtures/export/torque-pendulum.xml';
let root = '';
let runDir = '';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: join(root, 'home') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking, so the refusal cases run side by side. */
function cliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['bin/rl-studio.mjs', ...args], { env: { ...process.env, RL_STUDIO_HOME: join(root, 'home') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function evalRecords(): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { kind: string; step: number; eval_return?: number };
    if (r.kind === 'eval') m.set(r.step, r.eval_return!);
  }
  return m;
}

/** The checkpoint's agent as the studio runs it, and the run's env. */
async function inApp(step: number): Promise<{ agent: Agent; env: Env; seed: number; episodes: number }> {
  const run = RunFiles.open(runDir);
  const { config } = run.readConfig();
  const env = await createEnv(runEnvSource(run), { seed: config.seed });
  const agent = createAgent(config.algo, env.info.obs.size, env.info.action, { ...config.hyperparams }, config.seed);
  const { meta, arrays } = decodeTensorFile(readFileSync(run.checkpointPath(step)));
  agent.setState(decodeCheckpoint(meta, arrays).agent);
  return { agent, env, seed: config.seed, episodes: config.evalEpisodes };
}

beforeAll(async () => {
  await selectBackend();
  root = mkdtempSync(join(tmpdir(), 'rls-export-run-'));
  const r = cli([
    'train',
    '--env',
    FIXTURE,
    '--algo',
    'ddpg',
    '--steps',
    '200',
    '--eval-every',
    '100',
    '--eval-episodes',
    '2',
    '--checkpoint-every',
    '100',
    '--seed',
    '4',
    '--set',
    'obsNormalization=true',
    '--runs-dir',
    join(root, 'runs'),
    '--json',
  ]);
  if (r.code !== 0) throw new Error(`training the fixture run failed (${r.code}): ${r.stderr}`);
  const done = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; run_dir?: string })
    .find((e) => e.event === 'done');
  runDir = done!.run_dir!;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('export of a trained run', () => {
  it('CLI exports the best-evaluated checkpoint by default and says which', () => {
    const evals = evalRecords();
    const kept = new RunFiles(runDir).listCheckpoints().map((c) => c.step);
    const best = kept.filter((s) => evals.has(s)).sort((a, b) => evals.get(b)! - evals.get(a)!)[0];
    const out = join(root, 'cli-onnx', 'policy.onnx');
    const r = cli(['export', runDir, '--format', 'onnx', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = JSON.parse(r.stdout.trim()) as { ok: boolean; files: string[]; step: number; eval_return: number; env: string };
    expect(line).toMatchObject({ ok: true, files: [out], step: best, eval_return: evals.get(best), env: 'torque-pendulum' });
    expect(existsSync(out)).toBe(true);

    // `eval --policy` runs the file in the env on the run's evaluation seeds: the same return.
    const ev = cli(['eval', '--policy', out, '--env', FIXTURE, '--episodes', '2', '--json']);
    expect(ev.stderr).toBe('');
    const res = JSON.parse(ev.stdout.trim()) as { eval_return: number; env: string };
    console.log(`eval --policy (onnx): ${res.eval_return} (run recorded ${evals.get(best)})`);
    expect(Math.abs(res.eval_return - evals.get(best)!)).toBeLessThan(1e-6 * Math.abs(evals.get(best)!) + 1e-6);
  });

  it.each(EXPORT_FORMATS)('%s: actions equal the in-app policy on 1000 observations and the eval return is reproduced', async (format) => {
    const out = join(root, `export-${format}`);
    const { paths, meta } = await exportPolicyTo(runDir, format, format === 'onnx' ? join(out, 'p.onnx') : out, 'latest');
    expect(paths.length).toBeGreaterThan(0);
    expect(meta.observation.normalization).not.toBeNull();
    expect(meta.action).toMatchObject({ low: [-2], high: [1], names: ['torque'] });
    const step = meta.checkpoint.step!;
    const { agent, env, seed, episodes } = await inApp(step);
    const policy = await loadExportedPolicy(paths[0]);
    try {
      const { low, high } = env.info.action;
      const rng = new Rng(17);
      let worst = 0;
      for (let k = 0; k < 1000; k++) {
        const angle = rng.range(-Math.PI, Math.PI);
        const obs = Float32Array.of(Math.cos(angle), Math.sin(angle), rng.range(-8, 8));
        const a = agent.act(obs, false);
        const want = low[0] + ((a[0] + 1) / 2) * (high[0] - low[0]);
        worst = Math.max(worst, Math.abs((await policy(obs))[0] - want));
      }
      console.log(`run export ${format}: max |exported - in-app| = ${worst.toExponential(2)} over 1000 observations`);
      expect(worst).toBeLessThan(TOL);

      const recorded = evalRecords().get(step)!;
      const { evalReturn } = await evaluateExportedPolicy(env, policy, { episodes, runSeed: seed });
      console.log(`run export ${format}: eval return ${evalReturn} (run recorded ${recorded})`);
      expect(meta.evalReturn).toBe(recorded);
      expect(Math.abs(evalReturn - recorded)).toBeLessThan(1e-6 * Math.abs(recorded) + 1e-6);
    } finally {
      await policy.dispose();
      agent.dispose();
      env.dispose();
    }
  });

  it('single-file forms for the studio load back as one file each', async () => {
    for (const format of EXPORT_FORMATS) {
      const { files, meta } = await exportPolicy({ runsDir: join(runDir, '..'), id: new RunFiles(runDir).id }, format, '100');
      expect(files).toHaveLength(1);
      expect(meta.checkpoint.step).toBe(100);
      const path = join(root, `single-${format}-${files[0].name}`);
      writeFileSync(path, files[0].bytes);
      const policy = await loadExportedPolicy(path);
      expect(policy.meta.run.id).toBe(new RunFiles(runDir).id);
      expect((await policy(Float32Array.of(1, 0, 0))).length).toBe(1);
      await policy.dispose();
    }
    await expect(exportPolicy({ runsDir: runDir, id: '..' }, 'onnx')).rejects.toThrow(/not a run id/);
  });
});

describe.concurrent('export refuses bad input with one line and exit code 2', () => {
  async function expectUserError(args: string[], message: RegExp) {
    const r = await cliAsync([...args, '--json']);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const json = JSON.parse(r.stdout.trim()) as { ok: boolean; errors: { message: string }[] };
    expect(json.ok).toBe(false);
  }

  it('a run with no checkpoint', async () => {
    const empty = join(root, 'runs', 'no-checkpoint');
    mkdirSync(join(empty, 'checkpoints'), { recursive: true });
    cpSync(join(runDir, 'config.json'), join(empty, 'config.json'));
    await expectUserError(['export', empty, '--format', 'json', '--out', join(root, 'never')], /no checkpoint to export/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('an unwritable path (a folder inside a regular file)', async () => {
    const file = join(root, 'a-regular-file');
    writeFileSync(file, 'x');
    await expectUserError(
      ['export', runDir, '--format', 'tfjs', '--out', join(file, 'sub')],
      /cannot write the export here: a part of the path is a file/,
    );
  });

  it('an unknown format', async () => {
    await expectUserError(
      ['export', runDir, '--format', 'pickle', '--out', join(root, 'x')],
      /unknown export format 'pickle' \(choose tfjs, onnx, json\)/,
    );
  });

  it('an unknown checkpoint and a folder that is not a run', async () => {
    await Promise.all([
      expectUserError(
        ['export', runDir, '--format', 'onnx', '--checkpoint', '12345', '--out', join(root, 'x.onnx')],
        /no checkpoint at step 12345/,
      ),
      expectUserError(['export', root, '--format', 'onnx', '--out', join(root, 'x.onnx')], /not a run folder/),
    ]);
    expect(readdirSync(root)).not.toContain('x.onnx');
  });
});
