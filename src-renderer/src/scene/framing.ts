/**
 * What the studio's viewer shows of a model and where its default camera stands, as plain math so a
 * Node test checks it against the scene MuJoCo compiled:
 * - geomShown: MuJoCo's viewer (`simulate`) draws geom groups 0-2 and hides 3-5 (collision geoms in
 *   Menagerie models, dm_control's hidden helpers); fully transparent geoms draw nothing;
 * - modelBounds: the world box around every shown geom except planes (infinite floors) at one frame
 *   of body poses, each geom as its oriented box (meshes: their vertices' box);
 * - frameBounds: the orbit distance at which that box fits the view at a given field of view, aspect
 *   and direction, so a tall model is not cropped and a small one is not lost in the middle.
 */
import type { SceneGeom, SceneModel } from '../../../src-main/api/scene.ts';

/** MuJoCo's default visualisation shows geom groups 0, 1 and 2 (mjvOption.geomgroup). */
export const VISIBLE_GROUPS = 3;

export function geomShown(geom: SceneGeom): boolean {
  return geom.group < VISIBLE_GROUPS && geom.rgba[3] > 0;
}

export interface Bounds {
  min: [number, number, number];
  max: [number, number, number];
}

/** Half-sizes of a geom's box in its own frame (capsules and cylinders lie along z, as in MuJoCo). */
function halfBox(geom: SceneGeom, model: SceneModel, meshBoxes: Map<number, Bounds>): Bounds | null {
  const [a, b, c] = geom.size;
  const box = (x: number, y: number, z: number): Bounds => ({ min: [-x, -y, -z], max: [x, y, z] });
  switch (geom.type) {
    case 'sphere':
      return box(a, a, a);
    case 'capsule':
      return box(a, a, a + b);
    case 'cylinder':
      return box(a, a, b);
    case 'ellipsoid':
    case 'box':
      return box(a, b, c);
    case 'mesh': {
      if (geom.mesh === undefined) return null;
      const cached = meshBoxes.get(geom.mesh);
      if (cached) return cached;
      const v = model.meshes[geom.mesh]?.vertices;
      if (!v?.length) return null;
      const out: Bounds = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
      for (let i = 0; i < v.length; i += 3) {
        for (let k = 0; k < 3; k++) {
          out.min[k] = Math.min(out.min[k], v[i + k]);
          out.max[k] = Math.max(out.max[k], v[i + k]);
        }
      }
      meshBoxes.set(geom.mesh, out);
      return out;
    }
    default:
      return null; // planes, height fields, SDFs
  }
}

/** (w, x, y, z) quaternion product a * b. */
function mul(a: ArrayLike<number>, b: ArrayLike<number>): [number, number, number, number] {
  return [
    a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
    a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
    a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
    a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
  ];
}

/** v rotated by the unit quaternion q (w, x, y, z). */
function rotate(q: ArrayLike<number>, v: ArrayLike<number>): [number, number, number] {
  const [w, x, y, z] = [q[0], q[1], q[2], q[3]];
  const tx = 2 * (y * v[2] - z * v[1]);
  const ty = 2 * (z * v[0] - x * v[2]);
  const tz = 2 * (x * v[1] - y * v[0]);
  return [v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz), v[2] + w * tz + (x * ty - y * tx)];
}

/**
 * The world box of the shown geoms (planes left out) for one frame of body poses (nbody x 7:
 * x y z qw qx qy qz, from `offset`); null when no shown geom has a size (a model of planes only).
 */
export function modelBounds(model: SceneModel, poses: ArrayLike<number>, offset = 0): Bounds | null {
  const out: Bounds = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
  const meshBoxes = new Map<number, Bounds>();
  let any = false;
  for (const geom of model.geoms) {
    if (!geomShown(geom)) continue;
    const local = halfBox(geom, model, meshBoxes);
    if (!local) continue;
    const o = offset + 7 * geom.body;
    const bodyQuat = [poses[o + 3], poses[o + 4], poses[o + 5], poses[o + 6]];
    const quat = mul(bodyQuat, geom.quat);
    const centre = rotate(bodyQuat, geom.pos);
    for (let corner = 0; corner < 8; corner++) {
      const p = rotate(quat, [
        corner & 1 ? local.max[0] : local.min[0],
        corner & 2 ? local.max[1] : local.min[1],
        corner & 4 ? local.max[2] : local.min[2],
      ]);
      for (let k = 0; k < 3; k++) {
        const w = poses[o + k] + centre[k] + p[k];
        if (!Number.isFinite(w)) continue;
        out.min[k] = Math.min(out.min[k], w);
        out.max[k] = Math.max(out.max[k], w);
      }
    }
    any = true;
  }
  return any && out.min.every(Number.isFinite) && out.max.every(Number.isFinite) ? out : null;
}

export interface FrameView {
  /** Vertical field of view, degrees. */
  fovy: number;
  /** Width / height of the view. */
  aspect: number;
  /** Degrees around +z of the camera seen from the target, from +x (as MujocoScene's orbit). */
  azimuth: number;
  /** Degrees above the horizon. */
  elevation: number;
  /** Share of the view's half-width and half-height the box may fill (default 0.85: a margin around it). */
  fill?: number;
}

/** The camera's unit right, up and backward (from target to camera) axes for an orbit direction, z up. */
export function orbitAxes(azimuthDeg: number, elevationDeg: number): { right: number[]; up: number[]; back: number[] } {
  const az = (azimuthDeg * Math.PI) / 180;
  const el = (elevationDeg * Math.PI) / 180;
  const back = [Math.cos(el) * Math.cos(az), Math.cos(el) * Math.sin(az), Math.sin(el)];
  // right = up_world x back (normalised), up = back x right
  const right = [-Math.sin(az), Math.cos(az), 0];
  const up = [back[1] * right[2] - back[2] * right[1], back[2] * right[0] - back[0] * right[2], back[0] * right[1] - back[1] * right[0]];
  return { right, up, back };
}

/**
 * Orbit target (the box's centre) and the smallest distance at which every corner of the box lies
 * inside `fill` of the view: for each corner, its offset across and up the view over its depth
 * must stay within tan(half field of view).
 */
export function frameBounds(bounds: Bounds, view: FrameView): { target: [number, number, number]; distance: number } {
  const fill = view.fill ?? 0.85;
  const target: [number, number, number] = [0, 1, 2].map((k) => (bounds.min[k] + bounds.max[k]) / 2) as [number, number, number];
  const tanV = Math.tan(((view.fovy / 2) * Math.PI) / 180) * fill;
  const tanH = tanV * view.aspect;
  const { right, up, back } = orbitAxes(view.azimuth, view.elevation);
  let distance = 0;
  for (let corner = 0; corner < 8; corner++) {
    const d = [0, 1, 2].map((k) => ((corner >> k) & 1 ? bounds.max[k] : bounds.min[k]) - target[k]);
    const x = d[0] * right[0] + d[1] * right[1] + d[2] * right[2];
    const y = d[0] * up[0] + d[1] * up[1] + d[2] * up[2];
    // Depth of the corner is distance - z (z towards the camera).
    const z = d[0] * back[0] + d[1] * back[1] + d[2] * back[2];
    distance = Math.max(distance, z + Math.abs(x) / tanH, z + Math.abs(y) / tanV);
  }
  return { target, distance: Math.max(distance, 1e-3) };
}
