/**
 * The task-spec language's version-2 features, each against values worked out by hand on a small
 * model: goal points, moved geoms and sites, keyframe and ctrl init, the new quantities, observation
 * transforms, reward expressions, terminations, a spec naming its MJCF, and how mistakes are reported.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MujocoEnv, type EnvSource } from '../../../src-main/sim/env.ts';
import { TaskSpecSchema, type TaskSpecInput } from '../../../src-main/api/task-spec.ts';
import { loadMujocoModule, type Mujoco } from '../../../src-main/sim/mujoco.ts';
import { parseTaskSpec, resolveEnv, validateEnvFiles } from '../../../src-main/sim/registry.ts';
import { compileTask } from '../../../src-main/sim/task.ts';
import { SimViews } from '../../../src-main/sim/views.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { isUserError } from '../../../src-main/util/errors.ts';

/**
 * A free box (2 kg) at the origin and a 1 m arm (1 kg, centre of mass at its middle) on a vertical
 * hinge at (3, 0, 1); no gravity, so a state held still stays put and a turning arm turns evenly.
 */
const XML = `<mujoco>
  <option timestep="0.01" gravity="0 0 0"><flag contact="disable"/></option>
  <worldbody>
    <site name="mark" pos="1 2 3"/>
    <geom name="target" type="sphere" size=".05" pos="0 0 1" contype="0" conaffinity="0"/>
    <body name="box" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="box" size=".1 .1 .1" mass="2"/>
    </body>
    <body name="arm" pos="3 0 1">
      <joint name="hinge" axis="0 0 1"/>
      <geom type="capsule" fromto="0 0 0 1 0 0" size=".05" mass="1"/>
      <site name="tip" pos="1 0 0"/>
    </body>
  </worldbody>
  <actuator><motor name="turn" joint="hinge" ctrlrange="-2 2" gear="3"/></actuator>
  <keyframe><key name="home" qpos="0 0 2 1 0 0 0 0.5" ctrl="1"/></keyframe>
</mujoco>`;

/** A box dropped on a floor, under gravity, for the contact quantities. */
const FLOOR_XML = `<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 .1"/>
    <body name="box" pos="0 0 .1">
      <freejoint name="root"/>
      <geom type="box" size=".1 .1 .1" mass="2"/>
    </body>
  </worldbody>
  <actuator><motor joint="root" gear="0 0 0 0 0 1"/></actuator>
</mujoco>`;

let mj: Mujoco;

function env(task: Partial<TaskSpecInput>, xml = XML): MujocoEnv {
  const spec = TaskSpecSchema.parse({
    name: 't',
    observations: [{ name: 'q', type: 'qpos' }],
    reward: { quantity: { type: 'alive' } },
    ...task,
  });
  const source: EnvSource = { id: 't', xml: 'm.xml', specFile: 't.task.json', spec, files: [{ name: 'm.xml', content: xml }] };
  return new MujocoEnv(mj, source);
}

/** The observation after reset(seed) of a task whose only observation is `quantity`. */
function observeAtReset(
  quantity: object,
  init: object[] = [{ type: 'keyframe', key: 'home' }],
  extra: Partial<TaskSpecInput> = {},
): number[] {
  const e = env({ observations: [{ name: 'x', type: 'quantity', quantity } as never], init: init as never, ...extra });
  try {
    return Array.from(e.reset(0));
  } finally {
    e.dispose();
  }
}

function close(actual: ArrayLike<number>, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

describe('task spec v2', () => {
  beforeAll(async () => {
    mj = await loadMujocoModule();
  });

  it('quantities: centre of mass, free-joint parts, quaternions, egocentric vectors, ctrl and actuator force', () => {
    const h = 0.5;
    // Whole-model COM: box 2 kg at (0,0,2), arm 1 kg at (3 + .5 cos h, .5 sin h, 1).
    close(observeAtReset({ type: 'com' }), [(3 + 0.5 * Math.cos(h)) / 3, (0.5 * Math.sin(h)) / 3, (2 * 2 + 1) / 3]);
    close(observeAtReset({ type: 'com', body: 'arm', axes: ['y'] }), [0.5 * Math.sin(h)]);
    close(observeAtReset({ type: 'free_joint', joint: 'root', part: 'position', axes: ['z'] }), [2]);
    close(observeAtReset({ type: 'free_joint', joint: 'root', part: 'quaternion' }), [1, 0, 0, 0]);
    close(observeAtReset({ type: 'quaternion', body: 'arm' }), [Math.cos(h / 2), 0, 0, Math.sin(h / 2)]);
    // Box origin (0,0,2) seen from the arm (origin (3,0,1), turned by h about z): R^T (-3, 0, 1).
    close(observeAtReset({ type: 'relative', from: { body: 'arm' }, to: { body: 'box' }, frame: 'arm' }), [
      -3 * Math.cos(h),
      3 * Math.sin(h),
      1,
    ]);
    // The keyframe's ctrl, in actuator units; a ctrl step overrides it.
    close(observeAtReset({ type: 'ctrl' }), [1]);
    close(
      observeAtReset({ type: 'ctrl', actuators: ['turn'] }, [
        { type: 'keyframe', key: 'home' },
        { type: 'ctrl', value: -0.5 },
      ]),
      [-0.5],
    );
    close(observeAtReset({ type: 'state' }).slice(7), [0.5, 0, 0, 0, 0, 0, 0, 0]);

    // After a step with action 0.5: ctrl = -2 + 1.5 * 2 = 1; the motor's force (actuator units, before
    // the gear) is gain x ctrl = 1 (the hinge feels gear x 1 = 3 N m).
    const e = env({
      observations: [
        { name: 'c', type: 'quantity', quantity: { type: 'ctrl' } },
        { name: 'f', type: 'quantity', quantity: { type: 'actuator_force' } },
      ],
    });
    e.reset(0);
    close(e.step([0.5]).obs, [1, 1]);
    e.dispose();
  });

  it('displacement over the agent step and the subtree velocity of a turning arm', () => {
    // Hinge at 0.5 rad turning at 2 rad/s, no torque: after one agent step (2 x 0.01 s) it is at 0.54.
    const e = env({
      frame_skip: 2,
      init: [
        { type: 'keyframe', key: 'home' },
        { type: 'qvel', joints: ['hinge'], value: 2 },
      ],
      observations: [
        { name: 'dx', type: 'quantity', quantity: { type: 'displacement', of: { type: 'joint_pos', joints: ['hinge'] } } },
        {
          name: 'dtip',
          type: 'quantity',
          quantity: { type: 'displacement', of: { type: 'position', point: { site: 'tip' }, axes: ['y'] } },
        },
        { name: 'v', type: 'quantity', quantity: { type: 'com_velocity', axes: ['x', 'y'] } },
      ],
    });
    try {
      close(e.reset(0), [0, 0, (-Math.sin(0.5) * 1) / 3, (Math.cos(0.5) * 1) / 3]);
      const h = 0.54;
      // The tip's y moves from sin(0.5) to sin(0.54) in 0.02 s; the arm's COM moves at 0.5 x 2 m/s across it.
      close(e.step([0]).obs, [2, (Math.sin(h) - Math.sin(0.5)) / 0.02, -Math.sin(h) / 3, Math.cos(h) / 3], 5);
    } finally {
      e.dispose();
    }
  });

  it('contact quantities: contact count, external force and constraint force of a box resting on a floor', () => {
    const e = env(
      {
        frame_skip: 5,
        init: [{ type: 'settle', steps: 500 }],
        observations: [
          { name: 'n', type: 'quantity', quantity: { type: 'contact_count' } },
          { name: 'f', type: 'quantity', quantity: { type: 'contact_force', bodies: ['box'] } },
          { name: 'c', type: 'quantity', quantity: { type: 'constraint_force', joints: ['root'] } },
        ],
      },
      FLOOR_XML,
    );
    try {
      e.reset(0);
      const o = e.step([0]).obs;
      // Four corners touch; the floor carries the box's weight m g = 2 x 9.81 N, upwards.
      expect(o[0]).toBe(4);
      expect(o[1 + 5]).toBeCloseTo(2 * 9.81, 1);
      expect(o[7 + 2]).toBeCloseTo(2 * 9.81, 1);
    } finally {
      e.dispose();
    }
  });

  it('observation transforms: sin, cos, log1p and clip', () => {
    const obs = (transform: string, clip?: [number, number]): Float32Array => {
      const e = env({
        init: [{ type: 'keyframe', key: 'home' }],
        observations: [{ name: 'h', type: 'qpos', joints: ['hinge'], transform, ...(clip ? { clip } : {}) } as never],
      });
      try {
        return e.reset(0);
      } finally {
        e.dispose();
      }
    };
    close(obs('sin'), [Math.sin(0.5)]);
    close(obs('cos'), [Math.cos(0.5)]);
    close(obs('log1p'), [Math.log1p(0.5)]);
    close(obs('none', [-0.2, 0.3]), [0.3]);
    close(obs('cos', [0.9, 1]), [0.9]);
  });

  it('reward expressions: abs, square of a difference, min/max, clip, exp, gates, per-axis tolerances, control cost in actuator units', () => {
    const hinge = { quantity: { type: 'joint_pos', joints: ['hinge'] } };
    const z = { quantity: { type: 'free_joint', joint: 'root', part: 'position', axes: ['z'] } };
    // Action 0 is zero torque (ctrlrange [-2, 2]), so the state stays as the keyframe put it.
    const cases: [object, number, number?][] = [
      [{ abs: { ...hinge, minus: 1 } }, 0.5],
      [{ ...hinge, minus: 2, reduce: 'sumsq' }, 2.25],
      [{ square: { ...hinge, minus: 1 } }, 0.25],
      [{ min: [hinge, z] }, 0.5],
      [{ max: [hinge, z] }, 2],
      [{ clip: z, range: [0, 1.5] }, 1.5],
      [{ clip: z, range: ['-inf', 'inf'] }, 2],
      [{ exp: { ...hinge, scale: -2 } }, Math.exp(-1)],
      [{ gate: { quantity: { type: 'alive' }, scale: 7 }, unless: [{ ...z, above: 1.5 }] }, 0],
      [{ gate: { quantity: { type: 'alive' }, scale: 7 }, unless: [{ ...z, above: 3 }] }, 7],
      // Box at (0, 0, 2): x inside [-0.1, 0.1] (1), z outside [0, 1] with no margin (0).
      [
        {
          quantity: { type: 'position', point: { body: 'box' }, axes: ['x', 'z'] },
          tolerance: [{ bounds: [-0.1, 0.1] }, { bounds: [0, 1] }],
          reduce: 'sum',
        },
        1,
      ],
      [{ quantity: { type: 'state' }, reduce: 'max_abs' }, 2],
      // Action 0.5 is ctrl 1 in actuator units (ctrlrange [-2, 2]); the normalised action squares to 0.25.
      [{ quantity: { type: 'ctrl' }, reduce: 'sumsq', scale: -0.1 }, -0.1, 0.5],
      [{ quantity: { type: 'control' }, reduce: 'sumsq', scale: -0.1 }, -0.025, 0.5],
      // Tip at (3 + cos h, sin h, 1) and a goal at (3, 0, 1): the tip is 1 m away.
      [{ quantity: { type: 'distance', from: { site: 'tip' }, to: { goal: 'g' } } }, 1],
    ];
    for (const [reward, expected, action = 0] of cases) {
      const e = env({ init: [{ type: 'keyframe', key: 'home' }], goals: [{ name: 'g', value: [3, 0, 1] }], reward: reward as never });
      e.reset(0);
      expect(e.step([action]).reward, JSON.stringify(reward)).toBeCloseTo(expected, 9);
      e.dispose();
    }
    // A gate on the spec's own terminations (Gymnasium's "healthy reward only while healthy").
    const gated = (above: number): number => {
      const e = env({
        init: [{ type: 'keyframe', key: 'home' }],
        termination: [{ ...z, above } as never],
        reward: { gate: { quantity: { type: 'alive' } }, unless: 'terminated' },
      });
      e.reset(0);
      const r = e.step([0]);
      e.dispose();
      return r.reward;
    };
    expect(gated(1.5)).toBe(0);
    expect(gated(2.5)).toBe(1);
  });

  it('reward on the state before the step (Gymnasium Reacher) or after it', () => {
    for (const [at, expected] of [
      ['before_step', 0.5],
      ['after_step', 0.52],
    ] as const) {
      const e = env({
        reward_at: at,
        init: [
          { type: 'keyframe', key: 'home' },
          { type: 'qvel', joints: ['hinge'], value: 2 },
        ],
        reward: { quantity: { type: 'joint_pos', joints: ['hinge'] } },
      });
      e.reset(0);
      expect(e.step([0]).reward).toBeCloseTo(expected, 9);
      e.dispose();
    }
  });

  it('terminations: any |x| > c, and a state that is not finite', () => {
    const run = (termination: object[]): boolean => {
      const e = env({ init: [{ type: 'keyframe', key: 'home' }], termination: termination as never });
      e.reset(0);
      const t = e.step([0]).terminated;
      e.dispose();
      return t;
    };
    expect(run([{ quantity: { type: 'state' }, reduce: 'max_abs', above: 1.9 }])).toBe(true);
    expect(run([{ quantity: { type: 'state' }, reduce: 'max_abs', above: 2.1 }])).toBe(false);
    expect(run([{ state_not_finite: true }])).toBe(false);
    // A NaN in qpos, fed straight to the compiled task (MuJoCo itself would reset such a state).
    const model = mj.MjModel.from_xml_string(XML);
    const data = new mj.MjData(model);
    try {
      const spec = TaskSpecSchema.parse({
        name: 't',
        observations: [{ name: 'q', type: 'qpos' }],
        reward: { quantity: { type: 'alive' } },
        termination: [{ state_not_finite: true }],
      });
      const { task } = compileTask(mj, model, data, spec, 't.task.json');
      const v = new SimViews(model, data);
      task!.initialise(v, new Rng(0));
      expect(task!.terminated(v)).toBe(false);
      v.qvel[3] = Infinity;
      expect(task!.terminated(v)).toBe(true);
    } finally {
      data.delete();
      model.delete();
    }
  });

  it('goal points: constant or drawn per episode, read by observations, and geoms and sites moved onto them', () => {
    close(observeAtReset({ type: 'position', point: { goal: 'g' } }, [], { goals: [{ name: 'g', value: [1, 2, 3] }] }), [1, 2, 3]);
    const e = env({
      goals: [{ name: 'g', disc: { radius: [0.1, 0.2], z: 0.5 } }],
      init: [
        { type: 'move', geom: 'target', goal: 'g' },
        { type: 'move', site: 'mark', value: [0, 0, 5] },
      ],
      observations: [
        { name: 'goal', type: 'positions', points: [{ goal: 'g' }] },
        { name: 'geom', type: 'positions', points: [{ geom: 'target' }] },
        { name: 'site', type: 'positions', points: [{ site: 'mark' }] },
      ],
    });
    try {
      const seen = new Set<number>();
      for (let seed = 0; seed < 20; seed++) {
        const o = e.reset(seed);
        const r = Math.hypot(o[0], o[1]);
        expect(r).toBeGreaterThanOrEqual(0.1 - 1e-6);
        expect(r).toBeLessThanOrEqual(0.2 + 1e-6);
        expect(o[2]).toBeCloseTo(0.5, 6);
        // The target geom (a child of the world) stands on the goal.
        close(o.slice(3, 6), Array.from(o.slice(0, 3)));
        close(o.slice(6, 9), [0, 0, 5]);
        seen.add(o[0]);
      }
      expect(seen.size).toBe(20);
    } finally {
      e.dispose();
    }
  });

  it('qpos noise without a joint list perturbs every qpos entry (Gymnasium reset noise)', () => {
    const o = observeAtReset({ type: 'state' }, [{ type: 'qpos', uniform: [-0.1, 0.1], add: true }]);
    const qpos0 = [0, 0, 1, 1, 0, 0, 0, 0];
    for (let k = 0; k < 8; k++) {
      expect(Math.abs(o[k] - qpos0[k])).toBeLessThanOrEqual(0.1);
      expect(o[k]).not.toBe(qpos0[k]);
    }
  });

  it('a version-1 spec reads as before; version 2 is accepted', () => {
    expect(
      TaskSpecSchema.parse({ name: 'a', observations: [{ name: 'q', type: 'qpos' }], reward: { quantity: { type: 'alive' } } }).version,
    ).toBe(1);
    expect(
      TaskSpecSchema.parse({ version: 2, name: 'a', observations: [{ name: 'q', type: 'qpos' }], reward: { quantity: { type: 'alive' } } })
        .version,
    ).toBe(2);
    expect(
      TaskSpecSchema.safeParse({
        version: 3,
        name: 'a',
        observations: [{ name: 'q', type: 'qpos' }],
        reward: { quantity: { type: 'alive' } },
      }).success,
    ).toBe(false);
  });
});

describe('task spec mistakes and model files', () => {
  const dir = '/tmp/issue-20-spec-test';
  beforeAll(async () => {
    mj = await loadMujocoModule();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a reward mistake names its full path and the allowed values', () => {
    let err: unknown;
    try {
      parseTaskSpec(
        't.task.json',
        JSON.stringify({
          name: 't',
          observations: [{ name: 'q', type: 'qpos' }],
          reward: { product: [{ quantity: { type: 'speed' } }, { sum: [{ quantity: { type: 'alive' }, scale: 'x' }] }] },
        }),
      );
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    const details = (err as { details: { field?: string; message: string }[] }).details;
    const type = details.find((d) => d.field === 'reward.product[0].quantity.type');
    expect(type?.message).toContain("'joint_pos'");
    expect(type?.message).toContain("'displacement'");
    expect(details.some((d) => d.field === 'reward.product[1].sum[0].scale')).toBe(true);
    // A node with no known key lists the keys.
    expect(() =>
      parseTaskSpec('t.task.json', JSON.stringify({ name: 't', observations: [{ name: 'q', type: 'qpos' }], reward: { prod: [] } })),
    ).toThrow(/"product", "sum"/);
  });

  it('schema errors and name errors of one file come back together', async () => {
    const spec = {
      name: 't',
      observations: [
        { name: 'q', type: 'qpos', joints: ['nope'] },
        { name: 'bad', type: 'sensorz' },
      ],
      reward: { quantity: { type: 'position', point: { site: 'nosite' } } },
      episode_length: -1,
    };
    const v = await validateEnvFiles([
      { name: 'm.xml', content: XML },
      { name: 'm.task.json', content: JSON.stringify(spec) },
    ]);
    expect(v.ok).toBe(false);
    const fields = v.errors.map((e) => e.field);
    expect(fields).toContain('episode_length');
    expect(fields).toContain('observations[1].type');
    expect(fields).toContain('observations[0].joints[0]');
    expect(fields).toContain('reward.quantity.point.site');
  });

  it('unnamed elements get positional names, never the stray "emsc"', async () => {
    const xml = XML.replace('name="turn" ', '').replace('<body name="box"', '<body');
    const e = env({}, xml);
    expect(e.info.action.names).toEqual(['actuator_0']);
    e.dispose();
    expect(() => env({ reward: { quantity: { type: 'upright', body: 'nobody' } } }, xml)).toThrow(/the MJCF has world, arm\)/);
  });

  it('several task specs name one MJCF through "model"', async () => {
    writeFileSync(join(dir, 'arm.xml'), XML);
    const spec = (name: string, key: string): string =>
      JSON.stringify({
        version: 2,
        name,
        model: 'arm.xml',
        observations: [{ name: 'q', type: 'qpos' }],
        reward: { quantity: { type: 'alive' } },
        init: [{ type: 'keyframe', key }],
      });
    writeFileSync(join(dir, 'hold.task.json'), spec('hold', 'home'));
    writeFileSync(join(dir, 'bad.task.json'), spec('bad', 'away'));
    const hold = resolveEnv(join(dir, 'hold.task.json'));
    expect(hold.xml).toBe('arm.xml');
    const e = await MujocoEnv.create(hold);
    expect(e.reset(0)[7]).toBeCloseTo(0.5, 9);
    e.dispose();
    const bad = await MujocoEnv.create(resolveEnv(join(dir, 'bad.task.json'))).catch((x: unknown) => x);
    expect(String(bad)).toMatch(/init\[0\]\.key: unknown keyframe 'away' \(the MJCF has home\)/);
    const v = await validateEnvFiles([
      { name: 'arm.xml', content: XML },
      { name: 'hold.task.json', content: spec('hold', 'home') },
    ]);
    expect(v.ok).toBe(true);
  });
});
