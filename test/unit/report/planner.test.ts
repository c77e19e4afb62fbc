import { describe, expect, it } from 'vitest';
import { createEnv } from '../../../src-main/sim/env.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';
import { plannerEpisode, randomEpisode } from '../../../src-main/reference/planner.ts';
import { plannerOptionsFor } from '../../../src-main/reference/baseline.ts';

describe('reference scores on the true model', () => {
  it('a saved simulator state restores bit for bit: the same actions from it give the same rewards', async () => {
    const env = await createEnv(resolveEnv('cheetah-run'));
    try {
      env.reset(3);
      const push = new Float64Array(env.info.action.size).fill(0.4);
      for (let i = 0; i < 25; i++) env.step(push);
      const saved = env.saveState();
      const wave = (t: number) => Array.from({ length: env.info.action.size }, (_, j) => Math.sin(0.3 * t + j));
      const first = Array.from({ length: 40 }, (_, t) => env.step(wave(t)).reward);
      const qposAfter = env.qpos();
      env.restoreState(saved);
      const again = Array.from({ length: 40 }, (_, t) => env.step(wave(t)).reward);
      expect(again).toEqual(first);
      expect(env.qpos()).toEqual(qposAfter);
    } finally {
      env.dispose();
    }
  });

  it('the planner balances cartpole near the maximum (1000) and far above random actions', async () => {
    const env = await createEnv(resolveEnv('cartpole-balance'));
    try {
      const random = [0, 1, 2].map((s) => randomEpisode(env, s));
      const randomMean = random.reduce((a, b) => a + b, 0) / random.length;
      const { episodeReturn, stats } = plannerEpisode(env, plannerOptionsFor(env.info.controlTimestep), 1000);
      expect(randomMean).toBeLessThan(600);
      expect(episodeReturn).toBeGreaterThan(900);
      expect(episodeReturn - randomMean).toBeGreaterThan(400);
      // 16 samples x 100 steps per control step (fewer near the end of the episode).
      expect(stats.controlSteps).toBe(1000);
      expect(stats.simulatedSteps / stats.controlSteps).toBeGreaterThan(1500);
    } finally {
      env.dispose();
    }
    // 1.6M simulated steps: ~60 s on an idle core, several times that on a loaded machine.
  }, 600_000);
});
