import { describe, it, expect } from 'vitest';
import { PixelReplay, framesToObservation, type PixelObservation } from '../../../src-main/learn/replay/pixel-replay.ts';
import { FrameStore } from '../../../src-main/learn/replay/frame-store.ts';
import { Rng } from '../../../src-main/util/rng.ts';

const H = 4;
const W = 5;
const FRAME = H * W * 3;

/** A frame whose every byte encodes its id, so a sampled observation says which frames it holds. */
function frame(id: number): Uint8Array {
  return Uint8Array.from({ length: FRAME }, (_, i) => (id * 7 + i) % 256);
}

function obsOf(ids: number[]): PixelObservation {
  const frames = new Uint8Array(ids.length * FRAME);
  ids.forEach((id, f) => frames.set(frame(id), f * FRAME));
  return { ids, frames };
}

/** The id of frame f in a sampled float observation (NHWC, channel f * 3 + c). */
function idAt(obs: Float32Array, offset: number, f: number, stack: number): number {
  const bytes = new Uint8Array(FRAME);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) bytes[p * 3 + c] = Math.round(obs[offset + p * 3 * stack + f * 3 + c] * 255);
  for (let id = 0; id < 256; id++) if (bytes.every((b, i) => b === (id * 7 + i) % 256)) return id;
  return -1;
}

describe('PixelReplay', () => {
  it('keeps each frame once when the next observation becomes the following observation', () => {
    // Paper setting: 3 rendered action repeats per step, so each step brings 3 new frames.
    const buf = new PixelReplay({ capacity: 10, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1 });
    let obs = obsOf([0, 1, 2]);
    for (let t = 1; t <= 4; t++) {
      const next = obsOf([3 * t, 3 * t + 1, 3 * t + 2]);
      buf.add(obs, [t / 10], t, next, false);
      obs = next;
    }
    expect(buf.size).toBe(4);
    expect(buf.framesStored).toBe(15);
    // Sliding stack: one new frame per step.
    const slide = new PixelReplay({ capacity: 10, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 1 });
    for (let t = 0; t < 5; t++) slide.add(obsOf([t, t + 1, t + 2]), [0], 0, obsOf([t + 1, t + 2, t + 3]), false);
    expect(slide.framesStored).toBe(8);
  });

  it('samples observations with the right frames, scaled to [0, 1], in NHWC with frame-major channels', () => {
    const buf = new PixelReplay({ capacity: 50, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 2 });
    for (let t = 0; t < 30; t++) buf.add(obsOf([t, t + 1, t + 2]), [t / 100, -t / 100], t, obsOf([t + 1, t + 2, t + 3]), t % 7 === 6);
    const batch = buf.makeBatch(16);
    buf.sample(new Rng(1), batch);
    const O = FRAME * 3;
    for (let k = 0; k < 16; k++) {
      const t = Math.round(batch.rewards[k]);
      expect(batch.actions[2 * k]).toBeCloseTo(t / 100, 6);
      expect(batch.actions[2 * k + 1]).toBeCloseTo(-t / 100, 6);
      expect(batch.dones[k]).toBe(t % 7 === 6 ? 1 : 0);
      for (let f = 0; f < 3; f++) {
        expect(idAt(batch.obs, k * O, f, 3)).toBe(t + f);
        expect(idAt(batch.nextObs, k * O, f, 3)).toBe(t + 1 + f);
      }
      for (let i = 0; i < O; i++) expect(batch.obs[k * O + i]).toBeGreaterThanOrEqual(0);
      for (let i = 0; i < O; i++) expect(batch.obs[k * O + i]).toBeLessThanOrEqual(1);
    }
    // framesToObservation (what PixelEnv hands the agent) uses the same layout.
    const o = framesToObservation(obsOf([5, 6, 7]).frames, 3);
    expect([0, 1, 2].map((f) => idAt(o, 0, f, 3))).toEqual([5, 6, 7]);
  });

  it('n-step returns: sums discounted rewards within an episode, stops at its end and bootstraps from the n-th next observation', () => {
    const gamma = 0.9;
    const buf = new PixelReplay({ capacity: 40, height: H, width: W, stack: 2, newFramesPerStep: 1, actionSize: 1, nStep: 3, gamma });
    // Episodes of 6 (terminated), 5 (cut by the time limit: the next episode's frames are new) and 4 steps (still running).
    const steps: { t: number; reward: number; done: boolean; nextIds: number[]; episode: number }[] = [];
    let id = 0;
    let t = 0;
    [6, 5, 4].forEach((len, episode) => {
      let ids = [id, id];
      id++;
      for (let k = 0; k < len; k++, t++) {
        const next = [ids[1], id++];
        const done = episode === 0 && k === len - 1;
        buf.add(obsOf(ids), [t], 10 + t, obsOf(next), done);
        steps.push({ t, reward: 10 + t, done, nextIds: next, episode });
        ids = next;
      }
    });
    const batch = buf.makeBatch(64);
    buf.sample(new Rng(3), batch);
    const O = FRAME * 2;
    const seen = new Set<number>();
    for (let k = 0; k < 64; k++) {
      const s = steps[Math.round(batch.actions[k])];
      seen.add(s.t);
      let reward = 0;
      let discount = 1;
      let last = s;
      for (let j = 0; j < 3; j++) {
        const u = steps[s.t + j];
        if (j > 0 && (!u || u.episode !== s.episode || last.done)) break;
        reward += discount * u.reward;
        discount *= gamma;
        last = u;
      }
      expect(batch.rewards[k]).toBeCloseTo(reward, 4);
      expect(batch.dones[k]).toBe(last.done ? 1 : 0);
      expect(batch.discounts![k]).toBeCloseTo(last.done ? 0 : discount, 6);
      expect([0, 1].map((f) => idAt(batch.nextObs, k * O, f, 2))).toEqual(last.nextIds);
    }
    // Every kind of window was sampled: whole ones, ones cut by a termination, a time limit and the newest step.
    for (const t of [0, 4, 5, 9, 10, 14]) expect(seen.has(t), `step ${t} sampled`).toBe(true);
    // One-step replays leave the bootstrap factor to the agent.
    expect(
      new PixelReplay({ capacity: 4, height: H, width: W, stack: 2, newFramesPerStep: 1, actionSize: 1 }).makeBatch(2).discounts,
    ).toBeUndefined();
    expect(() => new PixelReplay({ capacity: 4, height: H, width: W, stack: 2, newFramesPerStep: 1, actionSize: 1, nStep: 3 })).toThrow(
      /gamma/,
    );
  });

  it('evicts the oldest transitions and never samples a transition whose frames were overwritten', () => {
    const buf = new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1 });
    let id = 0;
    for (let ep = 0; ep < 6; ep++) {
      // Short episodes: each reset brings 3 frames of its own, more than the per-step budget.
      let obs = obsOf([id++, id++, id++]);
      for (let t = 0; t < 3; t++) {
        const next = obsOf([id++, id++, id++]);
        buf.add(obs, [0], obs.ids[0], next, false);
        obs = next;
      }
    }
    expect(buf.size).toBeLessThanOrEqual(8);
    expect(buf.size).toBeGreaterThan(5);
    const batch = buf.makeBatch(64);
    buf.sample(new Rng(2), batch);
    const O = FRAME * 3;
    for (let k = 0; k < 64; k++) {
      const first = Math.round(batch.rewards[k]);
      expect(first).toBeGreaterThanOrEqual(id - 3 * 8 - 3 * 6);
      expect([0, 1, 2].map((f) => idAt(batch.obs, k * O, f, 3))).toEqual([first % 256, (first + 1) % 256, (first + 2) % 256]);
    }
  });

  it("holds 10^5 transitions of the paper's setting (3 new 64x64 frames each) in at most 1.5 GB, frames back exactly", () => {
    // Frames like rendered ones: a flat sky, a floor of stripes, a moving box (raw: 3.7 GB for 3 x 10^5 frames).
    const S = 64;
    const frameAt = (k: number) => {
      const f = new Uint8Array(S * S * 3);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const i = (y * S + x) * 3;
          const box = Math.abs(x - (k % 50) - 7) < 4 && Math.abs(y - 30) < 10;
          const v = box ? [200, 120, 60] : y > 40 ? [40 + ((x >> 3) & 1) * 20, 50, 60] : [30, 40, 70 + (y >> 2)];
          f.set(v, i);
        }
      }
      return f;
    };
    const options = { capacity: 100_000, height: S, width: S, stack: 3, newFramesPerStep: 3, actionSize: 6 };
    expect(PixelReplay.bytesFor(options)).toBeGreaterThan(3.6e9);
    const buf = new PixelReplay(options);
    const distinct = Array.from({ length: 50 }, (_, k) => frameAt(k));
    const obsFrames = (t: number) => {
      const frames = new Uint8Array(3 * S * S * 3);
      for (let f = 0; f < 3; f++) frames.set(distinct[(3 * t + f) % 50], f * S * S * 3);
      return { ids: [3 * t, 3 * t + 1, 3 * t + 2], frames };
    };
    let obs = obsFrames(0);
    for (let t = 1; t <= 100_000; t++) {
      const next = obsFrames(t);
      buf.add(obs, [0, 0, 0, 0, 0, 0], t, next, false);
      obs = next;
    }
    expect(buf.size).toBe(100_000);
    expect(buf.framesStored).toBe(300_003);
    expect(buf.byteLength).toBeLessThan(1.5e9);
    console.log(
      `10^5 paper-setting transitions: ${(buf.byteLength / 1e6).toFixed(0)} MB held (raw ${(PixelReplay.bytesFor(options) / 1e9).toFixed(2)} GB)`,
    );
    const batch = buf.sample(new Rng(4), buf.makeBatch(8));
    for (let k = 0; k < 8; k++) {
      const t = batch.rewards[k] - 1;
      const want = framesToObservation(obsFrames(t).frames, 3);
      expect(Array.from(batch.obs.subarray(k * want.length, (k + 1) * want.length))).toEqual(Array.from(want));
    }
  });

  it('saves and loads: the restored buffer samples the same batches and keeps sharing frames', () => {
    const buf = new PixelReplay({ capacity: 6, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 1 });
    for (let t = 0; t < 9; t++) buf.add(obsOf([t, t + 1, t + 2]), [t / 10], t, obsOf([t + 1, t + 2, t + 3]), false);
    const { meta, arrays } = buf.save();
    const back = PixelReplay.load(JSON.parse(JSON.stringify(meta)), arrays);
    expect(back.size).toBe(buf.size);
    const a = buf.sample(new Rng(5), buf.makeBatch(8));
    const b = back.sample(new Rng(5), back.makeBatch(8));
    expect(Array.from(b.obs)).toEqual(Array.from(a.obs));
    expect(Array.from(b.rewards)).toEqual(Array.from(a.rewards));
    back.add(obsOf([9, 10, 11]), [0], 9, obsOf([10, 11, 12]), false);
    expect(back.framesStored).toBe(Math.min(buf.framesStored + 1, back.frameCapacity));
    expect(() => PixelReplay.load(meta, { ...arrays, rewards: new Float32Array(2) })).toThrow(/rewards/);
  });

  it('random-shift augmentation: each sampled observation is its frames translated by at most `shift` pixels, edges repeated, next observations independently', () => {
    const shift = 2;
    const buf = new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1, shift });
    let obs = obsOf([0, 1, 2]);
    for (let t = 1; t <= 6; t++) {
      const next = obsOf([3 * t, 3 * t + 1, 3 * t + 2]);
      buf.add(obs, [0], 0, next, false);
      obs = next;
    }
    /** The (dy, dx) that explains observation `o` of frames `ids` (the same for its 3 frames), or null. */
    const shiftOf = (o: Float32Array, offset: number, ids: number[]): [number, number] | null => {
      for (let dy = -shift; dy <= shift; dy++) {
        for (let dx = -shift; dx <= shift; dx++) {
          let ok = true;
          for (let f = 0; f < 3 && ok; f++) {
            const src = frame(ids[f]);
            for (let y = 0; y < H && ok; y++) {
              for (let x = 0; x < W && ok; x++) {
                const sy = Math.min(H - 1, Math.max(0, y + dy));
                const sx = Math.min(W - 1, Math.max(0, x + dx));
                for (let c = 0; c < 3; c++)
                  if (Math.round(o[offset + (y * W + x) * 9 + f * 3 + c] * 255) !== src[(sy * W + sx) * 3 + c]) ok = false;
              }
            }
          }
          if (ok) return [dy, dx];
        }
      }
      return null;
    };
    const plain = new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1 });
    const rng = new Rng(3);
    const batch = buf.makeBatch(32);
    buf.sample(rng, batch);
    const seen = new Set<string>();
    let independent = 0;
    for (let k = 0; k < 32; k++) {
      const t = batch.indices![k];
      const first = 3 * t;
      const a = shiftOf(batch.obs, k * buf.obsSize, [first, first + 1, first + 2]);
      const b = shiftOf(batch.nextObs, k * buf.obsSize, [first + 3, first + 4, first + 5]);
      expect(a, `sample ${k}`).not.toBeNull();
      expect(b, `sample ${k} next`).not.toBeNull();
      seen.add(String(a));
      if (String(a) !== String(b)) independent++;
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(independent).toBeGreaterThan(10);
    expect(plain.shift).toBe(0);
    expect(() => new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1, shift: H })).toThrow(
      /shift/,
    );
    expect(() => new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1, shift: 1.5 })).toThrow(
      /shift/,
    );
  });

  it('rejects observations of the wrong shape', () => {
    const buf = new PixelReplay({ capacity: 4, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 1 });
    expect(() => buf.add(obsOf([0, 1]), [0], 0, obsOf([1, 2, 3]), false)).toThrow(/3 frame ids/);
    expect(() => buf.add({ ids: [0, 1, 2], frames: new Uint8Array(5) }, [0], 0, obsOf([1, 2, 3]), false)).toThrow(/frames of/);
    expect(() => new PixelReplay({ capacity: 4, height: H, width: W, stack: 3, newFramesPerStep: 4, actionSize: 1 })).toThrow();
  });
});

describe('FrameStore', () => {
  const BYTES = FRAME;
  const noisy = (rng: Rng) => Uint8Array.from({ length: BYTES }, () => rng.int(256));
  /** Two flat halves whose colours encode the id: two runs, 8 bytes encoded. */
  const blocky = (id: number) => Uint8Array.from({ length: BYTES }, (_, i) => (i < BYTES / 2 ? [id % 256, 2, 3] : [4, id % 256, 6])[i % 3]);

  it('gives back every held frame exactly, encoded or raw, and takes far less than raw for flat frames', () => {
    const rng = new Rng(1);
    const store = new FrameStore(BYTES, 100, undefined, 64);
    const kept = new Map<number, Uint8Array>();
    for (let id = 0; id < 100; id++) {
      const f = id % 3 === 0 ? noisy(rng) : blocky(id);
      store.put(id, f);
      kept.set(id, f);
    }
    expect(store.size).toBe(100);
    expect(store.byteLength).toBeLessThanOrEqual(store.maxBytes + 100 * FrameStore.SLOT_BYTES);
    for (const [id, f] of kept) expect(Array.from(store.read(store.slot(id), new Uint8Array(BYTES)))).toEqual(Array.from(f));
    // Encoded frames take their runs: 8 bytes each here, a flat frame 4.
    const encoded = new FrameStore(BYTES, 10, undefined, 64);
    encoded.put(2, blocky(2));
    expect(encoded.bytesHeld).toBe(8);
    const flat = new FrameStore(BYTES, 10, undefined, 64);
    flat.put(1, new Uint8Array(BYTES).fill(9));
    expect(flat.bytesHeld).toBe(4);
  });

  it('evicts the oldest frames first, when slots or bytes run out, and tells which', () => {
    const rng = new Rng(2);
    const evicted: number[] = [];
    const store = new FrameStore(BYTES, 5, (id) => evicted.push(id), 64);
    const kept = new Map<number, Uint8Array>();
    for (let id = 0; id < 40; id++) {
      // Mixed sizes: raw noise and short runs, so the byte ring wraps with gaps.
      const f = id % 2 ? noisy(rng) : blocky(id);
      store.put(id, f);
      kept.set(id, f);
      expect(store.size).toBeLessThanOrEqual(5);
      for (let j = 0; j <= id; j++) {
        const slot = store.slot(j);
        if (slot < 0) continue;
        expect(store.idAt(slot)).toBe(j);
        expect(Array.from(store.read(slot, new Uint8Array(BYTES))), `frame ${j} after storing ${id}`).toEqual(Array.from(kept.get(j)!));
      }
    }
    expect(evicted).toEqual(Array.from({ length: 40 - store.size }, (_, i) => i));
    expect(store.byteLength).toBeLessThanOrEqual(5 * BYTES + 5 * FrameStore.SLOT_BYTES);
  });

  it('saves and restores its frames; refuses data that does not decode to whole frames', () => {
    const store = new FrameStore(BYTES, 8);
    for (let id = 10; id < 20; id++) store.put(id, blocky(id));
    const saved = store.save();
    expect(Array.from(saved.ids)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    const back = new FrameStore(BYTES, 8);
    back.restore(saved.ids, saved.lengths, saved.bytes);
    for (const id of saved.ids) expect(Array.from(back.read(back.slot(id), new Uint8Array(BYTES)))).toEqual(Array.from(blocky(id)));
    const bad = saved.bytes.slice();
    bad[0] += 1;
    expect(() => new FrameStore(BYTES, 8).restore(saved.ids, saved.lengths, bad)).toThrow(/decodes to/);
    expect(() => new FrameStore(BYTES, 8).restore(saved.ids, saved.lengths, saved.bytes.subarray(0, saved.bytes.length - 8))).toThrow(
      /bad length/,
    );
    expect(() => new FrameStore(BYTES, 8).restore(saved.ids, saved.lengths, Uint8Array.from([...saved.bytes, 0]))).toThrow(/left over/);
  });
});

describe('PixelReplay checkpoints from before the frame store', () => {
  it('loads raw frames in their slots and samples the same transitions', () => {
    // Capacity 6, sliding stack of 3: 9 slots. Frames 0-8 filled slots 0-8, frames 9-11 overwrote
    // slots 0-2 (next slot 3) and took transitions 0-2 with them: transitions 3-8 live at ring positions 3, 4, 5, 0, 1, 2.
    const options = { capacity: 6, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 1 };
    const slotId = Float64Array.from([9, 10, 11, 3, 4, 5, 6, 7, 8]);
    const frames = new Uint8Array(9 * FRAME);
    slotId.forEach((id, s) => frames.set(frame(id), s * FRAME));
    const obsIds = new Float64Array(18);
    const nextIds = new Float64Array(18);
    const rewards = new Float32Array(6);
    for (let t = 3; t < 9; t++) {
      const p = t % 6;
      for (let f = 0; f < 3; f++) {
        obsIds[p * 3 + f] = t + f;
        nextIds[p * 3 + f] = t + 1 + f;
      }
      rewards[p] = t;
    }
    const buf = PixelReplay.load(
      { options, start: 3, count: 6, nextSlot: 3, framesHeld: 9 },
      { frames, slotId, obsIds, nextIds, actions: new Float32Array(6), rewards, dones: new Float32Array(6) },
    );
    expect(buf.size).toBe(6);
    expect(buf.framesStored).toBe(9);
    const batch = buf.sample(new Rng(3), buf.makeBatch(32));
    const O = FRAME * 3;
    for (let k = 0; k < 32; k++) {
      const t = batch.rewards[k];
      expect(t).toBeGreaterThanOrEqual(3);
      expect([0, 1, 2].map((f) => idAt(batch.obs, k * O, f, 3))).toEqual([t, t + 1, t + 2]);
      expect([0, 1, 2].map((f) => idAt(batch.nextObs, k * O, f, 3))).toEqual([t + 1, t + 2, t + 3]);
    }
  });
});
