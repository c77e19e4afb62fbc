/**
 * Quantities and observation parts of a task spec, compiled into rows of the element table: every
 * name resolved to an index here, once.
 */
import type { Observation, Point, Quantity } from '../api/task-spec.ts';
import { JOINT, OBJ } from './mujoco.ts';
import type { Elements } from './task-elements.ts';
import { AXIS, MAX_DIST_AXES, OP, POST, XMAT, type Span } from './task-elements.ts';
import type { ModelIndex } from './task-model.ts';

/** MuJoCo computations a task needs beyond mj_step (cfrc_ext needs mj_rnePostConstraint, subtree_linvel mj_subtreeVel). */
export interface Needs {
  forces: boolean;
  subtreeVelocity: boolean;
}

type PointArray = 'site_xpos' | 'xpos' | 'xipos' | 'geom_xpos' | 'goal';

export class QuantityCompiler {
  constructor(
    readonly ix: ModelIndex,
    readonly el: Elements,
    readonly needs: Needs = { forces: false, subtreeVelocity: false },
  ) {}

  /** Runs `add` (which appends elements) and returns the span it appended. */
  span(add: () => void): Span {
    const from = this.el.length;
    add();
    return { from, to: this.el.length };
  }

  point(pt: Point, field: string): { arr: PointArray; i: number } {
    const ix = this.ix;
    if ('site' in pt) return { arr: 'site_xpos', i: ix.id(OBJ.site, pt.site, `${field}.site`) };
    if ('geom' in pt) return { arr: 'geom_xpos', i: ix.id(OBJ.geom, pt.geom, `${field}.geom`) };
    if ('goal' in pt) return { arr: 'goal', i: ix.goal(pt.goal, `${field}.goal`) };
    return { arr: pt.frame === 'com' ? 'xipos' : 'xpos', i: ix.id(OBJ.body, pt.body, `${field}.body`) };
  }

  /** Appends the elements of a quantity (reward terms, terminations, and the observations built from them). */
  quantity(q: Quantity, field: string): Span {
    const { ix, el } = this;
    const model = ix.model;
    return this.span(() => {
      switch (q.type) {
        case 'joint_pos':
          for (const j of ix.scalarJoints(q.joints, `${field}.joints`)) el.add(q.wrap ? OP.WRAP : OP.COPY, 'qpos', ix.jntQposAdr[j] ?? 0);
          return;
        case 'joint_vel':
          for (const j of ix.scalarJoints(q.joints, `${field}.joints`)) el.add(OP.COPY, 'qvel', ix.jntDofAdr[j] ?? 0);
          return;
        case 'free_joint': {
          const j = ix.id(OBJ.joint, q.joint, `${field}.joint`);
          if (j >= 0 && ix.jntType[j] !== JOINT.free) ix.add(`${field}.joint`, `joint '${q.joint}' is not a free joint`);
          const qa = ix.jntQposAdr[j] ?? 0;
          const da = ix.jntDofAdr[j] ?? 0;
          if (q.part === 'quaternion') for (let k = 0; k < 4; k++) el.add(OP.COPY, 'qpos', qa + 3 + k);
          else {
            const [arr, base] =
              q.part === 'position'
                ? (['qpos', qa] as const)
                : q.part === 'linear_velocity'
                  ? (['qvel', da] as const)
                  : (['qvel', da + 3] as const);
            for (const a of q.axes) el.add(OP.COPY, arr, base + AXIS[a]);
          }
          return;
        }
        case 'state':
          for (let k = 0; k < model.nq; k++) el.add(OP.COPY, 'qpos', k);
          for (let k = 0; k < model.nv; k++) el.add(OP.COPY, 'qvel', k);
          return;
        case 'sensor': {
          const s = ix.id(OBJ.sensor, q.sensor, `${field}.sensor`);
          const dim = s >= 0 ? ix.sensorDim[s] : 1;
          const idx = q.index ?? ix.range(dim);
          idx.forEach(
            (k, n) => k >= dim && ix.add(`${field}.index[${n}]`, `sensor '${q.sensor}' has ${dim} values; index ${k} is out of range`),
          );
          for (const k of idx) el.add(OP.COPY, 'sensordata', (s >= 0 ? ix.sensorAdr[s] : 0) + k);
          return;
        }
        case 'position': {
          const pt = this.point(q.point, `${field}.point`);
          for (const a of q.axes) el.add(OP.COPY, pt.arr, 3 * pt.i + AXIS[a]);
          return;
        }
        case 'relative': {
          const from = this.point(q.from, `${field}.from`);
          const to = this.point(q.to, `${field}.to`);
          if (q.frame !== undefined) {
            const b = Math.max(0, ix.id(OBJ.body, q.frame, `${field}.frame`));
            for (const a of q.axes) el.add(OP.EGO, to.arr, 3 * to.i, from.arr, 3 * from.i, 3 * b + AXIS[a]);
          } else for (const a of q.axes) el.add(OP.DIFF, to.arr, 3 * to.i + AXIS[a], from.arr, 3 * from.i + AXIS[a]);
          return;
        }
        case 'distance': {
          const from = this.point(q.from, `${field}.from`);
          const to = this.point(q.to, `${field}.to`);
          // The axes in their given order (the sum's order), 2 bits each after a 4-bit count.
          if (q.axes.length > MAX_DIST_AXES)
            ix.add(`${field}.axes`, `lists ${q.axes.length} axes; a distance takes at most ${MAX_DIST_AXES}`);
          const axes = q.axes
            .slice(0, MAX_DIST_AXES)
            .reduce((m, a, n) => m | (AXIS[a] << (4 + 2 * n)), Math.min(q.axes.length, MAX_DIST_AXES));
          el.add(OP.DIST, to.arr, 3 * to.i, from.arr, 3 * from.i, axes);
          return;
        }
        case 'upright':
          el.add(OP.COPY, 'xmat', 9 * ix.id(OBJ.body, q.body, `${field}.body`) + 8);
          return;
        case 'quaternion': {
          const b = ix.id(OBJ.body, q.body, `${field}.body`);
          for (let k = 0; k < 4; k++) el.add(OP.COPY, 'xquat', 4 * b + k);
          return;
        }
        case 'body_speed': {
          const b = ix.id(OBJ.body, q.body, `${field}.body`);
          el.add(OP.COM_VEL, 'qpos', b, 'qpos', ix.bodyRoot[b] ?? 0, AXIS[q.axis]);
          return;
        }
        case 'com':
        case 'com_velocity': {
          const b = q.body === undefined ? 0 : ix.id(OBJ.body, q.body, `${field}.body`);
          if (q.type === 'com_velocity') this.needs.subtreeVelocity = true;
          for (const a of q.axes) el.add(OP.COPY, q.type === 'com' ? 'subtree_com' : 'subtree_linvel', 3 * b + AXIS[a]);
          return;
        }
        case 'contact_force': {
          this.needs.forces = true;
          for (const b of ix.ids(OBJ.body, q.bodies, `${field}.bodies`, ix.range(model.nbody, 1)))
            for (let k = 0; k < 6; k++) el.add(OP.COPY, 'cfrc_ext', 6 * b + k);
          return;
        }
        case 'actuator_force':
          for (const u of ix.ids(OBJ.actuator, q.actuators, `${field}.actuators`, ix.range(model.nu))) el.add(OP.COPY, 'actuator_force', u);
          return;
        case 'constraint_force': {
          const joints = ix.ids(OBJ.joint, q.joints, `${field}.joints`, ix.range(model.njnt));
          for (const j of joints)
            for (let d = 0; d < (j >= 0 ? ix.dofWidth(j) : 0); d++) el.add(OP.COPY, 'qfrc_constraint', ix.jntDofAdr[j] + d);
          return;
        }
        case 'contact_count':
          el.add(OP.CONTACTS, 'qpos', 0);
          return;
        case 'control':
          for (let k = 0; k < model.nu; k++) el.add(OP.COPY, 'action', k);
          return;
        case 'ctrl':
          for (const u of ix.ids(OBJ.actuator, q.actuators, `${field}.actuators`, ix.range(model.nu))) el.add(OP.COPY, 'ctrl', u);
          return;
        case 'alive':
          el.add(OP.ONE, 'qpos', 0);
          return;
        case 'displacement': {
          // The differentiated quantity's rows live in the inner table, outside every span.
          const sub = new QuantityCompiler(ix, el.inner, this.needs);
          const inner = sub.quantity(q.of, `${field}.of`);
          for (let k = inner.from; k < inner.to; k++) el.addDelta(k);
          return;
        }
      }
    });
  }

  /** Appends an observation part's elements, transformed and clipped as the part asks. */
  observation(o: Observation, field: string): Span {
    const s = this.observationElements(o, field);
    const [lo, hi] = o.clip ?? [-Infinity, Infinity];
    this.el.setPost(s, POST[o.transform], lo, hi);
    return s;
  }

  private observationElements(o: Observation, field: string): Span {
    const { ix, el } = this;
    const model = ix.model;
    switch (o.type) {
      case 'qpos':
      case 'qvel': {
        const pick = ix.ids(OBJ.joint, o.joints, `${field}.joints`, ix.range(model.njnt));
        const excl = new Set(o.exclude.map((n, k) => ix.id(OBJ.joint, n, `${field}.exclude[${k}]`)));
        return this.span(() => {
          for (const j of pick) {
            if (j < 0 || excl.has(j)) continue;
            const base = o.type === 'qpos' ? ix.jntQposAdr[j] : ix.jntDofAdr[j];
            const n = o.type === 'qpos' ? ix.qposWidth(j) : ix.dofWidth(j);
            for (let k = 0; k < n; k++) el.add(OP.COPY, o.type, base + k);
          }
        });
      }
      case 'sensors':
        return this.span(() => o.sensors.forEach((name, k) => this.quantity({ type: 'sensor', sensor: name }, `${field}.sensors[${k}]`)));
      case 'positions':
        return this.span(() =>
          o.points.forEach((pt, k) => this.quantity({ type: 'position', point: pt, axes: o.axes }, `${field}.points[${k}]`)),
        );
      case 'height':
        return this.span(() =>
          o.points.forEach((pt, k) => this.quantity({ type: 'position', point: pt, axes: ['z'] }, `${field}.points[${k}]`)),
        );
      case 'relative':
        return this.quantity({ type: 'relative', from: o.from, to: o.to, axes: o.axes, frame: o.frame }, field);
      case 'orientations': {
        const bodies = ix.ids(OBJ.body, o.bodies, `${field}.bodies`, ix.range(model.nbody, 1));
        return this.span(() => {
          for (const b of bodies) for (const e of o.entries) el.add(OP.COPY, 'xmat', 9 * b + XMAT[e]);
        });
      }
      case 'body_velocity': {
        const bodies = o.bodies.map((n, k) => ix.id(OBJ.body, n, `${field}.bodies[${k}]`));
        return this.span(() => {
          for (const b of bodies) {
            if (o.kind !== 'angular') for (let a = 0; a < 3; a++) el.add(OP.COM_VEL, 'qpos', b, 'qpos', ix.bodyRoot[b] ?? 0, a);
            if (o.kind !== 'linear') for (let a = 0; a < 3; a++) el.add(OP.COPY, 'cvel', 6 * b + a);
          }
        });
      }
      case 'quantity':
        return this.quantity(o.quantity, `${field}.quantity`);
    }
  }
}
