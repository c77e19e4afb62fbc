/**
 * The Gymnasium MuJoCo v5 tasks of the suite against Gymnasium v5's definitions (gymnasium/envs/
 * mujoco/*_v5.py): from chosen states and actions, rewards, terminations and observations are
 * worked out by hand from the state the simulation reports and compared with what the env returns.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MujocoEnv } from '../../../src-main/sim/env.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';

const envs = new Map<string, MujocoEnv>();
async function env(id: string): Promise<MujocoEnv> {
  if (!envs.has(id)) envs.set(id, await MujocoEnv.create(resolveEnv(id)));
  return envs.get(id)!;
}

const sumsq = (a: number[]): number => a.reduce((s, x) => s + x * x, 0);
const clip = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** qpos0 of the env with some entries replaced. */
function state(e: MujocoEnv, qpos: Record<number, number>, qvel: Record<number, number> = {}): [number[], number[]] {
  e.reset(0);
  const nv = e.mjModel.nv;
  const q = Array.from(e.mjModel.qpos0 as Float64Array);
  for (const [k, v] of Object.entries(qpos)) q[+k] = v;
  const v = new Array<number>(nv).fill(0);
  for (const [k, x] of Object.entries(qvel)) v[+k] = x;
  return [q, v];
}

describe('Gymnasium v5 tasks against their definitions', () => {
  afterAll(() => {
    for (const e of envs.values()) e.dispose();
  });

  it('half-cheetah-v5: forward velocity over the 0.05 s step minus 0.1 |a|^2; observation qpos[1:], qvel; never terminates', async () => {
    const e = await env('half-cheetah-v5');
    const [q, v] = state(e, { 0: 0.3, 2: 0.1 }, { 0: 2 });
    e.setState(q, v);
    const a = [0.5, -0.2, 0.1, 0.9, -1, 0.3];
    const r = e.step(a);
    const after = e.qpos();
    expect(e.info.controlTimestep).toBeCloseTo(0.05, 12);
    expect(r.reward).toBeCloseTo((after[0] - 0.3) / 0.05 - 0.1 * sumsq(a), 9);
    expect(r.terminated).toBe(false);
    expect(Array.from(r.obs.slice(0, 8))).toEqual(Array.from(new Float32Array(after.slice(1))));
    expect(r.obs.length).toBe(17);
  });

  it('hopper-v5: forward velocity + 1 while healthy - 0.001 |a|^2; unhealthy (terminated, no healthy reward) below 0.7 m, beyond ±0.2 rad or |state[2:]| > 100; qvel clipped to ±10', async () => {
    const e = await env('hopper-v5');
    const a = [0.3, -0.4, 0.5];
    const healthy = (
      qpos: Record<number, number>,
      qvel: Record<number, number> = {},
    ): { reward: number; terminated: boolean; forward: number; obs: Float32Array; after: Float64Array } => {
      const [q, v] = state(e, qpos, qvel);
      const x0 = q[0];
      e.setState(q, v);
      const r = e.step(a);
      const after = e.qpos();
      return { reward: r.reward, terminated: r.terminated, forward: (after[0] - x0) / 0.008, obs: r.obs, after };
    };
    const ok = healthy({ 0: 0.5 }, { 0: 1.5 });
    expect(ok.terminated).toBe(false);
    expect(ok.reward).toBeCloseTo(ok.forward + 1 - 0.001 * sumsq(a), 9);
    expect(Array.from(ok.obs.slice(0, 5))).toEqual(Array.from(new Float32Array(ok.after.slice(1))));
    for (const [qpos, qvel] of [
      [{ 1: 0.65 }, {}],
      [{ 2: 0.25 }, {}],
      [{ 2: -0.25 }, {}],
      [{}, { 3: 150 }],
    ] as const) {
      const bad = healthy(qpos, qvel);
      expect(bad.terminated, JSON.stringify([qpos, qvel])).toBe(true);
      expect(bad.reward).toBeCloseTo(bad.forward - 0.001 * sumsq(a), 9);
    }
    // The thigh spinning at 150 rad/s is observed as 10.
    const fast = healthy({}, { 3: 150 });
    expect(fast.obs[5 + 3]).toBe(10);
  });

  it('walker2d-v5: healthy while the height is in (0.8, 2) and the angle in (-1, 1)', async () => {
    const e = await env('walker2d-v5');
    const a = [0.1, 0.2, 0.3, -0.1, -0.2, -0.3];
    const run = (qpos: Record<number, number>): { reward: number; terminated: boolean; forward: number } => {
      const [q, v] = state(e, qpos, { 0: 1 });
      e.setState(q, v);
      const r = e.step(a);
      return { reward: r.reward, terminated: r.terminated, forward: (e.qpos()[0] - q[0]) / 0.008 };
    };
    const ok = run({ 2: 0.9 });
    expect(ok.terminated).toBe(false);
    expect(ok.reward).toBeCloseTo(ok.forward + 1 - 0.001 * sumsq(a), 9);
    for (const qpos of [{ 1: 0.75 }, { 1: 2.1 }, { 2: 1.1 }, { 2: -1.1 }] as Record<number, number>[]) {
      const bad = run(qpos);
      expect(bad.terminated, JSON.stringify(qpos)).toBe(true);
      expect(bad.reward).toBeCloseTo(bad.forward - 0.001 * sumsq(a), 9);
    }
  });

  it('swimmer-v5: x velocity over the 0.04 s step minus 1e-4 |a|^2; observation qpos[2:], qvel', async () => {
    const e = await env('swimmer-v5');
    const [q, v] = state(e, { 0: 0.2, 1: -0.1, 3: 0.4 }, { 0: 0.3, 1: 0.2 });
    e.setState(q, v);
    const a = [1, -1];
    const r = e.step(a);
    const after = e.qpos();
    expect(r.reward).toBeCloseTo((after[0] - 0.2) / 0.04 - 1e-4 * 2, 9);
    expect(Array.from(r.obs.slice(0, 3))).toEqual(Array.from(new Float32Array(after.slice(2))));
  });

  it('ant-v5: torso x velocity + 1 while healthy - 0.5 |a|^2 - 5e-4 |clip(cfrc_ext)|^2; observation qpos[2:], qvel, clipped cfrc_ext[1:]; unhealthy outside [0.2, 1]', async () => {
    const e = await env('ant-v5');
    const a = [0.2, -0.3, 0.4, -0.5, 0.6, -0.7, 0.8, -0.9];
    // Dropped from its standing pose and left to land, so contact forces are not all zero.
    const [q, v] = state(e, { 2: 0.55, 8: 1, 10: -1, 12: -1, 14: 1 }, { 0: 0.5 });
    e.setState(q, v);
    for (let t = 0; t < 30; t++) e.step(new Array(8).fill(0));
    const x0 = e.bodyPoses()[7 * 1];
    const r = e.step(a);
    const x1 = e.bodyPoses()[7 * 1];
    const after = e.qpos();
    const forces = Array.from(r.obs.slice(27));
    expect(forces.length).toBe(78);
    expect(forces.some((f) => f !== 0)).toBe(true);
    for (const f of forces) expect(Math.abs(f)).toBeLessThanOrEqual(1);
    expect(r.terminated).toBe(false);
    expect(r.reward).toBeCloseTo((x1 - x0) / 0.05 + 1 - 0.5 * sumsq(a) - 5e-4 * sumsq(forces), 5);
    expect(Array.from(r.obs.slice(0, 13))).toEqual(Array.from(new Float32Array(after.slice(2))));
    // Healthy means 0.2 <= z <= 1 after the step (a torso started in the floor is pushed out of it).
    for (const z of [0.15, 0.5, 1.2]) {
      const [qb, vb] = state(e, { 2: z });
      e.setState(qb, vb);
      const r2 = e.step(a);
      const zAfter = e.qpos()[2];
      expect(r2.terminated, `z ${z} -> ${zAfter}`).toBe(zAfter < 0.2 || zAfter > 1);
      if (z > 1) expect(r2.terminated).toBe(true);
      if (z === 0.5) expect(r2.terminated).toBe(false);
    }
  });

  it('reacher-v5: -|fingertip - target| - |a|^2 after the step; observation cos, sin, target, arm velocity, fingertip - target (x, y); targets drawn inside a 0.2 m disc', async () => {
    const e = await env('reacher-v5');
    const [q, v] = state(e, { 0: 0.3, 1: -0.6, 2: 0.05, 3: 0.12 }, { 0: 0.5 });
    e.setState(q, v);
    const a = [0.4, -0.2];
    const r = e.step(a);
    const [q0, q1, tx, ty] = e.qpos();
    // Fingertip from the arm's geometry: links of 0.1 m and 0.11 m from the base.
    const fx = 0.1 * Math.cos(q0) + 0.11 * Math.cos(q0 + q1);
    const fy = 0.1 * Math.sin(q0) + 0.11 * Math.sin(q0 + q1);
    expect(r.reward).toBeCloseTo(-Math.hypot(fx - tx, fy - ty) - sumsq(a), 6);
    const expected = [Math.cos(q0), Math.cos(q1), Math.sin(q0), Math.sin(q1), tx, ty];
    for (let k = 0; k < 6; k++) expect(r.obs[k]).toBeCloseTo(expected[k], 6);
    expect(r.obs[8]).toBeCloseTo(fx - tx, 6);
    expect(r.obs[9]).toBeCloseTo(fy - ty, 6);
    expect(e.info.episodeLength).toBe(50);
    for (let seed = 0; seed < 30; seed++) {
      const o = e.reset(seed);
      expect(Math.hypot(o[4], o[5])).toBeLessThan(0.2);
      expect(o[6] === 0 && o[7] === 0).toBe(false);
    }
  });

  it('inverted-pendulum-v5: 1 per step while |angle| <= 0.2, terminated (reward 0) beyond', async () => {
    const e = await env('inverted-pendulum-v5');
    let [q, v] = state(e, { 1: 0.05 });
    e.setState(q, v);
    expect(e.step([0])).toMatchObject({ reward: 1, terminated: false });
    [q, v] = state(e, { 1: 0.19 }, { 1: 2 });
    e.setState(q, v);
    const fell = e.step([0]);
    expect(Math.abs(e.qpos()[1])).toBeGreaterThan(0.2);
    expect(fell).toMatchObject({ reward: 0, terminated: true });
  });

  it('inverted-double-pendulum-v5: 10 while the tip is above 1 m - 0.01 x^2 - (z - 2)^2 - 0.001 w1^2 - 0.005 w2^2; observation with sin, cos, clipped qvel and constraint force', async () => {
    const e = await env('inverted-double-pendulum-v5');
    const check = (qpos: Record<number, number>, qvel: Record<number, number>, alive: boolean): void => {
      const [q, v] = state(e, qpos, qvel);
      e.setState(q, v);
      const r = e.step([0.3]);
      const [x, h1, h2] = e.qpos();
      // The tip: two 0.6 m poles on hinges about y, from the cart.
      const tipX = x + 0.6 * Math.sin(h1) + 0.6 * Math.sin(h1 + h2);
      const tipZ = 0.6 * Math.cos(h1) + 0.6 * Math.cos(h1 + h2);
      const [w1, w2] = [r.obs[6], r.obs[7]];
      expect(r.terminated).toBe(!alive);
      expect(tipZ <= 1).toBe(!alive);
      expect(r.reward).toBeCloseTo((alive ? 10 : 0) - 0.01 * tipX ** 2 - (tipZ - 2) ** 2 - 0.001 * w1 ** 2 - 0.005 * w2 ** 2, 4);
      expect(r.obs[0]).toBeCloseTo(x, 6);
      for (const [k, h] of [h1, h2].entries()) {
        expect(r.obs[1 + k]).toBeCloseTo(Math.sin(h), 6);
        expect(r.obs[3 + k]).toBeCloseTo(Math.cos(h), 6);
      }
      expect(Math.abs(r.obs[8])).toBeLessThanOrEqual(10);
    };
    check({ 0: 0.2, 1: 0.1, 2: -0.2 }, { 1: 0.5, 2: -1 }, true);
    check({ 1: 1.2, 2: 0.5 }, {}, false);
    // Pressed against the end of its rail, the cart feels the limit's constraint force (observed, clipped to ±10).
    const [q, v] = state(e, { 0: 1.02 });
    e.setState(q, v);
    const r = e.step([1]);
    expect(r.obs[8]).not.toBe(0);
    expect(clip(r.obs[8], -10, 10)).toBe(r.obs[8]);
  });
});
