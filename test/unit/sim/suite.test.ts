import { describe, expect, it } from 'vitest';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { listEnvIds, resolveEnv } from '../../../src-main/sim/registry.ts';

const SUITE = ['pendulum', 'pendulum-swingup', 'cartpole-balance', 'cartpole-swingup', 'reacher-easy', 'cheetah-run', 'walker-walk', 'hopper-stand', 'finger-spin'];

/** Returns per episode of uniform random actions: [min, max] that a correct task gives (dm_control random-policy figures are near the low end). */
const RANDOM_RETURN: Record<string, [number, number]> = {
  pendulum: [-1800, -600],
  'pendulum-swingup': [0, 100],
  'cartpole-balance': [150, 600],
  'cartpole-swingup': [0, 150],
  'reacher-easy': [0, 300],
  'cheetah-run': [0, 100],
  'walker-walk': [0, 200],
  'hopper-stand': [0, 100],
  'finger-spin': [0, 200],
};

describe('built-in suite', () => {
  it('has exactly the documented envs', () => {
    expect(listEnvIds().filter((e) => e.origin === 'builtin').map((e) => e.id).sort()).toEqual([...SUITE].sort());
  });

  it.each(SUITE)('%s loads, steps, hands out fresh observations and a sane random return', async (id) => {
    const env = await MujocoEnv.create(resolveEnv(id), { seed: 1 });
    try {
      expect(env.info.obs.size).toBe(env.info.obs.parts.reduce((s, p) => s + p.size, 0));
      const first = env.reset(7);
      const copy = first.slice();
      let ret = 0;
      let steps = 0;
      let prev = first;
      let s = 99;
      const a = new Float64Array(env.info.action.size);
      for (;;) {
        for (let i = 0; i < a.length; i++) a[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
        const r = env.step(a);
        expect(r.obs.buffer).not.toBe(prev.buffer);
        expect(r.diverged).toBe(false);
        expect(Number.isFinite(r.reward)).toBe(true);
        if (id !== 'pendulum') expect(r.reward >= 0 && r.reward <= 1).toBe(true);
        ret += r.reward;
        steps++;
        prev = r.obs;
        if (r.terminated || r.truncated) break;
      }
      // Observations handed out earlier are not views into the simulation: stepping did not change them.
      expect(Array.from(first)).toEqual(Array.from(copy));
      expect(steps).toBe(env.info.episodeLength);
      const [lo, hi] = RANDOM_RETURN[id];
      expect(ret).toBeGreaterThanOrEqual(lo);
      expect(ret).toBeLessThanOrEqual(hi);
      const poses = env.bodyPoses();
      expect(poses.length).toBe(env.info.nbody * 7);
      if (env.source.spec.camera) expect(env.scene().cameras.map((c) => c.name)).toContain(env.source.spec.camera);
    } finally {
      env.dispose();
    }
  });

  it('cartpole-balance: a hand-written PD controller scores far above random actions', async () => {
    const env = await MujocoEnv.create(resolveEnv('cartpole-balance'));
    const episode = (policy: (o: Float32Array) => number): number => {
      let o = env.reset(3);
      let ret = 0;
      for (;;) {
        const r = env.step([Math.max(-1, Math.min(1, policy(o)))]);
        ret += r.reward;
        o = r.obs;
        if (r.terminated || r.truncated) return ret;
      }
    };
    // obs: cart x, cos, sin of the pole angle (xz), cart velocity, pole angular velocity.
    // Push the cart under the pole (positive gains on angle and its rate) and gently back to the centre.
    const pd = (o: Float32Array): number => {
      const angle = Math.atan2(o[2], o[1]);
      return 8 * angle + 1.5 * o[4] + 0.3 * o[0] + 0.6 * o[3];
    };
    let s = 5;
    const random = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
    const controlled = episode(pd);
    const rand = episode(random);
    env.dispose();
    expect(controlled).toBeGreaterThan(900);
    expect(controlled).toBeGreaterThan(rand + 300);
  });
});
