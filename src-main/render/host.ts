/**
 * The pixel-observation render host as the engine sees it: one scene, one camera, one frame size,
 * and batches of body poses in, packed RGB frames out. Implemented over headless Chromium
 * (headless.ts, everywhere) and a hidden Electron window (app/render-host-electron.ts); both load
 * the same page (src-renderer/render-host.html) that draws with the studio's own scene builder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SceneModel } from '../api/scene.ts';
import { appRoot } from '../util/paths.ts';
import type { PixelCamera } from './protocol.ts';

export type { PixelCamera } from './protocol.ts';

export interface FrameSize {
  width: number;
  height: number;
  /** Multisample anti-aliasing (RenderSetup.antialias); default off. */
  antialias?: boolean;
}

export interface RenderHost {
  /** Loads a model and fixes the camera and the frame size for the following render() calls. */
  setScene(scene: SceneModel, camera: PixelCamera, size: FrameSize): Promise<void>;
  /**
   * Draws one frame per pose set: `poses` is frames x nbody x 7 (as sim bodyPoses()). Returns
   * frames x height x width x 3 bytes (RGB, rows top to bottom). Batches larger than the host's
   * tiled canvas are drawn in several passes.
   */
  render(poses: Float32Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The built page's folder (out/renderer), or a clear error naming the build step. */
export function renderHostPageDir(root = appRoot()): string {
  const dir = join(root, 'out', 'renderer');
  if (!existsSync(join(dir, 'render-host.html'))) {
    throw new Error(
      `the render-host page is not built (${join(dir, 'render-host.html')} is missing): run \`npx electron-vite build\` first`,
    );
  }
  return dir;
}

/** The camera for a task: the spec's named camera, else a tracking camera on the first body under the world. */
export function taskCamera(scene: SceneModel, specCamera?: string): PixelCamera {
  if (specCamera) {
    if (!scene.cameras.some((c) => c.name === specCamera))
      throw new Error(`the task names camera '${specCamera}', which the model does not have`);
    return { kind: 'camera', name: specCamera };
  }
  const root = scene.bodies.find((b) => b.id !== 0 && b.parent === 0)?.id ?? 0;
  // A side view slightly from above, far enough for the whole model (MujocoScene's default orbit).
  return { kind: 'follow', body: root, azimuth: -90, elevation: 15, distance: Math.max(0.5, 2.2 * scene.extent) };
}

/** Checks a pose batch against the loaded scene; returns the number of frames. */
export function poseFrames(poses: Float32Array, scene: SceneModel): number {
  const per = scene.bodies.length * 7;
  if (poses.length === 0 || poses.length % per !== 0)
    throw new RangeError(`poses hold ${poses.length} values, not a multiple of nbody x 7 = ${per}`);
  return poses.length / per;
}

export function checkFrameSize(size: FrameSize): void {
  for (const k of ['width', 'height'] as const) {
    const v = size[k];
    if (!Number.isInteger(v) || v < 8 || v > 1024) throw new RangeError(`frame ${k} must be an integer in [8, 1024], got ${v}`);
  }
}
