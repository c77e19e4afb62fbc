/**
 * The one place that loads the MuJoCo WebAssembly module (@mujoco/mujoco 3.14, single-threaded
 * build: the `/mt` build needs `navigator` and fails on Node 20). One module per thread, loaded once
 * and cached; every caller awaits the same promise.
 */
import loadMujoco, { type MainModule, type MjModel, type MjData, type MjVFS } from '@mujoco/mujoco';
import { UserError } from '../util/errors.ts';
import { asBytes, type EnvFile } from './files.ts';

export type Mujoco = MainModule;
export type { MjModel, MjData, MjVFS };

let modulePromise: Promise<Mujoco> | null = null;

export function loadMujocoModule(): Promise<Mujoco> {
  if (!modulePromise) {
    // The loader logs MuJoCo warnings through console; the env reports them itself (StepResult.diverged).
    modulePromise = (loadMujoco as unknown as (opts?: object) => Promise<Mujoco>)({ printErr: () => {}, print: () => {} });
  }
  return modulePromise;
}

/** MuJoCo object types used with mj_name2id (values of mjtObj, stable across 3.x). */
export const OBJ = {
  body: 1,
  joint: 3,
  geom: 5,
  site: 6,
  camera: 7,
  light: 8,
  mesh: 10,
  texture: 13,
  material: 14,
  actuator: 19,
  sensor: 20,
  key: 24,
} as const;

/** mjtJoint values. */
export const JOINT = { free: 0, ball: 1, slide: 2, hinge: 3 } as const;

/** mjtWarning indices that mean the state went bad (MuJoCo resets the data when they fire). */
export const WARN_BADQPOS = 3;
export const WARN_BADQVEL = 4;
export const WARN_BADQACC = 5;
export const WARNING_NAMES = [
  'inertia',
  'contact buffer full',
  'constraint buffer full',
  'bad qpos (NaN/inf or huge)',
  'bad qvel (NaN/inf or huge)',
  'bad qacc (unstable simulation)',
  'bad ctrl',
];

/** Turns an error thrown from inside the WASM module into its message text. */
export function wasmErrorMessage(mj: Mujoco, e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'number') {
    // Embind exceptions thrown as pointers: ask the module for the message when it can tell.
    const m = mj as unknown as { getExceptionMessage?: (p: number) => [string, string] };
    if (m.getExceptionMessage) {
      try {
        return m.getExceptionMessage(e).filter(Boolean).join(': ');
      } catch {
        /* fall through */
      }
    }
    return `MuJoCo error (code ${e})`;
  }
  return String(e);
}

/**
 * Name of object `id` of type `type`, or '' when it has none. This build's mj_id2name returns a
 * stray string ("emsc") instead of null for unnamed elements, so a name counts only when it maps
 * back to the same id.
 */
export function nameOf(mj: Mujoco, model: MjModel, type: number, id: number): string {
  const name = mj.mj_id2name(model, type, id);
  return name && mj.mj_name2id(model, type, name) === id ? name : '';
}

/**
 * Boolean (mjtByte) model arrays such as jnt_limited cannot be read as arrays through these
 * bindings; the per-element accessors can. Read once at load.
 */
export function jointLimited(model: MjModel): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < model.njnt; i++) {
    const j = model.jnt(i);
    try {
      out.push(Boolean(firstOf(j.limited)));
    } finally {
      j.delete();
    }
  }
  return out;
}

export function actuatorCtrlLimited(model: MjModel): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < model.nu; i++) {
    const a = model.actuator(i);
    try {
      out.push(Boolean(firstOf(a.ctrllimited)));
    } finally {
      a.delete();
    }
  }
  return out;
}

function firstOf(v: unknown): unknown {
  return ArrayBuffer.isView(v) ? (v as unknown as ArrayLike<number>)[0] : v;
}

/** Compiles the MJCF from in-memory files through a MuJoCo virtual file system. */
export function loadModel(mj: Mujoco, files: EnvFile[], mainXml: string): MjModel {
  const vfs = new mj.MjVFS();
  try {
    for (const f of files) vfs.addBuffer(f.name, asBytes(f.content));
    return mj.MjModel.from_xml_path(mainXml, vfs);
  } catch (e) {
    throw new UserError({ file: mainXml, message: cleanMujocoMessage(wasmErrorMessage(mj, e)) });
  } finally {
    vfs.delete();
  }
}

/** MuJoCo's message on one line, keeping its element and line information. */
export function cleanMujocoMessage(msg: string): string {
  return msg
    .replace(/^MuJoCo Error:\s*/, '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}
