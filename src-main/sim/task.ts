/**
 * Compiles a task spec against a compiled MuJoCo model: every name is resolved to an index once,
 * here. Every scalar an observation, reward term or termination reads becomes one row of a flat
 * table (an op and the array indices it reads), evaluated by one loop: no allocation, no closure or
 * keyed property load per value, so the code stays monomorphic when one process runs several envs.
 */
import type { InitStep, Observation, Point, Quantity, RewardNode, TaskSpec, Termination } from '../api/task-spec.ts';
import type { ErrorDetail } from '../util/errors.ts';
import type { ObsPart } from './types.ts';
import { JOINT, OBJ, jointLimited, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import { reduce, scaledTolerance, sigmoidScale, wrapAngle } from './rewards.ts';
import type { Rng } from '../util/rng.ts';
import { ARR, type ArrayName, type SimViews } from './views.ts';

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
  /** Writes the observation into out[at, at + obsSize). */
  observe(v: SimViews, out: Float32Array, at?: number): void;
  reward(v: SimViews): number;
  terminated(v: SimViews): boolean;
  /** Applies the initial-state randomisation (after mj_resetData), ending with mj_forward. */
  initialise(v: SimViews, rng: Rng): void;
}

/** Ops of the element table: how one scalar is computed from SimViews.arrays. */
const COPY = 0; // A[i]
const DIFF = 1; // A[i] - B[j]
const LOG1P = 2; // log1p(A[i])
const WRAP = 3; // A[i] folded into [-pi, pi]
const ONE = 4; // 1
const COM_VEL = 5; // linear velocity of body i's centre of mass (root j) along axis m
const DIST = 6; // sqrt(sum over the axes packed in m of (A[i + axis] - B[j + axis])^2)
/** Most axes a distance may list (their count takes 4 bits of `m`, each axis 2). */
const MAX_DIST_AXES = 13;

/** The element table, one column per field; plain arrays of small integers (V8 keeps them unboxed). */
class Elements {
  readonly op: number[] = [];
  readonly a: number[] = [];
  readonly i: number[] = [];
  readonly b: number[] = [];
  readonly j: number[] = [];
  readonly m: number[] = [];

  get length(): number {
    return this.op.length;
  }

  add(op: number, a: ArrayName, i: number, b: ArrayName = 'qpos', j = 0, m = 0): void {
    this.op.push(op);
    this.a.push(ARR[a]);
    this.i.push(i);
    this.b.push(ARR[b]);
    this.j.push(j);
    this.m.push(m);
  }

  /** Evaluates elements [from, to) into out[at...]. */
  evaluate(from: number, to: number, v: SimViews, out: Float32Array | Float64Array, at: number): void {
    const { op, a, i, b, j, m } = this;
    const arrays = v.arrays;
    for (let k = from; k < to; k++) {
      const x = arrays[a[k]];
      let y: number;
      switch (op[k]) {
        case COPY:
          y = x[i[k]];
          break;
        case DIFF:
          y = x[i[k]] - arrays[b[k]][j[k]];
          break;
        case LOG1P:
          y = Math.log1p(x[i[k]]);
          break;
        case WRAP:
          y = wrapAngle(x[i[k]]);
          break;
        case ONE:
          y = 1;
          break;
        case COM_VEL:
          y = comVelocity(v, i[k], j[k], m[k]);
          break;
        default: {
          const z = arrays[b[k]];
          const axes = m[k];
          let s = 0;
          for (let n = 0; n < (axes & 15); n++) {
            const ax = (axes >> (4 + 2 * n)) & 3;
            s += (x[i[k] + ax] - z[j[k] + ax]) ** 2;
          }
          y = Math.sqrt(s);
        }
      }
      out[at + k - from] = y;
    }
  }
}

/** Elements [from, to) of the table. */
interface Span {
  from: number;
  to: number;
}

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

  const el = new Elements();
  /** Runs `add` (which appends elements) and returns the span it appended. */
  const span = (add: () => void): Span => {
    const from = el.length;
    add();
    return { from, to: el.length };
  };

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

  /** Appends the elements of a quantity (reward terms, terminations, and the observations built from them). */
  const quantity = (q: Quantity, field: string): Span =>
    span(() => {
      switch (q.type) {
        case 'joint_pos':
          for (const j of scalarJoints(q.joints, `${field}.joints`)) el.add(q.wrap ? WRAP : COPY, 'qpos', jntQposAdr[j] ?? 0);
          return;
        case 'joint_vel':
          for (const j of scalarJoints(q.joints, `${field}.joints`)) el.add(COPY, 'qvel', jntDofAdr[j] ?? 0);
          return;
        case 'sensor': {
          const s = id(OBJ.sensor, q.sensor, `${field}.sensor`, 'sensor');
          const dim = s >= 0 ? sensorDim[s] : 1;
          const idx = q.index ?? Array.from({ length: dim }, (_, k) => k);
          idx.forEach((k, n) => k >= dim && p.add(`${field}.index[${n}]`, `sensor '${q.sensor}' has ${dim} values; index ${k} is out of range`));
          for (const k of idx) el.add(COPY, 'sensordata', (s >= 0 ? sensorAdr[s] : 0) + k);
          return;
        }
        case 'position': {
          const pt = point(q.point, `${field}.point`);
          for (const a of q.axes) el.add(COPY, pt.arr, 3 * pt.i + AXIS[a]);
          return;
        }
        case 'relative': {
          const from = point(q.from, `${field}.from`);
          const to = point(q.to, `${field}.to`);
          for (const a of q.axes) el.add(DIFF, to.arr, 3 * to.i + AXIS[a], from.arr, 3 * from.i + AXIS[a]);
          return;
        }
        case 'distance': {
          const from = point(q.from, `${field}.from`);
          const to = point(q.to, `${field}.to`);
          // The axes in their given order (the sum's order), 2 bits each after a 4-bit count.
          if (q.axes.length > MAX_DIST_AXES) p.add(`${field}.axes`, `lists ${q.axes.length} axes; a distance takes at most ${MAX_DIST_AXES}`);
          const axes = q.axes.slice(0, MAX_DIST_AXES).reduce((m, a, n) => m | (AXIS[a] << (4 + 2 * n)), Math.min(q.axes.length, MAX_DIST_AXES));
          el.add(DIST, to.arr, 3 * to.i, from.arr, 3 * from.i, axes);
          return;
        }
        case 'upright':
          el.add(COPY, 'xmat', 9 * id(OBJ.body, q.body, `${field}.body`, 'body') + 8);
          return;
        case 'body_speed': {
          const b = id(OBJ.body, q.body, `${field}.body`, 'body');
          el.add(COM_VEL, 'qpos', b, 'qpos', bodyRoot[b] ?? 0, AXIS[q.axis]);
          return;
        }
        case 'control':
          for (let k = 0; k < model.nu; k++) el.add(COPY, 'action', k);
          return;
        case 'alive':
          el.add(ONE, 'qpos', 0);
          return;
      }
    });

  // Observations come first, so the observation is elements [0, obsSize).
  const obsParts: ObsPart[] = [];
  spec.observations.forEach((o, i) => {
    const s = observation(o, `observations[${i}]`);
    obsParts.push({ name: o.name, offset: s.from, size: s.to - s.from });
  });
  const obsSize = el.length;

  function observation(o: Observation, field: string): Span {
    switch (o.type) {
      case 'qpos':
      case 'qvel': {
        const pick = o.joints ? o.joints.map((n, k) => id(OBJ.joint, n, `${field}.joints[${k}]`, 'joint')) : Array.from({ length: model.njnt }, (_, k) => k);
        const excl = new Set(o.exclude.map((n, k) => id(OBJ.joint, n, `${field}.exclude[${k}]`, 'joint')));
        return span(() => {
          for (const j of pick) {
            if (j < 0 || excl.has(j)) continue;
            const base = o.type === 'qpos' ? jntQposAdr[j] : jntDofAdr[j];
            const n = o.type === 'qpos' ? qposWidth(j) : dofWidth(j);
            for (let k = 0; k < n; k++) el.add(COPY, o.type, base + k);
          }
        });
      }
      case 'sensors': {
        const s = span(() => o.sensors.forEach((name, k) => quantity({ type: 'sensor', sensor: name }, `${field}.sensors[${k}]`)));
        if (o.transform === 'log1p') for (let k = s.from; k < s.to; k++) el.op[k] = LOG1P;
        return s;
      }
      case 'positions':
        return span(() => o.points.forEach((pt, k) => quantity({ type: 'position', point: pt, axes: o.axes }, `${field}.points[${k}]`)));
      case 'height':
        return span(() => o.points.forEach((pt, k) => quantity({ type: 'position', point: pt, axes: ['z'] }, `${field}.points[${k}]`)));
      case 'relative':
        return quantity({ type: 'relative', from: o.from, to: o.to, axes: o.axes }, field);
      case 'orientations': {
        const bodies = o.bodies ? o.bodies.map((n, k) => id(OBJ.body, n, `${field}.bodies[${k}]`, 'body')) : Array.from({ length: model.nbody - 1 }, (_, k) => k + 1);
        return span(() => {
          for (const b of bodies) for (const e of o.entries) el.add(COPY, 'xmat', 9 * b + XMAT[e]);
        });
      }
      case 'body_velocity': {
        const bodies = o.bodies.map((n, k) => id(OBJ.body, n, `${field}.bodies[${k}]`, 'body'));
        return span(() => {
          for (const b of bodies) {
            if (o.kind !== 'angular') for (let a = 0; a < 3; a++) el.add(COM_VEL, 'qpos', b, 'qpos', bodyRoot[b] ?? 0, a);
            if (o.kind !== 'linear') for (let a = 0; a < 3; a++) el.add(COPY, 'cvel', 6 * b + a);
          }
        });
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
    const n = q.to - q.from;
    const buf = new Float64Array(Math.max(1, n));
    const tol = node.tolerance;
    const lo = tol ? bound(tol.bounds[0]) : 0;
    const hi = tol ? bound(tol.bounds[1]) : 0;
    const sigScale = tol ? sigmoidScale(tol.value_at_margin, tol.sigmoid) : 0;
    const how = node.reduce;
    const { scale, offset } = node;
    return (v) => {
      el.evaluate(q.from, q.to, v, buf, 0);
      if (tol) for (let k = 0; k < n; k++) buf[k] = scaledTolerance(buf[k], lo, hi, tol.margin, tol.sigmoid, sigScale);
      return offset + scale * reduce(buf, n, how);
    };
  }

  // Termination.
  const terms = spec.termination.map((t: Termination, i) => {
    const q = quantity(t.quantity, `termination[${i}].quantity`);
    const n = q.to - q.from;
    const buf = new Float64Array(Math.max(1, n));
    const below = t.below ?? -Infinity;
    const above = t.above ?? Infinity;
    return (v: SimViews): boolean => {
      el.evaluate(q.from, q.to, v, buf, 0);
      const x = reduce(buf, n, t.reduce);
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
      observe(v, out, at = 0) {
        el.evaluate(0, obsSize, v, out, at);
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
