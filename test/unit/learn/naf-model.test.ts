import { describe, it, expect } from 'vitest';
import { NafAgent } from '../../../src-main/learn/algos/naf/agent.ts';
import { resolveHyperparams } from '../../../src-main/learn/algos/factory.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import type { NafHyperparams } from '../../../src-main/learn/algos/naf/spec.ts';
import type { Trajectory } from '../../../src-main/learn/model/dynamics.ts';

/** x' = F x + G u: a time-invariant linear system the fitted time-varying model should recover. */
const O = 3;
const A = 2;
const F = [
  [0.9, 0.1, 0],
  [-0.1, 0.95, 0.05],
  [0, 0.2, 0.8],
];
const G = [
  [0.1, 0],
  [0, 0.2],
  [0.05, -0.1],
];

function linearStep(x: ArrayLike<number>, u: ArrayLike<number>): Float32Array {
  const out = new Float32Array(O);
  for (let i = 0; i < O; i++) {
    let v = 0;
    for (let j = 0; j < O; j++) v += F[i][j] * x[j];
    for (let j = 0; j < A; j++) v += G[i][j] * u[j];
    out[i] = v;
  }
  return out;
}

const reward = (x: Float32Array, u: Float32Array) => -(x[0] * x[0] + 0.1 * u[0] * u[0]);

describe('NAF imagination rollouts (Algorithm 2)', () => {
  it('fill the imagined buffer with transitions that follow the fitted linear model', () => {
    const hp = resolveHyperparams('naf', {
      hidden: [16, 16],
      modelBased: true,
      modelEpisodes: 5,
      rolloutLength: 5,
      imagineStarts: 8,
      imagineEvery: 1000,
    }) as NafHyperparams;
    const agent = new NafAgent({ obsSize: O, actionSize: A, hp, seed: 3, reward });
    const rng = new Rng(11);
    const T = 20;
    for (let e = 0; e < 5; e++) {
      const tr: Trajectory = { obs: [], actions: [], rewards: [] };
      let x: Float32Array = Float32Array.from({ length: O }, () => rng.range(-1, 1));
      tr.obs.push(x);
      for (let t = 0; t < T; t++) {
        const u = Float32Array.from({ length: A }, () => rng.range(-1, 1));
        const next = linearStep(x, u);
        tr.actions.push(u);
        tr.rewards.push(reward(x, u));
        tr.obs.push(next);
        x = next;
      }
      agent.onEpisodeEnd(tr);
    }
    expect(agent.model!.horizon).toBe(T);
    const added = agent.imagine(8, 5);
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThanOrEqual(8 * 5);
    const { arrays } = agent.imagination!.save();
    expect(arrays.rewards.length).toBe(added);
    let worst = 0;
    for (let k = 0; k < added; k++) {
      const x = arrays.obs.subarray(k * O, k * O + O);
      const u = arrays.actions.subarray(k * A, k * A + A);
      for (const v of u) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      const want = linearStep(x, u);
      for (let i = 0; i < O; i++) worst = Math.max(worst, Math.abs(arrays.nextObs[k * O + i] - want[i]));
      expect(arrays.rewards[k]).toBeCloseTo(reward(x, u), 6);
    }
    // Exact linear data: the fit is exact up to the ridge term and the residual noise is ~0.
    expect(worst).toBeLessThan(1e-2);
    console.log(`imagined ${added} transitions, worst |x' - (F x + G u)| = ${worst.toExponential(2)}`);
    agent.dispose();
  });
});
