/**
 * Typed views into one MjData's arrays. They are live views into WASM memory: they change with the
 * simulation, and they are detached when the WASM heap grows (any new MuJoCo object may grow it),
 * so `ensure()` re-fetches them; the env calls it once per step (a length check, no allocation).
 */
import type { MjData, MjModel } from './mujoco.ts';

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
  /** Model arrays the task may change per episode (reacher's target). */
  body_pos!: Float64Array;
  /** The agent's last action in [-1, 1] (what `control` reward terms see). */
  readonly action: Float64Array;

  constructor(
    private readonly model: MjModel,
    private readonly data: MjData,
  ) {
    this.action = new Float64Array(model.nu);
    this.refresh();
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
    this.body_pos = this.model.body_pos;
  }

  /** Re-fetches the views if WASM memory grew since they were taken (old buffers are detached). */
  ensure(): void {
    if (this.xpos.buffer.byteLength === 0) this.refresh();
  }
}
