/**
 * Worker thread of SyncRenderHost: owns the headless Chromium render host and answers render
 * requests posted in shared memory while the caller's thread blocks in Atomics.wait.
 */
import { parentPort } from 'node:worker_threads';
import { HeadlessRenderHost } from './headless.ts';
import {
  C_DONE,
  C_FRAMES,
  C_REQUEST,
  C_STATUS,
  ERROR_BYTES,
  type SyncHostBuffers,
  type WorkerReply,
  type WorkerRequest,
} from './sync-shared.ts';

/** Atomics.waitAsync (Node 16+; typed in ES2024 lib, newer than this project's ES2023 target). */
const waitAsync = (
  Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }
).waitAsync;

let host: HeadlessRenderHost | null = null;
let generation = 0;
const port = parentPort!;
const reply = (r: WorkerReply) => port.postMessage(r);

async function serve(buffers: SyncHostBuffers, nbody: number, gen: number): Promise<void> {
  const c = new Int32Array(buffers.control);
  const poses = new Float32Array(buffers.poses);
  const frames = new Uint8Array(buffers.frames);
  const error = new Uint8Array(buffers.error);
  let seen = Atomics.load(c, C_REQUEST);
  while (gen === generation) {
    const w = waitAsync(c, C_REQUEST, seen);
    if (w.async) await w.value;
    if (gen !== generation) return;
    const seq = Atomics.load(c, C_REQUEST);
    if (seq === seen) continue;
    seen = seq;
    try {
      const n = Atomics.load(c, C_FRAMES);
      const out = await host!.render(poses.slice(0, n * nbody * 7));
      frames.set(out);
      Atomics.store(c, C_STATUS, 0);
    } catch (e) {
      const msg = new TextEncoder().encode((e instanceof Error ? e.message : String(e)).slice(0, ERROR_BYTES / 4));
      error.fill(0);
      error.set(msg.subarray(0, ERROR_BYTES - 1));
      Atomics.store(c, C_STATUS, 1);
    }
    Atomics.store(c, C_DONE, seq);
    Atomics.notify(c, C_DONE);
  }
}

port.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      if (req.type === 'start') {
        host = await HeadlessRenderHost.start(req.opts);
      } else if (req.type === 'setScene') {
        if (!host) throw new Error('setScene before start');
        await host.setScene(req.scene, req.camera, req.size);
        const gen = ++generation;
        void serve(req.buffers, req.scene.bodies.length, gen);
      } else if (req.type === 'close') {
        generation++;
        await host?.close();
        host = null;
      }
      reply({ type: 'ok' });
    } catch (e) {
      reply({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
