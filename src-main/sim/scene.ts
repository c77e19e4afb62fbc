/**
 * Scene export for the three.js viewer: the static model as JSON (extractScene) and body poses per
 * recorded frame (bodyPoses), computed with mj_kinematics on a scratch MjData so replays need only
 * qpos per frame.
 */
import type { SceneCamera, SceneGeomType, SceneModel, SceneTexture } from '../api/scene.ts';
import { loadModel, loadMujocoModule, nameOf, OBJ, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import type { EnvSource } from './types.ts';

const GEOM_TYPES: SceneGeomType[] = ['plane', 'hfield', 'sphere', 'capsule', 'ellipsoid', 'cylinder', 'box', 'mesh', 'sdf'];
const CAM_MODES: SceneCamera['mujocoMode'][] = ['fixed', 'track', 'trackcom', 'targetbody', 'targetbodycom'];
/** mjtLightType: directional = 1. */
const LIGHT_DIRECTIONAL = 1;
/** mjNTEXROLE: texture slots per material in MuJoCo 3; mjTEXROLE_RGB is the colour slot. */
const NTEXROLE = 10;
const TEXROLE_RGB = 1;
/** mjtTexture: skybox = 2. */
const TEX_SKYBOX = 2;
/** mjvGeom's default rgba: a geom whose rgba is this takes its material's. */
const DEFAULT_RGBA = [0.5, 0.5, 0.5, 1].map((x) => Math.fround(x));
/** Largest texture side (2D) and cube face side sent to the viewer. */
const MAX_TEXTURE = 512;
const MAX_CUBE_FACE = 128;

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
  const matSpecular = model.mat_specular as Float32Array;
  const matShininess = model.mat_shininess as Float32Array;
  const matEmission = model.mat_emission as Float32Array;
  const meshTexAdr = model.nmeshtexcoord > 0 ? (model.mesh_texcoordadr as Int32Array) : null;
  const textures = new SceneTextures(mj, model);
  const geoms = Array.from({ length: model.ngeom }, (_, id) => {
    const m = gMat[id];
    const textured = m >= 0 && Array.from(matTex.subarray(m * texPerMat, (m + 1) * texPerMat)).some((t) => t >= 0);
    const type = GEOM_TYPES[gType[id]] ?? 'box';
    const own = v4(gRgba, id);
    // MuJoCo's renderer (setMaterial in engine_vis_visualize.c): a geom's rgba set to anything but
    // the default overrides its material's.
    const rgba =
      m >= 0 && own[0] === DEFAULT_RGBA[0] && own[1] === DEFAULT_RGBA[1] && own[2] === DEFAULT_RGBA[2] && own[3] === DEFAULT_RGBA[3]
        ? v4(matRgba, m)
        : own;
    const meshId = type === 'mesh' ? gData[id] : -1;
    const texId = m >= 0 && meshId >= 0 && meshTexAdr && meshTexAdr[meshId] >= 0 ? matTex[m * texPerMat + TEXROLE_RGB] : -1;
    const texture = texId >= 0 ? textures.index(texId) : undefined;
    return {
      id,
      name: nameOf(mj, model, OBJ.geom, id),
      type,
      size: v3(gSize, id),
      pos: v3(gPos, id),
      quat: v4(gQuat, id),
      body: gBody[id],
      rgba,
      ...(m >= 0
        ? { material: nameOf(mj, model, OBJ.material, m), specular: matSpecular[m], shininess: matShininess[m], emission: matEmission[m] }
        : {}),
      ...(texture !== undefined ? { texture } : {}),
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
  const texcoord = meshTexAdr ? (model.mesh_texcoord as Float32Array) : null;
  const faceTexcoord = meshTexAdr ? (model.mesh_facetexcoord as Int32Array) : null;
  const meshes = Array.from({ length: model.nmesh }, (_, i) => {
    const faces = Array.from(face.subarray(3 * faceAdr[i], 3 * (faceAdr[i] + faceNum[i])));
    let uv: number[] | undefined;
    if (texcoord && faceTexcoord && meshTexAdr && meshTexAdr[i] >= 0) {
      // Corners index texcoords apart from vertices (mesh_facetexcoord), relative to the mesh's first.
      const base = meshTexAdr[i];
      uv = new Array<number>(faces.length * 2);
      for (let c = 0; c < faces.length; c++) {
        const t = base + faceTexcoord[3 * faceAdr[i] + c];
        uv[2 * c] = texcoord[2 * t];
        uv[2 * c + 1] = texcoord[2 * t + 1];
      }
    }
    return {
      name: nameOf(mj, model, OBJ.mesh, i),
      vertices: Array.from(vert.subarray(3 * vertAdr[i], 3 * (vertAdr[i] + vertNum[i]))),
      faces,
      ...(uv ? { uv } : {}),
    };
  });
  const texType = model.tex_type as Int32Array;
  const skyboxTex = Array.from(texType).findIndex((t) => t === TEX_SKYBOX);
  const skybox = skyboxTex >= 0 ? textures.index(skyboxTex) : undefined;

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
    return {
      pos: v3(lPos, i),
      dir: v3(lDir, i),
      body: lBody[i],
      directional: lType[i] === LIGHT_DIRECTIONAL,
      diffuse: v3(lDiffuse, i),
      castShadow,
    };
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
      ...(tracking
        ? { trackOffset: [world[0] - tracked[0], world[1] - tracked[1], world[2] - tracked[2]] as [number, number, number] }
        : {}),
      worldQuat: mat2quat(camXmat, 9 * i),
    };
  });

  const stat = model.stat;
  return {
    bodies,
    geoms,
    meshes,
    lights,
    cameras,
    ...(textures.list.length ? { textures: textures.list } : {}),
    ...(skybox !== undefined ? { skybox } : {}),
    extent: stat.extent,
    center: v3(stat.center as Float64Array, 0),
    nq: model.nq,
  };
}

/** The textures a scene uses, each taken from mjModel once and downsampled for the viewer. */
class SceneTextures {
  readonly list: SceneTexture[] = [];
  private readonly byId = new Map<number, number>();
  constructor(
    private readonly mj: Mujoco,
    private readonly model: MjModel,
  ) {}

  index(texId: number): number {
    const known = this.byId.get(texId);
    if (known !== undefined) return known;
    this.list.push({ ...textureOf(this.model, texId), name: nameOf(this.mj, this.model, OBJ.texture, texId) });
    this.byId.set(texId, this.list.length - 1);
    return this.list.length - 1;
  }
}

/**
 * One texture as RGB bytes, box-averaged down to at most MAX_TEXTURE px a side (cube faces
 * MAX_CUBE_FACE): a Menagerie robot's 2048² PNGs or dm_control's 800 px skybox would otherwise
 * be megabytes in every preview.
 */
function textureOf(model: MjModel, t: number): SceneTexture {
  const kind = (['2d', 'cube', 'skybox'] as const)[(model.tex_type as Int32Array)[t]] ?? '2d';
  const width = (model.tex_width as Int32Array)[t];
  const height = (model.tex_height as Int32Array)[t];
  const channels = (model.tex_nchannel as Int32Array)[t];
  const adr = (model.tex_adr as Int32Array)[t];
  const data = model.tex_data as Uint8Array;
  const faces = kind === '2d' ? 1 : 6;
  const faceH = height / faces;
  const step = Math.max(1, Math.ceil(Math.max(width, faceH) / (kind === '2d' ? MAX_TEXTURE : MAX_CUBE_FACE)));
  const w = Math.floor(width / step);
  const h = Math.floor(faceH / step);
  const out = new Uint8Array(w * h * faces * 3);
  for (let f = 0; f < faces; f++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let dy = 0; dy < step; dy++) {
            for (let dx = 0; dx < step; dx++) {
              const px = (f * faceH + y * step + dy) * width + x * step + dx;
              // One channel is grey: it stands for all three.
              sum += data[adr + px * channels + (channels === 1 ? 0 : c)];
            }
          }
          out[((f * h + y) * w + x) * 3 + c] = Math.round(sum / (step * step));
        }
      }
    }
  }
  return { name: '', kind, width: w, height: h * faces, rgb: Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64') };
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
export async function sceneFor(
  source: EnvSource,
  qposFrames?: ArrayLike<number>[] | Float64Array,
): Promise<{ scene: SceneModel; poses?: Float32Array }> {
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
