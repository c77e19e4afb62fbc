/**
 * A bare MJCF turned into a starting point (`rl-studio envs init MODEL.xml`, and a bare-MJCF drop in
 * the studio): the model compiled, its named joints, bodies, sites, sensors, actuators, cameras and
 * keyframes listed, and a starter task spec written that validates as it is, for the researcher to
 * edit (the reward it starts with only keeps the model alive and its control small).
 */
import type { TaskSpecInput } from '../api/task-spec.ts';
import { UserError } from '../util/errors.ts';
import { loadModel } from './mujoco.ts';
import type { EnvFile } from './files.ts';
import { precheckFiles } from './files.ts';
import { OBJ, loadMujocoModule, nameOf, type Mujoco, type MjModel } from './mujoco.ts';

/** The model's elements by kind: names, or `#index` for unnamed ones (the spec can only name named ones). */
export interface ModelInventory {
  timestep: number;
  joints: { name: string; type: 'free' | 'ball' | 'slide' | 'hinge' }[];
  bodies: string[];
  sites: string[];
  sensors: string[];
  actuators: string[];
  cameras: string[];
  keyframes: string[];
}

const JOINT_TYPES = ['free', 'ball', 'slide', 'hinge'] as const;
/** Control timestep the starter aims at (dm_control's suite mostly runs at 50 Hz or faster). */
const TARGET_CONTROL_DT = 0.02;

function names(mj: Mujoco, model: MjModel, type: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => nameOf(mj, model, type, i) || `#${i}`);
}

export function inventory(mj: Mujoco, model: MjModel): ModelInventory {
  const jntType = model.jnt_type as Int32Array;
  return {
    timestep: model.opt.timestep,
    joints: names(mj, model, OBJ.joint, model.njnt).map((name, j) => ({ name, type: JOINT_TYPES[jntType[j]] ?? 'hinge' })),
    bodies: names(mj, model, OBJ.body, model.nbody),
    sites: names(mj, model, OBJ.site, model.nsite),
    sensors: names(mj, model, OBJ.sensor, model.nsensor),
    actuators: names(mj, model, OBJ.actuator, model.nu),
    cameras: names(mj, model, OBJ.camera, model.ncam),
    keyframes: names(mj, model, OBJ.key, model.nkey),
  };
}

/** A starter spec for the model: every joint's position and velocity observed, an alive reward with a small control cost. */
export function starterSpec(inv: ModelInventory, xml: string): TaskSpecInput {
  const stem = xml.replace(/^.*\//, '').replace(/\.xml$/i, '');
  const named = (list: string[]): string[] => list.filter((n) => !n.startsWith('#'));
  const sensors = named(inv.sensors);
  const hasFree = inv.joints.some((j) => j.type === 'free');
  const key = named(inv.keyframes)[0];
  const camera = named(inv.cameras)[0];
  return {
    version: 2,
    name: stem,
    description: `Starter task written by \`rl-studio envs init\` for ${xml}: edit the reward (it only rewards staying alive with small controls), the observations and the initial state.`,
    model: xml,
    frame_skip: Math.max(1, Math.round(TARGET_CONTROL_DT / inv.timestep)),
    episode_length: 1000,
    observations: [
      { name: 'position', type: 'qpos' },
      { name: 'velocity', type: 'qvel' },
      ...(sensors.length ? [{ name: 'sensors', type: 'sensors' as const, sensors }] : []),
    ],
    reward: {
      sum: [
        { quantity: { type: 'alive' } },
        { quantity: { type: 'control' }, reduce: 'sumsq', scale: -0.001 },
      ],
    },
    // Free joints' quaternions take the noise too (as Gymnasium's reset noise does); MuJoCo normalises them.
    init: [...(key ? [{ type: 'keyframe' as const, key }] : []), { type: 'qpos', uniform: [-0.01, 0.01], add: true }, { type: 'qvel', uniform: [-0.01, 0.01], add: true }],
    termination: hasFree ? [{ state_not_finite: true }] : [],
    ...(camera ? { camera } : {}),
  };
}

/** Compiles an MJCF given as in-memory files and returns its inventory and a starter spec; a model MuJoCo refuses throws its message. */
export async function scaffoldEnv(files: EnvFile[], xml: string): Promise<{ inventory: ModelInventory; spec: TaskSpecInput }> {
  const pre = precheckFiles(files, xml);
  if (pre.length) throw new UserError(pre);
  const mj = await loadMujocoModule();
  const model = loadModel(mj, files, xml);
  try {
    const inv = inventory(mj, model);
    if (model.nu === 0) throw new UserError({ file: xml, message: 'the model has no actuators, so there is nothing for an agent to control; add an <actuator> section first' });
    return { inventory: inv, spec: starterSpec(inv, xml) };
  } finally {
    model.delete();
  }
}
