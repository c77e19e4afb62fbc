import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readEnvPath, resolveEnv, validateEnvFiles } from '../../../src-main/sim/registry.ts';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import type { EnvFile } from '../../../src-main/sim/files.ts';

const FIX = resolve(__dirname, '../../fixtures/envs');
const ROOT = resolve(__dirname, '../../..');

async function errorsOf(dir: string) {
  const { files, id } = readEnvPath(join(FIX, dir));
  const v = await validateEnvFiles(files, id);
  expect(v.ok).toBe(false);
  return v.errors;
}

const SPEC = JSON.stringify({ name: 'tiny', observations: [{ name: 'q', type: 'qpos' }], reward: { quantity: { type: 'alive' } } });
const TINY =
  '<mujoco><worldbody><body><joint name="j"/><geom size=".1"/></body></worldbody><actuator><motor joint="j"/></actuator></mujoco>';

describe('bad input gets a clear error naming file, field and reason', () => {
  it('malformed XML: the line', async () => {
    const [e] = await errorsOf('malformed');
    expect(e).toMatchObject({ file: 'env.xml', field: 'line 6' });
    expect(e.message).toMatch(/malformed XML/);
  });

  it("MJCF that MuJoCo refuses: MuJoCo's own message and line", async () => {
    const [e] = await errorsOf('mujoco-refuses');
    expect(e.file).toBe('env.xml');
    expect(e.message).toMatch(/unknown transmission target 'no_such_joint'.*line 9/);
  });

  it('unknown joint, site and body names in the task spec', async () => {
    const errs = await errorsOf('unknown-names');
    expect(errs.map((e) => e.file)).toEqual(['env.task.json', 'env.task.json', 'env.task.json']);
    expect(errs.map((e) => e.field)).toEqual([
      'observations[0].exclude[0]',
      expect.stringContaining('observations[1].points[0]'),
      'reward.quantity.body',
    ]);
    expect(errs[0].message).toMatch(/unknown joint 'elbow' \(the MJCF has hinge\)/);
    expect(errs[1].message).toMatch(/unknown site 'fingertip'/);
    expect(errs[2].message).toMatch(/unknown body 'torso'/);
  });

  it('out-of-range values', async () => {
    const errs = await errorsOf('out-of-range');
    const fields = errs.map((e) => e.field);
    expect(fields).toContain('frame_skip');
    expect(fields).toContain('episode_length');
    expect(fields).toContain('reward.tolerance.bounds');
    expect(fields).toContain('reward.tolerance.value_at_margin');
  });

  it('includes that leave the env folder', async () => {
    const [e] = await errorsOf('escape-include');
    expect(e.field).toContain('../../secret.xml');
    expect(e.message).toMatch(/leaves the env's folder/);
  });

  it('DOCTYPE / ENTITY declarations are refused', async () => {
    const [e] = await errorsOf('doctype');
    expect(e).toMatchObject({ file: 'env.xml', field: 'line 2' });
    expect(e.message).toMatch(/DOCTYPE/);
  });

  it('physics that blows up is reported by validation, and flagged (not thrown) while stepping', async () => {
    const [e] = await errorsOf('blowup');
    expect(e.message).toMatch(/diverged.*bad q/);
    const { files } = readEnvPath(join(FIX, 'blowup'));
    const env = await MujocoEnv.create(resolveEnv(join(FIX, 'blowup')));
    expect(files.length).toBe(2);
    env.reset(0);
    let flagged = false;
    for (let t = 0; t < 100 && !flagged; t++) {
      const r = env.step([1]);
      if (r.diverged) {
        flagged = true;
        expect(r.truncated).toBe(true);
        expect(r.terminated).toBe(false);
        expect(Array.from(r.obs).every(Number.isFinite)).toBe(true);
      }
    }
    expect(flagged).toBe(true);
    env.dispose();
  });

  it('a file over 20 MB, missing references and odd names, in memory', async () => {
    const big: EnvFile[] = [
      { name: 'big.xml', content: new Uint8Array(20 * 1024 * 1024 + 1) },
      { name: 'big.task.json', content: SPEC },
    ];
    const v1 = await validateEnvFiles(big);
    expect(v1.errors[0]).toMatchObject({ file: 'big.xml', message: expect.stringMatching(/limit is 20 MB/) });
    const missing = await validateEnvFiles([
      { name: 'm.xml', content: TINY.replace('<worldbody>', '<asset><mesh name="m" file="meshes/m.stl"/></asset><worldbody>') },
      { name: 'm.task.json', content: SPEC },
    ]);
    expect(missing.errors[0].message).toMatch(/meshes\/m.stl.*not among/);
    const odd = await validateEnvFiles([
      { name: '../x.xml', content: TINY },
      { name: 'x.task.json', content: SPEC },
    ]);
    expect(odd.ok).toBe(false);
    const badJson = await validateEnvFiles([
      { name: 'j.xml', content: TINY },
      { name: 'j.task.json', content: '{"name": ' },
    ]);
    expect(badJson.errors[0]).toMatchObject({ file: 'j.task.json', message: expect.stringMatching(/not valid JSON/) });
    const ok = await validateEnvFiles([
      { name: 'tiny.xml', content: TINY },
      { name: 'tiny.task.json', content: SPEC },
    ]);
    expect(ok).toMatchObject({ ok: true, info: { obsSize: 1, actionSize: 1 } });
  });

  it('CLI: envs validate --json exits 2 with {ok:false, errors} on a broken env, 0 on a good one', () => {
    const home = mkdtempSync(join(tmpdir(), 'rl-studio-'));
    try {
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [join(ROOT, 'bin/rl-studio.mjs'), ...args], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, RL_STUDIO_HOME: home },
        });
      const bad = run('envs', 'validate', join(FIX, 'mujoco-refuses', 'env.xml'), '--json');
      expect(bad.status).toBe(2);
      const out = JSON.parse(bad.stdout.trim());
      expect(out.ok).toBe(false);
      expect(out.errors[0]).toMatchObject({ file: 'env.xml', message: expect.stringContaining('no_such_joint') });
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      const good = run('envs', 'validate', join(ROOT, 'resources/envs/pendulum.xml'), '--json');
      expect(good.status).toBe(0);
      expect(JSON.parse(good.stdout.trim())).toMatchObject({ ok: true, info: { obsSize: 3, actionSize: 1, episodeLength: 200 } });
      // add copies a validated env into the library, where it resolves by id.
      const add = run('envs', 'add', join(ROOT, 'resources/envs/pendulum.xml'), '--id', 'my-pendulum', '--json');
      expect(add.status).toBe(0);
      const list = run('envs', 'list', '--json');
      const rows = list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.find((r) => r.id === 'my-pendulum')).toMatchObject({ source: 'user', obsSize: 3 });
      const missing = run('envs', 'show', 'no-such-env', '--json');
      expect(missing.status).toBe(2);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
