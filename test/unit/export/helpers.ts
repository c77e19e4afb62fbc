import type { PolicyGraph } from '../../../src-main/export/policy-graph.ts';
import type { PolicyMeta } from '../../../src-main/export/meta.ts';

/** Metadata for graphs that do not come from a run (the writers only carry it). */
export function fakeMeta(graph: PolicyGraph, act: number): PolicyMeta {
  const size = graph.inputShape.reduce((a, b) => a * b, 1);
  return {
    format: 'rl-studio-policy',
    version: 1,
    algo: 'ddpg',
    env: {
      id: 'synthetic',
      spec: {
        id: 'synthetic',
        obs: { size, parts: [{ name: 'x', offset: 0, size }] },
        action: { size: act, names: [], low: [], high: [] },
        controlTimestep: 0.01,
        frameSkip: 1,
        episodeLength: 10,
        nq: 1,
        nbody: 1,
      },
    },
    observation: {
      kind: graph.inputShape.length === 3 ? 'pixels' : 'lowdim',
      shape: graph.inputShape,
      layout: [{ name: 'x', offset: 0, size }],
      normalization: null,
    },
    action: { size: act, names: Array.from({ length: act }, (_, i) => `a${i}`), low: [], high: [], scaling: '' },
    checkpoint: { name: 'synthetic', step: 0 },
    evalReturn: 1.5,
    run: { id: 'synthetic', seed: 0 },
    trainingConfig: { note: 'synthetic' },
    exportedAt: new Date(0).toISOString(),
    producer: 'rl-studio test',
  };
}
