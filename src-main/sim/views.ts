/**
 * Typed views into one MjData's arrays. They are live views into WASM memory: they change with the
 * simulation, and they are detached when the WASM heap grows (any new MuJoCo object may grow it),
 * so `ensure()` re-fetches them; the env calls it around each step (a length check, no allocation).
 */
import type { MjData, MjModel } from './mujoco.ts';

/** Index of each array in `SimViews.arrays`, which compiled observations and rewards read by number. */
export const ARR = {
  qpos: 0,
  qvel: 1,
  xpos: 2,
  xipos: 3,
  xmat: 4,
  site_xpos: 5,
  geom_xpos: 6,
  sensordata: 7,
  cvel: 8,
  action: 9,
  xquat: 10,
  subtree_com: 11,
  subtree_linvel: 12,
  cfrc_ext: 13,
  actuator_force: 14,
  qfrc_constraint: 15,
  ctrl: 16,
  goal: 17,
} as const;
export type ArrayName = keyof typeof ARR;

/** Most goal points a task spec may declare (three numbers each in `SimViews.goal`). */
export const MAX_GOALS = 16;

export class SimViews {
  qpos!: Float64Array;
  qvel!: Float64Array;
  ctrl!: Float64Array;
  xpos!: Float64Array;
  xquat!: Float64Array;
  xipos!: Float64Array;
  xmat!: Float64Array;
  site_xpos!: Float64Array;
  geom_xpos!: Float64Array;
  sensordata!: Float64Array;
  cvel!: Float64Array;
  subtree_com!: Float64Array;
  subtree_linvel!: Float64Array;
  cfrc_ext!: Float64Array;
  actuator_force!: Float64Array;
  qfrc_constraint!: Float64Array;
  /** Model arrays the task may change per episode (reacher's target body, geom or site). */
  body_pos!: Float64Array;
  geom_pos!: Float64Array;
  site_pos!: Float64Array;
  /** The agent's last action in [-1, 1] (what `control` reward terms see). */
  readonly action: Float64Array;
  /** The task's goal points this episode, x y z each (not MuJoCo memory: never detached). */
  readonly goal = new Float64Array(3 * MAX_GOALS);
  /** The arrays named in ARR, by index (one element type, so the reads stay monomorphic). */
  readonly arrays: Float64Array[] = [];

  constructor(
    private readonly model: MjModel,
    private readonly data: MjData,
  ) {
    this.action = new Float64Array(model.nu);
    this.refresh();
  }

  /** Contacts in the current state. */
  get ncon(): number {
    return this.data.ncon;
  }

  refresh(): void {
    const d = this.data;
    this.qpos = d.qpos;
    this.qvel = d.qvel;
    this.ctrl = d.ctrl;
    this.xpos = d.xpos;
    this.xquat = d.xquat;
    this.xipos = d.xipos;
    this.xmat = d.xmat;
    this.site_xpos = d.site_xpos;
    this.geom_xpos = d.geom_xpos;
    this.sensordata = d.sensordata;
    this.cvel = d.cvel;
    this.subtree_com = d.subtree_com;
    this.subtree_linvel = d.subtree_linvel;
    this.cfrc_ext = d.cfrc_ext;
    this.actuator_force = d.actuator_force;
    this.qfrc_constraint = d.qfrc_constraint;
    this.body_pos = this.model.body_pos;
    this.geom_pos = this.model.geom_pos;
    this.site_pos = this.model.site_pos;
    for (const name of Object.keys(ARR) as ArrayName[]) this.arrays[ARR[name]] = this[name];
  }

  /** Re-fetches the views if WASM memory grew since they were taken (old buffers are detached). */
  ensure(): void {
    // A detached view has length 0 (cheaper to ask than its buffer); xpos always has the world body.
    if (this.xpos.length === 0) this.refresh();
  }

  /** Bytes of WebAssembly memory the MuJoCo module holds (it grows and never shrinks). */
  get wasmBytes(): number {
    this.ensure();
    return this.xpos.buffer.byteLength;
  }
}
