import { describe, it, expect, beforeAll } from 'vitest';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { l2norm, meanAbs, saturation, DIAGNOSTICS_EVERY, UPDATE_DIAGNOSTICS } from '../../../src-main/learn/algos/diagnostics.ts';
import type { ActorCriticAgent } from '../../../src-main/learn/algos/ddpg/agent.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

describe('learning diagnostics', () => {
  it('saturation, mean |a| and norms match hand-computed values', () => {
    const a = Float32Array.of(0.995, -1, 0.5, -0.2, 0.98, 0);
    // |a| > 0.99: 0.995 and -1 (0.98 is not).
    expect(saturation(a, 6).saturated).toBeCloseTo(2 / 6, 12);
    expect(saturation(a, 6).meanAbs).toBeCloseTo((0.995 + 1 + 0.5 + 0.2 + 0.98) / 6, 6);
    expect(saturation(a, 2).saturated).toBe(1);
    expect(l2norm(Float32Array.of(3, 4, 12))).toBeCloseTo(13, 6);
    expect(l2norm(Float32Array.of(3, 4, 12), 2)).toBeCloseTo(5, 6);
    // Decay gradient l2 * W with l2 = 0 on the bias entry.
    expect(l2norm(Float32Array.of(3, 4, 100), 3, Float32Array.of(0.1, 0.1, 0))).toBeCloseTo(0.5, 6);
    expect(meanAbs(Float32Array.of(-1, 2, -3))).toBeCloseTo(2, 6);
  });

  for (const algo of ['ddpg', 'td3'] as const) {
    it(`${algo}: every ${DIAGNOSTICS_EVERY}th update reports the diagnostics, consistent with the agent's own outputs`, () => {
      const obsSize = 3;
      const act = 2;
      const agent = createAgent(
        algo,
        obsSize,
        act,
        { actorHidden: [16], criticHidden: [16, 16], batchSize: 8, criticL2: 0.01, finalLayerInit: 1 },
        5,
      ) as ActorCriticAgent;
      const rng = new Rng(1);
      const buf = new ReplayBuffer({ capacity: 64, obsSize, actionSize: act });
      for (let i = 0; i < 64; i++) {
        const o = Float32Array.from({ length: obsSize }, () => 3 * rng.normal());
        buf.add(
          o,
          Float32Array.from({ length: act }, () => rng.range(-1, 1)),
          rng.uniform(),
          o.map((v) => v + 0.1),
          false,
        );
      }
      const batch = buf.makeBatch(8);
      const reported: Record<string, number>[] = [];
      for (let u = 0; u < 4 * DIAGNOSTICS_EVERY; u++) {
        const b = buf.sample(rng, batch);
        // The actor's outputs on this batch before the update: what the diagnostics must describe.
        const mu: number[] = [];
        for (let r = 0; r < b.size; r++) mu.push(...agent.act(b.obs.slice(r * obsSize, (r + 1) * obsSize), false));
        const stats = agent.update(b);
        // The diagnostics ride along with the losses on every k-th update, under their own names.
        const d = Object.fromEntries(Object.entries(stats.metrics).filter(([k]) => k in UPDATE_DIAGNOSTICS));
        if (Object.keys(d).length === 0) continue;
        reported.push(d);
        expect(Object.keys(stats.metrics).every((k) => k in UPDATE_DIAGNOSTICS || ['critic_loss', 'actor_loss', 'q'].includes(k))).toBe(
          true,
        );
        const expected = saturation(Float32Array.from(mu), mu.length);
        expect(d.actor_saturation).toBeCloseTo(expected.saturated, 6);
        expect(d.actor_abs_action).toBeCloseTo(expected.meanAbs, 5);
        expect(d.critic_decay_norm).toBeGreaterThan(0);
        expect(d.critic_grad_norm).toBeGreaterThan(0);
        expect(d.dq_da).toBeGreaterThan(0);
        expect(Number.isFinite(d.q_target)).toBe(true);
      }
      expect(reported.length).toBe(algo === 'td3' ? 2 : 4);
      agent.dispose();
    });
  }
});
