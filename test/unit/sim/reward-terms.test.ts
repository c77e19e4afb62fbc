/**
 * The reward's top-level terms that replay breaks the reward into: for every built-in task, the
 * terms an env reports after a step combine (sum, product, min, max) into exactly the reward it
 * returned, and every term has a label of its own in the spec's words.
 */
import { describe, expect, it } from 'vitest';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { listEnvIds, resolveEnv } from '../../../src-main/sim/registry.ts';
import { rewardTerms } from '../../../src-main/sim/reward-terms.ts';
import { Rng } from '../../../src-main/util/rng.ts';

describe('reward terms', () => {
  it('labels the terms of a sum and a product in the spec words, and tells repeated quantities apart', () => {
    const sum = rewardTerms({
      sum: [
        { quantity: { type: 'joint_pos', joints: ['hinge'], wrap: true }, reduce: 'sumsq', scale: -1, offset: 0 },
        { quantity: { type: 'control' }, reduce: 'sumsq', scale: -0.004, offset: 0 },
        { quantity: { type: 'control' }, reduce: 'sumsq', scale: -1, offset: 0 },
      ],
    });
    expect(sum).toMatchObject({ combine: 'sum', labels: ['joint_pos hinge', 'control #1', 'control #2'] });
    const product = rewardTerms({
      product: [
        { quantity: { type: 'upright', body: 'pole' }, reduce: 'mean', scale: 0.5, offset: 0.5 },
        { min: [{ quantity: { type: 'alive' }, reduce: 'mean', scale: 1, offset: 0 }] },
      ],
    });
    expect(product).toMatchObject({ combine: 'product', labels: ['upright pole', 'min(alive)'] });
    expect(rewardTerms({ quantity: { type: 'body_speed', body: 'torso', axis: 'x' }, reduce: 'mean', scale: 1, offset: 0 })).toMatchObject({
      combine: 'one',
      labels: ['speed torso.x'],
    });
  });

  for (const { id } of listEnvIds().filter((e) => e.origin === 'builtin')) {
    it(`${id}: the terms after each step combine into exactly the reward`, async () => {
      const env = await MujocoEnv.create(resolveEnv(id), { seed: 1 });
      try {
        const { labels, combine } = env.info.rewardTerms!;
        expect(new Set(labels).size).toBe(labels.length);
        const rng = new Rng(3);
        env.reset(0);
        for (let t = 0; t < 20; t++) {
          const r = env.step(Array.from({ length: env.info.action.size }, () => rng.range(-1, 1)));
          const terms = env.lastRewardTerms();
          expect(terms.length).toBe(labels.length);
          let combined = combine === 'sum' ? 0 : combine === 'product' ? 1 : combine === 'min' ? Infinity : -Infinity;
          for (const x of terms)
            combined =
              combine === 'sum'
                ? combined + x
                : combine === 'product'
                  ? combined * x
                  : combine === 'min'
                    ? Math.min(combined, x)
                    : combine === 'max'
                      ? Math.max(combined, x)
                      : x;
          expect(combined).toBe(r.reward);
          if (r.terminated || r.truncated) break;
        }
      } finally {
        env.dispose();
      }
    });
  }
});
