/**
 * MujocoScene: a MuJoCo model (SceneModel from src-main/api/scene.ts) drawn with three.js. Shared by
 * the studio's replay / live / preview viewers and the pixel-observation render host, so it depends
 * on nothing but a canvas (HTMLCanvasElement or OffscreenCanvas): no DOM queries, no events, no
 * timers. Pointer handling lives in orbit-input.ts.
 *
 * API
 *   const s = new MujocoScene({ canvas, shadows?, shadowQuality?, antialias?, preserveDrawingBuffer?, pixelRatio?, background?, proceduralFloor?, viewerLook? })
 *   s.load(model)                    builds bodies, geoms, lights, floor; (re)sets the default orbit view
 *   s.setPoses(poses, frame = 0)     poses: Float32Array of frames x nbody x 7 (x, y, z, qw, qx, qy, qz),
 *                                    world pose per body as from sim bodyPoses(); one frame is the nbody*7 case
 *   s.setSize(width, height, updateStyle = true)   drawing-buffer size in CSS px (x pixelRatio)
 *   s.setView(view)                  { kind: 'orbit' } | { kind: 'follow', body } | { kind: 'camera', name }
 *   s.orbit                          { target, distance, azimuth, elevation } (degrees; z up), mutable
 *   s.frameOrbit()                   points the orbit camera at the shown geoms' box at the current poses, fitted to the view
 *   s.orbitBy(dAz, dEl) / s.zoomBy(factor) / s.panBy(dx, dy)   used by orbit-input.ts
 *   s.render(viewport?)              draws one frame; viewport { x, y, width, height } (drawing-buffer px,
 *                                    origin bottom-left) lets a caller tile many frames into one canvas
 *   s.camera                         the THREE.PerspectiveCamera; in `{ kind: 'manual' }` view the caller
 *                                    positions it and render() leaves it alone
 *   s.dispose()                      frees geometry, materials, textures and the WebGL context
 *   s.needsRender                    true when the next render() would draw something new (bodies moved,
 *                                    camera, size or model changed): an on-screen loop skips the others
 *   s.invalidate()                   marks the view changed (after mutating s.orbit or s.camera directly)
 *   s.poseChanges                    how many setPoses calls moved a body (the data rate, for the HUD)
 *
 * Conventions: MuJoCo's z-up world is three's world as is (camera.up = +z); quaternions arrive as
 * (w, x, y, z). MuJoCo and three cameras both look along -z with +y up in their own frame, so a model
 * camera's quaternion is used unchanged (model-camera.ts places them as MuJoCo does). Geom groups 0-2
 * are shown, as in MuJoCo's default viewer (framing.ts). Textures arrive as RGB bytes in MuJoCo's
 * row order and are used unflipped with MuJoCo's texture coordinates, as MuJoCo's renderer does.
 *
 * Frame cost: shadow maps are redrawn only when a body moved (not when only the camera did), and
 * with `proceduralFloor` the checker floor is computed in the fragment shader instead of sampled
 * from a mipmapped, anisotropic texture. On a software renderer (SwiftShader) that texture fetch is
 * most of a frame: the floor covers most of the view.
 */
import * as THREE from 'three';
import type { SceneCamera, SceneGeom, SceneModel, SceneTexture } from '../../../src-main/api/scene.ts';
import { ModelCameraRig, newCameraPose } from './model-camera.ts';
import { frameBounds, geomShown, modelBounds } from './framing.ts';

export interface MujocoSceneOptions {
  canvas: HTMLCanvasElement | OffscreenCanvas;
  /** Shadow maps from the model's shadow-casting lights (default true). */
  shadows?: boolean;
  /** soft: filtered edges (PCF, 1024² maps); hard: one sample per pixel and 512² maps, for software renderers. */
  shadowQuality?: 'soft' | 'hard';
  antialias?: boolean;
  /** Keep the drawing buffer after compositing (needed to read pixels back from an on-screen canvas). */
  preserveDrawingBuffer?: boolean;
  pixelRatio?: number;
  /** Clear colour (sRGB hex); default a dark blue-grey like dm_control's skybox. */
  background?: number;
  /**
   * Checker floor computed in the shader (same colours and cells, filtered to the mean colour in
   * the distance) instead of sampled from a texture: several times cheaper per pixel on software
   * renderers. Default false, so pixel observations keep the texture they were trained on.
   */
  proceduralFloor?: boolean;
  /**
   * Draw as MuJoCo's viewer does: the model's skybox as the background, each material's specular,
   * shininess and emission, and the orbit camera framed to the shown geoms at the first poses after
   * load (tall models whole, small ones filling the view) rather than to MuJoCo's stat.extent.
   * Default false: pixel observations keep the look they were trained on (plain background, one
   * specular for all, the pixel host's own follow distances). Mesh textures are drawn either way.
   */
  viewerLook?: boolean;
}

export interface OrbitState {
  target: THREE.Vector3;
  distance: number;
  /** Degrees around +z of the camera's position seen from the target, from +x (-90: camera on -y, looking along +y). */
  azimuth: number;
  /** Degrees above the horizon (positive looks down on the scene). */
  elevation: number;
}

export type SceneView = { kind: 'orbit' } | { kind: 'follow'; body: number } | { kind: 'camera'; name: string } | { kind: 'manual' };

const FLOOR_COLORS = { a: [0.1, 0.2, 0.3], b: [0.2, 0.3, 0.4], line: [0.35, 0.45, 0.55] };

// Preallocated temporaries: setPoses and render run per frame and must not allocate.
const tmpV = new THREE.Vector3();
const tmpV2 = new THREE.Vector3();
const camPose = newCameraPose();

export class MujocoScene {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera = new THREE.PerspectiveCamera(45, 1, 0.01, 1000);
  readonly orbit: OrbitState = { target: new THREE.Vector3(), distance: 3, azimuth: -90, elevation: 20 };
  model: SceneModel | null = null;
  /** Geom types present in the model that this viewer does not draw (hfield, sdf). */
  skipped: string[] = [];

  private view: SceneView = { kind: 'orbit' };
  private root = new THREE.Group();
  private bodies: THREE.Group[] = [];
  private readonly geometries = new Map<string, THREE.BufferGeometry>();
  private readonly materials = new Map<string, THREE.Material>();
  private floorTexture: THREE.DataTexture | null = null;
  /** The model's textures as three textures, made on first use (index as SceneModel.textures). */
  private readonly textures = new Map<number, THREE.Texture>();
  private readonly background: THREE.Color;
  private readonly viewerLook: boolean;
  /** The first poses after load frame the orbit camera (viewerLook). */
  private framePending = false;
  private readonly headlight = new THREE.DirectionalLight(0xffffff, 1.1);
  private readonly shadows: boolean;
  private readonly shadowMapSize: number;
  private readonly proceduralFloor: boolean;
  private width = 1;
  private height = 1;
  /** The poses last applied (nbody x 7), to tell a new frame from the same one given again. */
  private applied = new Float32Array(0);
  private rig: ModelCameraRig | null = null;
  /** The model camera of a `camera` view, looked up once per setView. */
  private viewCamera: SceneCamera | null = null;
  private dirty = true;
  private shadowsStale = true;
  poseChanges = 0;

  constructor(options: MujocoSceneOptions) {
    this.shadows = options.shadows ?? true;
    this.proceduralFloor = options.proceduralFloor ?? false;
    const hard = options.shadowQuality === 'hard';
    this.shadowMapSize = hard ? 512 : 1024;
    this.renderer = new THREE.WebGLRenderer({
      canvas: options.canvas,
      antialias: options.antialias ?? true,
      preserveDrawingBuffer: options.preserveDrawingBuffer ?? false,
      powerPreference: 'high-performance',
    });
    this.renderer.setPixelRatio(options.pixelRatio ?? 1);
    this.renderer.shadowMap.enabled = this.shadows;
    this.renderer.shadowMap.type = hard ? THREE.BasicShadowMap : THREE.PCFShadowMap;
    // Shadows move only when bodies do: render() asks for a new map then (see shadowsStale).
    this.renderer.shadowMap.autoUpdate = false;
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.background = new THREE.Color(options.background ?? 0x2a3340);
    this.scene.background = this.background;
    this.viewerLook = options.viewerLook ?? false;
    this.camera.up.set(0, 0, 1);
    // MuJoCo's headlight: a soft light from the viewer plus some ambient, so nothing is pitch black.
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.6));
    this.camera.add(this.headlight);
    this.headlight.position.set(0, 0, 1);
    this.headlight.target.position.set(0, 0, -1);
    this.camera.add(this.headlight.target);
    this.scene.add(this.camera);
    this.scene.add(this.root);
    this.setSize(options.canvas.width || 1, options.canvas.height || 1, false);
  }

  /** Builds the model's bodies, geoms and lights; replaces any previous model. */
  load(model: SceneModel): void {
    this.clearModel();
    this.model = model;
    this.bodies = model.bodies.map((b) => {
      const g = new THREE.Group();
      g.name = b.name;
      this.root.add(g);
      return g;
    });
    const skipped = new Set<string>();
    for (const geom of model.geoms) {
      if (!geomShown(geom)) continue;
      const geometry = this.geometryFor(geom, model);
      if (!geometry) {
        skipped.add(geom.type);
        continue;
      }
      const mesh = new THREE.Mesh(geometry, this.materialFor(geom));
      mesh.name = geom.name;
      mesh.position.set(geom.pos[0], geom.pos[1], geom.pos[2]);
      mesh.quaternion.set(geom.quat[1], geom.quat[2], geom.quat[3], geom.quat[0]);
      const isPlane = geom.type === 'plane';
      mesh.castShadow = this.shadows && !isPlane;
      mesh.receiveShadow = this.shadows;
      (this.bodies[geom.body] ?? this.root).add(mesh);
    }
    this.skipped = [...skipped];
    for (const light of model.lights) this.addLight(light, model);
    // Bodies start at the origin, unrotated, until the first setPoses.
    this.applied = new Float32Array(model.bodies.length * 7);
    for (let b = 0; b < model.bodies.length; b++) this.applied[7 * b + 3] = 1;
    this.rig = new ModelCameraRig(model);
    this.viewCamera = this.view.kind === 'camera' ? this.findCamera(this.view.name) : null;
    if (this.viewerLook && model.skybox !== undefined && model.textures?.[model.skybox]) {
      this.scene.background = this.cubeTexture(model.textures[model.skybox], model.skybox);
      // Cube faces are y-up (OpenGL's convention, which MuJoCo keeps); MuJoCo's world is z-up.
      this.scene.backgroundRotation.set(Math.PI / 2, 0, 0);
    }
    this.resetOrbit();
    this.framePending = this.viewerLook;
  }

  /**
   * Places every body from one frame of world poses (frames x nbody x 7, x y z qw qx qy qz). A frame
   * equal to the one already shown changes nothing (needsRender stays as it was).
   */
  setPoses(poses: Float32Array, frame = 0): void {
    const nb = this.bodies.length;
    const base = frame * nb * 7;
    if (base + nb * 7 > poses.length)
      throw new RangeError(`frame ${frame} is past the end of the poses (${poses.length / (nb * 7)} frames)`);
    const applied = this.applied;
    let same = applied.length === nb * 7;
    for (let k = 0; same && k < nb * 7; k++) same = applied[k] === poses[base + k];
    if (same) return;
    applied.set(poses.subarray(base, base + nb * 7));
    for (let b = 0; b < nb; b++) {
      const o = 7 * b;
      const g = this.bodies[b];
      g.position.set(applied[o], applied[o + 1], applied[o + 2]);
      g.quaternion.set(applied[o + 4], applied[o + 5], applied[o + 6], applied[o + 3]);
    }
    this.poseChanges++;
    this.dirty = this.shadowsStale = true;
    if (this.framePending) {
      this.framePending = false;
      this.frameOrbit();
    }
  }

  /**
   * Points the orbit camera at the shown geoms' box at the current poses, from the distance that
   * fits it into the view (framing.ts); false when the model has nothing to frame.
   */
  frameOrbit(): boolean {
    const m = this.model;
    if (!m) return false;
    const bounds = modelBounds(m, this.applied);
    if (!bounds) return false;
    const fit = frameBounds(bounds, {
      fovy: this.camera.fov,
      aspect: this.camera.aspect,
      azimuth: this.orbit.azimuth,
      elevation: this.orbit.elevation,
    });
    this.orbit.target.set(fit.target[0], fit.target[1], fit.target[2]);
    this.orbit.distance = fit.distance;
    this.camera.near = Math.max(0.001, fit.distance / 500);
    this.camera.far = Math.max(100, fit.distance * 200);
    this.camera.updateProjectionMatrix();
    this.dirty = true;
    return true;
  }

  /** Whether the next render() draws something the last one did not. */
  get needsRender(): boolean {
    return this.dirty;
  }

  /** Marks the view changed: after moving `orbit` or `camera` by hand. */
  invalidate(): void {
    this.dirty = true;
  }

  setSize(width: number, height: number, updateStyle = true): void {
    this.width = Math.max(1, Math.round(width));
    this.height = Math.max(1, Math.round(height));
    this.renderer.setSize(this.width, this.height, updateStyle);
    this.camera.aspect = this.width / this.height;
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  setView(view: SceneView): void {
    this.view = view;
    this.viewCamera = view.kind === 'camera' ? this.findCamera(view.name) : null;
    if (view.kind === 'follow' || view.kind === 'orbit') this.camera.fov = 45;
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  private findCamera(name: string): SceneCamera | null {
    return this.model?.cameras.find((c) => c.name === name) ?? null;
  }

  getView(): SceneView {
    return this.view;
  }

  /** The model's named cameras, for a camera picker. */
  cameraNames(): string[] {
    return this.model?.cameras.map((c) => c.name) ?? [];
  }

  resetOrbit(): void {
    const m = this.model;
    if (!m) return;
    this.orbit.target.set(m.center[0], m.center[1], m.center[2]);
    this.orbit.distance = Math.max(0.2, 1.6 * m.extent);
    this.orbit.azimuth = -90;
    this.orbit.elevation = 16;
    this.camera.near = Math.max(0.001, m.extent / 200);
    this.camera.far = Math.max(100, m.extent * 200);
    this.camera.updateProjectionMatrix();
    this.dirty = true;
    if (this.viewerLook && this.poseChanges > 0) this.frameOrbit();
  }

  orbitBy(dAzimuth: number, dElevation: number): void {
    this.orbit.azimuth = (this.orbit.azimuth + dAzimuth) % 360;
    this.orbit.elevation = Math.min(89, Math.max(-89, this.orbit.elevation + dElevation));
    this.dirty = true;
  }

  zoomBy(factor: number): void {
    this.orbit.distance = Math.min(1e3, Math.max(0.05, this.orbit.distance * factor));
    this.dirty = true;
  }

  /** Moves the orbit target in the view plane by fractions of the view's height. */
  panBy(dx: number, dy: number): void {
    const scale = 2 * this.orbit.distance * Math.tan(THREE.MathUtils.degToRad(this.camera.fov / 2));
    tmpV.setFromMatrixColumn(this.camera.matrix, 0).multiplyScalar(-dx * scale);
    tmpV2.setFromMatrixColumn(this.camera.matrix, 1).multiplyScalar(dy * scale);
    this.orbit.target.add(tmpV).add(tmpV2);
    this.dirty = true;
  }

  /** Draws one frame, into the whole canvas or into `viewport` (drawing-buffer pixels, origin bottom-left). */
  render(viewport?: { x: number; y: number; width: number; height: number }): void {
    this.placeCamera();
    if (this.shadowsStale) {
      this.renderer.shadowMap.needsUpdate = true;
      this.shadowsStale = false;
    }
    if (viewport) {
      this.renderer.setScissorTest(true);
      this.renderer.setViewport(viewport.x, viewport.y, viewport.width, viewport.height);
      this.renderer.setScissor(viewport.x, viewport.y, viewport.width, viewport.height);
    }
    this.renderer.render(this.scene, this.camera);
    if (viewport) {
      this.renderer.setScissorTest(false);
      this.renderer.setViewport(0, 0, this.width, this.height);
    }
    this.dirty = false;
  }

  dispose(): void {
    this.clearModel();
    this.headlight.dispose();
    this.renderer.dispose();
  }

  private placeCamera(): void {
    const v = this.view;
    if (v.kind === 'manual') return;
    if (v.kind === 'camera' && this.viewCamera && this.rig) {
      this.placeModelCamera(this.viewCamera, this.rig);
      return;
    }
    if (v.kind === 'follow') {
      const body = this.bodies[v.body];
      // Follow in the horizontal plane only, so a falling body does not drag the horizon around.
      if (body) this.orbit.target.set(body.position.x, body.position.y, this.orbit.target.z);
    }
    const o = this.orbit;
    const az = THREE.MathUtils.degToRad(o.azimuth);
    const el = THREE.MathUtils.degToRad(o.elevation);
    this.camera.position.set(
      o.target.x + o.distance * Math.cos(el) * Math.cos(az),
      o.target.y + o.distance * Math.cos(el) * Math.sin(az),
      o.target.z + o.distance * Math.sin(el),
    );
    this.camera.up.set(0, 0, 1);
    this.camera.lookAt(o.target);
    this.camera.updateMatrixWorld();
  }

  /** Where MuJoCo puts the camera for the bodies' current poses (fixed, tracking, targeting). */
  private placeModelCamera(cam: SceneCamera, rig: ModelCameraRig): void {
    if (this.camera.fov !== cam.fovy) {
      this.camera.fov = cam.fovy;
      this.camera.updateProjectionMatrix();
    }
    rig.pose(cam, this.applied, 0, camPose);
    const p = camPose.position;
    const q = camPose.quaternion;
    this.camera.position.set(p[0], p[1], p[2]);
    this.camera.quaternion.set(q[1], q[2], q[3], q[0]);
    this.camera.updateMatrixWorld();
  }

  private addLight(light: SceneModel['lights'][number], model: SceneModel): void {
    const parent = this.bodies[light.body] ?? this.root;
    const color = new THREE.Color().setRGB(light.diffuse[0], light.diffuse[1], light.diffuse[2], THREE.SRGBColorSpace);
    const l = light.directional
      ? new THREE.DirectionalLight(color, 1.6)
      : // MuJoCo's default spotlight has a 45 degree cutoff with a soft edge; no distance falloff.
        new THREE.SpotLight(color, 2.2, 0, THREE.MathUtils.degToRad(70), 0.6, 0);
    l.position.set(light.pos[0], light.pos[1], light.pos[2]);
    l.target.position.set(light.pos[0] + light.dir[0], light.pos[1] + light.dir[1], light.pos[2] + light.dir[2]);
    parent.add(l);
    parent.add(l.target);
    if (this.shadows && light.castShadow) {
      l.castShadow = true;
      l.shadow.mapSize.set(this.shadowMapSize, this.shadowMapSize);
      l.shadow.bias = -0.0005;
      const cam = l.shadow.camera as THREE.OrthographicCamera | THREE.PerspectiveCamera;
      const r = Math.max(1, model.extent * 2);
      if (cam instanceof THREE.OrthographicCamera) {
        cam.left = -r;
        cam.right = r;
        cam.top = r;
        cam.bottom = -r;
      }
      cam.near = 0.05;
      cam.far = Math.max(20, model.extent * 20);
      cam.updateProjectionMatrix();
    }
  }

  /** One geometry per distinct (type, size, mesh): the suite's limbs share a handful of shapes. */
  private geometryFor(geom: SceneGeom, model: SceneModel): THREE.BufferGeometry | null {
    const [a, b, c] = geom.size;
    const key = `${geom.type}:${a}:${b}:${c}:${geom.mesh ?? ''}`;
    const cached = this.geometries.get(key);
    if (cached) return cached;
    let g: THREE.BufferGeometry | null = null;
    switch (geom.type) {
      case 'plane': {
        // Size 0 means infinite in MuJoCo: draw it large relative to the model.
        const far = Math.max(20, model.extent * 30);
        g = new THREE.PlaneGeometry(2 * (a > 0 ? a : far), 2 * (b > 0 ? b : far));
        const uv = g.getAttribute('uv') as THREE.BufferAttribute;
        // Checker cells of 0.5 model units regardless of the plane's size (texuniform in MuJoCo).
        const cellsX = (2 * (a > 0 ? a : far)) / 1;
        const cellsY = (2 * (b > 0 ? b : far)) / 1;
        for (let i = 0; i < uv.count; i++) uv.setXY(i, uv.getX(i) * cellsX, uv.getY(i) * cellsY);
        break;
      }
      case 'sphere':
        g = new THREE.SphereGeometry(a, 24, 16);
        break;
      case 'capsule':
        g = new THREE.CapsuleGeometry(a, 2 * b, 8, 16).rotateX(Math.PI / 2);
        break;
      case 'cylinder':
        g = new THREE.CylinderGeometry(a, a, 2 * b, 24).rotateX(Math.PI / 2);
        break;
      case 'ellipsoid':
        g = new THREE.SphereGeometry(1, 24, 16).scale(a, b, c);
        break;
      case 'box':
        g = new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
        break;
      case 'mesh': {
        const m = geom.mesh !== undefined ? model.meshes[geom.mesh] : undefined;
        if (m?.uv && m.uv.length === m.faces.length * 2) {
          // Texture coordinates belong to face corners: one vertex per corner.
          const pos = new Float32Array(m.faces.length * 3);
          for (let c = 0; c < m.faces.length; c++) for (let k = 0; k < 3; k++) pos[3 * c + k] = m.vertices[3 * m.faces[c] + k];
          g = new THREE.BufferGeometry();
          g.setAttribute('position', new THREE.BufferAttribute(pos, 3));
          g.setAttribute('uv', new THREE.Float32BufferAttribute(m.uv, 2));
          g.computeVertexNormals();
        } else if (m) {
          const indexed = new THREE.BufferGeometry();
          indexed.setAttribute('position', new THREE.Float32BufferAttribute(m.vertices, 3));
          indexed.setIndex(m.faces);
          // Flat normals: MuJoCo meshes are mostly convex hulls whose edges should read as edges.
          g = indexed.toNonIndexed();
          indexed.dispose();
          g.computeVertexNormals();
        }
        break;
      }
      default:
        g = null; // hfield and sdf: not in the suite; reported through `skipped`.
    }
    if (g) this.geometries.set(key, g);
    return g;
  }

  private materialFor(geom: SceneGeom): THREE.Material {
    const [r, g, b, alpha] = geom.rgba;
    const floor = geom.type === 'plane' && geom.textured;
    const look = this.viewerLook ? materialLook(geom) : CLASSIC_LOOK;
    const texture =
      geom.type === 'mesh' && geom.texture !== undefined && this.model?.meshes[geom.mesh ?? -1]?.uv ? geom.texture : undefined;
    const key = `${r}:${g}:${b}:${alpha}:${floor}:${look.specular}:${look.shininess}:${look.emission}:${texture ?? ''}`;
    const cached = this.materials.get(key);
    if (cached) return cached;
    const color = floor ? new THREE.Color(1, 1, 1) : new THREE.Color().setRGB(r, g, b, THREE.SRGBColorSpace);
    const mat = new THREE.MeshPhongMaterial({
      color,
      shininess: floor ? 10 : look.shininess,
      specular: floor
        ? new THREE.Color(0x111111)
        : this.viewerLook
          ? new THREE.Color().setScalar(look.specular)
          : new THREE.Color(0x333333),
      emissive: color.clone().multiplyScalar(floor ? 0 : look.emission),
    });
    if (floor && this.proceduralFloor) proceduralChecker(mat);
    else if (floor) mat.map = this.checkerTexture();
    else if (texture !== undefined) {
      const tex = this.model?.textures?.[texture];
      // MuJoCo multiplies the texture by the rgba (white for a plain textured material).
      if (tex?.kind === '2d') mat.map = this.planeTexture(tex, texture);
    }
    if (alpha < 1) {
      mat.transparent = true;
      mat.opacity = alpha;
      mat.depthWrite = false;
    }
    this.materials.set(key, mat);
    return mat;
  }

  /** dm_control's floor: a 2x2 checker with edge marks (cells of half a unit), made as data so no 2D canvas is needed. */
  private checkerTexture(): THREE.DataTexture {
    if (this.floorTexture) return this.floorTexture;
    const n = 128;
    const data = new Uint8Array(n * n * 4);
    const half = n / 2;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const edge = x % half === 0 || y % half === 0;
        const odd = x < half !== y < half;
        const c = edge ? FLOOR_COLORS.line : odd ? FLOOR_COLORS.a : FLOOR_COLORS.b;
        const o = 4 * (y * n + x);
        data[o] = Math.round(c[0] * 255);
        data[o + 1] = Math.round(c[1] * 255);
        data[o + 2] = Math.round(c[2] * 255);
        data[o + 3] = 255;
      }
    }
    const t = new THREE.DataTexture(data, n, n, THREE.RGBAFormat);
    t.colorSpace = THREE.SRGBColorSpace;
    t.wrapS = t.wrapT = THREE.RepeatWrapping;
    t.magFilter = THREE.LinearFilter;
    t.minFilter = THREE.LinearMipmapLinearFilter;
    t.generateMipmaps = true;
    t.anisotropy = 4;
    t.needsUpdate = true;
    this.floorTexture = t;
    return t;
  }

  /** A 2D texture of the model (RGB bytes, row 0 first as MuJoCo stores it: no flip). */
  private planeTexture(tex: SceneTexture, index: number): THREE.Texture {
    const known = this.textures.get(index);
    if (known) return known;
    const t = new THREE.DataTexture(rgbaOf(tex.rgb, tex.width * tex.height), tex.width, tex.height, THREE.RGBAFormat);
    t.colorSpace = THREE.SRGBColorSpace;
    t.wrapS = t.wrapT = THREE.RepeatWrapping;
    t.magFilter = THREE.LinearFilter;
    t.minFilter = THREE.LinearMipmapLinearFilter;
    t.generateMipmaps = true;
    t.needsUpdate = true;
    this.textures.set(index, t);
    return t;
  }

  /** A cube or skybox texture: six square faces (+x, -x, +y, -y, +z, -z) stacked in the data. */
  private cubeTexture(tex: SceneTexture, index: number): THREE.CubeTexture {
    const known = this.textures.get(index);
    if (known instanceof THREE.CubeTexture) return known;
    const side = tex.width;
    const all = rgbaOf(tex.rgb, side * side * 6);
    const faces = Array.from({ length: 6 }, (_, f) => {
      const face = new THREE.DataTexture(all.subarray(4 * side * side * f, 4 * side * side * (f + 1)), side, side, THREE.RGBAFormat);
      face.needsUpdate = true;
      return face;
    });
    const cube = new THREE.CubeTexture(faces as unknown as HTMLImageElement[]);
    cube.format = THREE.RGBAFormat;
    cube.colorSpace = THREE.SRGBColorSpace;
    cube.magFilter = THREE.LinearFilter;
    cube.minFilter = THREE.LinearFilter;
    cube.generateMipmaps = false;
    cube.needsUpdate = true;
    this.textures.set(index, cube);
    return cube;
  }

  private clearModel(): void {
    this.scene.background = this.background;
    for (const t of this.textures.values()) t.dispose();
    this.textures.clear();
    this.scene.remove(this.root);
    this.root.traverse((o) => {
      if (o instanceof THREE.DirectionalLight || o instanceof THREE.SpotLight) o.dispose();
    });
    this.root = new THREE.Group();
    this.scene.add(this.root);
    this.bodies = [];
    for (const g of this.geometries.values()) g.dispose();
    this.geometries.clear();
    for (const m of this.materials.values()) m.dispose();
    this.materials.clear();
    this.floorTexture?.dispose();
    this.floorTexture = null;
    this.model = null;
  }
}

/**
 * MuJoCo's material lighting in Phong terms: specular reflectance x the lights' specular (0.3 in
 * MuJoCo's defaults for the headlight and model lights), shininess in [0, 1] x 128 as OpenGL's
 * exponent, emission as a share of the colour glowing unlit. Without a material: MuJoCo's defaults.
 */
export function materialLook(geom: SceneGeom): { specular: number; shininess: number; emission: number } {
  return { specular: 0.3 * (geom.specular ?? 0.5), shininess: Math.max(1, 128 * (geom.shininess ?? 0.5)), emission: geom.emission ?? 0 };
}

/** What every geom got before viewerLook (specular 0x333333 is set apart from this). */
const CLASSIC_LOOK = { specular: 0, shininess: 40, emission: 0 };

/** RGB bytes (base64) as RGBA with alpha 255, for three's textures. */
function rgbaOf(b64: string, pixels: number): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    out[4 * p] = bin.charCodeAt(3 * p);
    out[4 * p + 1] = bin.charCodeAt(3 * p + 1);
    out[4 * p + 2] = bin.charCodeAt(3 * p + 2);
    out[4 * p + 3] = 255;
  }
  return out;
}

/** The floor's colours as the checker texture stores them (8-bit sRGB), in the shader's linear space. */
function floorColor(c: number[]): THREE.Color {
  return new THREE.Color().setRGB(
    Math.round(c[0] * 255) / 255,
    Math.round(c[1] * 255) / 255,
    Math.round(c[2] * 255) / 255,
    THREE.SRGBColorSpace,
  );
}

/**
 * The checker texture's pattern computed per pixel: cells of half a unit (the plane's uv counts
 * units), colours a / b, an edge mark 1/64 of a cell wide on each cell's low sides. Both are
 * box-filtered over the pixel's footprint (the analytic integral of the pattern), which does what
 * the texture's mipmaps did: the far floor fades to the mean colour instead of shimmering.
 */
function proceduralChecker(mat: THREE.MeshPhongMaterial): void {
  const a = floorColor(FLOOR_COLORS.a);
  const b = floorColor(FLOOR_COLORS.b);
  const line = floorColor(FLOOR_COLORS.line);
  mat.onBeforeCompile = (shader) => {
    shader.uniforms.floorA = { value: a };
    shader.uniforms.floorB = { value: b };
    shader.uniforms.floorLine = { value: line };
    shader.vertexShader = shader.vertexShader
      .replace('#include <uv_pars_vertex>', '#include <uv_pars_vertex>\nvarying vec2 vFloorUv;')
      .replace('#include <uv_vertex>', '#include <uv_vertex>\n\tvFloorUv = uv;');
    shader.fragmentShader = shader.fragmentShader
      .replace(
        '#include <uv_pars_fragment>',
        `#include <uv_pars_fragment>
varying vec2 vFloorUv;
uniform vec3 floorA;
uniform vec3 floorB;
uniform vec3 floorLine;
// Integral of a mark of width w at the start of each period 1.
vec2 markIntegral(vec2 x, float w) { return floor(x) * w + min(fract(x), vec2(w)); }`,
      )
      .replace(
        '#include <map_fragment>',
        `{
	vec2 p = vFloorUv * 2.0;
	vec2 fw = fwidth(p) + 1e-4;
	// Box-filtered xor of two square waves (1 where the cell indices' sum is odd).
	vec2 s = 2.0 * (abs(fract((p - 0.5 * fw) * 0.5) - 0.5) - abs(fract((p + 0.5 * fw) * 0.5) - 0.5)) / fw;
	float odd = 0.5 - 0.5 * s.x * s.y;
	const float w = 1.0 / 64.0;
	vec2 m = (markIntegral(p + 0.5 * fw, w) - markIntegral(p - 0.5 * fw, w)) / fw;
	float mark = 1.0 - (1.0 - m.x) * (1.0 - m.y);
	diffuseColor.rgb *= mix(mix(floorB, floorA, odd), floorLine, mark);
}`,
      );
  };
}
