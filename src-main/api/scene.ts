/**
 * A MuJoCo model as plain JSON for the three.js viewer (replay and pixel observations). Produced by
 * sim/scene.ts extractScene(); poses per frame come from bodyPoses() as flat Float32Arrays.
 * Conventions follow MuJoCo: z up, quaternions (w, x, y, z), sizes as in mjModel.geom_size.
 *
 * No Node imports here: the renderer imports this file.
 */

export type SceneGeomType = 'plane' | 'hfield' | 'sphere' | 'capsule' | 'ellipsoid' | 'cylinder' | 'box' | 'mesh' | 'sdf';

export interface SceneBody {
  id: number;
  name: string;
  /** Parent body id (the world, id 0, is its own parent). */
  parent: number;
}

export interface SceneGeom {
  id: number;
  name: string;
  type: SceneGeomType;
  /** mjModel.geom_size: sphere [r], capsule/cylinder [r, half-length], box/ellipsoid half-sizes, plane [half-x, half-y, grid spacing]. */
  size: [number, number, number];
  /** Position and orientation in the body frame. */
  pos: [number, number, number];
  quat: [number, number, number, number];
  body: number;
  /**
   * Colour as MuJoCo's renderer picks it: the geom's own rgba when it was set (anything but the
   * default 0.5 0.5 0.5 1), else its material's, else the default.
   */
  rgba: [number, number, number, number];
  /** The material's specular, shininess and emission (MuJoCo's defaults 0.5, 0.5, 0 without one). */
  specular?: number;
  shininess?: number;
  emission?: number;
  /** Index into SceneModel.textures: the material's colour texture, for a mesh with texture coordinates. */
  texture?: number;
  /** Material name, when any. */
  material?: string;
  /** The material is textured (the suite's floors: draw a checker grid). */
  textured: boolean;
  /** Index into SceneModel.meshes for mesh geoms. */
  mesh?: number;
  /** Visibility group (MuJoCo shows groups 0-2 by default). */
  group: number;
}

export interface SceneMesh {
  name: string;
  /** x, y, z per vertex, in the mesh frame (already placed by MuJoCo's compiler). */
  vertices: number[];
  /** Three vertex indices per triangle. */
  faces: number[];
  /** Texture coordinates (u, v) of each triangle's three corners, when the mesh has them: 6 per face. */
  uv?: number[];
}

/** A texture's pixels: RGB bytes row after row (row 0 first, as MuJoCo stores them), base64. */
export interface SceneTexture {
  name: string;
  kind: '2d' | 'cube' | 'skybox';
  width: number;
  /** For cube and skybox textures: six square faces (+x, -x, +y, -y, +z, -z) one under another. */
  height: number;
  rgb: string;
}

export interface SceneLight {
  /** Position and direction in the frame of `body`. */
  pos: [number, number, number];
  dir: [number, number, number];
  body: number;
  directional: boolean;
  diffuse: [number, number, number];
  castShadow: boolean;
}

export interface SceneCamera {
  name: string;
  /** Body the camera is attached to; pos/quat are in that body's frame at the initial state. */
  body: number;
  pos: [number, number, number];
  quat: [number, number, number, number];
  /** Vertical field of view in degrees. */
  fovy: number;
  /** fixed: moves rigidly with its body; tracking: keeps its world orientation and follows the body (or its subtree's centre of mass). */
  mode: 'fixed' | 'tracking' | 'targeting';
  /** MuJoCo's camera mode: fixed, track, trackcom, targetbody, targetbodycom. */
  mujocoMode: 'fixed' | 'track' | 'trackcom' | 'targetbody' | 'targetbodycom';
  /** Body looked at, for targetbody modes. */
  target?: number;
  /** World position offset from the tracked point at qpos0 (tracking modes): camera world pos = tracked point + offset. */
  trackOffset?: [number, number, number];
  /** World orientation at qpos0 (tracking modes keep it). */
  worldQuat: [number, number, number, number];
}

export interface SceneModel {
  bodies: SceneBody[];
  geoms: SceneGeom[];
  meshes: SceneMesh[];
  lights: SceneLight[];
  cameras: SceneCamera[];
  /** Textures the viewer draws (mesh colour textures, the skybox), downsampled; absent in scenes stored before them. */
  textures?: SceneTexture[];
  /** Index into textures of the model's skybox, when it has one. */
  skybox?: number;
  /** mjModel.stat: a length scale and the centre of the model, for default views. */
  extent: number;
  center: [number, number, number];
  /** Number of generalised coordinates (length of one qpos frame). */
  nq: number;
}
