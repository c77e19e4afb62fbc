/**
 * The pixel-observation render host in headless Chromium, drawing built-in envs with the studio's
 * scene builder from the built page (out/renderer/render-host.html; `npm test` builds first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findChromium, HeadlessRenderHost } from '../../src-main/render/headless.ts';
import { taskCamera } from '../../src-main/render/host.ts';
import { PixelEnv } from '../../src-main/render/pixel-env.ts';
import { framesToPng } from '../../src-main/render/png.ts';
import { SyncRenderHost } from '../../src-main/render/sync-host.ts';
import { resolveEnv } from '../../src-main/sim/registry.ts';
import { createEnv } from '../../src-main/sim/env.ts';
import { sceneFor } from '../../src-main/sim/scene.ts';
import { SCREENSHOT_DIR } from './studio.ts';

const W = 64;
const FRAME = W * W * 3;

function saveFrames(name: string, frames: Uint8Array): void {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(join(SCREENSHOT_DIR, `${name}.png`), framesToPng(frames, W, W));
}

/** Distinct colours and the share of pixels differing from the most common colour (the background). */
function content(frame: Uint8Array): { colours: number; nonBackground: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < frame.length; i += 3) {
    const key = (frame[i] << 16) | (frame[i + 1] << 8) | frame[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = Math.max(...counts.values());
  return { colours: counts.size, nonBackground: 1 - top / (frame.length / 3) };
}

function differingPixels(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

describe('headless render host', () => {
  let host: HeadlessRenderHost;

  beforeAll(async () => {
    host = await HeadlessRenderHost.start({ executablePath: findChromium(), maxFrames: 4 });
  });

  afterAll(async () => {
    await host?.close();
  });

  it('draws cartpole-balance with its task camera: not blank, and the frame follows the pose', async () => {
    const source = resolveEnv('cartpole-balance');
    // qpos = (cart position, pole angle): centred and upright, cart moved, pole tilted.
    const { scene, poses } = await sceneFor(source, [
      [0, 0],
      [0.6, 0],
      [0, 0.7],
      [0, 0],
    ]);
    await host.setScene(scene, taskCamera(scene, source.spec.camera), { width: W, height: W });
    const frames = await host.render(poses!);
    expect(frames.length).toBe(4 * FRAME);
    saveFrames('render-host-cartpole', frames);
    const f = (i: number) => frames.subarray(i * FRAME, (i + 1) * FRAME);
    const c = content(f(0));
    expect(c.colours).toBeGreaterThan(4);
    expect(c.nonBackground).toBeGreaterThan(0.02);
    // Moving the cart or tilting the pole changes the picture; the same pose draws the same frame.
    expect(differingPixels(f(0), f(1))).toBeGreaterThan(20);
    expect(differingPixels(f(0), f(2))).toBeGreaterThan(20);
    expect(differingPixels(f(1), f(2))).toBeGreaterThan(20);
    expect(differingPixels(f(0), f(3))).toBe(0);
  });

  it('draws batches larger than the tiled canvas in passes, each frame as when drawn alone', async () => {
    const source = resolveEnv('cartpole-balance');
    const qpos = Array.from({ length: 6 }, (_, i) => [i / 10 - 0.25, i / 8]);
    const { scene, poses } = await sceneFor(source, qpos);
    await host.setScene(scene, taskCamera(scene, source.spec.camera), { width: W, height: W });
    const all = await host.render(poses!);
    expect(all.length).toBe(6 * FRAME);
    const per = scene.bodies.length * 7;
    for (const i of [0, 4, 5]) {
      const alone = await host.render(poses!.subarray(i * per, (i + 1) * per));
      expect(differingPixels(alone, all.subarray(i * FRAME, (i + 1) * FRAME))).toBe(0);
    }
    await expect(host.render(new Float32Array(per + 1))).rejects.toThrow(/multiple of nbody/);
  });

  it('draws a suite env without a named camera from a derived tracking camera', async () => {
    const source = resolveEnv('walker-walk');
    const env = await createEnv(source, { seed: 3 });
    try {
      const scene = env.scene();
      const cam = taskCamera(scene);
      expect(cam.kind).toBe('follow');
      await host.setScene(scene, cam, { width: W, height: W });
      env.reset(3);
      const first = await host.render(env.bodyPoses());
      for (let t = 0; t < 40; t++) env.step(Array.from({ length: env.info.action.size }, (_, i) => (i % 2 ? 1 : -1)));
      const later = await host.render(env.bodyPoses());
      saveFrames('render-host-walker', new Uint8Array([...first, ...later]));
      expect(content(first).nonBackground).toBeGreaterThan(0.02);
      expect(differingPixels(first, later)).toBeGreaterThan(20);
    } finally {
      env.dispose();
    }
  });

  it('refuses a camera the model does not have', async () => {
    const { scene } = await sceneFor(resolveEnv('cartpole-balance'));
    expect(() => taskCamera(scene, 'nope')).toThrow(/camera 'nope'/);
    await expect(host.setScene(scene, { kind: 'camera', name: 'nope' }, { width: W, height: W })).rejects.toThrow(/no camera named 'nope'/);
  });
});

describe('PixelEnv over the blocking host', () => {
  let host: SyncRenderHost;

  beforeAll(async () => {
    host = await SyncRenderHost.start({ executablePath: findChromium() });
  });

  afterAll(async () => {
    await host?.close();
  });

  it('gives 9 x 64 x 64 observations in [0, 1] from 3 rendered action repeats, and frames with ids for the replay', async () => {
    const source = resolveEnv('cartpole-balance');
    const inner = await createEnv(source, { seed: 1 });
    const env = await PixelEnv.create(inner, host, { specCamera: source.spec.camera });
    try {
      expect(env.info.obs.size).toBe(64 * 64 * 9);
      expect(env.shape).toEqual({ height: 64, width: 64, channels: 9 });
      expect(env.info.episodeLength).toBe(Math.ceil(inner.info.episodeLength / 3));
      const o0 = env.reset(5);
      expect(o0.length).toBe(64 * 64 * 9);
      expect(Math.min(...o0)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...o0)).toBeLessThanOrEqual(1);
      const p0 = env.pixels();
      // The first observation repeats the initial frame: one id.
      expect(new Set(Array.from(p0.ids)).size).toBe(1);
      let r = env.step([1]);
      for (let t = 0; t < 10; t++) r = env.step([1]);
      const p1 = env.pixels();
      expect(new Set(Array.from(p1.ids)).size).toBe(3);
      expect(Math.min(...Array.from(p1.ids))).toBeGreaterThan(p0.ids[0]);
      // The cart accelerates: the 3 frames of one step differ, and obs channels 0-2 are frame 0.
      const f = (i: number) => p1.frames.subarray(i * FRAME, (i + 1) * FRAME);
      expect(differingPixels(f(0), f(2))).toBeGreaterThan(0);
      for (let p = 0; p < 64 * 64; p += 97) {
        for (let c = 0; c < 3; c++) expect(r.obs[p * 9 + 6 + c]).toBeCloseTo(f(2)[p * 3 + c] / 255, 6);
      }
      saveFrames('pixel-env-cartpole', p1.frames);
      // Same seed, same actions: the same pixels.
      env.reset(5);
      let again = env.step([1]);
      for (let t = 0; t < 10; t++) again = env.step([1]);
      expect(Array.from(again.obs)).toEqual(Array.from(r.obs));
      // A step in two halves (work in between overlaps the drawing) gives the same observation.
      env.reset(5);
      let split = env.step([1]);
      for (let t = 0; t < 10; t++) {
        env.beginStep([1]);
        expect(() => env.beginStep([1])).toThrow(/twice/);
        split = env.endStep();
      }
      expect(Array.from(split.obs)).toEqual(Array.from(r.obs));
      expect(() => env.endStep()).toThrow(/without beginStep/);
    } finally {
      env.dispose();
    }
  });

  it('anti-aliased frames show the sub-pixel motion of the thin pole that aliased frames lose', async () => {
    // The pole falls from near upright with no force; early on its tip moves by a fraction of a pixel per step.
    const source = resolveEnv('cartpole-balance');
    const changes = async (antialias: boolean) => {
      const env = await PixelEnv.create(await createEnv(source, { seed: 1 }), host, {
        specCamera: source.spec.camera,
        stacking: 'sliding',
        stack: 1,
        actionRepeat: 1,
        antialias,
      });
      try {
        env.reset(3);
        let prev = env.pixels().frames;
        const out: { angle: number; changed: number; colours: number }[] = [];
        for (let t = 0; t < 40; t++) {
          env.step([0]);
          const cur = env.pixels().frames;
          // The state under the pixels: cart position, the pole's zz and xz (sin of its angle), velocities.
          const angle = Math.asin(env.state()[2]);
          out.push({ angle, changed: differingPixels(prev, cur), colours: content(cur).colours });
          prev = cur;
        }
        return out;
      } finally {
        env.dispose();
      }
    };
    const aliased = await changes(false);
    const smooth = await changes(true);
    // Same physics under both.
    expect(smooth.map((s) => s.angle)).toEqual(aliased.map((s) => s.angle));
    const still = (xs: { changed: number }[]) => xs.filter((x) => x.changed === 0).length;
    expect(still(smooth), 'steps whose frame did not change at all').toBeLessThan(still(aliased));
    // Edges blend into the background: more colours per frame (51 against 31 when written).
    expect(smooth[39].colours).toBeGreaterThan(aliased[39].colours + 10);
  });

  it("'sliding' stacking: one frame per step, the observation holds the last 3 steps' frames", async () => {
    const source = resolveEnv('cartpole-balance');
    const env = await PixelEnv.create(await createEnv(source, { seed: 1 }), host, {
      specCamera: source.spec.camera,
      stacking: 'sliding',
      actionRepeat: 8,
    });
    try {
      expect(env.shape).toEqual({ height: 64, width: 64, channels: 9 });
      env.reset(2);
      const frames: Uint8Array[] = [];
      for (let t = 0; t < 4; t++) {
        env.step([1]);
        frames.push(env.pixels().frames.slice(2 * FRAME));
      }
      const p = env.pixels();
      expect(new Set(Array.from(p.ids)).size).toBe(3);
      for (let f = 0; f < 3; f++) expect(differingPixels(p.frames.subarray(f * FRAME, (f + 1) * FRAME), frames[f + 1])).toBe(0);
    } finally {
      env.dispose();
    }
  });
});
