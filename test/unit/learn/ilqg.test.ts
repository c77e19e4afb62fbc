import { describe, it, expect } from 'vitest';
import {
  lqgBackward,
  projectNegativeSemidefinite,
  QuadraticRewardModel,
  type QuadraticReward,
} from '../../../src-main/learn/model/ilqg.ts';
import { LinearGaussianDynamics, type Trajectory } from '../../../src-main/learn/model/dynamics.ts';
import { NafAgent } from '../../../src-main/learn/algos/naf/agent.ts';
import { resolveHyperparams } from '../../../src-main/learn/algos/factory.ts';
import { resolveRunConfig } from '../../../src-main/train/config.ts';
import { UserError } from '../../../src-main/util/errors.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import type { NafHyperparams } from '../../../src-main/learn/algos/naf/spec.ts';
import type { Env } from '../../../src-main/sim/types.ts';
import { PointMassEnv } from './point-mass.ts';

type Mat = number[][];
const mul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const tr = (a: Mat): Mat => a[0].map((_, j) => a.map((r) => r[j]));
const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i][j]));
const sub = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v - b[i][j]));
/** Inverse by Gauss-Jordan with partial pivoting. */
function inv(a: Mat): Mat {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...r.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    m[c] = m[c].map((v) => v / d);
    for (let r = 0; r < n; r++) if (r !== c) m[r] = m[r].map((v, j) => v - m[r][c] * m[c][j]);
  }
  return m.map((r) => r.slice(n));
}

/** Time-invariant model as the per-step arrays the backward pass takes: F = [A B 0], r = -1/2 x'Qx - 1/2 u'Ru. */
function lqProblem(Am: Mat, Bm: Mat, Q: Mat, R: Mat, T: number): { dyn: { F: Float64Array }[]; rew: QuadraticReward[] } {
  const O = Am.length;
  const A = Bm[0].length;
  const n = O + A;
  const F = new Float64Array(O * (n + 1));
  for (let i = 0; i < O; i++) {
    for (let j = 0; j < O; j++) F[i * (n + 1) + j] = Am[i][j];
    for (let j = 0; j < A; j++) F[i * (n + 1) + O + j] = Bm[i][j];
  }
  const H = new Float64Array(n * n);
  for (let i = 0; i < O; i++) for (let j = 0; j < O; j++) H[i * n + j] = -Q[i][j];
  for (let i = 0; i < A; i++) for (let j = 0; j < A; j++) H[(O + i) * n + O + j] = -R[i][j];
  return { dyn: Array.from({ length: T }, () => ({ F })), rew: Array.from({ length: T }, () => ({ H, g: new Float64Array(n), c: 0 })) };
}

/** Random-action episodes of an env, as trajectories. */
function randomEpisodes(env: Env, count: number, rng: Rng, seed0: number): Trajectory[] {
  const out: Trajectory[] = [];
  for (let e = 0; e < count; e++) {
    const t: Trajectory = { obs: [env.reset(seed0 + e)], actions: [], rewards: [] };
    for (;;) {
      const u = Float32Array.of(rng.range(-1, 1));
      const r = env.step(u);
      t.actions.push(u);
      t.rewards.push(r.reward);
      t.obs.push(r.obs);
      if (r.terminated || r.truncated) break;
    }
    out.push(t);
  }
  return out;
}

function episodeReturn(env: Env, seed: number, policy: (obs: Float32Array, t: number) => Float32Array): number {
  let obs = env.reset(seed);
  let ret = 0;
  for (let t = 0; ; t++) {
    const r = env.step(policy(obs, t));
    ret += r.reward;
    obs = r.obs;
    if (r.terminated || r.truncated) return ret;
  }
}

describe('iLQG backward pass on fitted linear models', () => {
  it('gives the finite-horizon discrete Riccati gains on a double integrator', () => {
    const dt = 0.1;
    const Am = [
      [1, dt],
      [0, 1],
    ];
    const Bm = [[0.5 * dt * dt], [dt]];
    const Q = [
      [1, 0.2],
      [0.2, 0.5],
    ];
    const R = [[0.3]];
    const T = 40;
    const { dyn, rew } = lqProblem(Am, Bm, Q, R, T);
    const c = lqgBackward(dyn, rew, 2, 1)!;
    expect(c).not.toBeNull();
    expect(c.horizon).toBe(T);
    // Cost-minimising Riccati recursion: P_T = 0, K = -(R + B'PB)^-1 B'PA, P = Q + A'PA - A'PB(R + B'PB)^-1 B'PA.
    let P: Mat = [
      [0, 0],
      [0, 0],
    ];
    let worst = 0;
    for (let t = T - 1; t >= 0; t--) {
      const S = add(R, mul(tr(Bm), mul(P, Bm)));
      const BPA = mul(tr(Bm), mul(P, Am));
      const K = mul(inv(S), BPA).map((r) => r.map((v) => -v));
      for (let j = 0; j < 2; j++) worst = Math.max(worst, Math.abs(c.K[t][j] - K[0][j]));
      expect(c.k[t][0]).toBeCloseTo(0, 12);
      expect(c.mu[t]).toBe(0);
      // Noise covariance (-Quu)^-1 = (R + B'PB)^-1: the Cholesky factor squared is R + B'PB.
      expect(c.L[t][0] ** 2).toBeCloseTo(S[0][0], 10);
      P = sub(add(Q, mul(tr(Am), mul(P, Am))), mul(tr(BPA), mul(inv(S), BPA)));
    }
    expect(worst).toBeLessThan(1e-8);
    // The gains stabilise: at t = 0 the closed loop A + BK has spectral radius below 1.
    const cl = add(Am, mul(Bm, [[c.K[0][0], c.K[0][1]]]));
    const trace = cl[0][0] + cl[1][1];
    const det = cl[0][0] * cl[1][1] - cl[0][1] * cl[1][0];
    const disc = trace * trace - 4 * det;
    const radius = disc >= 0 ? Math.max(Math.abs((trace + Math.sqrt(disc)) / 2), Math.abs((trace - Math.sqrt(disc)) / 2)) : Math.sqrt(det);
    expect(radius).toBeLessThan(1);
  });

  it('gives [K k] of the augmented-state Riccati solution with affine dynamics, linear and cross reward terms, and discounting', () => {
    const rng = new Rng(9);
    const O = 2;
    const A = 2;
    const n = O + A;
    const r = () => rng.range(-1, 1);
    const Am = [
      [1 + 0.1 * r(), 0.1 * r()],
      [0.1 * r(), 1 + 0.1 * r()],
    ];
    const Bm = [
      [0.2 * r(), 0.2 * r()],
      [0.2 * r(), 0.2 * r()],
    ];
    const f = [r(), r()];
    const Mr: Mat = Array.from({ length: n }, () => Array.from({ length: n }, r));
    const negH = add(
      mul(Mr, tr(Mr)),
      Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0.5 : 0))),
    );
    const g = Array.from({ length: n }, r);
    const c0 = r();
    const gamma = 0.95;
    const T = 25;
    const F = new Float64Array(O * (n + 1));
    for (let i = 0; i < O; i++) {
      for (let j = 0; j < O; j++) F[i * (n + 1) + j] = Am[i][j];
      for (let j = 0; j < A; j++) F[i * (n + 1) + O + j] = Bm[i][j];
      F[i * (n + 1) + n] = f[i];
    }
    const H = Float64Array.from(negH.flat(), (v) => -v);
    const c = lqgBackward(
      Array.from({ length: T }, () => ({ F })),
      Array.from({ length: T }, () => ({ H, g: Float64Array.from(g), c: c0 })),
      O,
      A,
      gamma,
    )!;
    // Augmented state [x; 1]: cost = -r = 1/2 [x~; u]' C [x~; u].
    const idx = [0, 1, -1, 2, 3]; // x0 x1 one u0 u1 -> z index (-1: the constant)
    const C: Mat = idx.map((a) => idx.map((b) => (a >= 0 && b >= 0 ? negH[a][b] : a < 0 && b < 0 ? -2 * c0 : -g[a >= 0 ? a : b])));
    const Qt = C.slice(0, 3).map((row) => row.slice(0, 3));
    const N = C.slice(0, 3).map((row) => row.slice(3));
    const R = C.slice(3).map((row) => row.slice(3));
    const At = [
      [...Am[0], f[0]],
      [...Am[1], f[1]],
      [0, 0, 1],
    ];
    const Bt = [...Bm, [0, 0]];
    let P: Mat = Qt.map((row) => row.map(() => 0));
    let worst = 0;
    for (let t = T - 1; t >= 0; t--) {
      const S = add(
        R,
        mul(tr(Bt), mul(P, Bt)).map((row) => row.map((v) => gamma * v)),
      );
      const G = add(
        mul(tr(Bt), mul(P, At)).map((row) => row.map((v) => gamma * v)),
        tr(N),
      );
      const Kt = mul(inv(S), G).map((row) => row.map((v) => -v));
      for (let a = 0; a < A; a++) {
        for (let j = 0; j < O; j++) worst = Math.max(worst, Math.abs(c.K[t][a * O + j] - Kt[a][j]));
        worst = Math.max(worst, Math.abs(c.k[t][a] - Kt[a][O]));
      }
      P = sub(
        add(
          Qt,
          mul(tr(At), mul(P, At)).map((row) => row.map((v) => gamma * v)),
        ),
        mul(tr(G), mul(inv(S), G)),
      );
    }
    expect(worst).toBeLessThan(1e-8);
  });

  it('regularises a reward convex in u until -Quu is positive definite', () => {
    const { dyn, rew } = lqProblem([[1]], [[0.1]], [[1]], [[-5]], 3);
    const c = lqgBackward(dyn, rew, 1, 1)!;
    // At the last step Quu = 5 > 0: mu must exceed it.
    expect(c.mu[2]).toBeGreaterThan(5);
    expect(Number.isFinite(c.K[0][0])).toBe(true);
  });

  it('fits a known quadratic reward from noiseless samples', () => {
    const O = 2;
    const A = 2;
    const n = O + A;
    const rng = new Rng(5);
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) H[i * n + j] = H[j * n + i] = rng.range(-1, 1);
    const g = Float64Array.from({ length: n }, () => rng.range(-1, 1));
    const c0 = 0.7;
    const truth = (x: Float32Array, u: Float32Array) => {
      const z = [...x, ...u];
      let r = c0;
      for (let i = 0; i < n; i++) {
        r += g[i] * z[i];
        for (let j = 0; j < n; j++) r += 0.5 * z[i] * H[i * n + j] * z[j];
      }
      return r;
    };
    const T = 12;
    const episodes: Trajectory[] = Array.from({ length: 4 }, () => {
      const t: Trajectory = { obs: [], actions: [], rewards: [] };
      for (let s = 0; s <= T; s++) t.obs.push(Float32Array.from({ length: O }, () => rng.range(-2, 2)));
      for (let s = 0; s < T; s++) {
        t.actions.push(Float32Array.from({ length: A }, () => rng.range(-1, 1)));
        t.rewards.push(truth(t.obs[s], t.actions[s]));
      }
      return t;
    });
    const m = new QuadraticRewardModel(O, A);
    // 4 episodes x 7 pooled steps = 28 samples for 15 unknowns.
    m.fit(episodes, 1e-10, 3);
    expect(m.horizon).toBe(T);
    /** Largest difference of any fitted step's H, g, c from the true reward's. */
    const worstOf = (model: QuadraticRewardModel): number => {
      let worst = 0;
      for (const step of model.steps) {
        for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(step.H[i] - H[i]));
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(step.g[i] - g[i]));
        worst = Math.max(worst, Math.abs(step.c - c0));
      }
      return worst;
    };
    expect(worstOf(m)).toBeLessThan(1e-5);
    const x = Float32Array.of(0.3, -1.2);
    const u = Float32Array.of(0.5, 0.1);
    expect(m.value(5, x, u)).toBeCloseTo(truth(x, u), 6);
    // The concave fit (H projected, g and c refitted) on a concave reward: the same reward.
    const Bm: Mat = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.range(-1, 1)));
    const negH = add(
      mul(Bm, tr(Bm)),
      Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0.1 : 0))),
    );
    for (let i = 0; i < n * n; i++) H[i] = -negH[Math.floor(i / n)][i % n];
    for (const e of episodes) e.rewards = e.actions.map((a, s) => truth(e.obs[s], a));
    const mc = new QuadraticRewardModel(O, A);
    mc.fit(episodes, 1e-10, 3, true);
    expect(worstOf(mc)).toBeLessThan(1e-5);
  });

  it('projects a fitted Hessian onto the negative semidefinite matrices (concave rewards)', () => {
    // S = R diag(1.5, -2, 0.5, -0.25) R^T with R a rotation in the (0,1) and (2,3) planes; keeps -2 and -0.25.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const R: Mat = [
      [c, -s, 0, 0],
      [s, c, 0, 0],
      [0, 0, s, c],
      [0, 0, -c, s],
    ];
    const lam = [1.5, -2, 0.5, -0.25];
    const S = mul(
      mul(
        R,
        lam.map((l, i) => lam.map((_, j) => (i === j ? l : 0))),
      ),
      tr(R),
    );
    const want = mul(
      mul(
        R,
        lam.map((l, i) => lam.map((_, j) => (i === j ? Math.min(l, 0) : 0))),
      ),
      tr(R),
    );
    const flat = Float64Array.from(S.flat());
    projectNegativeSemidefinite(flat, 4);
    for (let i = 0; i < 16; i++) expect(flat[i]).toBeCloseTo(want[Math.floor(i / 4)][i % 4], 10);
  });

  it('drives a point mass from a model fitted on random episodes far better than random actions', () => {
    const env = new PointMassEnv();
    const rng = new Rng(21);
    const episodes = randomEpisodes(env, 5, rng, 100);
    const dyn = new LinearGaussianDynamics(2, 1);
    dyn.fit(episodes, 1e-3, 2);
    const rew = new QuadraticRewardModel(2, 1);
    rew.fit(episodes, 1e-3, 2, true);
    const c = lqgBackward(dyn.steps, rew.steps, 2, 1)!;
    expect(c.horizon).toBe(50);
    const out = new Float32Array(1);
    const seeds = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const mean = (f: (seed: number) => number) => seeds.reduce((s, seed) => s + f(seed), 0) / seeds.length;
    const random = mean((seed) => episodeReturn(env, seed, () => Float32Array.of(rng.range(-1, 1))));
    const zero = mean((seed) => episodeReturn(env, seed, () => Float32Array.of(0)));
    const ilqg = mean((seed) => episodeReturn(env, seed, (obs, t) => c.act(t, obs, out, 0, null)));
    const noisy = mean((seed) => episodeReturn(env, seed, (obs, t) => c.act(t, obs, out, 1, rng)));
    console.log(
      `point mass mean return over 20 episodes: random ${random.toFixed(2)}, zero ${zero.toFixed(2)}, iLQG ${ilqg.toFixed(2)}, iLQG with its noise ${noisy.toFixed(2)}`,
    );
    expect(ilqg).toBeGreaterThan(random + 0.5 * Math.abs(random));
    expect(ilqg).toBeGreaterThan(zero + 0.5 * Math.abs(zero));
    expect(noisy).toBeGreaterThan(random + 0.3 * Math.abs(random));
  });
});

describe('NAF with iLQG exploration', () => {
  const hpFor = (ilqgExploration: number, ilqgNoise = 1) =>
    resolveHyperparams('naf', { hidden: [16, 16], modelBased: true, modelEpisodes: 5, ilqgExploration, ilqgNoise }) as NafHyperparams;
  const fitted = (hp: NafHyperparams, seed: number) => {
    const agent = new NafAgent({ obsSize: 2, actionSize: 1, hp, seed });
    for (const e of randomEpisodes(new PointMassEnv(), 5, new Rng(8), 200)) agent.onEpisodeEnd(e);
    return agent;
  };
  const rollout = (agent: NafAgent, steps: number) => {
    const env = new PointMassEnv();
    let obs = env.reset(77);
    agent.resetEpisode();
    const acts: number[] = [];
    const policy: number[] = [];
    for (let t = 0; t < steps; t++) {
      policy.push(agent.act(obs, false)[0]);
      const a = agent.exploreAt(obs, t);
      acts.push(a[0]);
      obs = env.step(a).obs;
    }
    return { acts, policy };
  };

  it('acts with the fitted controller, deterministically for a seed and unlike its policy', () => {
    const a = fitted(hpFor(1), 4);
    const b = fitted(hpFor(1), 4);
    expect(a.controller).not.toBeNull();
    const ra = rollout(a, 30);
    const rb = rollout(b, 30);
    expect(a.ilqgActive).toBe(true);
    expect(ra.acts).toEqual(rb.acts);
    const gap = Math.max(...ra.acts.map((v, i) => Math.abs(v - ra.policy[i])));
    expect(gap).toBeGreaterThan(0.05);
    const other = rollout(fitted(hpFor(1), 5), 30);
    expect(other.acts).not.toEqual(ra.acts);
    a.dispose();
    b.dispose();
  });

  it('without noise takes exactly the controller mean clip(k_t + K_t x)', () => {
    const agent = fitted(hpFor(1, 0), 4);
    const c = agent.controller!;
    const env = new PointMassEnv();
    let obs = env.reset(3);
    agent.resetEpisode();
    for (let t = 0; t < 10; t++) {
      const want = Math.max(-1, Math.min(1, c.k[t][0] + c.K[t][0] * obs[0] + c.K[t][1] * obs[1]));
      const a = agent.exploreAt(obs, t);
      expect(a[0]).toBeCloseTo(want, 6);
      obs = env.step(a).obs;
    }
    // Past the fitted horizon: the NAF policy plus its noise, a fresh array.
    const late = agent.exploreAt(obs, c.horizon);
    expect(late).not.toBe(agent.exploreAt(obs, 0));
    agent.dispose();
  });

  it('leaves episodes to the NAF policy when off, and picks about the configured fraction', () => {
    const off = fitted(hpFor(0), 4);
    expect(off.controller).toBeNull();
    off.resetEpisode();
    expect(off.ilqgActive).toBe(false);
    off.dispose();
    const half = fitted(hpFor(0.5), 4);
    let picked = 0;
    for (let e = 0; e < 400; e++) {
      half.resetEpisode();
      if (half.ilqgActive) picked++;
    }
    expect(picked).toBeGreaterThan(150);
    expect(picked).toBeLessThan(250);
    half.dispose();
  });

  it('is refused without modelBased, naming the field', () => {
    let err: unknown = null;
    try {
      resolveRunConfig({ env: 'pendulum', algo: 'naf', hyperparams: { ilqgExploration: 0.5 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).details[0].field).toBe('hyperparams.ilqgExploration');
    expect(() => resolveRunConfig({ env: 'pendulum', algo: 'naf', hyperparams: { ilqgExploration: 0.5, modelBased: true } })).not.toThrow();
  });
});
