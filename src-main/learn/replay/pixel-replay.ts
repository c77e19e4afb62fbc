import type { Batch } from '../types.ts';
import type { Rng } from '../../util/rng.ts';
import { FrameStore } from './frame-store.ts';

/**
 * Replay for pixel observations: frames stored once as uint8 RGB, observations as references to
 * `stack` frames. An observation's frames carry ids (PixelEnv numbers every frame it renders), so
 * the next observation of one transition and the observation of the following transition share
 * their frames instead of storing them twice, and a sliding frame stack (one new frame per step)
 * costs one frame per transition.
 *
 * Memory: frames are kept run-length encoded (FrameStore): a rendered 64x64 frame takes 0.3-3.5 KB
 * of its 12 KB, so 10^5 transitions of the DDPG paper's setting (every one of the 3 action
 * repeats rendered: 3 new frames per transition, 3.7 GB raw) hold in well under 1.5 GB, plus ~60
 * bytes per transition. The frame store grows with need and never beyond the raw size
 * (bytesFor(): the most a buffer can take); byteLength is what it holds now.
 *
 * Sampling converts to float32 in [0, 1] in the encoder's layout: NHWC rows with channel
 * f * 3 + c for frame f (oldest first) and colour c. With `shift` > 0 each sampled observation
 * (and, independently, each next observation) is translated by a random whole number of pixels in
 * [-shift, shift] along both axes, edges repeated: the random-shift augmentation of DrQ (Kostrikov
 * et al. 2021: pad 4 + random 84 x 84 crop) and DrQ-v2, applied as the batch is converted.
 */
export interface PixelReplayOptions {
  /** Transitions kept. */
  capacity: number;
  height: number;
  width: number;
  /** Frames per observation (the paper: 3). */
  stack: number;
  /** New frames a transition brings: `stack` for the paper's rendered action repeats, 1 for a sliding stack. */
  newFramesPerStep: number;
  actionSize: number;
  /** Random-shift augmentation of sampled observations, in pixels (0: none, the default). */
  shift?: number;
  /**
   * n-step returns (1: none, the default; DrQ-v2: 3): a sampled transition's reward becomes the
   * discounted sum of up to n rewards of its episode, its next observation the one n steps on,
   * and the batch carries the bootstrap factor gamma^k (1 - done) per row (Batch.discounts).
   */
  nStep?: number;
  /** Discount for n-step sums and bootstrap factors (needed when nStep > 1). */
  gamma?: number;
}

/** One observation: `stack` frames (frame-major, each height x width x 3) and their ids. */
export interface PixelObservation {
  ids: ArrayLike<number>;
  frames: Uint8Array;
}

/**
 * JSON next to the arrays in a checkpoint. frameEncoding 'runs': `frames` are the held frames,
 * oldest first, as FrameStore encodes them (frameIds, frameLengths); absent (checkpoints before
 * the frame store): raw frames in their slots (slotId), the oldest at nextSlot once all were used.
 */
export interface PixelReplayMeta {
  options: PixelReplayOptions;
  start: number;
  count: number;
  frameEncoding?: 'runs';
  nextSlot?: number;
  framesHeld?: number;
}

export interface PixelReplayArrays {
  frames: Uint8Array;
  frameIds?: Float64Array;
  frameLengths?: Int32Array;
  /** Raw-frame checkpoints only. */
  slotId?: Float64Array;
  obsIds: Float64Array;
  nextIds: Float64Array;
  actions: Float32Array;
  rewards: Float32Array;
  dones: Float32Array;
}

export class PixelReplay {
  readonly capacity: number;
  readonly frameCapacity: number;
  readonly frameBytes: number;
  readonly stack: number;
  readonly actionSize: number;
  readonly obsSize: number;
  readonly shift: number;
  readonly nStep: number;
  private readonly gamma: number;
  private readonly height: number;
  private readonly width: number;
  private readonly frames: FrameStore;
  /** One decoded frame (sampling decodes each frame here, then converts it). */
  private readonly frame: Uint8Array;
  private readonly obsSlots: Int32Array;
  private readonly nextSlots: Int32Array;
  private readonly obsIds: Float64Array;
  private readonly nextIds: Float64Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly dones: Float32Array;
  /** Live transitions are ring positions start .. start + count - 1. */
  private start = 0;
  private count = 0;

  constructor(readonly opts: PixelReplayOptions) {
    const { capacity, height, width, stack, newFramesPerStep, actionSize } = opts;
    if (!(capacity >= 1) || !(stack >= 1) || !(newFramesPerStep >= 1) || newFramesPerStep > stack) {
      throw new Error('pixel replay: capacity, stack >= 1 and 1 <= newFramesPerStep <= stack');
    }
    this.capacity = capacity;
    this.stack = stack;
    this.actionSize = actionSize;
    this.frameBytes = height * width * 3;
    this.height = height;
    this.width = width;
    this.shift = opts.shift ?? 0;
    if (!(Number.isInteger(this.shift) && this.shift >= 0 && this.shift < Math.min(height, width)))
      throw new Error('pixel replay: shift must be a whole number of pixels below the frame size');
    this.nStep = opts.nStep ?? 1;
    this.gamma = opts.gamma ?? 1;
    if (!(Number.isInteger(this.nStep) && this.nStep >= 1)) throw new Error('pixel replay: nStep must be a whole number >= 1');
    if (this.nStep > 1 && !(opts.gamma !== undefined && opts.gamma >= 0 && opts.gamma <= 1))
      throw new Error('pixel replay: n-step returns need gamma in [0, 1]');
    this.obsSize = this.frameBytes * stack;
    // Room for every live transition's new frames plus one observation's worth (an episode's first).
    this.frameCapacity = capacity * newFramesPerStep + stack;
    // Transitions referencing an evicted frame go (they are the oldest ones).
    this.frames = new FrameStore(this.frameBytes, this.frameCapacity, (id) => {
      while (this.count > 0 && this.references(this.start, id)) this.dropOldest();
    });
    this.frame = new Uint8Array(this.frameBytes);
    this.obsSlots = new Int32Array(capacity * stack);
    this.nextSlots = new Int32Array(capacity * stack);
    this.obsIds = new Float64Array(capacity * stack);
    this.nextIds = new Float64Array(capacity * stack);
    this.actions = new Float32Array(capacity * actionSize);
    this.rewards = new Float32Array(capacity);
    this.dones = new Float32Array(capacity);
  }

  /** The most bytes a buffer of these options can take (every frame incompressible). */
  static bytesFor(o: PixelReplayOptions): number {
    const frames = (o.capacity * o.newFramesPerStep + o.stack) * (o.height * o.width * 3 + FrameStore.SLOT_BYTES);
    return frames + PixelReplay.transitionBytes(o);
  }

  /** Bytes of the per-transition arrays: frame slots and ids of both observations, action, reward, done. */
  private static transitionBytes(o: PixelReplayOptions): number {
    return o.capacity * (o.stack * 2 * (4 + 8) + o.actionSize * 4 + 8);
  }

  /** Bytes allocated now: the frame store (its ring grows with need) plus the per-transition arrays. */
  get byteLength(): number {
    return this.frames.byteLength + PixelReplay.transitionBytes(this.opts);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes the held frames take encoded (byteLength includes the ring's free room). */
  get frameBytesHeld(): number {
    return this.frames.bytesHeld;
  }

  /** Distinct frames held. */
  get framesStored(): number {
    return this.frames.size;
  }

  /** Stores one transition; frames already held (by id) are referenced, not copied. `done` = terminated. */
  add(obs: PixelObservation, action: ArrayLike<number>, reward: number, nextObs: PixelObservation, done: boolean): void {
    const S = this.stack;
    if (obs.ids.length !== S || nextObs.ids.length !== S) throw new Error(`pixel replay: observations need ${S} frame ids`);
    if (obs.frames.length !== S * this.frameBytes || nextObs.frames.length !== S * this.frameBytes)
      throw new Error(`pixel replay: observations need ${S} frames of ${this.frameBytes} bytes`);
    if (this.count === this.capacity) this.dropOldest();
    const t = (this.start + this.count) % this.capacity;
    // Store frames first, then read their slots back: storing next's frames may not evict obs's.
    for (let f = 0; f < S; f++) this.frames.put(obs.ids[f], obs.frames, f * this.frameBytes);
    for (let f = 0; f < S; f++) this.frames.put(nextObs.ids[f], nextObs.frames, f * this.frameBytes);
    for (let f = 0; f < S; f++) {
      this.obsIds[t * S + f] = obs.ids[f];
      this.obsSlots[t * S + f] = this.frames.slot(obs.ids[f]);
      this.nextIds[t * S + f] = nextObs.ids[f];
      this.nextSlots[t * S + f] = this.frames.slot(nextObs.ids[f]);
    }
    this.actions.set(action, t * this.actionSize);
    this.rewards[t] = reward;
    this.dones[t] = done ? 1 : 0;
    this.count++;
  }

  private references(t: number, id: number): boolean {
    const S = this.stack;
    for (let f = 0; f < S; f++) if (this.obsIds[t * S + f] === id || this.nextIds[t * S + f] === id) return true;
    return false;
  }

  private dropOldest(): void {
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  /** Whether every frame a transition refers to is still held (frames from interleaved envs can age out first). */
  private intact(t: number): boolean {
    const S = this.stack;
    for (let f = 0; f < S; f++) {
      if (this.frames.idAt(this.obsSlots[t * S + f]) !== this.obsIds[t * S + f]) return false;
      if (this.frames.idAt(this.nextSlots[t * S + f]) !== this.nextIds[t * S + f]) return false;
    }
    return true;
  }

  /** The whole state as arrays (the held frames encoded, oldest first) plus JSON meta, for checkpoints. */
  save(): { meta: PixelReplayMeta; arrays: PixelReplayArrays } {
    const frames = this.frames.save();
    return {
      meta: { options: { ...this.opts }, start: this.start, count: this.count, frameEncoding: 'runs' },
      arrays: {
        frames: frames.bytes,
        frameIds: frames.ids,
        frameLengths: frames.lengths,
        obsIds: this.obsIds.slice(),
        nextIds: this.nextIds.slice(),
        actions: this.actions.slice(),
        rewards: this.rewards.slice(),
        dones: this.dones.slice(),
      },
    };
  }

  /**
   * Rebuilds a buffer written by save() (or by the raw-frame checkpoints before it); sizes are
   * checked against the options. Transitions find their frames again by id.
   */
  static load(meta: PixelReplayMeta, a: PixelReplayArrays): PixelReplay {
    const buf = new PixelReplay(meta.options);
    const check = (name: string, got: number | undefined, want: number) => {
      if (got !== want) throw new Error(`pixel replay '${name}' has ${got ?? 'no'} values, expected ${want}`);
    };
    for (const k of ['obsIds', 'nextIds'] as const) check(k, a[k].length, buf.capacity * buf.stack);
    check('actions', a.actions.length, buf.capacity * buf.actionSize);
    check('rewards', a.rewards.length, buf.capacity);
    check('dones', a.dones.length, buf.capacity);
    if (meta.frameEncoding === 'runs') {
      if (!a.frameIds || !a.frameLengths) throw new Error("pixel replay: 'frameIds' or 'frameLengths' is missing");
      buf.frames.restore(a.frameIds, a.frameLengths, a.frames);
    } else {
      // Raw frames in their slots: put back oldest first (the oldest is at nextSlot once every slot was used).
      const held = meta.framesHeld ?? 0;
      check('slotId', a.slotId?.length, held);
      check('frames', a.frames.length, held * buf.frameBytes);
      const first = held === buf.frameCapacity ? (meta.nextSlot ?? 0) : 0;
      for (let k = 0; k < held; k++) {
        const s = (first + k) % held;
        if (a.slotId![s] >= 0) buf.frames.put(a.slotId![s], a.frames, s * buf.frameBytes);
      }
    }
    buf.obsIds.set(a.obsIds);
    buf.nextIds.set(a.nextIds);
    for (let i = 0; i < buf.obsIds.length; i++) {
      buf.obsSlots[i] = buf.frames.slot(buf.obsIds[i]);
      buf.nextSlots[i] = buf.frames.slot(buf.nextIds[i]);
    }
    buf.actions.set(a.actions);
    buf.rewards.set(a.rewards);
    buf.dones.set(a.dones);
    buf.start = meta.start;
    buf.count = meta.count;
    return buf;
  }

  makeBatch(size: number): Batch {
    return {
      size,
      obs: new Float32Array(size * this.obsSize),
      actions: new Float32Array(size * this.actionSize),
      rewards: new Float32Array(size),
      nextObs: new Float32Array(size * this.obsSize),
      dones: new Float32Array(size),
      indices: new Int32Array(size),
      ...(this.nStep > 1 ? { discounts: new Float32Array(size) } : {}),
    };
  }

  /**
   * The transition after ring position t in the same episode, or -1: it must be live, not begin
   * a new episode (its observation is t's next observation, frame for frame) and t must not end one.
   */
  private successor(t: number): number {
    if (this.dones[t] !== 0) return -1;
    const u = (t + 1) % this.capacity;
    if ((u - this.start + this.capacity) % this.capacity >= this.count) return -1;
    const S = this.stack;
    for (let f = 0; f < S; f++) if (this.obsIds[u * S + f] !== this.nextIds[t * S + f]) return -1;
    return this.intact(u) ? u : -1;
  }

  /** Uniform minibatch; observations as float32 in [0, 1], NHWC with stack x 3 channels. */
  sample(rng: Rng, out: Batch): Batch {
    if (this.count === 0) throw new Error('cannot sample an empty replay buffer');
    const S = this.stack;
    const indices = out.indices ?? (out.indices = new Int32Array(out.size));
    if (this.nStep > 1 && !out.discounts) out.discounts = new Float32Array(out.size);
    for (let k = 0; k < out.size; k++) {
      let t = (this.start + rng.int(this.count)) % this.capacity;
      for (let tries = 0; !this.intact(t) && tries < 100; tries++) t = (this.start + rng.int(this.count)) % this.capacity;
      indices[k] = t;
      // The last transition of the n-step window (t itself for 1-step), its discounted reward sum.
      let last = t;
      let reward = this.rewards[t];
      let discount = this.gamma;
      for (let j = 1; j < this.nStep; j++) {
        const u = this.successor(last);
        if (u < 0) break;
        reward += discount * this.rewards[u];
        discount *= this.gamma;
        last = u;
      }
      const m = this.shift;
      if (m > 0) {
        this.gatherShifted(this.obsSlots, t * S, out.obs, k * this.obsSize, rng.int(2 * m + 1) - m, rng.int(2 * m + 1) - m);
        this.gatherShifted(this.nextSlots, last * S, out.nextObs, k * this.obsSize, rng.int(2 * m + 1) - m, rng.int(2 * m + 1) - m);
      } else {
        this.gather(this.obsSlots, t * S, out.obs, k * this.obsSize);
        this.gather(this.nextSlots, last * S, out.nextObs, k * this.obsSize);
      }
      out.actions.set(this.actions.subarray(t * this.actionSize, (t + 1) * this.actionSize), k * this.actionSize);
      out.rewards[k] = reward;
      out.dones[k] = this.dones[last];
      if (out.discounts) out.discounts[k] = discount * (1 - this.dones[last]);
    }
    return out;
  }

  private gather(slots: Int32Array, at: number, out: Float32Array, offset: number): void {
    const S = this.stack;
    const C = 3 * S;
    const pixels = this.frameBytes / 3;
    const scale = 1 / 255;
    const fr = this.frame;
    for (let f = 0; f < S; f++) {
      this.frames.read(slots[at + f], fr);
      let o = offset + 3 * f;
      let i = 0;
      for (let p = 0; p < pixels; p++, o += C, i += 3) {
        out[o] = fr[i] * scale;
        out[o + 1] = fr[i + 1] * scale;
        out[o + 2] = fr[i + 2] * scale;
      }
    }
  }

  /** gather() translated by (dy, dx) pixels: output pixel (y, x) reads (y + dy, x + dx), clamped to the frame. */
  private gatherShifted(slots: Int32Array, at: number, out: Float32Array, offset: number, dy: number, dx: number): void {
    const S = this.stack;
    const C = 3 * S;
    const { height: H, width: W } = this;
    const scale = 1 / 255;
    const fr = this.frame;
    for (let f = 0; f < S; f++) {
      this.frames.read(slots[at + f], fr);
      const src = 0;
      let o = offset + 3 * f;
      for (let y = 0; y < H; y++) {
        const sy = Math.min(H - 1, Math.max(0, y + dy));
        const row = src + sy * W * 3;
        for (let x = 0; x < W; x++, o += C) {
          const i = row + Math.min(W - 1, Math.max(0, x + dx)) * 3;
          out[o] = fr[i] * scale;
          out[o + 1] = fr[i + 1] * scale;
          out[o + 2] = fr[i + 2] * scale;
        }
      }
    }
  }
}

/**
 * Stacked uint8 frames (frame-major, each height x width x 3) as one float32 observation in
 * [0, 1], NHWC with channel f * 3 + c: the layout the replay samples and the encoder reads.
 */
export function framesToObservation(frames: Uint8Array, stack: number, out = new Float32Array(frames.length)): Float32Array {
  const C = 3 * stack;
  const frameBytes = frames.length / stack;
  const pixels = frameBytes / 3;
  const scale = 1 / 255;
  for (let f = 0; f < stack; f++) {
    let o = 3 * f;
    let i = f * frameBytes;
    for (let p = 0; p < pixels; p++, o += C, i += 3) {
      out[o] = frames[i] * scale;
      out[o + 1] = frames[i + 1] * scale;
      out[o + 2] = frames[i + 2] * scale;
    }
  }
  return out;
}
