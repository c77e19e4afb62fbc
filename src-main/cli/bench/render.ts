import type { BenchSuite } from './suite.ts';
import { HeadlessRenderHost } from '../../render/headless.ts';
import { taskCamera } from '../../render/host.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { createEnv } from '../../sim/env.ts';
import { PixelReplay } from '../../learn/replay/pixel-replay.ts';
import { Rng } from '../../util/rng.ts';

/**
 * Observation frames per second through the headless render host (Chromium, WebGL2 on
 * SwiftShader): 64 frames of 64x64 per round trip (poses in, RGB bytes out), the batch a
 * 16-env x 3-repeat or 64-env pixel run draws at once. Poses are a recorded random-action
 * trajectory of cartpole-balance, drawn with its task camera; `render-64-aa` with multisample
 * anti-aliasing (the pixel setting `antialias`).
 *
 * `replay-memory-ENV`: what 10^5 transitions of the DDPG paper's pixel setting (3 rendered repeats
 * per step, 3 new 64x64 frames per transition, 3.7 GB raw) take in PixelReplay's run-length frame
 * store, filled from real anti-aliased frames of a random-action trajectory (1536 distinct frames
 * cycled under new ids), and how long sampling a batch of 64 takes (with random shift 4).
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
    for (const [size, antialias] of [
      [64, false],
      [84, false],
      [64, true],
    ] as const) {
      await host.setScene(scene, taskCamera(scene, source.spec.camera), { width: size, height: size, antialias });
      for (let i = 0; i < 3; i++) await host.render(poses);
      const seconds = quick ? 2 : 6;
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await host.render(poses);
        n += frames;
      }
      const dt = (performance.now() - t0) / 1000;
      log(`${envId} ${size}x${size}${antialias ? ' anti-aliased' : ''}: ${n} frames in ${dt.toFixed(1)} s`);
      yield { case: `render-${size}${antialias ? '-aa' : ''}`, frames_per_s: Math.round(n / dt), env: envId, frames_per_call: frames };
    }
    for (const id of quick ? ['cartpole-balance'] : ['cartpole-balance', 'cheetah-run', 'walker-walk'])
      yield await replayMemory(host, id, frames);
  } finally {
    await host.close();
  }
};

async function replayMemory(host: HeadlessRenderHost, envId: string, perCall: number): Promise<Record<string, unknown>> {
  const source = resolveEnv(envId);
  const env = await createEnv(source, { seed: 2 });
  const scene = env.scene();
  const nb = scene.bodies.length;
  const distinct = 1536;
  const poses = new Float32Array(distinct * nb * 7);
  env.reset(2);
  const rng = new Rng(3);
  for (let f = 0; f < distinct; f++) {
    env.bodyPoses(poses.subarray(f * nb * 7, (f + 1) * nb * 7));
    const r = env.step(Array.from({ length: env.info.action.size }, () => rng.range(-1, 1)));
    if (r.terminated || r.truncated) env.reset();
  }
  const actionSize = env.info.action.size;
  env.dispose();
  const size = 64;
  await host.setScene(scene, taskCamera(scene, source.spec.camera), { width: size, height: size, antialias: true });
  const frameBytes = size * size * 3;
  const rendered = new Uint8Array(distinct * frameBytes);
  for (let f0 = 0; f0 < distinct; f0 += perCall)
    rendered.set(await host.render(poses.subarray(f0 * nb * 7, (f0 + perCall) * nb * 7)), f0 * frameBytes);
  const options = { capacity: 100_000, height: size, width: size, stack: 3, newFramesPerStep: 3, actionSize, shift: 4 };
  const replay = new PixelReplay(options);
  const observation = (t: number) => {
    const frames = new Uint8Array(3 * frameBytes);
    for (let f = 0; f < 3; f++) {
      const k = (3 * t + f) % distinct;
      frames.set(rendered.subarray(k * frameBytes, (k + 1) * frameBytes), f * frameBytes);
    }
    return { ids: [3 * t, 3 * t + 1, 3 * t + 2], frames };
  };
  const action = new Float32Array(actionSize);
  const t0 = performance.now();
  let obs = observation(0);
  for (let t = 1; t <= options.capacity; t++) {
    const next = observation(t);
    replay.add(obs, action, 0, next, false);
    obs = next;
  }
  const fillS = (performance.now() - t0) / 1000;
  const batch = replay.makeBatch(64);
  for (let i = 0; i < 5; i++) replay.sample(rng, batch);
  const s0 = performance.now();
  for (let i = 0; i < 50; i++) replay.sample(rng, batch);
  return {
    case: `replay-memory-${envId}`,
    transitions: replay.size,
    frames: replay.framesStored,
    held_mb: +(replay.byteLength / 1e6).toFixed(1),
    encoded_frames_mb: +(replay.frameBytesHeld / 1e6).toFixed(1),
    raw_mb: +(PixelReplay.bytesFor(options) / 1e6).toFixed(1),
    add_per_s: Math.round(options.capacity / fillS),
    sample_b64_ms: +((performance.now() - s0) / 50).toFixed(2),
  };
}
