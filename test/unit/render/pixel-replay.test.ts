import { describe, it, expect } from 'vitest';
import { PixelReplay, framesToObservation, type PixelObservation } from '../../../src-main/learn/pixel-replay.ts';
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
    expect(new PixelReplay({ capacity: 4, height: H, width: W, stack: 2, newFramesPerStep: 1, actionSize: 1 }).makeBatch(2).discounts).toBeUndefined();
    expect(() => new PixelReplay({ capacity: 4, height: H, width: W, stack: 2, newFramesPerStep: 1, actionSize: 1, nStep: 3 })).toThrow(/gamma/);
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

  it('holds 10^5 transitions of 64x64 with a sliding stack in at most 1.5 GB, and says what the paper setting costs', () => {
    const sliding = { capacity: 100_000, height: 64, width: 64, stack: 3, newFramesPerStep: 1, actionSize: 6 };
    expect(PixelReplay.bytesFor(sliding)).toBeLessThan(1.5e9);
    // Rendering all 3 action repeats (the paper) needs 3 new frames per transition.
    expect(PixelReplay.bytesFor({ ...sliding, newFramesPerStep: 3 })).toBeGreaterThan(3.6e9);
    // The allocation is real (typed arrays; pages stay untouched until written).
    const buf = new PixelReplay(sliding);
    expect(buf.byteLength).toBe(PixelReplay.bytesFor(sliding));
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
                for (let c = 0; c < 3; c++) if (Math.round(o[offset + (y * W + x) * 9 + f * 3 + c] * 255) !== src[(sy * W + sx) * 3 + c]) ok = false;
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
    expect(() => new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1, shift: H })).toThrow(/shift/);
    expect(() => new PixelReplay({ capacity: 8, height: H, width: W, stack: 3, newFramesPerStep: 3, actionSize: 1, shift: 1.5 })).toThrow(/shift/);
  });

  it('rejects observations of the wrong shape', () => {
    const buf = new PixelReplay({ capacity: 4, height: H, width: W, stack: 3, newFramesPerStep: 1, actionSize: 1 });
    expect(() => buf.add(obsOf([0, 1]), [0], 0, obsOf([1, 2, 3]), false)).toThrow(/3 frame ids/);
    expect(() => buf.add({ ids: [0, 1, 2], frames: new Uint8Array(5) }, [0], 0, obsOf([1, 2, 3]), false)).toThrow(/frames of/);
    expect(() => new PixelReplay({ capacity: 4, height: H, width: W, stack: 3, newFramesPerStep: 4, actionSize: 1 })).toThrow();
  });
});
