/**
 * Exploration noise (learn/algos/noise.ts): the decaying schedule's scale and spread at the start,
 * midway and after the decay, and that a resumed schedule goes on where it stopped.
 */
import { describe, expect, it } from 'vitest';
import { makeActionNoise, ScheduledNoise } from '../../../src-main/learn/algos/noise.ts';
import { Rng } from '../../../src-main/util/rng.ts';

const params = { ouTheta: 0.15, ouSigma: 0.2, gaussianSigma: 0.1 };

function std(noise: { sample(): Float32Array }, draws: number): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < draws; i++) {
    for (const x of noise.sample()) {
      sum += x * x;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

describe('exploration noise', () => {
  it('is constant unless a decay is asked for', () => {
    expect(makeActionNoise('gaussian', 2, params, new Rng(1))).not.toBeInstanceOf(ScheduledNoise);
    expect(makeActionNoise('gaussian', 2, { ...params, noiseStartScale: 10, noiseDecaySteps: 0 }, new Rng(1))).not.toBeInstanceOf(
      ScheduledNoise,
    );
    expect(makeActionNoise('none', 2, { ...params, noiseStartScale: 10, noiseDecaySteps: 100 }, new Rng(1)).kind).toBe('none');
  });

  it('decays linearly from startScale x sigma to sigma over the decay steps, then stays', () => {
    const noise = makeActionNoise('gaussian', 4, { ...params, noiseStartScale: 10, noiseDecaySteps: 1000 }, new Rng(3)) as ScheduledNoise;
    expect(noise).toBeInstanceOf(ScheduledNoise);
    expect(noise.scale()).toBe(10);
    // The first 50 draws: scale 10 .. 9.56, std about 0.98.
    expect(std(noise, 50)).toBeCloseTo(0.98, 1);
    for (let i = 50; i < 500; i++) noise.sample();
    expect(noise.scale()).toBeCloseTo(5.5, 10);
    for (let i = 500; i < 1000; i++) noise.sample();
    expect(noise.scale()).toBe(1);
    expect(std(noise, 2000)).toBeCloseTo(0.1, 2);
    expect(noise.scale()).toBe(1);
  });

  it('resumes its schedule and its random stream from a saved state', () => {
    const make = () => makeActionNoise('ou', 3, { ...params, noiseStartScale: 5, noiseDecaySteps: 200 }, new Rng(7)) as ScheduledNoise;
    const a = make();
    for (let i = 0; i < 120; i++) a.sample();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const b = make();
    b.setState(saved);
    expect(b.scale()).toBe(a.scale());
    expect(Array.from(b.sample())).toEqual(Array.from(a.sample()));
  });
});
