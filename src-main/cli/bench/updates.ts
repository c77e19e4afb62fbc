import type { BenchSuite } from './suite.ts';
import { BACKEND_NAMES, selectBackend, type BackendName } from '../../learn/exec/backend.ts';
import { createAgent, resolveHyperparams } from '../../learn/algos/factory.ts';
import { ReplayBuffer } from '../../learn/replay/replay.ts';
import { Rng } from '../../util/rng.ts';
import { algorithmIds, allPresets } from '../../learn/algos/specs.ts';
import type { Batch, UpdateStats } from '../../learn/types.ts';
import { readsAsync, updateAwaited } from '../../learn/agent-reads.ts';
import { UserError } from '../../util/errors.ts';
import { runPixelUpdates } from './updates-pixels.ts';
import { gemmPool } from '../../learn/nets/gemm-pool.ts';
import { loadavg } from 'node:os';

/**
 * Gradient updates per second on a filled buffer, with each algorithm's defaults (what a new run
 * gets) and DDPG with the paper's exact values (ddpg-paper-lowdim: 400-300, batch 64, the figure
 * earlier rounds compared with PyTorch): low-dimensional obs 17 / action 6 (HalfCheetah-sized).
 * One update = critic + actor + soft target update (NAF: one Q update + soft target update; SAC:
 * two critics, the actor and the temperature). The paper's pixel networks follow (updates-pixels.ts).
 *
 * Backends: the selected one (RL_STUDIO_BACKEND or the default order), or each of
 * RL_STUDIO_BENCH_BACKENDS (comma-separated, e.g. `wasm,cpu,webgpu`) in turn. Each line names the
 * backend and the executor the networks ran on (exec/select.ts; what the TF.js executor cannot run
 * stays on `wasm` and says why), the GEMM threads (RL_STUDIO_THREADS) and the load average, since
 * both move it. On webgpu the updates are awaited (Dawn reads asynchronously). The pixel cases
 * (updates-pixels.ts) follow on each backend.
 */
export const run: BenchSuite = async function* ({ quick, log }) {
  const listed = process.env.RL_STUDIO_BENCH_BACKENDS?.split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const b of listed ?? [])
    if (!BACKEND_NAMES.includes(b as BackendName))
      throw new UserError({ field: 'RL_STUDIO_BENCH_BACKENDS', message: `'${b}' is not one of ${BACKEND_NAMES.join(', ')}` });
  for (const wanted of listed ?? [undefined]) {
    const backend = await selectBackend(wanted ? { backend: wanted as BackendName } : {});
    log(`backend ${backend.reason}`);
    if (wanted && backend.name !== wanted) {
      log(`skipping ${wanted}: not available`);
      continue;
    }
    yield* lowdimCases(backend.name, quick, log);
    yield* runPixelUpdates({ backend: backend.name, quick, log });
  }
};

async function* lowdimCases(backend: BackendName, quick: boolean, log: (text: string) => void): AsyncIterable<Record<string, unknown>> {
  const obsSize = 17;
  const actionSize = 6;
  // The paper's DDPG first (the case earlier rounds compared with PyTorch), then every registered algorithm's defaults.
  const paper = allPresets()['ddpg-paper']!;
  const cases: { name: string; algo: string; hp: Record<string, unknown> }[] = [
    { name: 'ddpg-paper-lowdim', algo: paper.algo, hp: structuredClone(paper.hyperparams) as Record<string, unknown> },
    ...algorithmIds().map((algo) => ({ name: `${algo}-lowdim`, algo, hp: {} })),
  ];
  for (const { name, algo, hp } of cases) {
    // The agent as a run on this backend gets it (exec/select.ts chooses its executor).
    const agent = createAgent(algo, obsSize, actionSize, hp, 1);
    const exec = (agent as { exec?: { name: string } }).exec ?? null;
    const update: (b: Batch) => Promise<UpdateStats> | UpdateStats = readsAsync(agent)
      ? (b) => updateAwaited(agent, b)
      : (b) => agent.update(b);
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
    // Warm-up: JIT, arena layout, and on webgpu the shader compilations.
    const warmup = exec && exec.name !== 'wasm' ? 3 : 20;
    for (let i = 0; i < warmup; i++) await update(buf.sample(rng, batch));
    const { threads } = gemmPool.stats();
    // GEMM helper threads start asynchronously: let them come up before the clock starts.
    if (threads > 1) await new Promise((r) => setTimeout(r, 1000));
    const seconds = quick ? 1.5 : 5;
    const before = gemmPool.stats().chose;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await update(buf.sample(rng, batch));
      n++;
    }
    const dt = (performance.now() - t0) / 1000;
    const executor = exec?.name ?? 'wasm';
    if (executor !== backend) log(`${name}: ${agent.executorNote ?? executor}`);
    agent.dispose();
    yield {
      case: name,
      backend,
      executor,
      batch: batchSize,
      threads,
      chose_helpers: gemmPool.stats().chose.helpers - before.helpers,
      chose_alone: gemmPool.stats().chose.alone - before.alone,
      updates_per_s: +(n / dt).toFixed(n / dt < 10 ? 3 : 1),
      load_avg: +loadavg()[0].toFixed(2),
    };
  }
}
