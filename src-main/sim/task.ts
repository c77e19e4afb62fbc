/**
 * Compiles a task spec against a compiled MuJoCo model: every name is resolved to an index once,
 * here, and the observation, reward, termination and initial-state functions that come out read
 * the simulation through SimViews without allocating.
 */
import type { InitStep, Observation, Point, Quantity, RewardNode, TaskSpec, Termination } from '../api/task-spec.ts';
import type { ErrorDetail } from '../util/errors.ts';
import type { ObsPart } from './types.ts';
import { JOINT, OBJ, jointLimited, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import { reduce, tolerance, wrapAngle } from './rewards.ts';
import type { Rng } from '../util/rng.ts';
import type { SimViews } from './views.ts';

/** Collects naming errors while compiling so one pass reports all of them. */
class Problems {
  readonly list: ErrorDetail[] = [];
  constructor(readonly file: string) {}
  add(field: string, message: string): void {
    this.list.push({ file: this.file, field, message });
  }
}

export interface CompiledTask {
  obsSize: number;
  obsParts: ObsPart[];
  /** Writes the observation into `out` (length obsSize). */
  observe(v: SimViews, out: Float32Array): void;
  reward(v: SimViews): number;
  terminated(v: SimViews): boolean;
  /** Applies the initial-state randomisation (after mj_resetData), ending with mj_forward. */
  initialise(v: SimViews, rng: Rng): void;
}

type Reader = { size: number; read(v: SimViews, out: Float64Array, at: number): void };

const AXIS = { x: 0, y: 1, z: 2 } as const;
const XMAT = { xx: 0, xy: 1, xz: 2, yx: 3, yy: 4, yz: 5, zx: 6, zy: 7, zz: 8 } as const;

export function compileTask(mj: Mujoco, model: MjModel, data: MjData, spec: TaskSpec, file: string): { task?: CompiledTask; errors: ErrorDetail[] } {
  const p = new Problems(file);
  const id = (type: number, name: string, field: string, what: string): number => {
    const i = mj.mj_name2id(model, type, name);
    if (i < 0) p.add(field, `unknown ${what} '${name}' (the MJCF has ${listNames(mj, model, type) || 'none'})`);
    return i;
  };

  const jntType = Array.from(model.jnt_type as Int32Array);
  const jntQposAdr = Array.from(model.jnt_qposadr as Int32Array);
  const jntDofAdr = Array.from(model.jnt_dofadr as Int32Array);
  const jntLimited = jointLimited(model);
  const jntRange = Array.from(model.jnt_range as Float64Array);
  const bodyRoot = Array.from(model.body_rootid as Int32Array);
  const bodyParent = Array.from(model.body_parentid as Int32Array);
  const bodyJntNum = Array.from(model.body_jntnum as Int32Array);
  const sensorAdr = Array.from(model.sensor_adr as Int32Array);
  const sensorDim = Array.from(model.sensor_dim as Int32Array);
  const qposWidth = (j: number): number => (jntType[j] === JOINT.free ? 7 : jntType[j] === JOINT.ball ? 4 : 1);
  const dofWidth = (j: number): number => (jntType[j] === JOINT.free ? 6 : jntType[j] === JOINT.ball ? 3 : 1);

  const point = (pt: Point, field: string): { arr: 'site_xpos' | 'xpos' | 'xipos' | 'geom_xpos'; i: number } => {
    if ('site' in pt) return { arr: 'site_xpos', i: id(OBJ.site, pt.site, `${field}.site`, 'site') };
    if ('geom' in pt) return { arr: 'geom_xpos', i: id(OBJ.geom, pt.geom, `${field}.geom`, 'geom') };
    return { arr: pt.frame === 'com' ? 'xipos' : 'xpos', i: id(OBJ.body, pt.body, `${field}.body`, 'body') };
  };

  const scalarJoints = (names: string[], field: string): number[] =>
    names.map((n, k) => {
      const j = id(OBJ.joint, n, `${field}[${k}]`, 'joint');
      if (j >= 0 && jntType[j] !== JOINT.hinge && jntType[j] !== JOINT.slide) p.add(`${field}[${k}]`, `joint '${n}' is a ball or free joint; only hinge and slide joints have a scalar position`);
      return j;
    });

  const quantity = (q: Quantity, field: string): Reader => {
    switch (q.type) {
      case 'joint_pos': {
        const adr = scalarJoints(q.joints, `${field}.joints`).map((j) => jntQposAdr[j] ?? 0);
        const wrap = q.wrap;
        return { size: adr.length, read: (v, out, at) => {
          for (let k = 0; k < adr.length; k++) {
            const a = adr[k];
            out[at + k] = wrap ? wrapAngle(v.qpos[a]) : v.qpos[a];
          }
        } };
      }
      case 'joint_vel': {
        const adr = scalarJoints(q.joints, `${field}.joints`).map((j) => jntDofAdr[j] ?? 0);
        return { size: adr.length, read: (v, out, at) => {
          for (let k = 0; k < adr.length; k++) {
            const a = adr[k];
            out[at + k] = v.qvel[a];
          }
        } };
      }
      case 'sensor': {
        const s = id(OBJ.sensor, q.sensor, `${field}.sensor`, 'sensor');
        const dim = s >= 0 ? sensorDim[s] : 1;
        const idx = q.index ?? Array.from({ length: dim }, (_, k) => k);
        idx.forEach((k, n) => k >= dim && p.add(`${field}.index[${n}]`, `sensor '${q.sensor}' has ${dim} values; index ${k} is out of range`));
        const adr = idx.map((k) => (s >= 0 ? sensorAdr[s] : 0) + k);
        return { size: adr.length, read: (v, out, at) => {
          for (let k = 0; k < adr.length; k++) {
            const a = adr[k];
            out[at + k] = v.sensordata[a];
          }
        } };
      }
      case 'position': {
        const pt = point(q.point, `${field}.point`);
        const ax = q.axes.map((a) => AXIS[a]);
        return { size: ax.length, read: (v, out, at) => {
          for (let k = 0; k < ax.length; k++) {
            const a = ax[k];
            out[at + k] = v[pt.arr][3 * pt.i + a];
          }
        } };
      }
      case 'relative':
      case 'distance': {
        const from = point(q.from, `${field}.from`);
        const to = point(q.to, `${field}.to`);
        const ax = q.axes.map((a) => AXIS[a]);
        if (q.type === 'relative') {
          return { size: ax.length, read: (v, out, at) => {
          for (let k = 0; k < ax.length; k++) {
            const a = ax[k];
            out[at + k] = v[to.arr][3 * to.i + a] - v[from.arr][3 * from.i + a];
          }
        } };
        }
        return {
          size: 1,
          read: (v, out, at) => {
            let s = 0;
            for (let k = 0; k < ax.length; k++) s += (v[to.arr][3 * to.i + ax[k]] - v[from.arr][3 * from.i + ax[k]]) ** 2;
            out[at] = Math.sqrt(s);
          },
        };
      }
      case 'upright': {
        const b = id(OBJ.body, q.body, `${field}.body`, 'body');
        return { size: 1, read: (v, out, at) => (out[at] = v.xmat[9 * b + 8]) };
      }
      case 'body_speed': {
        const b = id(OBJ.body, q.body, `${field}.body`, 'body');
        const a = AXIS[q.axis];
        return { size: 1, read: (v, out, at) => (out[at] = comVelocity(v, b, bodyRoot[b] ?? 0, a)) };
      }
      case 'control':
        return { size: model.nu, read: (v, out, at) => out.set(v.action, at) };
      case 'alive':
        return { size: 1, read: (_v, out, at) => (out[at] = 1) };
    }
  };

  // Observations.
  const obsParts: ObsPart[] = [];
  const obsWriters: ((v: SimViews, out: Float32Array) => void)[] = [];
  let obsSize = 0;
  spec.observations.forEach((o, i) => {
    const field = `observations[${i}]`;
    const w = observation(o, field);
    obsParts.push({ name: o.name, offset: obsSize, size: w.size });
    const off = obsSize;
    const scratch = new Float64Array(w.size);
    const log1p = o.type === 'sensors' && o.transform === 'log1p';
    obsWriters.push((v, out) => {
      w.read(v, scratch, 0);
      for (let k = 0; k < scratch.length; k++) out[off + k] = log1p ? Math.log1p(scratch[k]) : scratch[k];
    });
    obsSize += w.size;
  });

  function observation(o: Observation, field: string): Reader {
    switch (o.type) {
      case 'qpos':
      case 'qvel': {
        const pick = o.joints ? o.joints.map((n, k) => id(OBJ.joint, n, `${field}.joints[${k}]`, 'joint')) : Array.from({ length: model.njnt }, (_, k) => k);
        const excl = new Set(o.exclude.map((n, k) => id(OBJ.joint, n, `${field}.exclude[${k}]`, 'joint')));
        const adr: number[] = [];
        for (const j of pick) {
          if (j < 0 || excl.has(j)) continue;
          const base = o.type === 'qpos' ? jntQposAdr[j] : jntDofAdr[j];
          const n = o.type === 'qpos' ? qposWidth(j) : dofWidth(j);
          for (let k = 0; k < n; k++) adr.push(base + k);
        }
        const src = o.type;
        return { size: adr.length, read: (v, out, at) => {
          for (let k = 0; k < adr.length; k++) {
            const a = adr[k];
            out[at + k] = v[src][a];
          }
        } };
      }
      case 'sensors': {
        const readers = o.sensors.map((s, k) => quantity({ type: 'sensor', sensor: s }, `${field}.sensors[${k}]`));
        return concat(readers);
      }
      case 'positions':
        return concat(o.points.map((pt, k) => quantity({ type: 'position', point: pt, axes: o.axes }, `${field}.points[${k}]`)));
      case 'height':
        return concat(o.points.map((pt, k) => quantity({ type: 'position', point: pt, axes: ['z'] }, `${field}.points[${k}]`)));
      case 'relative':
        return quantity({ type: 'relative', from: o.from, to: o.to, axes: o.axes }, field);
      case 'orientations': {
        const bodies = o.bodies ? o.bodies.map((n, k) => id(OBJ.body, n, `${field}.bodies[${k}]`, 'body')) : Array.from({ length: model.nbody - 1 }, (_, k) => k + 1);
        const adr: number[] = [];
        for (const b of bodies) for (const e of o.entries) adr.push(9 * b + XMAT[e]);
        return { size: adr.length, read: (v, out, at) => {
          for (let k = 0; k < adr.length; k++) {
            const a = adr[k];
            out[at + k] = v.xmat[a];
          }
        } };
      }
      case 'body_velocity': {
        const bodies = o.bodies.map((n, k) => id(OBJ.body, n, `${field}.bodies[${k}]`, 'body'));
        const lin = o.kind !== 'angular';
        const ang = o.kind !== 'linear';
        const per = (lin ? 3 : 0) + (ang ? 3 : 0);
        return {
          size: bodies.length * per,
          read: (v, out, at) => {
            for (let n = 0; n < bodies.length; n++) {
              const b = bodies[n];
              let k = at + n * per;
              if (lin) for (let a = 0; a < 3; a++) out[k++] = comVelocity(v, b, bodyRoot[b] ?? 0, a);
              if (ang) for (let a = 0; a < 3; a++) out[k++] = v.cvel[6 * b + a];
            }
          },
        };
      }
    }
  }

  // Reward.
  const rewardFn = rewardNode(spec.reward, 'reward');
  function rewardNode(node: RewardNode, field: string): (v: SimViews) => number {
    if ('product' in node) {
      const parts = node.product.map((n, k) => rewardNode(n, `${field}.product[${k}]`));
      return (v) => {
        let r = 1;
        for (const f of parts) r *= f(v);
        return r;
      };
    }
    if ('sum' in node) {
      const parts = node.sum.map((n, k) => rewardNode(n, `${field}.sum[${k}]`));
      const w = node.weights ?? parts.map(() => 1);
      return (v) => {
        let r = 0;
        for (let k = 0; k < parts.length; k++) r += w[k] * parts[k](v);
        return r;
      };
    }
    const q = quantity(node.quantity, `${field}.quantity`);
    const buf = new Float64Array(Math.max(1, q.size));
    const tol = node.tolerance;
    const lo = tol ? bound(tol.bounds[0]) : 0;
    const hi = tol ? bound(tol.bounds[1]) : 0;
    const how = node.reduce;
    const { scale, offset } = node;
    return (v) => {
      q.read(v, buf, 0);
      if (tol) for (let k = 0; k < q.size; k++) buf[k] = tolerance(buf[k], lo, hi, tol.margin, tol.sigmoid, tol.value_at_margin);
      return offset + scale * reduce(buf, q.size, how);
    };
  }

  // Termination.
  const terms = spec.termination.map((t: Termination, i) => {
    const q = quantity(t.quantity, `termination[${i}].quantity`);
    const buf = new Float64Array(Math.max(1, q.size));
    const below = t.below ?? -Infinity;
    const above = t.above ?? Infinity;
    return (v: SimViews): boolean => {
      q.read(v, buf, 0);
      const x = reduce(buf, q.size, t.reduce);
      return x < below || x > above;
    };
  });

  // Initial state.
  const initSteps = spec.init.map((st, i) => initStep(st, `init[${i}]`));
  function initStep(st: InitStep, field: string): (v: SimViews, rng: Rng) => 'redo' | void {
    switch (st.type) {
      case 'joints_in_range': {
        const joints = st.joints ? st.joints.map((n, k) => id(OBJ.joint, n, `${field}.joints[${k}]`, 'joint')) : Array.from({ length: model.njnt }, (_, k) => k);
        return (v, rng) => {
          // dm_control randomizers.randomize_limited_and_rotational_joints.
          for (const j of joints) {
            if (j < 0) continue;
            const a = jntQposAdr[j];
            const t = jntType[j];
            if ((t === JOINT.hinge || t === JOINT.slide) && jntLimited[j]) v.qpos[a] = rng.range(jntRange[2 * j], jntRange[2 * j + 1]);
            else if (t === JOINT.hinge) v.qpos[a] = rng.range(-Math.PI, Math.PI);
            else if (t === JOINT.ball) randomQuat(rng, v.qpos, a);
            else if (t === JOINT.free) randomQuat(rng, v.qpos, a + 3);
          }
        };
      }
      case 'qpos': {
        const adr = scalarJoints(st.joints, `${field}.joints`).map((j) => jntQposAdr[j] ?? 0);
        return (v, rng) => {
          for (const a of adr) {
            const x = st.value !== undefined ? st.value : st.uniform ? rng.range(st.uniform[0], st.uniform[1]) : (st.normal ?? 0) * rng.normal();
            v.qpos[a] = st.add ? v.qpos[a] + x : x;
          }
        };
      }
      case 'qvel': {
        const dofs: number[] = [];
        if (st.joints) {
          st.joints.forEach((n, k) => {
            const j = id(OBJ.joint, n, `${field}.joints[${k}]`, 'joint');
            if (j >= 0) for (let d = 0; d < dofWidth(j); d++) dofs.push(jntDofAdr[j] + d);
          });
        } else for (let d = 0; d < model.nv; d++) dofs.push(d);
        return (v, rng) => {
          for (const d of dofs) v.qvel[d] = st.uniform ? rng.range(st.uniform[0], st.uniform[1]) : (st.normal ?? 0) * rng.normal();
        };
      }
      case 'body_in_disc': {
        const b = id(OBJ.body, st.body, `${field}.body`, 'body');
        if (b >= 0 && (bodyParent[b] !== 0 || bodyJntNum[b] !== 0)) p.add(`${field}.body`, `body '${st.body}' must be a direct child of the world with no joints`);
        return (v, rng) => {
          // dm_control reacher: angle ~ U(0, 2pi), radius ~ U(.05, .20), x = r sin(angle), y = r cos(angle).
          const angle = rng.range(st.angle[0], st.angle[1]);
          const r = rng.range(st.radius[0], st.radius[1]);
          v.body_pos[3 * b] = r * Math.sin(angle);
          v.body_pos[3 * b + 1] = r * Math.cos(angle);
        };
      }
      case 'joints_in_disc': {
        const [jx, jy] = scalarJoints(st.joints, `${field}.joints`).map((j) => jntQposAdr[j] ?? 0);
        return (v, rng) => {
          // Same draw as body_in_disc (dm_control reacher).
          const angle = rng.range(st.angle[0], st.angle[1]);
          const r = rng.range(st.radius[0], st.radius[1]);
          v.qpos[jx] = r * Math.sin(angle);
          v.qpos[jy] = r * Math.cos(angle);
        };
      }
      case 'settle':
        return (v) => {
          v.ctrl.fill(0);
          for (let k = 0; k < st.steps; k++) mj.mj_step(model, data);
          v.ensure();
          data.time = 0;
        };
      case 'reject_contacts':
        return () => {
          mj.mj_forward(model, data);
          return data.ncon > 0 ? 'redo' : undefined;
        };
    }
  }

  if (spec.camera !== undefined) id(OBJ.camera, spec.camera, 'camera', 'camera');
  if (p.list.length) return { errors: p.list };

  return {
    errors: [],
    task: {
      obsSize,
      obsParts,
      observe(v, out) {
        for (const w of obsWriters) w(v, out);
      },
      reward: rewardFn,
      terminated(v) {
        for (const t of terms) if (t(v)) return true;
        return false;
      },
      initialise(v, rng) {
        let start = 0;
        let tries = 0;
        for (let k = 0; k < initSteps.length; k++) {
          if (initSteps[k](v, rng) === 'redo') {
            const st = spec.init[k];
            const max = st.type === 'reject_contacts' ? st.tries : 1;
            if (++tries < max) {
              mj.mj_resetData(model, data);
              v.ensure();
              k = start - 1;
              continue;
            }
          }
          if (spec.init[k].type === 'reject_contacts') {
            start = k + 1;
            tries = 0;
          }
        }
        mj.mj_forward(model, data);
        v.ensure();
      },
    },
  };
}

/** Linear velocity of body b's centre of mass along world axis a, from cvel (as mj_objectVelocity). */
function comVelocity(v: SimViews, b: number, root: number, a: number): number {
  const c = v.cvel;
  // cvel = [angular; linear] at the subtree com of the root, world orientation: v_p = lin + ang x (p - com_root).
  const dx = v.xipos[3 * b] - v.subtree_com[3 * root];
  const dy = v.xipos[3 * b + 1] - v.subtree_com[3 * root + 1];
  const dz = v.xipos[3 * b + 2] - v.subtree_com[3 * root + 2];
  const wx = c[6 * b];
  const wy = c[6 * b + 1];
  const wz = c[6 * b + 2];
  if (a === 0) return c[6 * b + 3] + wy * dz - wz * dy;
  if (a === 1) return c[6 * b + 4] + wz * dx - wx * dz;
  return c[6 * b + 5] + wx * dy - wy * dx;
}

function randomQuat(rng: Rng, q: Float64Array, at: number): void {
  let n = 0;
  const r = [0, 0, 0, 0];
  while (n < 1e-6) {
    for (let k = 0; k < 4; k++) r[k] = rng.normal();
    n = Math.hypot(r[0], r[1], r[2], r[3]);
  }
  for (let k = 0; k < 4; k++) q[at + k] = r[k] / n;
}

function concat(readers: Reader[]): Reader {
  const size = readers.reduce((s, r) => s + r.size, 0);
  return {
    size,
    read: (v, out, at) => {
      let o = at;
      for (const r of readers) {
        r.read(v, out, o);
        o += r.size;
      }
    },
  };
}

function bound(b: number | 'inf' | '-inf'): number {
  return b === 'inf' ? Infinity : b === '-inf' ? -Infinity : b;
}

function listNames(mj: Mujoco, model: MjModel, type: number): string {
  const n = ({ [OBJ.body]: model.nbody, [OBJ.joint]: model.njnt, [OBJ.site]: model.nsite, [OBJ.geom]: model.ngeom, [OBJ.sensor]: model.nsensor, [OBJ.camera]: model.ncam } as Record<number, number>)[type] ?? 0;
  const names: string[] = [];
  for (let i = 0; i < n && names.length < 20; i++) {
    const s = mj.mj_id2name(model, type, i);
    if (s) names.push(s);
  }
  return names.join(', ');
}
