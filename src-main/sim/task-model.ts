/**
 * What compiling a task spec needs to know about the compiled model, read once: names resolved to
 * ids (collecting every unknown name with the names the model does have), joint addresses and
 * widths, and the problems found so far, so one pass reports all of them.
 */
import type { ErrorDetail } from '../util/errors.ts';
import { JOINT, OBJ, jointLimited, nameOf, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import type { Goal } from '../api/task-spec.ts';

/** Collects naming errors while compiling so one pass reports all of them. */
export class Problems {
  readonly list: ErrorDetail[] = [];
  constructor(readonly file: string) {}
  add(field: string, message: string): void {
    this.list.push({ file: this.file, field, message });
  }
}

const OBJ_WORDS: Record<number, string> = {
  [OBJ.body]: 'body',
  [OBJ.joint]: 'joint',
  [OBJ.geom]: 'geom',
  [OBJ.site]: 'site',
  [OBJ.camera]: 'camera',
  [OBJ.actuator]: 'actuator',
  [OBJ.sensor]: 'sensor',
  [OBJ.key]: 'keyframe',
};

export class ModelIndex {
  readonly jntType: number[];
  readonly jntQposAdr: number[];
  readonly jntDofAdr: number[];
  readonly jntLimited: boolean[];
  readonly jntRange: number[];
  readonly bodyRoot: number[];
  readonly bodyParent: number[];
  readonly bodyJntNum: number[];
  readonly sensorAdr: number[];
  readonly sensorDim: number[];
  readonly geomBody: number[];
  readonly siteBody: number[];
  readonly problems: Problems;

  constructor(
    readonly mj: Mujoco,
    readonly model: MjModel,
    readonly data: MjData,
    file: string,
    readonly goals: Goal[],
  ) {
    this.problems = new Problems(file);
    this.jntType = Array.from(model.jnt_type as Int32Array);
    this.jntQposAdr = Array.from(model.jnt_qposadr as Int32Array);
    this.jntDofAdr = Array.from(model.jnt_dofadr as Int32Array);
    this.jntLimited = jointLimited(model);
    this.jntRange = Array.from(model.jnt_range as Float64Array);
    this.bodyRoot = Array.from(model.body_rootid as Int32Array);
    this.bodyParent = Array.from(model.body_parentid as Int32Array);
    this.bodyJntNum = Array.from(model.body_jntnum as Int32Array);
    this.sensorAdr = Array.from(model.sensor_adr as Int32Array);
    this.sensorDim = Array.from(model.sensor_dim as Int32Array);
    this.geomBody = Array.from(model.geom_bodyid as Int32Array);
    this.siteBody = Array.from(model.site_bodyid as Int32Array);
  }

  add(field: string, message: string): void {
    this.problems.add(field, message);
  }

  /** The id of a named element, or -1 (and a problem listing the names the model has). */
  id(type: number, name: string, field: string): number {
    const i = this.mj.mj_name2id(this.model, type, name);
    if (i < 0)
      this.add(
        field,
        `unknown ${OBJ_WORDS[type] ?? 'element'} '${name}' (the MJCF has ${listNames(this.mj, this.model, type) || 'none named'})`,
      );
    return i;
  }

  /** Ids of named elements (a problem per unknown one), or every id `0..count` when `names` is omitted. */
  ids(type: number, names: string[] | undefined, field: string, all: number[]): number[] {
    return names ? names.map((n, k) => this.id(type, n, `${field}[${k}]`)) : all;
  }

  goal(name: string, field: string): number {
    const g = this.goals.findIndex((x) => x.name === name);
    if (g < 0)
      this.add(
        field,
        `unknown goal '${name}' (the spec's goals: ${this.goals.map((x) => x.name).join(', ') || 'none; declare it under "goals"'})`,
      );
    return g;
  }

  qposWidth(j: number): number {
    return this.jntType[j] === JOINT.free ? 7 : this.jntType[j] === JOINT.ball ? 4 : 1;
  }

  dofWidth(j: number): number {
    return this.jntType[j] === JOINT.free ? 6 : this.jntType[j] === JOINT.ball ? 3 : 1;
  }

  /** Hinge or slide joints by name (ball and free joints have no scalar position). */
  scalarJoints(names: string[], field: string): number[] {
    return names.map((n, k) => {
      const j = this.id(OBJ.joint, n, `${field}[${k}]`);
      if (j >= 0 && this.jntType[j] !== JOINT.hinge && this.jntType[j] !== JOINT.slide)
        this.add(`${field}[${k}]`, `joint '${n}' is a ball or free joint; only hinge and slide joints have a scalar position`);
      return j;
    });
  }

  range(n: number, from = 0): number[] {
    return Array.from({ length: n - from }, (_, k) => k + from);
  }
}

/** The first 20 named elements of a type, for "unknown name" messages (unnamed elements are skipped). */
export function listNames(mj: Mujoco, model: MjModel, type: number): string {
  const n =
    (
      {
        [OBJ.body]: model.nbody,
        [OBJ.joint]: model.njnt,
        [OBJ.site]: model.nsite,
        [OBJ.geom]: model.ngeom,
        [OBJ.sensor]: model.nsensor,
        [OBJ.camera]: model.ncam,
        [OBJ.actuator]: model.nu,
        [OBJ.key]: model.nkey,
      } as Record<number, number>
    )[type] ?? 0;
  const names: string[] = [];
  for (let i = 0; i < n && names.length < 20; i++) {
    const s = nameOf(mj, model, type, i);
    if (s) names.push(s);
  }
  return names.join(', ');
}
