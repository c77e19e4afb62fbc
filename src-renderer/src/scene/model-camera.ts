/**
 * Where MuJoCo puts a model's camera for one frame of body poses (mj_camlight), as plain math so
 * it is the same in the viewer, the pixel render host and a Node test against MuJoCo itself:
 * - fixed: rigidly attached to its body;
 * - track / trackcom: world orientation of the initial state, following the body's origin (track)
 *   or its subtree's centre of mass (trackcom) at the initial offset;
 * - targetbody / targetbodycom: attached to its body, looking at the target body's origin or its
 *   subtree's centre of mass, with +z up.
 *
 * Centres of mass need masses, which SceneModel does not carry: each body's mass and centre are
 * taken from its geoms' volumes at one density, which is how MuJoCo derives them when a model gives
 * no masses (inertiafromgeom; `settotalmass` scales all of them alike) — exact for the built-in
 * suite's tracking cameras (cheetah, walker, hopper), approximate where a model sets masses or
 * densities of its own (pendulum-swingup's targetbodycom camera looks at a point between its
 * massless pole and its bob). Pose layout: nbody x 7 (x, y, z, qw, qx, qy, qz) per frame.
 */
import type { SceneCamera, SceneGeom, SceneModel } from '../../../src-main/api/scene.ts';

export interface CameraPose {
  position: Float64Array;
  /** w, x, y, z */
  quaternion: Float64Array;
}

export function newCameraPose(): CameraPose {
  return { position: new Float64Array(3), quaternion: new Float64Array([1, 0, 0, 0]) };
}

/** Volume of a geom (0 for planes, height fields and SDFs, which MuJoCo gives no mass). */
export function geomVolume(g: SceneGeom, model: SceneModel): number {
  const [a, b, c] = g.size;
  switch (g.type) {
    case 'sphere':
      return (4 / 3) * Math.PI * a ** 3;
    case 'capsule':
      return Math.PI * a * a * 2 * b + (4 / 3) * Math.PI * a ** 3;
    case 'cylinder':
      return Math.PI * a * a * 2 * b;
    case 'ellipsoid':
      return (4 / 3) * Math.PI * a * b * c;
    case 'box':
      return 8 * a * b * c;
    case 'mesh': {
      const m = g.mesh !== undefined ? model.meshes[g.mesh] : undefined;
      if (!m) return 0;
      // Sum of signed tetrahedra from the origin over the triangles.
      const v = m.vertices;
      let vol = 0;
      for (let f = 0; f < m.faces.length; f += 3) {
        const i = 3 * m.faces[f];
        const j = 3 * m.faces[f + 1];
        const k = 3 * m.faces[f + 2];
        vol +=
          v[i] * (v[j + 1] * v[k + 2] - v[j + 2] * v[k + 1]) -
          v[i + 1] * (v[j] * v[k + 2] - v[j + 2] * v[k]) +
          v[i + 2] * (v[j] * v[k + 1] - v[j + 1] * v[k]);
      }
      return Math.abs(vol) / 6;
    }
    default:
      return 0;
  }
}

/** Rotates (x, y, z) by the unit quaternion (w, qx, qy, qz) at q[o..o+3]; writes into out[0..2]. */
function rotate(q: ArrayLike<number>, o: number, x: number, y: number, z: number, out: Float64Array): void {
  const w = q[o];
  const qx = q[o + 1];
  const qy = q[o + 2];
  const qz = q[o + 3];
  // v + 2w (u x v) + 2 u x (u x v), u = (qx, qy, qz)
  const tx = 2 * (qy * z - qz * y);
  const ty = 2 * (qz * x - qx * z);
  const tz = 2 * (qx * y - qy * x);
  out[0] = x + w * tx + (qy * tz - qz * ty);
  out[1] = y + w * ty + (qz * tx - qx * tz);
  out[2] = z + w * tz + (qx * ty - qy * tx);
}

export class ModelCameraRig {
  /** Per body: mass (relative) and centre of mass in the body frame. */
  readonly mass: Float64Array;
  private readonly localCom: Float64Array;
  /** Per body, the bodies of its subtree (itself first). */
  private readonly subtrees: number[][];
  private readonly tmp = new Float64Array(3);
  private readonly tmp2 = new Float64Array(3);

  constructor(private readonly model: SceneModel) {
    const nb = model.bodies.length;
    this.mass = new Float64Array(nb);
    this.localCom = new Float64Array(3 * nb);
    for (const g of model.geoms) {
      // The world body is static: MuJoCo gives it no mass.
      if (g.body <= 0 || g.body >= nb) continue;
      const v = geomVolume(g, model);
      if (v <= 0) continue;
      this.mass[g.body] += v;
      for (let k = 0; k < 3; k++) this.localCom[3 * g.body + k] += v * g.pos[k];
    }
    for (let b = 0; b < nb; b++) if (this.mass[b] > 0) for (let k = 0; k < 3; k++) this.localCom[3 * b + k] /= this.mass[b];
    this.subtrees = model.bodies.map((b) => [b.id]);
    // Bodies come parents first (MuJoCo's order): walk each body up to the world.
    for (const b of model.bodies) {
      for (let p = b.parent; b.id !== 0; p = model.bodies[p].parent) {
        this.subtrees[p].push(b.id);
        if (p === 0) break;
      }
    }
  }

  /**
   * Centre of mass of `body`'s subtree in the world, from one frame of poses starting at `offset`.
   * Returns false (and leaves `out` alone) when the subtree has no mass.
   */
  subtreeCom(body: number, poses: ArrayLike<number>, offset: number, out: Float64Array): boolean {
    let m = 0;
    let x = 0;
    let y = 0;
    let z = 0;
    for (const b of this.subtrees[body] ?? []) {
      const mb = this.mass[b];
      if (mb <= 0) continue;
      const o = offset + 7 * b;
      rotate(poses, o + 3, this.localCom[3 * b], this.localCom[3 * b + 1], this.localCom[3 * b + 2], this.tmp);
      x += mb * (poses[o] + this.tmp[0]);
      y += mb * (poses[o + 1] + this.tmp[1]);
      z += mb * (poses[o + 2] + this.tmp[2]);
      m += mb;
    }
    if (m <= 0) return false;
    out[0] = x / m;
    out[1] = y / m;
    out[2] = z / m;
    return true;
  }

  /** The point a tracking camera follows or a targeting camera looks at. */
  private point(body: number, com: boolean, poses: ArrayLike<number>, offset: number, out: Float64Array): void {
    if (com && this.subtreeCom(body, poses, offset, out)) return;
    const o = offset + 7 * body;
    out[0] = poses[o];
    out[1] = poses[o + 1];
    out[2] = poses[o + 2];
  }

  /** Camera `cam`'s world pose for the frame of poses at `offset`. */
  pose(cam: SceneCamera, poses: ArrayLike<number>, offset: number, out: CameraPose): void {
    const p = out.position;
    const q = out.quaternion;
    const nb = this.model.bodies.length;
    const body = cam.body >= 0 && cam.body < nb ? cam.body : 0;
    if (cam.mode === 'tracking') {
      this.point(body, cam.mujocoMode === 'trackcom', poses, offset, p);
      const off = cam.trackOffset ?? [0, 0, 0];
      for (let k = 0; k < 3; k++) p[k] += off[k];
      for (let k = 0; k < 4; k++) q[k] = cam.worldQuat[k];
      return;
    }
    // Fixed to the body: position and orientation composed with the body's pose.
    const o = offset + 7 * body;
    rotate(poses, o + 3, cam.pos[0], cam.pos[1], cam.pos[2], p);
    for (let k = 0; k < 3; k++) p[k] += poses[o + k];
    mulQuat(poses, o + 3, cam.quat, q);
    const target = cam.target;
    if (cam.mode !== 'targeting' || target === undefined || target < 0 || target >= nb) return;
    // Look at the target with +z up (the camera looks along its -z).
    const t = this.tmp2;
    this.point(target, cam.mujocoMode === 'targetbodycom', poses, offset, t);
    lookAtQuat(p, t, q);
  }
}

/** out = a (at a[o..o+3]) * b, quaternions (w, x, y, z). */
function mulQuat(a: ArrayLike<number>, o: number, b: ArrayLike<number>, out: Float64Array): void {
  const [aw, ax, ay, az] = [a[o], a[o + 1], a[o + 2], a[o + 3]];
  const [bw, bx, by, bz] = [b[0], b[1], b[2], b[3]];
  out[0] = aw * bw - ax * bx - ay * by - az * bz;
  out[1] = aw * bx + ax * bw + ay * bz - az * by;
  out[2] = aw * by - ax * bz + ay * bw + az * bx;
  out[3] = aw * bz + ax * by - ay * bx + az * bw;
}

/** Orientation of a camera at `eye` looking at `target` with +z up, as MuJoCo's mj_camlight builds it. */
function lookAtQuat(eye: ArrayLike<number>, target: ArrayLike<number>, out: Float64Array): void {
  let zx = eye[0] - target[0];
  let zy = eye[1] - target[1];
  let zz = eye[2] - target[2];
  const zn = Math.hypot(zx, zy, zz) || 1;
  zx /= zn;
  zy /= zn;
  zz /= zn;
  // x = (0, 0, 1) x z, y = z x x
  let xx = -zy;
  let xy = zx;
  const xn = Math.hypot(xx, xy) || 1;
  xx /= xn;
  xy /= xn;
  const xz = 0;
  const yx = zy * xz - zz * xy;
  const yy = zz * xx - zx * xz;
  const yz = zx * xy - zy * xx;
  // Columns x, y, z of the rotation matrix to a quaternion.
  matToQuat(xx, yx, zx, xy, yy, zy, xz, yz, zz, out);
}

/** Row-major rotation matrix to a unit quaternion (w, x, y, z) with w >= 0. */
export function matToQuat(
  m00: number,
  m01: number,
  m02: number,
  m10: number,
  m11: number,
  m12: number,
  m20: number,
  m21: number,
  m22: number,
  out: Float64Array,
): void {
  const tr = m00 + m11 + m22;
  let w: number;
  let x: number;
  let y: number;
  let z: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    w = s / 4;
    x = (m21 - m12) / s;
    y = (m02 - m20) / s;
    z = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    w = (m21 - m12) / s;
    x = s / 4;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = s / 4;
    z = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = s / 4;
  }
  const n = Math.hypot(w, x, y, z) * (w < 0 ? -1 : 1);
  out[0] = w / n;
  out[1] = x / n;
  out[2] = y / n;
  out[3] = z / n;
}
