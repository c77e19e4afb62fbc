/**
 * The pixel-observation render host: a page with no UI that draws many frames of one MuJoCo scene
 * into one tiled canvas with the studio's own scene builder (MujocoScene), reads them back in one
 * readPixels, and hands them to the Node side as base64 RGB. Loaded by headless Chromium
 * (src-main/render/headless.ts) or a hidden Electron window (src-main/app/render-host-electron.ts).
 */
import { Color } from 'three';
import { MujocoScene } from '../scene/mujoco-scene.ts';
import { RENDER_HOST_GLOBAL, type RenderHostPage, type RenderSetup } from '../../../src-main/render/protocol.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { Tiling } from './tiling.ts';

let scene: MujocoScene | null = null;
let tiling: Tiling | null = null;
let shadows = false;
let antialias = false;

const page: RenderHostPage = {
  setScene(setup: RenderSetup) {
    const want = setup.shadows ?? false;
    const aa = setup.antialias ?? false;
    if (!scene || want !== shadows || aa !== antialias) {
      scene?.dispose();
      shadows = want;
      antialias = aa;
      // A new canvas each time: a canvas keeps the context attributes (antialias) of its first context.
      const canvas = document.createElement('canvas');
      // preserveDrawingBuffer: frames are read back after render() returns to the page's caller.
      scene = new MujocoScene({ canvas, shadows, antialias, preserveDrawingBuffer: true, pixelRatio: 1 });
      // One clear of the whole canvas per batch instead of one per tile (render() below).
      scene.renderer.autoClear = false;
    }
    scene.load(setup.scene);
    tiling = new Tiling(setup.width, setup.height, setup.maxFrames);
    scene.setSize(tiling.canvasWidth, tiling.canvasHeight, false);
    // Every tile has the frame's aspect, not the canvas's.
    scene.camera.aspect = setup.width / setup.height;
    scene.camera.updateProjectionMatrix();
    const cam = setup.camera;
    if (cam.kind === 'camera') {
      if (!setup.scene.cameras.some((c) => c.name === cam.name)) throw new Error(`the model has no camera named '${cam.name}'`);
      scene.setView({ kind: 'camera', name: cam.name });
    } else {
      scene.setView({ kind: 'follow', body: cam.body });
      scene.resetOrbit();
      if (cam.distance !== undefined) scene.orbit.distance = cam.distance;
      if (cam.azimuth !== undefined) scene.orbit.azimuth = cam.azimuth;
      if (cam.elevation !== undefined) scene.orbit.elevation = cam.elevation;
    }
    scene.camera.aspect = setup.width / setup.height;
    scene.camera.updateProjectionMatrix();
    return { skipped: scene.skipped, canvas: [tiling.canvasWidth, tiling.canvasHeight] };
  },

  render(posesBase64: string, frames: number): string {
    if (!scene || !tiling) throw new Error('render() before setScene()');
    if (frames > tiling.maxFrames) throw new Error(`${frames} frames asked, the canvas holds ${tiling.maxFrames}`);
    const poses = new Float32Array(fromBase64(posesBase64).buffer);
    const bg = scene.scene.background;
    if (bg instanceof Color) scene.renderer.setClearColor(bg);
    scene.renderer.setScissorTest(false);
    scene.renderer.clear();
    for (let f = 0; f < frames; f++) {
      scene.setPoses(poses, f);
      scene.render(tiling.viewport(f));
    }
    const gl = scene.renderer.getContext();
    const rgba = tiling.readBuffer(frames);
    gl.readPixels(0, 0, tiling.canvasWidth, tiling.rowsFor(frames) * tiling.height, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
    return toBase64(tiling.unpack(rgba, frames));
  },
};

(window as unknown as Record<string, unknown>)[RENDER_HOST_GLOBAL] = page;
document.title = 'render host ready';
