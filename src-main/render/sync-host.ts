/**
 * A render host with a blocking render: the headless host runs in a worker thread and the caller
 * waits on shared memory (Atomics.wait) while it draws. This is what lets PixelEnv implement the
 * synchronous Env interface (step() returns the observation), so the trainer loop that drives
 * state-based envs drives pixel envs unchanged. Poses and frames travel through
 * SharedArrayBuffers, one Atomics.notify each way per batch.
 */
import type { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { SceneModel } from '../api/scene.ts';
import { spawnWorker } from '../util/worker.ts';
import { checkFrameSize, poseFrames, type FrameSize, type PixelCamera, type RenderHost } from './host.ts';
import type { HeadlessOptions } from './headless.ts';
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

export interface SyncHostOptions extends HeadlessOptions {
  /** Longest wait for one batch before giving up (ms, default 60 s). */
  timeoutMs?: number;
}

export class SyncRenderHost implements RenderHost {
  private buffers: SyncHostBuffers | null = null;
  private control: Int32Array | null = null;
  private poses: Float32Array | null = null;
  private frames: Uint8Array | null = null;
  private scene: SceneModel | null = null;
  private frameBytes = 0;
  private seq = 0;
  private closed = false;
  /** Frames of the request() not yet collected (0: none). */
  private pending = 0;

  private constructor(
    private readonly worker: Worker,
    readonly maxFrames: number,
    private readonly timeoutMs: number,
  ) {}

  static async start(opts: SyncHostOptions = {}): Promise<SyncRenderHost> {
    const worker = spawnWorker(new URL('./host-worker.ts', import.meta.url));
    const host = new SyncRenderHost(worker, opts.maxFrames ?? 64, opts.timeoutMs ?? 60_000);
    const { timeoutMs: _t, ...headless } = opts;
    await host.call({ type: 'start', opts: { ...headless, maxFrames: host.maxFrames } });
    return host;
  }

  private async call(req: WorkerRequest): Promise<void> {
    this.worker.postMessage(req);
    // Whichever comes first; the other wait is cancelled so no listener is left behind per call.
    const done = new AbortController();
    const { signal } = done;
    const ignoreAbort = (e: unknown) => {
      if ((e as Error).name !== 'AbortError') throw e;
      return new Promise<never>(() => {});
    };
    try {
      const [reply] = (await Promise.race([
        once(this.worker, 'message', { signal }).catch(ignoreAbort),
        once(this.worker, 'error', { signal }).then(([e]) => [{ type: 'error', message: (e as Error).message }], ignoreAbort),
      ])) as [WorkerReply];
      if (reply.type === 'error') throw new Error(`render host: ${reply.message}`);
    } finally {
      done.abort();
    }
  }

  async setScene(scene: SceneModel, camera: PixelCamera, size: FrameSize): Promise<void> {
    checkFrameSize(size);
    this.frameBytes = size.width * size.height * 3;
    const buffers: SyncHostBuffers = {
      control: new SharedArrayBuffer(4 * 4),
      poses: new SharedArrayBuffer(this.maxFrames * scene.bodies.length * 7 * 4),
      frames: new SharedArrayBuffer(this.maxFrames * this.frameBytes),
      error: new SharedArrayBuffer(ERROR_BYTES),
    };
    await this.call({ type: 'setScene', scene, camera, size, buffers });
    this.buffers = buffers;
    this.control = new Int32Array(buffers.control);
    this.poses = new Float32Array(buffers.poses);
    this.frames = new Uint8Array(buffers.frames);
    this.scene = scene;
    this.seq = 0;
  }

  /** Draws frames x nbody x 7 poses; blocks until the frames are back. */
  renderSync(poses: Float32Array): Uint8Array {
    const { total, per } = this.check(poses);
    const out = new Uint8Array(total * this.frameBytes);
    for (let f0 = 0; f0 < total; f0 += this.maxFrames) {
      const n = Math.min(this.maxFrames, total - f0);
      this.post(poses.subarray(f0 * per, (f0 + n) * per), n);
      out.set(this.wait(n), f0 * this.frameBytes);
    }
    return out;
  }

  /**
   * renderSync in two halves: the request goes out now (at most maxFrames frames) and
   * collect() blocks for its frames, so the caller can work while the page draws.
   */
  request(poses: Float32Array): void {
    const { total } = this.check(poses);
    if (total > this.maxFrames) throw new RangeError(`a request holds at most ${this.maxFrames} frames, got ${total}`);
    if (this.pending) throw new Error('render request already pending: collect() it first');
    this.post(poses, total);
    this.pending = total;
  }

  /** The frames of the pending request() (a copy). */
  collect(): Uint8Array {
    const n = this.pending;
    if (!n) throw new Error('no render request pending');
    this.pending = 0;
    return this.wait(n).slice();
  }

  private check(poses: Float32Array): { total: number; per: number } {
    if (this.closed) throw new Error('render host used after close()');
    if (!this.scene || !this.control || !this.poses || !this.frames || !this.buffers) throw new Error('render() before setScene()');
    if (this.pending) throw new Error('render request pending: collect() it first');
    return { total: poseFrames(poses, this.scene), per: this.scene.bodies.length * 7 };
  }

  private post(poses: Float32Array, n: number): void {
    const c = this.control!;
    this.poses!.set(poses);
    Atomics.store(c, C_FRAMES, n);
    const seq = ++this.seq;
    Atomics.store(c, C_REQUEST, seq);
    Atomics.notify(c, C_REQUEST);
  }

  /** Blocks until the last posted request is answered; a view of its n frames in shared memory. */
  private wait(n: number): Uint8Array {
    const c = this.control!;
    const seq = this.seq;
    const deadline = Date.now() + this.timeoutMs;
    for (let done = Atomics.load(c, C_DONE); done !== seq; done = Atomics.load(c, C_DONE)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`render host did not answer within ${this.timeoutMs} ms`);
      Atomics.wait(c, C_DONE, done, left);
    }
    if (Atomics.load(c, C_STATUS) !== 0) {
      const bytes = new Uint8Array(this.buffers!.error);
      const len = bytes.indexOf(0);
      throw new Error(`render host: ${new TextDecoder().decode(bytes.slice(0, len < 0 ? bytes.length : len))}`);
    }
    return this.frames!.subarray(0, n * this.frameBytes);
  }

  async render(poses: Float32Array): Promise<Uint8Array> {
    return this.renderSync(poses);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.call({ type: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }
}
