import { describe, it, expect, beforeAll } from 'vitest';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { LOG_STD_MAX, LOG_STD_MIN, squashedGaussian, type SacAgent } from '../../../src-main/learn/algos/sac/agent.ts';
import type { FlatParams } from '../../../src-main/learn/nets/params.ts';

/**
 * SAC (learn/algos/sac/agent.ts): the squashed Gaussian against its closed form, every gradient of an update
 * against central finite differences (float32 networks: a small step, a relative tolerance of 2 %),
 * the temperature's direction, and a bit-for-bit resume.
 */
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const OBS = 3;
const ACT = 2;
const B = 5;

function buffer(seed: number): ReplayBuffer {
  const rng = new Rng(seed);
  const buf = new ReplayBuffer({ capacity: 64, obsSize: OBS, actionSize: ACT });
  for (let i = 0; i < 64; i++) {
    const o = Float32Array.from({ length: OBS }, () => rng.range(-1, 1));
    buf.add(
      o,
      Float32Array.from({ length: ACT }, () => rng.range(-0.9, 0.9)),
      rng.range(0, 1),
      o.map((v) => v * 0.9),
      rng.uniform() < 0.2,
    );
  }
  return buf;
}

function small(seed = 3): SacAgent {
  return createAgent('sac', OBS, ACT, { actorHidden: [8, 8], criticHidden: [8, 8], batchSize: B, initialAlpha: 0.3 }, seed) as SacAgent;
}

describe('SAC', () => {
  it('squashed Gaussian: tanh(mu + sigma eps) and log pi as the closed form', () => {
    const out = Float32Array.of(0.3, -0.2, 0.1, -3); // mu (2), raw log sigma (2)
    const eps = Float32Array.of(0.5, -1.2);
    const a = new Float32Array(2);
    const logp = new Float32Array(1);
    squashedGaussian(out, eps, 1, 2, a, logp, new Float32Array(2), new Float32Array(2));
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const logStd = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (Math.tanh(out[2 + i]) + 1);
      const u = out[i] + Math.exp(logStd) * eps[i];
      expect(a[i]).toBeCloseTo(Math.tanh(u), 6);
      expected += -0.5 * eps[i] ** 2 - logStd - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - Math.tanh(u) ** 2);
    }
    expect(logp[0]).toBeCloseTo(expected, 4);
  });

  it('critic and actor gradients match central finite differences', () => {
    const agent = small();
    const buf = buffer(1);
    const rng = new Rng(2);
    const batch = buf.sample(rng, buf.makeBatch(B));
    const noise = {
      next: Float32Array.from({ length: B * ACT }, () => rng.normal()),
      now: Float32Array.from({ length: B * ACT }, () => rng.normal()),
    };
    const g = agent.gradients(batch, noise);
    const criticGrads = g.criticGrads.map((x) => Float32Array.from(x.subarray(0, agent.critics[0].size)));
    const actorGrad = Float32Array.from(g.actorGrad.subarray(0, agent.actor.size));
    const h = 3e-3;
    const check = (p: FlatParams, analytic: Float32Array, loss: () => number, what: string) => {
      for (const slot of p.slots) {
        for (let n = 0; n < 3; n++) {
          const i = slot.offset + rng.int(slot.size);
          const v = p.values[i];
          p.values[i] = v + h;
          const up = loss();
          p.values[i] = v - h;
          const down = loss();
          p.values[i] = v;
          const fd = (up - down) / (2 * h);
          expect(Math.abs(fd - analytic[i]), `${what} ${slot.name}: fd ${fd} analytic ${analytic[i]}`).toBeLessThan(
            2e-3 + 2e-2 * Math.abs(fd),
          );
        }
      }
    };
    // The reported critic loss is the mean of the two critics' losses: d/d(critic j) = grad j / 2.
    for (let j = 0; j < 2; j++)
      check(
        agent.critics[j],
        criticGrads[j].map((x) => x / 2),
        () => agent.gradients(batch, noise).criticLoss,
        `critic ${j}`,
      );
    check(agent.actor, actorGrad, () => agent.gradients(batch, noise).actorLoss, 'actor');
    agent.dispose();
  });

  it('the temperature falls while the policy is more random than the target entropy', () => {
    const agent = small();
    const buf = buffer(4);
    const rng = new Rng(5);
    const batch = buf.makeBatch(B);
    const g = agent.gradients(buf.sample(rng, batch));
    // d J / d log alpha = -alpha (log pi + target) = alpha (entropy - target).
    expect(g.logAlphaGrad).toBeCloseTo(agent.alpha * (g.entropy - -ACT), 4);
    const before = agent.alpha;
    for (let i = 0; i < 20; i++) agent.update(buf.sample(rng, batch));
    // A fresh policy's entropy (~2.5 nats for two actions) is above the target -2: alpha shrinks.
    expect(g.entropy).toBeGreaterThan(-ACT);
    expect(agent.alpha).toBeLessThan(before);
    agent.dispose();
  });

  it('getState/setState resumes bit for bit, and acting without exploration is the squashed mean', () => {
    const buf = buffer(6);
    const rng = new Rng(7);
    const batch = buf.makeBatch(B);
    const a = small(11);
    for (let i = 0; i < 15; i++) a.update(buf.sample(rng, batch));
    const b = small(12);
    b.setState(a.getState());
    const r1 = new Rng(8);
    const r2 = new Rng(8);
    for (let i = 0; i < 10; i++) {
      const sa = a.update(buf.sample(r1, batch));
      const sb = b.update(buf.sample(r2, batch));
      expect(sb.metrics).toEqual(sa.metrics);
    }
    const obs = Float32Array.of(0.2, -0.4, 0.1);
    expect(Array.from(b.act(obs, false))).toEqual(Array.from(a.act(obs, false)));
    expect(Array.from(b.act(obs, true))).toEqual(Array.from(a.act(obs, true)));
    const det = a.act(obs, false);
    expect(Array.from(a.act(obs, false))).toEqual(Array.from(det));
    for (const v of det) expect(Math.abs(v)).toBeLessThan(1);
    a.dispose();
    b.dispose();
  });
});
