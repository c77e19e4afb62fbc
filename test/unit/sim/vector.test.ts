import { describe, expect, it } from 'vitest';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';
import { VectorEnv } from '../../../src-main/sim/vector.ts';

describe('vector env', () => {
  // [envs, threads]: this thread's slice plus workers' slices, or this thread alone.
  it.each([
    [3, 2],
    [4, 1],
    [5, 3],
  ])('steps %i envs on %i threads exactly as single envs would, with auto-reset', async (N, threads) => {
    const source = resolveEnv('pendulum');
    const T = 210; // past the 200-step episode, so every env auto-resets once
    const vec = await VectorEnv.create(source, { numEnvs: N, numWorkers: threads, seed: 10 });
    const singles = await Promise.all(Array.from({ length: N }, (_, i) => MujocoEnv.create(source, { seed: 10 + i })));
    try {
      expect(vec.numWorkers).toBe(threads);
      const obs0 = vec.reset(Array.from({ length: N }, (_, i) => i + 1));
      singles.forEach((e, i) => expect(Array.from(obs0.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(e.reset(i + 1))));
      for (let t = 0; t < T; t++) {
        const actions = Array.from({ length: N }, (_, i) => Math.sin(0.05 * t + i));
        const r = t % 2 ? vec.step(actions) : await vec.stepAsync(actions);
        singles.forEach((e, i) => {
          const s = e.step([actions[i]]);
          expect(r.reward[i]).toBe(s.reward);
          expect(r.truncated[i]).toBe(s.truncated ? 1 : 0);
          if (s.truncated) {
            expect(t).toBe(199);
            expect(Array.from(r.finalObs.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(s.obs));
            expect(Array.from(r.obs.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(e.reset()));
          } else expect(Array.from(r.obs.subarray(i * 3, i * 3 + 3))).toEqual(Array.from(s.obs));
        });
      }
      const bad = Array.from({ length: N }, () => 0);
      bad[1] = NaN;
      expect(() => vec.step(bad)).toThrow(/actions\[1\]/);
    } finally {
      await vec.close();
      singles.forEach((e) => e.dispose());
    }
    expect(() => vec.step(Array.from({ length: N }, () => 0))).toThrow(/after close/);
  });
});
