import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { PointMassEnv } from './point-mass.ts';
import { evaluate, trainLoop } from './loop.ts';
import { isUserError } from '../../../src-main/util/errors.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

function filledBuffer(obsSize: number, actionSize: number, seed: number): ReplayBuffer {
  const rng = new Rng(seed);
  const buf = new ReplayBuffer({ capacity: 500, obsSize, actionSize });
  for (let i = 0; i < 500; i++) {
    const o = Float32Array.from({ length: obsSize }, () => rng.normal());
    const o2 = Float32Array.from({ length: obsSize }, () => rng.normal());
    buf.add(
      o,
      Float32Array.from({ length: actionSize }, () => rng.range(-1, 1)),
      rng.normal(),
      o2,
      rng.uniform() < 0.1,
    );
  }
  return buf;
}

describe('agents', () => {
  for (const algo of ['ddpg', 'td3', 'naf'] as const) {
    it(`${algo}: same seed gives identical actions and weights after updates`, () => {
      const small = algo === 'naf' ? { hidden: [32, 32] } : { actorHidden: [32, 32], criticHidden: [32, 32], batchSize: 16 };
      const run = () => {
        const agent = createAgent(algo, 5, 2, small, 42);
        const buf = filledBuffer(5, 2, 1);
        const rng = new Rng(3);
        const batch = buf.makeBatch(16);
        const actions: number[] = [];
        agent.resetEpisode();
        for (let i = 0; i < 30; i++) {
          agent.update(buf.sample(rng, batch));
          actions.push(...agent.act(Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5), true));
        }
        const state = agent.getState();
        agent.dispose();
        return { actions, state };
      };
      const a = run();
      const b = run();
      expect(a.actions).toEqual(b.actions);
      for (const k of Object.keys(a.state.tensors))
        expect(Array.from(a.state.tensors[k].data)).toEqual(Array.from(b.state.tensors[k].data));
      const c = createAgent(algo, 5, 2, small, 43);
      const other = c.act(Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5), false);
      c.dispose();
      expect(Array.from(other)).not.toEqual(a.actions.slice(0, 2));
    });

    it(`${algo}: getState/setState resumes bit for bit`, () => {
      const small = algo === 'naf' ? { hidden: [16] } : { actorHidden: [16, 16], criticHidden: [16, 16], batchSize: 16 };
      const buf = filledBuffer(4, 2, 2);
      const batch = buf.makeBatch(16);
      const a = createAgent(algo, 4, 2, small, 7);
      const rng = new Rng(9);
      for (let i = 0; i < 5; i++) a.update(buf.sample(rng, batch));
      const saved = a.getState();
      const rngState = rng.getState();
      for (let i = 0; i < 5; i++) a.update(buf.sample(rng, batch));
      const b = createAgent(algo, 4, 2, small, 999);
      b.setState(saved);
      rng.setState(rngState);
      for (let i = 0; i < 5; i++) b.update(buf.sample(rng, batch));
      expect(Array.from(b.getState().tensors[algo === 'naf' ? 'net' : 'actor'].data)).toEqual(
        Array.from(a.getState().tensors[algo === 'naf' ? 'net' : 'actor'].data),
      );
      a.dispose();
      b.dispose();
    });
  }

  for (const algo of ['ddpg', 'naf'] as const) {
    it(`${algo}: bootstraps with the batch's per-row discounts (n-step returns) when it carries them`, () => {
      const small = algo === 'naf' ? { hidden: [16] } : { actorHidden: [16, 16], criticHidden: [16, 16], batchSize: 16 };
      const buf = filledBuffer(4, 2, 4);
      const batch = buf.sample(new Rng(2), buf.makeBatch(16));
      // The TD loss of a second update (the first moves the weights off their initialisation, so targets are not ~0).
      const loss = (discounts?: Float32Array) => {
        const agent = createAgent(algo, 4, 2, small, 3);
        agent.update(batch);
        const { metrics } = agent.update({ ...batch, ...(discounts ? { discounts } : {}) });
        agent.dispose();
        return metrics.critic_loss;
      };
      const gamma = 0.99;
      const plain = loss();
      // gamma (1 - done) per row is what the agent does without them: the same loss (up to float32 rounding of gamma).
      expect(loss(batch.dones.map((d) => gamma * (1 - d)))).toBeCloseTo(plain, 5);
      expect(Math.abs(loss(batch.dones.map(() => 0)) - plain)).toBeGreaterThan(1e-3 * plain);
    });
  }

  // A replay with no reward anywhere (a sparse task before its first success): dQ/da is noise,
  // which Adam scales to full-size steps.
  const rewardFreeReplay = (rng: Rng) => {
    const buf = new ReplayBuffer({ capacity: 500, obsSize: 5, actionSize: 2 });
    for (let i = 0; i < 500; i++) {
      const o = Float32Array.from({ length: 5 }, () => rng.normal());
      buf.add(
        o,
        Float32Array.from({ length: 2 }, () => rng.range(-1, 1)),
        0,
        o.map((v) => v + 0.1 * rng.normal()),
        false,
      );
    }
    return buf;
  };
  const penaltyAgent = (hp: Record<string, unknown>) =>
    createAgent('ddpg', 5, 2, { actorHidden: [32, 32], criticHidden: [32, 32], batchSize: 32, actorLr: 1e-3, ...hp }, 7);
  /** Mean and largest |a| of the deterministic actor over 64 of the replay's states. */
  const actionSizes = (agent: ReturnType<typeof createAgent>, buf: ReplayBuffer) => {
    const probe = buf.sample(new Rng(9), buf.makeBatch(64));
    let sum = 0;
    let max = 0;
    for (let i = 0; i < 64; i++)
      for (const a of agent.act(probe.obs.slice(i * 5, i * 5 + 5), false)) {
        sum += Math.abs(a);
        max = Math.max(max, Math.abs(a));
      }
    return { mean: sum / 128, max };
  };

  it('the action penalty keeps the actor out of saturation while the reward carries no signal', () => {
    // |a| after 600 updates, without and with actionL2 (and its margin).
    const actions = (actionL2: number, actionL2Margin = 0) => {
      const agent = penaltyAgent({ actionL2, actionL2Margin });
      const rng = new Rng(5);
      const buf = rewardFreeReplay(rng);
      const batch = buf.makeBatch(32);
      for (let i = 0; i < 600; i++) agent.update(buf.sample(rng, batch));
      const sizes = actionSizes(agent, buf);
      agent.dispose();
      return sizes;
    };
    const free = actions(0);
    expect(free.max).toBeGreaterThan(0.99);
    const penalised = actions(1);
    expect(penalised.mean).toBeLessThan(0.05);
    expect(penalised.mean).toBeLessThan(free.mean / 3);
    // With a margin of 0.8 the actor may use [-0.8, 0.8] freely but is held out of the saturated
    // tanh, where no gradient passes back.
    const margined = actions(1, 0.8);
    expect(margined.max).toBeLessThan(0.9);
    expect(margined.mean).toBeGreaterThan(penalised.mean * 3);
  });

  it('the pre-tanh penalty brings a saturated actor back; the action penalty cannot', () => {
    // An actor whose output biases sit at +-12 (u = 12: tanh(u) is 1 in float32) trained on the
    // reward-free replay with each penalty: a saturated tanh passes back neither dQ/da nor
    // d(lambda a^2)/da, while the pull lambda tanh(u) on the pre-activation u stays.
    const rng = new Rng(5);
    const buf = rewardFreeReplay(rng);
    const batch = buf.makeBatch(32);
    const fresh = penaltyAgent({});
    const saturated = fresh.getState();
    fresh.dispose();
    for (const name of ['actor', 'actorTarget']) {
      const w = saturated.tensors[name].data;
      w[w.length - 2] = 12;
      w[w.length - 1] = -12;
    }
    const after = (hp: Record<string, unknown>) => {
      const agent = penaltyAgent(hp);
      agent.setState(saturated);
      expect(actionSizes(agent, buf).mean).toBe(1);
      const r = new Rng(6);
      for (let i = 0; i < 800; i++) agent.update(buf.sample(r, batch));
      const sizes = actionSizes(agent, buf);
      agent.dispose();
      return sizes;
    };
    expect(after({ actionL2: 1 }).mean).toBe(1);
    expect(after({ preTanhPenalty: 1 }).mean).toBeLessThan(0.3);
  });

  it('does not leak tensors over 10^4 updates', () => {
    const agent = createAgent('td3', 3, 1, { actorHidden: [8], criticHidden: [8], batchSize: 8, exploration: 'param' }, 1);
    const buf = filledBuffer(3, 1, 3);
    const batch = buf.makeBatch(8);
    const rng = new Rng(1);
    for (let i = 0; i < 10; i++) agent.update(buf.sample(rng, batch));
    agent.act(Float32Array.of(0, 0, 0), true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10_000; i++) {
      agent.update(buf.sample(rng, batch));
      if (i % 100 === 0) agent.act(Float32Array.of(0, 0, 0), true);
    }
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
  });

  it('refuses invalid hyperparameters naming the field', () => {
    let err: unknown;
    try {
      createAgent('ddpg', 3, 1, { tau: 2 }, 1);
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect(String((err as Error).message)).toContain('hyperparams.tau');
  });

  it('DDPG learns to drive a point mass to the origin', () => {
    const env = new PointMassEnv();
    // 2000 env steps: too few for running observation statistics to settle (seed 5 ends at -9.2
    // with them, -1.5 without), so this check of the update itself runs on raw observations.
    const agent = createAgent('ddpg', 2, 1, { actorHidden: [64, 64], criticHidden: [64, 64], obsNormalization: false }, 5);
    const before = evaluate(env, agent, 5, 10_000);
    trainLoop(env, agent, { episodes: 40, batchSize: 64, learningStarts: 200, seed: 5 });
    const after = evaluate(env, agent, 5, 10_000);
    agent.dispose();
    // Doing nothing scores about -17 here; a controller that steers to the origin scores above -6.
    console.log(`point mass: return ${before.toFixed(2)} -> ${after.toFixed(2)}`);
    expect(after).toBeGreaterThan(before + 2);
    expect(after).toBeGreaterThan(-6);
  });
});
