import { describe, expect, it } from 'vitest';
import { Arena } from '../../../src-main/learn/nets/simd.ts';
import { FlatParams } from '../../../src-main/learn/nets/params.ts';
import { Chain } from '../../../src-main/learn/nets/mlp.ts';
import { actorLayers, actorSpecs } from '../../../src-main/learn/algos/ddpg/agent.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { Rng } from '../../../src-main/util/rng.ts';

const OBS = 4;
const ACT = 2;

function batchFrom(rng: Rng, rows: number, mean: number[], std: number[]): Float32Array {
  const x = new Float32Array(rows * OBS);
  for (let r = 0; r < rows; r++) for (let j = 0; j < OBS; j++) x[r * OBS + j] = mean[j] + std[j] * rng.normal();
  return x;
}

describe('batch normalisation (DDPG supplement 7)', () => {
  it("moves the running statistics to the data's in 'update' passes, and leaves them alone otherwise", () => {
    const rng = new Rng(1);
    const ar = new Arena();
    const p = new FlatParams(actorSpecs(OBS, [8, 6], ACT, null, true), ar);
    p.init(rng);
    const chain = new Chain(ar, actorLayers(OBS, [8, 6], ACT, true), 'a');
    const mean = [3, -2, 0.5, 10];
    const std = [2, 0.5, 1, 4];
    const x = ar.get('x', 64 * OBS);
    for (let t = 0; t < 800; t++) {
      x.set(batchFrom(rng, 64, mean, std));
      chain.forward(p, x, 64, 'update');
    }
    const rMean = p.view('bnIn.mean');
    const rVar = p.view('bnIn.var');
    for (let j = 0; j < OBS; j++) {
      expect(Math.abs(rMean[j] - mean[j])).toBeLessThan(0.1 * std[j]);
      expect(Math.abs(Math.sqrt(rVar[j]) / std[j] - 1)).toBeLessThan(0.1);
    }
    const before = Float32Array.from(p.values);
    chain.forward(p, x, 64, 'train');
    chain.forward(p, x, 64, 'infer');
    expect(Array.from(p.values)).toEqual(Array.from(before));
  });

  it("'infer' is a fixed function of each row; 'train' depends on the batch", () => {
    const rng = new Rng(2);
    const ar = new Arena();
    const p = new FlatParams(actorSpecs(OBS, [8, 6], ACT, null, true), ar);
    p.init(rng);
    const chain = new Chain(ar, actorLayers(OBS, [8, 6], ACT, true), 'a');
    const x = ar.get('x', 16 * OBS);
    x.set(batchFrom(rng, 16, [1, 1, 1, 1], [1, 1, 1, 1]));
    const row0 = Float32Array.from(x.subarray(0, OBS));
    const alone = Float32Array.from(chain.forward(p, row0, 1, 'infer'));
    const inBatch = Float32Array.from(chain.forward(p, x, 16, 'infer').subarray(0, ACT));
    for (let j = 0; j < ACT; j++) expect(inBatch[j]).toBeCloseTo(alone[j], 6);
    const trained = Float32Array.from(chain.forward(p, x, 16, 'train').subarray(0, ACT));
    expect(Math.abs(trained[0] - alone[0]) + Math.abs(trained[1] - alone[1])).toBeGreaterThan(1e-4);
  });

  it('a DDPG agent with batch norm updates, acts from running statistics, saves them, and never perturbs them', () => {
    const rng = new Rng(3);
    const agent = createAgent(
      'ddpg',
      OBS,
      ACT,
      { actorHidden: [16, 16], criticHidden: [16, 16], batchNorm: true, batchSize: 32, exploration: 'param', obsNormalization: false },
      5,
    );
    const B = 32;
    const batch = () => ({
      size: B,
      obs: batchFrom(rng, B, [2, 0, -1, 5], [1, 2, 0.5, 3]),
      nextObs: batchFrom(rng, B, [2, 0, -1, 5], [1, 2, 0.5, 3]),
      actions: Float32Array.from({ length: B * ACT }, () => rng.range(-1, 1)),
      rewards: Float32Array.from({ length: B }, () => rng.normal()),
      dones: new Float32Array(B),
    });
    for (let u = 0; u < 60; u++) {
      const s = agent.update(batch());
      expect(Number.isFinite(s.metrics.critic_loss)).toBe(true);
    }
    // The online networks' statistics moved; the targets follow them softly.
    expect(agent.actor.view('bnIn.mean')[3]).toBeGreaterThan(0.5);
    expect(agent.critics[0].view('bnIn.mean')[3]).toBeGreaterThan(0.5);
    const obs = Float32Array.of(2, 0, -1, 5);
    const a = agent.act(obs, false);
    expect(Array.from(agent.act(obs, false))).toEqual(Array.from(a));
    // Exploration perturbs weights, not the statistics of the data.
    agent.resetEpisode();
    agent.act(obs, true);
    const perturbed = (agent as unknown as { perturbed: FlatParams }).perturbed;
    for (const name of ['bnIn.mean', 'bnIn.var', 'bn0.mean', 'bn0.var'])
      expect(Array.from(perturbed.view(name))).toEqual(Array.from(agent.actor.view(name)));
    expect(Array.from(perturbed.view('l0.W'))).not.toEqual(Array.from(agent.actor.view('l0.W')));
    // A checkpoint round trip restores the statistics with the weights.
    const copy = createAgent(
      'ddpg',
      OBS,
      ACT,
      { actorHidden: [16, 16], criticHidden: [16, 16], batchNorm: true, batchSize: 32, exploration: 'param', obsNormalization: false },
      9,
    );
    copy.setState(agent.getState());
    expect(Array.from(copy.act(obs, false))).toEqual(Array.from(a));
    agent.dispose();
    copy.dispose();
  });
});
