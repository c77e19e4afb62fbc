import type { BenchSuite } from './suite.ts';
import { selectBackend } from '../../learn/backend.ts';
import { createAgent, resolveHyperparams } from '../../learn/factory.ts';
import { ReplayBuffer } from '../../learn/replay.ts';
import { Rng } from '../../util/rng.ts';
import { algorithmIds, allPresets } from '../../learn/algos/specs.ts';
import { runPixelUpdates } from './updates-pixels.ts';
import { gemmPool } from '../../learn/gemm-pool.ts';
import { loadavg } from 'node:os';

/**
 * Gradient updates per second on a filled buffer, with each algorithm's defaults (what a new run
 * gets) and DDPG with the paper's exact values (ddpg-paper-lowdim: 400-300, batch 64, the figure
 * earlier rounds compared with PyTorch): low-dimensional obs 17 / action 6 (HalfCheetah-sized).
 * One update = critic + actor + soft target update (NAF: one Q update + soft target update; SAC:
 * two critics, the actor and the temperature). The paper's pixel networks follow (updates-pixels.ts).
 * Each line names the GEMM threads (RL_STUDIO_THREADS) and the load average, since both move it.
 */
export const run: BenchSuite = async function* ({ quick, log }) {
  const backend = await selectBackend();
  log(`backend ${backend.reason}`);
  const obsSize = 17;
  const actionSize = 6;
  // The paper's DDPG first (the case earlier rounds compared with PyTorch), then every registered algorithm's defaults.
  const paper = allPresets()['ddpg-paper']!;
  const cases: { name: string; algo: string; hp: Record<string, unknown> }[] = [
    { name: 'ddpg-paper-lowdim', algo: paper.algo, hp: structuredClone(paper.hyperparams) as Record<string, unknown> },
    ...algorithmIds().map((algo) => ({ name: `${algo}-lowdim`, algo, hp: {} })),
  ];
  for (const { name, algo, hp } of cases) {
    const agent = createAgent(algo, obsSize, actionSize, hp, 1);
    const { batchSize } = resolveHyperparams(algo, hp) as { batchSize: number };
    const rng = new Rng(2);
    const buf = new ReplayBuffer({ capacity: 10_000, obsSize, actionSize });
    const o = new Float32Array(obsSize);
    const a = new Float32Array(actionSize);
    for (let i = 0; i < 10_000; i++) {
      for (let j = 0; j < obsSize; j++) o[j] = rng.normal();
      for (let j = 0; j < actionSize; j++) a[j] = rng.range(-1, 1);
      buf.add(o, a, rng.normal(), o, false);
    }
    const batch = buf.makeBatch(batchSize);
    for (let i = 0; i < 20; i++) agent.update(buf.sample(rng, batch));
    const { threads } = gemmPool.stats();
    // GEMM helper threads start asynchronously: let them come up before the clock starts.
    if (threads > 1) await new Promise((r) => setTimeout(r, 1000));
    const seconds = quick ? 1.5 : 5;
    const before = gemmPool.stats().chose;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      agent.update(buf.sample(rng, batch));
      n++;
    }
    const dt = (performance.now() - t0) / 1000;
    agent.dispose();
    yield { case: name, backend: backend.name, batch: batchSize, threads, chose_helpers: gemmPool.stats().chose.helpers - before.helpers, chose_alone: gemmPool.stats().chose.alone - before.alone, updates_per_s: +(n / dt).toFixed(1), load_avg: +loadavg()[0].toFixed(2) };
  }
  yield* runPixelUpdates({ quick, log });
};
