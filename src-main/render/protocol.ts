/**
 * What the Node side and the render-host page (src-renderer/src/render-host/) say to each other.
 * No Node imports here: the page imports this file.
 *
 * Frames travel as base64 of packed bytes (RGB, frame-major, rows top to bottom), poses as base64
 * of a Float32Array (frames x nbody x 7: x y z qw qx qy qz, as sim bodyPoses()).
 */
import type { SceneModel } from '../api/scene.ts';

/** The camera observations are drawn from. */
export type PixelCamera =
  /** A named camera of the model (the task spec's `camera`). */
  | { kind: 'camera'; name: string }
  /**
   * A derived tracking camera: looks at `body` from `distance` (default 2.2 x model extent) at
   * `azimuth` / `elevation` degrees, following the body horizontally (MujocoScene's follow view).
   */
  | { kind: 'follow'; body: number; distance?: number; azimuth?: number; elevation?: number };

export interface RenderSetup {
  scene: SceneModel;
  camera: PixelCamera;
  width: number;
  height: number;
  /** Most frames one render() call draws (the tiled canvas is sized for it). */
  maxFrames: number;
  /** Shadow maps (off by default for observations: each tile would redraw the shadow map). */
  shadows?: boolean;
  /** Multisample anti-aliasing (as MuJoCo's own renderer): thin parts such as a pole keep sub-pixel detail. */
  antialias?: boolean;
}

/** The page's API, installed as `window.rlRenderHost`. */
export interface RenderHostPage {
  setScene(setup: RenderSetup): { skipped: string[]; canvas: [number, number] };
  /** Draws `frames` frames from base64 poses; returns base64 RGB bytes (frames x height x width x 3). */
  render(posesBase64: string, frames: number): string;
}

export const RENDER_HOST_GLOBAL = 'rlRenderHost';
