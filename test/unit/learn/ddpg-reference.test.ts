import { describe, it, expect, beforeAll } from 'vitest';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import type { FlatParams } from '../../../src-main/learn/nets/params.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import type { Batch } from '../../../src-main/learn/types.ts';

/**
 * One DDPG update against a plain float64 reference written from the paper's equations, to rule
 * out sign and bookkeeping bugs the finite-difference tests cannot see:
 * - target y = r + gamma (1 - done) Q'(s', mu'(s')), with the TARGET actor and critic, and no
 *   bootstrap only where done = 1 (time-limit truncations are stored with done = 0);
 * - the actor step ascends Q(s, mu(s)) (DDPG eq. 6);
 * - the soft update moves the targets toward the online networks by tau, not the other way.
 */
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const OBS = 3;
const ACT = 1;
const H = [8, 6];

type Vec = Float64Array;

/** Reference dense layer: x [in] -> x W + b (+ a A), row-major W [in x out]. */
function dense(p: FlatParams, name: string, x: ArrayLike<number>, extra?: ArrayLike<number>): Vec {
  const W = p.view(`${name}.W`);
  const b = p.view(`${name}.b`);
  const out = b.length;
  const y = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < out; j++) y[j] += x[i] * W[i * out + j];
  if (extra) {
    const A = p.view(`${name}.A`);
    for (let i = 0; i < extra.length; i++) for (let j = 0; j < out; j++) y[j] += extra[i] * A[i * out + j];
  }
  return y;
}
const relu = (v: Vec) => v.map((x) => Math.max(0, x));

function refActor(p: FlatParams, s: ArrayLike<number>): Vec {
  let h: Vec = Float64Array.from(s);
  for (let i = 0; i < H.length; i++) h = relu(dense(p, `l${i}`, h));
  return dense(p, 'out', h).map(Math.tanh);
}

/** Critic with the action entering hidden layer 1 (DDPG supplement 7). */
function refCritic(p: FlatParams, s: ArrayLike<number>, a: ArrayLike<number>): number {
  let h: Vec = Float64Array.from(s);
  for (let i = 0; i < H.length; i++) h = relu(dense(p, `l${i}`, h, i === 1 ? a : undefined));
  return dense(p, 'out', h)[0];
}

function makeBatch(rng: Rng, n: number): Batch {
  const r = (k: number) => Float32Array.from({ length: k }, () => rng.range(-1, 1));
  const dones = new Float32Array(n);
  for (let i = 0; i < n; i += 2) dones[i] = 1;
  return {
    size: n,
    obs: r(n * OBS),
    actions: r(n * ACT),
    rewards: Float32Array.from({ length: n }, () => rng.range(-3, 0)),
    nextObs: r(n * OBS),
    dones,
  };
}

describe('DDPG update against a float64 reference', () => {
  it('target, critic loss, actor ascent and soft-update direction', () => {
    const gamma = 0.9;
    const tau = 0.1;
    // Fan-in init on the output layers so Q and mu are far from 0 and every term shows.
    const hp = {
      actorHidden: H,
      criticHidden: H,
      criticActionLayer: 1,
      finalLayerInit: null,
      gamma,
      tau,
      batchSize: 16,
      actorLr: 1e-2,
      criticLr: 1e-7,
      criticL2: 0,
    };
    const agent = createAgent('ddpg', OBS, ACT, hp, 3);
    const rng = new Rng(11);
    // Make the targets differ from the online networks, so using the wrong one shows.
    const perturb = (p: FlatParams) => {
      const v = p.values;
      for (let i = 0; i < v.length; i++) v[i] += rng.range(-0.3, 0.3);
    };
    perturb(agent.actorTarget);
    perturb(agent.criticTargets[0]);
    const batch = makeBatch(rng, 16);
    const B = batch.size;
    const row = (a: Float32Array, i: number, k: number) => a.subarray(i * k, i * k + k);

    // Reference loss with the pre-update networks.
    let loss = 0;
    let wrongDone = 0;
    for (let i = 0; i < B; i++) {
      const s2 = row(batch.nextObs, i, OBS);
      const q2 = refCritic(agent.criticTargets[0], s2, refActor(agent.actorTarget, s2));
      const y = batch.rewards[i] + gamma * (1 - batch.dones[i]) * q2;
      const yWrong = batch.rewards[i] + gamma * batch.dones[i] * q2;
      const q = refCritic(agent.critics[0], row(batch.obs, i, OBS), row(batch.actions, i, ACT));
      loss += (q - y) ** 2 / B;
      wrongDone += (q - yWrong) ** 2 / B;
    }
    const qPi = (actor: FlatParams) => {
      let sum = 0;
      for (let i = 0; i < B; i++) sum += refCritic(agent.critics[0], row(batch.obs, i, OBS), refActor(actor, row(batch.obs, i, OBS))) / B;
      return sum;
    };
    const qBefore = qPi(agent.actor);
    const oldActor = Float64Array.from(agent.actor.values);
    const oldActorTarget = Float64Array.from(agent.actorTarget.values);
    const oldCriticTarget = Float64Array.from(agent.criticTargets[0].values);

    const stats = agent.update(batch);
    expect(Math.abs(stats.metrics.critic_loss - loss)).toBeLessThan(1e-4 * Math.max(1, loss));
    expect(Math.abs(wrongDone - loss)).toBeGreaterThan(1e-2); // the check can tell done from not-done
    // actor_loss is -mean Q(s, mu(s)) before the step.
    expect(stats.metrics.actor_loss).toBeCloseTo(-qBefore, 4);

    // Actor ascent: Q(s, mu(s)) under the (practically unchanged) critic goes up.
    const qAfter = qPi(agent.actor);
    expect(qAfter).toBeGreaterThan(qBefore);

    // theta' <- (1 - tau) theta' + tau theta, with theta the updated online weights.
    const at = agent.actorTarget.values;
    const a = agent.actor.values;
    let moved = 0;
    for (let i = 0; i < at.length; i++) {
      expect(at[i]).toBeCloseTo((1 - tau) * oldActorTarget[i] + tau * a[i], 5);
      moved += Math.abs(a[i] - oldActor[i]);
    }
    expect(moved).toBeGreaterThan(0);
    const ct = agent.criticTargets[0].values;
    const c = agent.critics[0].values;
    for (let i = 0; i < ct.length; i++) expect(ct[i]).toBeCloseTo((1 - tau) * oldCriticTarget[i] + tau * c[i], 5);
    agent.dispose();
  });

  it('exploration noise is on the action scale and actions stay in [-1, 1]', () => {
    const agent = createAgent('ddpg', OBS, ACT, { actorHidden: [8], criticHidden: [8, 8], ouSigma: 0.2, ouTheta: 0.15 }, 1);
    const s = Float32Array.of(0.1, -0.2, 0.3);
    const clean = agent.act(s, false)[0];
    agent.resetEpisode();
    let sum2 = 0;
    let n = 0;
    let maxAbs = 0;
    for (let ep = 0; ep < 20; ep++) {
      agent.resetEpisode();
      for (let t = 0; t < 200; t++) {
        const a = agent.act(s, true)[0];
        maxAbs = Math.max(maxAbs, Math.abs(a));
        sum2 += (a - clean) ** 2;
        n++;
      }
    }
    // OU stationary std sigma / sqrt(1 - (1 - theta)^2) = 0.2 / 0.527 ~ 0.38 (per step, dt = 1).
    const std = Math.sqrt(sum2 / n);
    expect(std).toBeGreaterThan(0.25);
    expect(std).toBeLessThan(0.5);
    expect(maxAbs).toBeLessThanOrEqual(1);
    agent.dispose();
  });
});
