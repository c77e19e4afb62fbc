import type { BenchSuite } from '../commands/bench.ts';
import { HeadlessRenderHost } from '../../render/headless.ts';
import { taskCamera } from '../../render/host.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { createEnv } from '../../sim/env.ts';

/**
 * Observation frames per second through the headless render host (Chromium, WebGL2 on
 * SwiftShader): 64 frames of 64x64 per round trip (poses in, RGB bytes out), the batch a
 * 16-env x 3-repeat or 64-env pixel run draws at once. Poses are a recorded random-action
 * trajectory of cartpole-balance, drawn with its task camera.
 */
export const run: BenchSuite = async function* ({ quick, log }) {
  const envId = 'cartpole-balance';
  const source = resolveEnv(envId);
  const env = await createEnv(source, { seed: 1 });
  const scene = env.scene();
  const frames = 64;
  const nb = scene.bodies.length;
  const poses = new Float32Array(frames * nb * 7);
  env.reset(1);
  for (let f = 0; f < frames; f++) {
    env.bodyPoses(poses.subarray(f * nb * 7, (f + 1) * nb * 7));
    const r = env.step(Array.from({ length: env.info.action.size }, () => Math.random() * 2 - 1));
    if (r.terminated || r.truncated) env.reset();
  }
  env.dispose();
  const host = await HeadlessRenderHost.start({ maxFrames: frames });
  try {
    for (const size of [64, 84]) {
      await host.setScene(scene, taskCamera(scene, source.spec.camera), { width: size, height: size });
      for (let i = 0; i < 3; i++) await host.render(poses);
      const seconds = quick ? 2 : 6;
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await host.render(poses);
        n += frames;
      }
      const dt = (performance.now() - t0) / 1000;
      log(`${envId} ${size}x${size}: ${n} frames in ${dt.toFixed(1)} s`);
      yield { case: `render-${size}`, frames_per_s: Math.round(n / dt), env: envId, frames_per_call: frames };
    }
  } finally {
    await host.close();
  }
};
