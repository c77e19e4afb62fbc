/**
 * `rl-studio envs init` on a bare MJCF: the model's elements listed, and a starter task spec written
 * that validates as it is.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvPath, validateEnvFiles } from '../../../src-main/sim/registry.ts';
import { bareModel, scaffoldEnv } from '../../../src-main/sim/scaffold.ts';
import { EnvService } from '../../../src-main/service/envs.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIR = '/tmp/issue-20-scaffold-test';

/** A bare model as researchers bring them: an unnamed actuator, a free body, a sensor, a camera and a keyframe. */
const BARE = `<mujoco model="bare">
  <option timestep="0.005"/>
  <worldbody>
    <geom type="plane" size="5 5 .1"/>
    <camera name="side" pos="0 -3 1" xyaxes="1 0 0 0 0 1"/>
    <body name="torso" pos="0 0 .5">
      <freejoint name="root"/>
      <geom type="sphere" size=".1"/>
      <body name="leg">
        <joint name="hip" axis="0 1 0" range="-1 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -.3" size=".04"/>
        <site name="foot" pos="0 0 -.3"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor joint="hip" ctrlrange="-1 1" gear="20"/></actuator>
  <sensor><touch name="foot_touch" site="foot"/></sensor>
  <keyframe><key name="stand" qpos="0 0 .5 1 0 0 0 0"/></keyframe>
</mujoco>`;

describe('envs init', () => {
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));

  it('lists the model and writes a starter spec that validates', async () => {
    const { inventory, spec } = await scaffoldEnv([{ name: 'bare.xml', content: BARE }], 'bare.xml');
    expect(inventory.joints).toEqual([
      { name: 'root', type: 'free' },
      { name: 'hip', type: 'hinge' },
    ]);
    expect(inventory.bodies).toEqual(['world', 'torso', 'leg']);
    expect(inventory.actuators).toEqual(['#0']);
    expect(inventory.sensors).toEqual(['foot_touch']);
    expect(inventory.keyframes).toEqual(['stand']);
    expect(spec).toMatchObject({ model: 'bare.xml', frame_skip: 4, camera: 'side', init: [{ type: 'keyframe', key: 'stand' }, {}, {}] });
    const v = await validateEnvFiles([
      { name: 'bare.xml', content: BARE },
      { name: 'bare.task.json', content: JSON.stringify(spec) },
    ]);
    expect(v.errors).toEqual([]);
    // qpos (7 + 1) + qvel (6 + 1) + the touch sensor.
    expect(v.info).toMatchObject({ obsSize: 16, actionSize: 1 });
  });

  it('CLI: writes <model>.task.json beside the MJCF, refuses to overwrite it, and the env then validates', () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, 'bare.xml'), BARE);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/rl-studio.mjs'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, RL_STUDIO_HOME: DIR },
      });
    const first = run('envs', 'init', join(DIR, 'bare.xml'), '--json');
    expect(first.status, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout.trim());
    expect(out).toMatchObject({ ok: true, obsSize: 16, actionSize: 1, inventory: { sites: ['foot'] } });
    expect(existsSync(join(DIR, 'bare.task.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(DIR, 'bare.task.json'), 'utf8')).version).toBe(2);
    const again = run('envs', 'init', join(DIR, 'bare.xml'));
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    return validateEnvFiles(readEnvPath(join(DIR, 'bare.xml')).files).then((v) => expect(v.ok).toBe(true));
  });

  it('a bare MJCF dropped in the studio is validated with the starter spec, which comes back to be added with it', async () => {
    const service = new EnvService();
    const check = await service.validate([{ name: 'bare.xml', encoding: 'utf8', content: BARE }]);
    expect(check.errors).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.info).toMatchObject({ id: 'bare', obsSize: 16, actionSize: 1 });
    expect(check.starter).toMatchObject({ xml: 'bare.xml', specFile: 'bare.task.json', inventory: { sites: ['foot'], actuators: ['#0'] } });
    expect(JSON.parse(check.starter!.specText)).toMatchObject({ version: 2, model: 'bare.xml' });
    expect(check.preview?.scene.bodies.map((b) => b.name)).toEqual(['world', 'torso', 'leg']);
    // With a spec among the files nothing is written for them.
    const withSpec = await service.validate([
      { name: 'bare.xml', encoding: 'utf8', content: BARE },
      { name: 'bare.task.json', encoding: 'utf8', content: check.starter!.specText },
    ]);
    expect(withSpec.ok).toBe(true);
    expect(withSpec.starter).toBeUndefined();
  });

  it('a bare drop: the MJCF no other includes is the model; a model without actuators or several candidates are refused', async () => {
    const robot = { name: 'robot.xml', content: BARE };
    const scene = { name: 'scene.xml', content: '<mujoco model="scene"><include file="robot.xml"/></mujoco>' };
    expect(bareModel([robot, scene])).toBe('scene.xml');
    expect(bareModel([robot, { name: 'bare.task.json', content: '{}' }])).toBeNull();
    expect(() => bareModel([robot, { name: 'other.xml', content: BARE }])).toThrow(/several MJCF files \(robot.xml, other.xml\)/);
    const service = new EnvService();
    const still = await service.validate([
      {
        name: 'still.xml',
        encoding: 'utf8',
        content: '<mujoco><worldbody><body><freejoint/><geom size=".1"/></body></worldbody></mujoco>',
      },
    ]);
    expect(still.ok).toBe(false);
    expect(still.errors[0].message).toMatch(/no actuators/);
    const broken = await service.validate([
      { name: 'broken.xml', encoding: 'utf8', content: '<mujoco><worldbody><geom type="nosuch"/></worldbody></mujoco>' },
    ]);
    expect(broken.ok).toBe(false);
    expect(broken.errors[0]).toMatchObject({ file: 'broken.xml' });
  });
});
