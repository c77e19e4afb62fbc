/**
 * The element table a compiled task evaluates: every scalar an observation, reward term or
 * termination reads is one row (an op and the array indices it reads), evaluated by one loop: no
 * allocation, no closure or keyed property load per value, so the code stays monomorphic when one
 * process runs several envs.
 */
import { ARR, type ArrayName, type SimViews } from './views.ts';
import { wrapAngle } from './rewards.ts';

/** Ops of the element table: how one scalar is computed from SimViews.arrays. */
export const OP = {
  /** A[i] */
  COPY: 0,
  /** A[i] - B[j] */
  DIFF: 1,
  /** A[i] folded into [-pi, pi] */
  WRAP: 2,
  /** 1 */
  ONE: 3,
  /** Linear velocity of body i's centre of mass (root j) along axis m. */
  COM_VEL: 4,
  /** sqrt(sum over the axes packed in m of (A[i + axis] - B[j + axis])^2) */
  DIST: 5,
  /** Axis m % 3 of (A[i..i+3] - B[j..j+3]) in the frame of body floor(m / 3) (egocentric). */
  EGO: 6,
  /** Contacts in the current state. */
  CONTACTS: 7,
  /** (value of inner row i now - its value before the step, kept in slot j) / control timestep. */
  DELTA: 8,
} as const;

/** Transforms applied after the op (observation parts' `transform`). */
export const POST = { none: 0, log1p: 1, sin: 2, cos: 3 } as const;

/** Most axes a distance may list (their count takes 4 bits of `m`, each axis 2). */
export const MAX_DIST_AXES = 13;

export const AXIS = { x: 0, y: 1, z: 2 } as const;
export const XMAT = { xx: 0, xy: 1, xz: 2, yx: 3, yy: 4, yz: 5, zx: 6, zy: 7, zz: 8 } as const;

/** Elements [from, to) of the table. */
export interface Span {
  from: number;
  to: number;
}

/** The element table, one column per field; plain arrays of small integers (V8 keeps them unboxed). */
export class Elements {
  readonly op: number[] = [];
  readonly a: number[] = [];
  readonly i: number[] = [];
  readonly b: number[] = [];
  readonly j: number[] = [];
  readonly m: number[] = [];
  readonly post: number[] = [];
  readonly lo: number[] = [];
  readonly hi: number[] = [];
  /** Values before the step of the elements that DELTA rows differentiate (slot j of each). */
  previous = new Float64Array(0);
  /** Element index whose value goes in each slot of `previous`. */
  readonly previousOf: number[] = [];
  /** 1 / control timestep, for DELTA rows. */
  perSecond = 1;

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
    this.post.push(POST.none);
    this.lo.push(-Infinity);
    this.hi.push(Infinity);
  }

  /** Rows that DELTA rows differentiate (kept apart so they are not part of any observation or term). */
  private innerTable: Elements | null = null;

  get inner(): Elements {
    return (this.innerTable ??= new Elements());
  }

  /** Adds a row that differentiates row `inner` of the inner table over the agent step. */
  addDelta(inner: number): void {
    this.add(OP.DELTA, 'qpos', inner, 'qpos', this.previousOf.length);
    this.previousOf.push(inner);
    this.previous = new Float64Array(this.previousOf.length);
  }

  /** Sets the transform and clip range of elements [from, to). */
  setPost(s: Span, post: number, lo: number, hi: number): void {
    for (let k = s.from; k < s.to; k++) {
      this.post[k] = post;
      this.lo[k] = lo;
      this.hi[k] = hi;
    }
  }

  /** Records the values DELTA rows compare against (called before the physics steps and at reset). */
  remember(v: SimViews): void {
    const { previous, previousOf } = this;
    for (let s = 0; s < previous.length; s++) previous[s] = this.inner.value(previousOf[s], v);
  }

  /** The value of element k before its transform and clip. */
  value(k: number, v: SimViews): number {
    const arrays = v.arrays;
    const x = arrays[this.a[k]];
    const i = this.i[k];
    switch (this.op[k]) {
      case OP.COPY:
        return x[i];
      case OP.DIFF:
        return x[i] - arrays[this.b[k]][this.j[k]];
      case OP.WRAP:
        return wrapAngle(x[i]);
      case OP.ONE:
        return 1;
      case OP.COM_VEL:
        return comVelocity(v, i, this.j[k], this.m[k]);
      case OP.DIST: {
        const z = arrays[this.b[k]];
        const j = this.j[k];
        const axes = this.m[k];
        let s = 0;
        for (let n = 0; n < (axes & 15); n++) {
          const ax = (axes >> (4 + 2 * n)) & 3;
          s += (x[i + ax] - z[j + ax]) ** 2;
        }
        return Math.sqrt(s);
      }
      case OP.EGO: {
        const z = arrays[this.b[k]];
        const j = this.j[k];
        const m = this.m[k];
        const r = 9 * Math.floor(m / 3);
        const ax = m % 3;
        const xmat = v.xmat;
        // xmat maps body axes to world (row-major), so a body-frame entry is column `ax` dotted with the world vector.
        return xmat[r + ax] * (x[i] - z[j]) + xmat[r + 3 + ax] * (x[i + 1] - z[j + 1]) + xmat[r + 6 + ax] * (x[i + 2] - z[j + 2]);
      }
      case OP.CONTACTS:
        return v.ncon;
      default:
        return ((this.innerTable as Elements).value(i, v) - this.previous[this.j[k]]) * this.perSecond;
    }
  }

  /** Evaluates elements [from, to) into out[at...], each transformed and clipped. */
  evaluate(from: number, to: number, v: SimViews, out: Float32Array | Float64Array, at: number): void {
    const { post, lo, hi } = this;
    for (let k = from; k < to; k++) {
      let y = this.value(k, v);
      switch (post[k]) {
        case POST.none:
          break;
        case POST.log1p:
          y = Math.log1p(y);
          break;
        case POST.sin:
          y = Math.sin(y);
          break;
        default:
          y = Math.cos(y);
      }
      out[at + k - from] = y < lo[k] ? lo[k] : y > hi[k] ? hi[k] : y;
    }
  }
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
