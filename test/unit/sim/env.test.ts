import { describe, expect, it } from 'vitest';
import { MujocoEnv, type EnvSource } from '../../../src-main/sim/env.ts';
import { loadModel } from '../../../src-main/sim/mujoco.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';
import { TaskSpecSchema, type TaskSpecInput } from '../../../src-main/api/task-spec.ts';
import { bodyPoses, sceneFor } from '../../../src-main/sim/scene.ts';
import { loadMujocoModule } from '../../../src-main/sim/mujoco.ts';
import { isUserError } from '../../../src-main/util/errors.ts';

/** A small model whose quantities are easy to work out by hand. */
const ARM_XML = `<mujoco>
  <option timestep="0.01" gravity="0 0 0"><flag contact="disable"/></option>
  <worldbody>
    <site name="origin" pos="0 0 0"/>
    <body name="slider" pos="0 0 0">
      <joint name="x" type="slide" axis="1 0 0"/>
      <geom type="box" size=".1 .1 .1" mass="1"/>
      <body name="arm" pos="0 0 0">
        <joint name="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 1" size=".05" mass="1"/>
        <site name="tip" pos="0 0 1"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="push" joint="x" ctrlrange="-2 2"/>
    <motor name="turn" joint="hinge" ctrlrange="0 1"/>
  </actuator>
  <sensor><jointpos name="hinge_pos" joint="hinge"/></sensor>
</mujoco>`;

function armEnv(task: Partial<TaskSpecInput>): MujocoEnv {
  const spec = TaskSpecSchema.parse({
    name: 'arm',
    observations: [{ name: 'q', type: 'qpos' }],
    reward: { quantity: { type: 'alive' } },
    ...task,
  });
  const source: EnvSource = { id: 'arm', xml: 'arm.xml', specFile: 'arm.task.json', spec, files: [{ name: 'arm.xml', content: ARM_XML }] };
  return new MujocoEnvSync(source);
}

let mjReady: Awaited<ReturnType<typeof loadMujocoModule>>;
class MujocoEnvSync extends MujocoEnv {
  constructor(source: EnvSource) {
    super(mjReady, source);
  }
}

describe('env core', async () => {
  mjReady = await loadMujocoModule();

  it('is deterministic bit for bit: same seed and actions give the same trajectory', async () => {
    for (const id of ['cheetah-run', 'reacher-easy']) {
      const run = async (): Promise<Float32Array[]> => {
        const env = await MujocoEnv.create(resolveEnv(id));
        try {
          const out = [env.reset(42)];
          for (let t = 0; t < 200; t++) {
            const a = Array.from({ length: env.info.action.size }, (_, i) => Math.sin(0.1 * t + i));
            const r = env.step(a);
            out.push(r.obs, new Float32Array([r.reward]));
          }
          return out;
        } finally {
          env.dispose();
        }
      };
      const [a, b] = [await run(), await run()];
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(Buffer.from(a[i].buffer).equals(Buffer.from(b[i].buffer))).toBe(true);
      // A different seed gives a different start.
      const env = await MujocoEnv.create(resolveEnv(id));
      const o1 = env.reset(42);
      const o2 = env.reset(43);
      env.dispose();
      expect(Array.from(o1)).not.toEqual(Array.from(o2));
    }
  });

  it('maps actions in [-1, 1] onto ctrlrange and clips them', () => {
    const env = armEnv({ reward: { quantity: { type: 'control' }, reduce: 'sum' } });
    env.reset(0);
    const r = env.step([0.5, 3]);
    // The control quantity is the clipped action: 0.5 + 1.
    expect(r.reward).toBeCloseTo(1.5, 12);
    expect(env.info.action).toMatchObject({ names: ['push', 'turn'], low: [-2, 0], high: [2, 1] });
    env.dispose();
  });

  it('computes each reward term as worked out by hand', () => {
    // Hinge at 90 degrees: the arm points along +x, so the tip is at (x + 1, 0, 0).
    const init = [
      { type: 'qpos', joints: ['hinge'], value: Math.PI / 2 },
      { type: 'qpos', joints: ['x'], value: 0.5 },
      { type: 'qvel', joints: ['x'], uniform: [2, 2] },
    ];
    const value = (reward: unknown, action = [0, 0]): number => {
      const env = armEnv({ reward: reward as never, init: init as never });
      env.reset(0);
      // One step with zero gravity and a zero-force action (push = 0 maps to ctrl 0; turn 0 maps to 0.5 Nm).
      const r = env.step(action);
      env.dispose();
      return r.reward;
    };
    const upright = value({ quantity: { type: 'upright', body: 'arm' } }, [0, -1]);
    expect(upright).toBeCloseTo(Math.cos(Math.PI / 2), 3);
    const dist = value({ quantity: { type: 'distance', from: { site: 'origin' }, to: { site: 'tip' } } }, [0, -1]);
    // After one 0.01 s step at 2 m/s the slider is at 0.52: tip at (1.52, 0, ~0).
    expect(dist).toBeCloseTo(1.52, 3);
    const speed = value({ quantity: { type: 'body_speed', body: 'slider', axis: 'x' } }, [0, -1]);
    expect(speed).toBeCloseTo(2, 6);
    const ctrlCost = value({ quantity: { type: 'control' }, reduce: 'sumsq', scale: -0.1 }, [0.5, -1]);
    expect(ctrlCost).toBeCloseTo(-0.1 * (0.25 + 1), 12);
    const alive = value({ sum: [{ quantity: { type: 'alive' } }, { quantity: { type: 'alive' }, scale: 2 }], weights: [1, 0.5] });
    expect(alive).toBe(2);
    const product = value({
      product: [
        { quantity: { type: 'alive' }, scale: 0.5 },
        { quantity: { type: 'alive' }, offset: 0.5, scale: 0.25 },
      ],
    });
    expect(product).toBeCloseTo(0.375, 12);
    const tol = value(
      {
        quantity: { type: 'joint_vel', joints: ['x'] },
        tolerance: { bounds: [10, 'inf'], margin: 10, sigmoid: 'linear', value_at_margin: 0 },
      },
      [0, -1],
    );
    expect(tol).toBeCloseTo(0.2, 6);
    const sensor = value({ quantity: { type: 'sensor', sensor: 'hinge_pos' } }, [0, -1]);
    expect(sensor).toBeCloseTo(Math.PI / 2, 6);
    const wrapped = value({ quantity: { type: 'joint_pos', joints: ['hinge'], wrap: true }, reduce: 'sumsq' }, [0, -1]);
    expect(wrapped).toBeCloseTo((Math.PI / 2) ** 2, 6);
  });

  it('terminates on a condition and truncates at the episode length', () => {
    const env = armEnv({
      episode_length: 5,
      termination: [{ quantity: { type: 'joint_pos', joints: ['x'] }, above: 0.05 }],
      init: [{ type: 'qvel', joints: ['x'], uniform: [1, 1] }],
    });
    env.reset(0);
    const flags = [];
    for (;;) {
      const r = env.step([0, -1]);
      flags.push([r.terminated, r.truncated]);
      if (r.terminated || r.truncated) break;
    }
    // x = 0.01 t: above 0.05 at the 6th step, but the episode is cut at 5.
    expect(flags).toEqual([
      [false, false],
      [false, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    env.reset(0);
    const env2 = armEnv({
      episode_length: 100,
      termination: [{ quantity: { type: 'joint_pos', joints: ['x'] }, above: 0.05 }],
      init: [{ type: 'qvel', joints: ['x'], uniform: [1, 1] }],
    });
    env2.reset(0);
    let n = 0;
    for (;;) {
      const r = env2.step([0, -1]);
      n++;
      if (r.terminated) break;
    }
    expect(n).toBe(6);
    env.dispose();
    env2.dispose();
  });

  it('refuses step() before reset() and after the episode ended, naming the env and saying to reset', () => {
    const env = armEnv({ episode_length: 2 });
    const stepError = (): unknown => {
      try {
        env.step([0, 0]);
      } catch (e) {
        return e;
      }
      return null;
    };
    const before = stepError();
    expect(isUserError(before)).toBe(true);
    expect((before as Error).message).toMatch(/env 'arm': step\(\) called before the first reset\(\); call reset\(\)/);
    env.reset(0);
    env.step([0, 0]);
    expect(env.step([0, 0]).truncated).toBe(true);
    const after = stepError();
    expect(isUserError(after)).toBe(true);
    expect((after as Error).message).toMatch(
      /env 'arm': step\(\) called after its episode ended \(it reached its length, after 2 steps\); call reset\(\)/,
    );
    // No auto-reset: the error repeats until the caller resets.
    expect(isUserError(stepError())).toBe(true);
    env.reset(0);
    expect(env.step([0, 0]).truncated).toBe(false);
    env.dispose();
    expect(stepError()).toMatchObject({ message: 'env used after dispose()' });
  });

  it('steps RK4 models exactly as mj_step would (cartpole), and writes into caller buffers', async () => {
    const mj = await loadMujocoModule();
    const cartpole = resolveEnv('cartpole-swingup');
    const init = [
      { type: 'qpos', joints: ['hinge_1'], value: 0.5 },
      { type: 'qvel', joints: ['slider'], uniform: [0.3, 0.3] },
    ];
    const spec = TaskSpecSchema.parse({
      name: 'rk4',
      observations: [{ name: 'q', type: 'qpos' }],
      reward: { quantity: { type: 'alive' } },
      init,
    });
    const env = new MujocoEnv(mj, { ...cartpole, spec });
    const model = loadModel(mj, cartpole.files, cartpole.xml);
    const data = new mj.MjData(model);
    try {
      expect(model.opt.integrator).toBe(1); // mjINT_RK4
      env.reset(0);
      (data.qpos as Float64Array)[1] = 0.5;
      (data.qvel as Float64Array)[0] = 0.3;
      mj.mj_forward(model, data);
      const out = new Float32Array(env.info.obs.size + 2);
      for (let t = 0; t < 300; t++) {
        const a = Math.sin(0.05 * t);
        env.stepInto([a], out, 1);
        (data.ctrl as Float64Array)[0] = -1 + (a + 1) * 1; // the env's map onto ctrlrange [-1, 1]
        mj.mj_step(model, data);
        expect(Array.from(env.qpos())).toEqual(Array.from(data.qpos as Float64Array));
      }
      expect([out[0], out[out.length - 1]]).toEqual([0, 0]);
      expect(Array.from(out.subarray(1, 3))).toEqual(Array.from(data.qpos as Float64Array, Math.fround));
    } finally {
      env.dispose();
      data.delete();
      model.delete();
    }
  });

  it('refuses NaN and infinite actions with a clear error', () => {
    const env = armEnv({});
    env.reset(0);
    for (const bad of [NaN, Infinity, -Infinity]) {
      let err: unknown;
      try {
        env.step([0, bad]);
      } catch (e) {
        err = e;
      }
      expect(isUserError(err)).toBe(true);
      expect((err as Error).message).toMatch(/action\[1\].*finite/);
    }
    env.dispose();
  });

  it('gives body poses after a step and replays qpos frames into the same poses', async () => {
    const env = await MujocoEnv.create(resolveEnv('walker-walk'));
    env.reset(3);
    const frames: Float64Array[] = [];
    let live: Float32Array = new Float32Array(0);
    for (let t = 0; t < 20; t++) {
      env.step(new Array(6).fill(0.3));
      frames.push(env.qpos());
      live = env.bodyPoses();
    }
    const { scene, poses } = await sceneFor(env.source, frames);
    expect(poses!.length).toBe(20 * scene.bodies.length * 7);
    const last = poses!.subarray(19 * scene.bodies.length * 7);
    for (let i = 0; i < last.length; i++) expect(last[i]).toBeCloseTo(live[i], 5);
    expect(scene.bodies.map((b) => b.name)).toContain('torso');
    expect(scene.geoms.find((g) => g.name === 'floor')).toMatchObject({ type: 'plane', textured: true });
    expect(scene.cameras.find((c) => c.name === 'side')).toMatchObject({ mode: 'tracking', mujocoMode: 'trackcom' });
    expect(scene.nq).toBe(9);
    expect(() => JSON.parse(JSON.stringify(scene))).not.toThrow();
    const mj = await loadMujocoModule();
    expect(() => bodyPoses(mj, env.mjModel, [new Float64Array(3)])).toThrow(/nq = 9/);
    env.dispose();
  });
});
