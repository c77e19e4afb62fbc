/**
 * The initial state of a task spec: goal points drawn per episode, then the init steps in order
 * (keyframe, joint and velocity draws, initial control, moved geoms / sites / bodies, settling,
 * rejection of starts in contact).
 */
import type { Goal, InitStep } from '../api/task-spec.ts';
import { JOINT, OBJ } from './mujoco.ts';
import type { Rng } from '../util/rng.ts';
import type { SimViews } from './views.ts';
import type { ModelIndex } from './task-model.ts';

/** One init step; 'redo' asks to redraw everything since the last rejection step. */
export type InitFn = (v: SimViews, rng: Rng) => 'redo' | void;

interface Place {
  value?: [number, number, number];
  uniform?: [[number, number], [number, number], [number, number]];
  disc?: { radius: [number, number]; angle: [number, number]; z: number; uniform_area?: boolean };
}

/** Draws a point of a place into out[at..at+3]. */
function drawPlace(p: Place, rng: Rng, out: Float64Array, at: number): void {
  if (p.value) for (let k = 0; k < 3; k++) out[at + k] = p.value[k];
  else if (p.uniform) for (let k = 0; k < 3; k++) out[at + k] = rng.range(p.uniform[k][0], p.uniform[k][1]);
  else if (p.disc) {
    const [x, y] = discPoint(rng, p.disc.radius, p.disc.angle, p.disc.uniform_area ?? false);
    out[at] = x;
    out[at + 1] = y;
    out[at + 2] = p.disc.z;
  }
}

/**
 * dm_control reacher's draw: angle ~ U(angle), radius ~ U(radius), x = r sin(angle), y = r cos(angle).
 * With `uniformArea`, the radius is drawn so points are uniform over the annulus's area (Gymnasium
 * reacher's rejection sampling in a square gives that distribution on a disc).
 */
function discPoint(rng: Rng, radius: [number, number], angle: [number, number], uniformArea: boolean): [number, number] {
  const a = rng.range(angle[0], angle[1]);
  const r = uniformArea ? Math.sqrt(rng.range(radius[0] ** 2, radius[1] ** 2)) : rng.range(radius[0], radius[1]);
  return [r * Math.sin(a), r * Math.cos(a)];
}

export function drawGoals(goals: Goal[], v: SimViews, rng: Rng): void {
  goals.forEach((g, i) => drawPlace(g, rng, v.goal, 3 * i));
}

export function initStep(ix: ModelIndex, st: InitStep, field: string): InitFn {
  const { mj, model, data } = ix;
  switch (st.type) {
    case 'keyframe': {
      const key = ix.id(OBJ.key, st.key, `${field}.key`);
      return (v) => {
        mj.mj_resetDataKeyframe(model, data, key);
        v.ensure();
      };
    }
    case 'joints_in_range': {
      const joints = ix.ids(OBJ.joint, st.joints, `${field}.joints`, ix.range(model.njnt));
      return (v, rng) => {
        // dm_control randomizers.randomize_limited_and_rotational_joints.
        for (const j of joints) {
          if (j < 0) continue;
          const a = ix.jntQposAdr[j];
          const t = ix.jntType[j];
          if ((t === JOINT.hinge || t === JOINT.slide) && ix.jntLimited[j])
            v.qpos[a] = rng.range(ix.jntRange[2 * j], ix.jntRange[2 * j + 1]);
          else if (t === JOINT.hinge) v.qpos[a] = rng.range(-Math.PI, Math.PI);
          else if (t === JOINT.ball) randomQuat(rng, v.qpos, a);
          else if (t === JOINT.free) randomQuat(rng, v.qpos, a + 3);
        }
      };
    }
    case 'qpos':
    case 'qvel': {
      const isPos = st.type === 'qpos';
      // Listed joints: their entries (hinge and slide only for qpos); none listed: every entry.
      const entries: number[] = [];
      if (st.joints) {
        if (isPos) for (const j of ix.scalarJoints(st.joints, `${field}.joints`)) entries.push(ix.jntQposAdr[j] ?? 0);
        else
          st.joints.forEach((n, k) => {
            const j = ix.id(OBJ.joint, n, `${field}.joints[${k}]`);
            if (j >= 0) for (let d = 0; d < ix.dofWidth(j); d++) entries.push(ix.jntDofAdr[j] + d);
          });
      } else entries.push(...ix.range(isPos ? model.nq : model.nv));
      const { uniform, normal, value, add } = st;
      return (v, rng) => {
        const arr = isPos ? v.qpos : v.qvel;
        for (const a of entries) {
          const x = value !== undefined ? value : uniform ? rng.range(uniform[0], uniform[1]) : (normal ?? 0) * rng.normal();
          arr[a] = add ? arr[a] + x : x;
        }
      };
    }
    case 'ctrl': {
      const acts = ix.ids(OBJ.actuator, st.actuators, `${field}.actuators`, ix.range(model.nu));
      return (v) => {
        for (const u of acts) if (u >= 0) v.ctrl[u] = st.value;
      };
    }
    case 'body_in_disc': {
      const b = ix.id(OBJ.body, st.body, `${field}.body`);
      if (b >= 0 && (ix.bodyParent[b] !== 0 || ix.bodyJntNum[b] !== 0))
        ix.add(`${field}.body`, `body '${st.body}' must be a direct child of the world with no joints`);
      return (v, rng) => {
        const [x, y] = discPoint(rng, st.radius, st.angle, false);
        v.body_pos[3 * b] = x;
        v.body_pos[3 * b + 1] = y;
      };
    }
    case 'move': {
      const [type, name, key] =
        st.geom !== undefined
          ? [OBJ.geom, st.geom, 'geom']
          : st.site !== undefined
            ? [OBJ.site, st.site, 'site']
            : [OBJ.body, st.body ?? '', 'body'];
      const i = ix.id(type, name, `${field}.${key}`);
      if (type === OBJ.body && i === 0) ix.add(`${field}.body`, 'the world body cannot move');
      const g = st.goal !== undefined ? ix.goal(st.goal, `${field}.goal`) : -1;
      return (v, rng) => {
        const arr = type === OBJ.geom ? v.geom_pos : type === OBJ.site ? v.site_pos : v.body_pos;
        if (g >= 0) for (let k = 0; k < 3; k++) arr[3 * i + k] = v.goal[3 * g + k];
        else drawPlace(st, rng, arr, 3 * i);
      };
    }
    case 'joints_in_disc': {
      const [jx, jy] = ix.scalarJoints(st.joints, `${field}.joints`).map((j) => ix.jntQposAdr[j] ?? 0);
      return (v, rng) => {
        const [x, y] = discPoint(rng, st.radius, st.angle, st.uniform_area);
        v.qpos[jx] = x;
        v.qpos[jy] = y;
      };
    }
    case 'settle':
      return (v) => {
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

function randomQuat(rng: Rng, q: Float64Array, at: number): void {
  let n = 0;
  const r = [0, 0, 0, 0];
  while (n < 1e-6) {
    for (let k = 0; k < 4; k++) r[k] = rng.normal();
    n = Math.hypot(r[0], r[1], r[2], r[3]);
  }
  for (let k = 0; k < 4; k++) q[at + k] = r[k] / n;
}
