/**
 * Scene export for the three.js viewer: the static model as JSON (extractScene) and body poses per
 * recorded frame (bodyPoses), computed with mj_kinematics on a scratch MjData so replays need only
 * qpos per frame.
 */
import type { SceneCamera, SceneGeomType, SceneModel } from '../api/scene.ts';
import { loadModel, loadMujocoModule, nameOf, OBJ, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import type { EnvSource } from './env.ts';

const GEOM_TYPES: SceneGeomType[] = ['plane', 'hfield', 'sphere', 'capsule', 'ellipsoid', 'cylinder', 'box', 'mesh', 'sdf'];
const CAM_MODES: SceneCamera['mujocoMode'][] = ['fixed', 'track', 'trackcom', 'targetbody', 'targetbodycom'];
/** mjtLightType: directional = 1. */
const LIGHT_DIRECTIONAL = 1;
/** mjNTEXROLE: texture slots per material in MuJoCo 3. */
const NTEXROLE = 10;

const v3 = (a: ArrayLike<number>, i: number): [number, number, number] => [a[3 * i], a[3 * i + 1], a[3 * i + 2]];
const v4 = (a: ArrayLike<number>, i: number): [number, number, number, number] => [a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]];

/** Builds the JSON scene of a compiled model (cameras and lights placed at qpos0). */
export function extractScene(mj: Mujoco, model: MjModel): SceneModel {
  const data = new mj.MjData(model);
  try {
    mj.mj_forward(model, data);
    return buildScene(mj, model, data);
  } finally {
    data.delete();
  }
}

function buildScene(mj: Mujoco, model: MjModel, data: MjData): SceneModel {
  const parent = model.body_parentid as Int32Array;
  const bodies = Array.from({ length: model.nbody }, (_, id) => ({ id, name: nameOf(mj, model, OBJ.body, id), parent: parent[id] }));

  const matRgba = model.mat_rgba as Float32Array;
  const matTex = model.mat_texid as Int32Array;
  const texPerMat = model.nmat > 0 ? matTex.length / model.nmat : NTEXROLE;
  const gType = model.geom_type as Int32Array;
  const gSize = model.geom_size as Float64Array;
  const gPos = model.geom_pos as Float64Array;
  const gQuat = model.geom_quat as Float64Array;
  const gBody = model.geom_bodyid as Int32Array;
  const gRgba = model.geom_rgba as Float32Array;
  const gMat = model.geom_matid as Int32Array;
  const gData = model.geom_dataid as Int32Array;
  const gGroup = model.geom_group as Int32Array;
  const geoms = Array.from({ length: model.ngeom }, (_, id) => {
    const m = gMat[id];
    const textured = m >= 0 && Array.from(matTex.subarray(m * texPerMat, (m + 1) * texPerMat)).some((t) => t >= 0);
    const type = GEOM_TYPES[gType[id]] ?? 'box';
    return {
      id,
      name: nameOf(mj, model, OBJ.geom, id),
      type,
      size: v3(gSize, id),
      pos: v3(gPos, id),
      quat: v4(gQuat, id),
      body: gBody[id],
      rgba: m >= 0 ? v4(matRgba, m) : v4(gRgba, id),
      ...(m >= 0 ? { material: nameOf(mj, model, OBJ.material, m) } : {}),
      textured,
      ...(type === 'mesh' && gData[id] >= 0 ? { mesh: gData[id] } : {}),
      group: gGroup[id],
    };
  });

  const vert = model.mesh_vert as Float32Array;
  const vertAdr = model.mesh_vertadr as Int32Array;
  const vertNum = model.mesh_vertnum as Int32Array;
  const face = model.mesh_face as Int32Array;
  const faceAdr = model.mesh_faceadr as Int32Array;
  const faceNum = model.mesh_facenum as Int32Array;
  const meshes = Array.from({ length: model.nmesh }, (_, i) => ({
    name: nameOf(mj, model, OBJ.mesh, i),
    vertices: Array.from(vert.subarray(3 * vertAdr[i], 3 * (vertAdr[i] + vertNum[i]))),
    faces: Array.from(face.subarray(3 * faceAdr[i], 3 * (faceAdr[i] + faceNum[i]))),
  }));

  const lPos = model.light_pos as Float64Array;
  const lDir = model.light_dir as Float64Array;
  const lBody = model.light_bodyid as Int32Array;
  const lType = model.light_type as Int32Array;
  const lDiffuse = model.light_diffuse as Float32Array;
  const lights = Array.from({ length: model.nlight }, (_, i) => {
    let castShadow = true;
    const acc = model.light(i);
    try {
      const c = acc.castshadow as unknown;
      castShadow = Boolean(ArrayBuffer.isView(c) ? (c as unknown as ArrayLike<number>)[0] : c);
    } finally {
      acc.delete();
    }
    return { pos: v3(lPos, i), dir: v3(lDir, i), body: lBody[i], directional: lType[i] === LIGHT_DIRECTIONAL, diffuse: v3(lDiffuse, i), castShadow };
  });

  const cBody = model.cam_bodyid as Int32Array;
  const cMode = model.cam_mode as Int32Array;
  const cTarget = model.cam_targetbodyid as Int32Array;
  const cPos = model.cam_pos as Float64Array;
  const cQuat = model.cam_quat as Float64Array;
  const cFovy = model.cam_fovy as Float64Array;
  const camXpos = data.cam_xpos as Float64Array;
  const camXmat = data.cam_xmat as Float64Array;
  const xpos = data.xpos as Float64Array;
  const subtreeCom = data.subtree_com as Float64Array;
  const cameras: SceneCamera[] = Array.from({ length: model.ncam }, (_, i) => {
    const mujocoMode = CAM_MODES[cMode[i]] ?? 'fixed';
    const b = cBody[i];
    const world = v3(camXpos, i);
    const tracked = mujocoMode === 'trackcom' ? v3(subtreeCom, b) : v3(xpos, b);
    const tracking = mujocoMode === 'track' || mujocoMode === 'trackcom';
    return {
      name: nameOf(mj, model, OBJ.camera, i) || `camera_${i}`,
      body: b,
      pos: v3(cPos, i),
      quat: v4(cQuat, i),
      fovy: cFovy[i],
      mode: tracking ? 'tracking' : mujocoMode.startsWith('target') ? 'targeting' : 'fixed',
      mujocoMode,
      ...(cTarget[i] >= 0 && mujocoMode.startsWith('target') ? { target: cTarget[i] } : {}),
      ...(tracking ? { trackOffset: [world[0] - tracked[0], world[1] - tracked[1], world[2] - tracked[2]] as [number, number, number] } : {}),
      worldQuat: mat2quat(camXmat, 9 * i),
    };
  });

  const stat = model.stat;
  return { bodies, geoms, meshes, lights, cameras, extent: stat.extent, center: v3(stat.center as Float64Array, 0), nq: model.nq };
}

/**
 * World pose of every body for each qpos frame: one Float32Array of frames x nbody x 7
 * (x, y, z, qw, qx, qy, qz), computed with mj_kinematics on a scratch MjData.
 */
export function bodyPoses(mj: Mujoco, model: MjModel, qposFrames: ArrayLike<number>[] | Float64Array): Float32Array {
  const nq = model.nq;
  const nb = model.nbody;
  const frames = Array.isArray(qposFrames) ? qposFrames.length : Math.floor(qposFrames.length / nq);
  const out = new Float32Array(frames * nb * 7);
  const data = new mj.MjData(model);
  try {
    for (let f = 0; f < frames; f++) {
      const qpos = data.qpos as Float64Array;
      if (Array.isArray(qposFrames)) {
        const q = qposFrames[f];
        if (q.length !== nq) throw new RangeError(`frame ${f} has ${q.length} values; the model has nq = ${nq}`);
        for (let k = 0; k < nq; k++) qpos[k] = q[k];
      } else qpos.set((qposFrames as Float64Array).subarray(f * nq, (f + 1) * nq));
      mj.mj_kinematics(model, data);
      const xpos = data.xpos as Float64Array;
      const xquat = data.xquat as Float64Array;
      const base = f * nb * 7;
      for (let b = 0; b < nb; b++) {
        for (let k = 0; k < 3; k++) out[base + 7 * b + k] = xpos[3 * b + k];
        for (let k = 0; k < 4; k++) out[base + 7 * b + 3 + k] = xquat[4 * b + k];
      }
    }
  } finally {
    data.delete();
  }
  return out;
}

/** extractScene + bodyPoses for an env source, loading and freeing its model. */
export async function sceneFor(source: EnvSource, qposFrames?: ArrayLike<number>[] | Float64Array): Promise<{ scene: SceneModel; poses?: Float32Array }> {
  const mj = await loadMujocoModule();
  const model = loadModel(mj, source.files, source.xml);
  try {
    const scene = extractScene(mj, model);
    return qposFrames ? { scene, poses: bodyPoses(mj, model, qposFrames) } : { scene };
  } finally {
    model.delete();
  }
}

/** Rotation matrix (row-major, 9 entries at `o`) to a unit quaternion (w, x, y, z). */
function mat2quat(m: ArrayLike<number>, o: number): [number, number, number, number] {
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = [m[o], m[o + 1], m[o + 2], m[o + 3], m[o + 4], m[o + 5], m[o + 6], m[o + 7], m[o + 8]];
  const tr = xx + yy + zz;
  let q: [number, number, number, number];
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [s / 4, (zy - yz) / s, (xz - zx) / s, (yx - xy) / s];
  } else if (xx > yy && xx > zz) {
    const s = Math.sqrt(1 + xx - yy - zz) * 2;
    q = [(zy - yz) / s, s / 4, (xy + yx) / s, (xz + zx) / s];
  } else if (yy > zz) {
    const s = Math.sqrt(1 + yy - xx - zz) * 2;
    q = [(xz - zx) / s, (xy + yx) / s, s / 4, (yz + zy) / s];
  } else {
    const s = Math.sqrt(1 + zz - xx - yy) * 2;
    q = [(yx - xy) / s, (xz + zx) / s, (yz + zy) / s, s / 4];
  }
  const n = Math.hypot(...q);
  return q[0] < 0 ? [-q[0] / n, -q[1] / n, -q[2] / n, -q[3] / n] : [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}
