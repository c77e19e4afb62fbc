/**
 * Every shipped algorithm module is complete: its schema's defaults are the values it documents,
 * the paper's values and every preset pass its own schema, it has the fields the trainer and replay
 * read, its pixel defaults come with the torso wiring, and an agent it makes reports exactly the
 * metrics it declares and exports the policy it acts with.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILT_IN_ALGORITHMS, allAlgorithms, getAlgorithm } from '../../../src-main/learn/algos/index.ts';
import { BUILT_IN_SPECS, algorithmIds, allPresets } from '../../../src-main/learn/algos/specs.ts';
import { common, metricNameProblem } from '../../../src-main/learn/algos/spec.ts';
import { DIAGNOSTICS_EVERY } from '../../../src-main/learn/algos/diagnostics.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { policyGraphFromAgent } from '../../../src-main/export/from-agent.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { parseRunConfig } from '../../../src-main/api/run-config.ts';

/** The algorithm's defaults with every layer list at 8-8 units and a small batch: quick to build and update. */
function small(shape: Record<string, z.ZodType>, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { batchSize: 16 };
  for (const [name, field] of Object.entries(shape))
    if (Array.isArray(defaults[name]) && field instanceof z.ZodDefault && field.unwrap() instanceof z.ZodArray) out[name] = [8, 8];
  return out;
}

describe('algorithm registry', () => {
  it('lists the shipped modules once each, under the ids their specs give, in the specs registry order', () => {
    expect(Object.keys(BUILT_IN_ALGORITHMS)).toEqual(Object.keys(BUILT_IN_SPECS));
    expect(allAlgorithms().map((a) => a.id)).toEqual(algorithmIds());
    for (const [id, spec] of Object.entries(BUILT_IN_SPECS)) expect(spec.id).toBe(id);
    expect(() => getAlgorithm('ppo')).toThrow(/unknown algorithm 'ppo' \(choose ddpg, td3, naf, sac/);
    const r = parseRunConfig({ algo: 'ppo' });
    expect(r.ok ? [] : r.issues.map((i) => i.field)).toEqual(['algo']);
  });

  for (const algorithm of allAlgorithms()) {
    describe(algorithm.id, () => {
      it('documents itself: label, paper, schema defaults = its defaults, paper values and presets valid', () => {
        expect(algorithm.label.length).toBeGreaterThan(0);
        expect(algorithm.paper.cite).toMatch(/\d{4}/);
        expect(algorithm.paper.title.length).toBeGreaterThan(10);
        // The schema is the one place of the fields: parsing nothing gives what a new run gets.
        expect(algorithm.schema.parse({})).toEqual(algorithm.defaults);
        expect(algorithm.schema.parse(structuredClone(algorithm.paperDefaults))).toEqual(algorithm.paperDefaults);
        for (const [name, field] of Object.entries(algorithm.schema.shape)) expect(field.description, name).toMatch(/\w/);
        expect(algorithm.presets[`${algorithm.id}-paper`]?.hyperparams).toEqual(algorithm.paperDefaults);
        for (const preset of Object.values(algorithm.presets))
          expect(algorithm.schema.safeParse(structuredClone(preset.hyperparams)).success).toBe(true);
        // The trainer and the replay read these from any agent.
        for (const name of Object.keys(common)) expect(Object.keys(algorithm.schema.shape)).toContain(name);
        if (algorithm.pixelDefaults) {
          expect(algorithm.schema.safeParse(structuredClone(algorithm.pixelDefaults)).success).toBe(true);
          expect(algorithm.pixelEncoders).toBeTypeOf('function');
        } else expect(algorithm.pixelEncoders).toBeUndefined();
        for (const [name, m] of Object.entries(algorithm.metrics)) {
          expect(metricNameProblem(name)).toBeNull();
          expect(m.description.length, name).toBeGreaterThan(10);
        }
      });

      it('makes an agent whose updates report exactly its declared metrics and whose policy exports', () => {
        const obsSize = 3;
        const actionSize = 2;
        const agent = createAgent(
          algorithm.id,
          obsSize,
          actionSize,
          small(algorithm.schema.shape, algorithm.defaults as Record<string, unknown>),
          1,
        );
        try {
          expect(agent.algo).toBe(algorithm.id);
          const rng = new Rng(5);
          const buf = new ReplayBuffer({ capacity: 256, obsSize, actionSize });
          const o = new Float32Array(obsSize);
          const a = new Float32Array(actionSize);
          for (let i = 0; i < 256; i++) {
            for (let j = 0; j < obsSize; j++) o[j] = rng.normal();
            for (let j = 0; j < actionSize; j++) a[j] = rng.range(-1, 1);
            buf.add(o, a, rng.normal(), o, false);
          }
          const batch = buf.makeBatch(agent.hp.batchSize);
          const reported = new Set<string>();
          // Enough updates for the periodic diagnostics (on actor steps: every DIAGNOSTICS_EVERY x policy delay).
          for (let u = 0; u < 4 * DIAGNOSTICS_EVERY; u++) {
            const { metrics } = agent.update(buf.sample(rng, batch));
            for (const [name, v] of Object.entries(metrics)) {
              expect(Number.isFinite(v), name).toBe(true);
              reported.add(name);
            }
          }
          expect([...reported].sort()).toEqual(Object.keys(algorithm.metrics).sort());

          // The exported policy is the deterministic action (before the env's scaling to [low, high] = [-1, 1]).
          const graph = policyGraphFromAgent(agent, { low: [-1, -1], high: [1, 1] });
          const dense = graph.layers.filter((l) => l.kind === 'dense');
          expect(dense).toHaveLength(algorithm.policy(agent).hidden.length + 1);
          expect(dense.at(-1)).toMatchObject({ outSize: actionSize });
        } finally {
          agent.dispose();
        }
      });
    });
  }

  it('keeps preset names unique over all algorithms, each naming its algorithm', () => {
    const presets = allPresets();
    const count = allAlgorithms().reduce((n, a) => n + Object.keys(a.presets).length, 0);
    expect(Object.keys(presets)).toHaveLength(count);
    for (const [name, p] of Object.entries(presets)) expect(getAlgorithm(p.algo).presets[name]).toBeDefined();
  });
});
