/**
 * A bare MJCF turned into a starting point (`rl-studio envs init MODEL.xml`, and a bare-MJCF drop in
 * the studio): the model compiled, its named joints, bodies, sites, sensors, actuators, cameras and
 * keyframes listed, and a starter task spec written that validates as it is, for the researcher to
 * edit (the reward it starts with only keeps the model alive and its control small).
 */
import type { EnvStarter, ModelInventory, TaskSpecInput } from '../api/task-spec.ts';
import { UserError } from '../util/errors.ts';
import { loadModel } from './mujoco.ts';
import type { EnvFile } from './files.ts';
import { asText, precheckFiles, scanXml } from './files.ts';
import { OBJ, loadMujocoModule, nameOf, type Mujoco, type MjModel } from './mujoco.ts';

const JOINT_TYPES = ['free', 'ball', 'slide', 'hinge'] as const;
/** Control timestep the starter aims at (dm_control's suite mostly runs at 50 Hz or faster). */
const TARGET_CONTROL_DT = 0.02;

function names(mj: Mujoco, model: MjModel, type: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => nameOf(mj, model, type, i) || `#${i}`);
}

export type { ModelInventory };

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
      sum: [{ quantity: { type: 'alive' } }, { quantity: { type: 'control' }, reduce: 'sumsq', scale: -0.001 }],
    },
    // Free joints' quaternions take the noise too (as Gymnasium's reset noise does); MuJoCo normalises them.
    init: [
      ...(key ? [{ type: 'keyframe' as const, key }] : []),
      { type: 'qpos', uniform: [-0.01, 0.01], add: true },
      { type: 'qvel', uniform: [-0.01, 0.01], add: true },
    ],
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
    if (model.nu === 0)
      throw new UserError({
        file: xml,
        message: 'the model has no actuators, so there is nothing for an agent to control; add an <actuator> section first',
      });
    return { inventory: inv, spec: starterSpec(inv, xml) };
  } finally {
    model.delete();
  }
}

const TASK_SUFFIX = '.task.json';

/**
 * The MJCF of a bare drop (no task spec among the files), or null when a spec came with them: the
 * one top-level .xml that no other dropped XML includes (a Menagerie `scene.xml` includes its robot's
 * file). Several candidates are a user mistake: the spec's `model` field is what tells them apart.
 */
export function bareModel(files: EnvFile[]): string | null {
  if (files.some((f) => f.name.endsWith(TASK_SUFFIX) && !f.name.includes('/'))) return null;
  const xmls = files.filter((f) => f.name.toLowerCase().endsWith('.xml'));
  if (!xmls.length) throw new UserError({ message: 'no MJCF (.xml) among the files' });
  const included = new Set(
    xmls.flatMap((f) =>
      scanXml(f.name, asText(f.content))
        .refs.filter((r) => r.element === 'include')
        .map((r) => r.path),
    ),
  );
  const roots = xmls.filter((f) => !f.name.includes('/') && !included.has(f.name)).map((f) => f.name);
  if (roots.length === 1) return roots[0];
  if (!roots.length) throw new UserError({ message: 'no top-level MJCF: every .xml is included by another or sits in a subfolder' });
  throw new UserError({
    message: `several MJCF files (${roots.join(', ')}) and no task spec to say which is the model: drop one MJCF with its assets, or run \`rl-studio envs init\` on the one you mean`,
  });
}

/** The starter for a bare MJCF as files: what `envs init` writes beside it, as text, with the inventory. */
export async function starterFor(files: EnvFile[], xml: string): Promise<EnvStarter> {
  const { inventory: inv, spec } = await scaffoldEnv(files, xml);
  return { xml, specFile: `${xml.replace(/\.xml$/i, '')}${TASK_SUFFIX}`, specText: JSON.stringify(spec, null, 2) + '\n', inventory: inv };
}
