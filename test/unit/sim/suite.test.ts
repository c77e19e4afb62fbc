import { describe, expect, it } from 'vitest';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { listEnvIds, resolveEnv } from '../../../src-main/sim/registry.ts';

const DM_CONTROL = [
  'pendulum',
  'pendulum-swingup',
  'cartpole-balance',
  'cartpole-swingup',
  'reacher-easy',
  'cheetah-run',
  'walker-walk',
  'hopper-stand',
  'finger-spin',
];
const GYMNASIUM = [
  'half-cheetah-v5',
  'hopper-v5',
  'walker2d-v5',
  'swimmer-v5',
  'ant-v5',
  'reacher-v5',
  'inverted-pendulum-v5',
  'inverted-double-pendulum-v5',
];
const SUITE = [...DM_CONTROL, ...GYMNASIUM];

/**
 * Each task's stated per-step reward range: dm_control's [0, 1] (gym Pendulum's [-16.3, 0]); for the
 * Gymnasium tasks, bounds that follow from their definitions at the speeds these bodies reach
 * (e.g. Hopper: forward velocity + 1 - 0.003 at most).
 */
const REWARD_RANGE: Record<string, [number, number]> = {
  pendulum: [-16.3, 0],
  'half-cheetah-v5': [-20, 20],
  'hopper-v5': [-10, 11],
  'walker2d-v5': [-10, 11],
  'swimmer-v5': [-5, 5],
  'ant-v5': [-20, 21],
  'reacher-v5': [-2.6, 0],
  'inverted-pendulum-v5': [0, 1],
  'inverted-double-pendulum-v5': [-10, 10],
};

/** Returns per episode of uniform random actions: [min, max] that a correct task gives (dm_control random-policy figures are near the low end; Gymnasium's as CleanRL and SB3 report them). */
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
  'half-cheetah-v5': [-450, -150],
  'hopper-v5': [0, 60],
  'walker2d-v5': [-20, 30],
  'swimmer-v5': [-40, 40],
  'ant-v5': [-800, 150],
  'reacher-v5': [-55, -30],
  'inverted-pendulum-v5': [1, 20],
  'inverted-double-pendulum-v5': [20, 150],
};

/** Returns of the zero action: the passive model (Ant stands and collects its healthy reward; the poles fall). */
const ZERO_RETURN: Record<string, [number, number]> = {
  'half-cheetah-v5': [-20, 20],
  'hopper-v5': [50, 400],
  'walker2d-v5': [50, 400],
  'swimmer-v5': [-60, 60],
  'ant-v5': [900, 1000],
  'reacher-v5': [-20, -3],
  'inverted-pendulum-v5': [5, 60],
  'inverted-double-pendulum-v5': [30, 200],
};

/** Plays one episode with `policy`, checking each step; returns the return and the number of steps. */
function episode(env: MujocoEnv, id: string, seed: number, policy: (a: Float64Array) => void): { ret: number; steps: number } {
  const [lo, hi] = REWARD_RANGE[id] ?? [0, 1];
  env.reset(seed);
  const a = new Float64Array(env.info.action.size);
  let ret = 0;
  let steps = 0;
  for (;;) {
    policy(a);
    const r = env.step(a);
    expect(r.diverged).toBe(false);
    expect(r.reward).toBeGreaterThanOrEqual(lo);
    expect(r.reward).toBeLessThanOrEqual(hi);
    ret += r.reward;
    steps++;
    if (r.terminated || r.truncated) return { ret, steps };
  }
}

describe('built-in suite', () => {
  it('has exactly the documented envs', () => {
    expect(
      listEnvIds()
        .filter((e) => e.origin === 'builtin')
        .map((e) => e.id)
        .sort(),
    ).toEqual([...SUITE].sort());
  });

  it.each(SUITE)(
    '%s loads, steps deterministically, hands out fresh observations, and random and zero actions score in range',
    async (id) => {
      const env = await MujocoEnv.create(resolveEnv(id), { seed: 1 });
      try {
        expect(env.info.obs.size).toBe(env.info.obs.parts.reduce((s, p) => s + p.size, 0));
        const terminates = env.source.spec.termination.length > 0;
        const first = env.reset(7);
        const copy = first.slice();
        let prev = first;
        let s = 99;
        const random = (a: Float64Array): void => {
          for (let i = 0; i < a.length; i++) a[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
        };
        // Fresh observation buffers, and a first random episode.
        env.reset(7);
        for (let t = 0; t < 20; t++) {
          const a = new Float64Array(env.info.action.size);
          random(a);
          const r = env.step(a);
          expect(r.obs.buffer).not.toBe(prev.buffer);
          prev = r.obs;
          if (r.terminated || r.truncated) break;
        }
        // Observations handed out earlier are not views into the simulation: stepping did not change them.
        expect(Array.from(first)).toEqual(Array.from(copy));
        s = 99;
        const a1 = episode(env, id, 7, random);
        s = 99;
        const a2 = episode(env, id, 7, random);
        expect(a2).toEqual(a1);
        if (terminates) expect(a1.steps).toBeLessThanOrEqual(env.info.episodeLength);
        else expect(a1.steps).toBe(env.info.episodeLength);
        const [lo, hi] = RANDOM_RETURN[id];
        expect(a1.ret).toBeGreaterThanOrEqual(lo);
        expect(a1.ret).toBeLessThanOrEqual(hi);
        if (ZERO_RETURN[id]) {
          const z = episode(env, id, 8, (a) => a.fill(0));
          expect(z.ret).toBeGreaterThanOrEqual(ZERO_RETURN[id][0]);
          expect(z.ret).toBeLessThanOrEqual(ZERO_RETURN[id][1]);
        }
        const poses = env.bodyPoses();
        expect(poses.length).toBe(env.info.nbody * 7);
        if (env.source.spec.camera) expect(env.scene().cameras.map((c) => c.name)).toContain(env.source.spec.camera);
      } finally {
        env.dispose();
      }
    },
  );

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
