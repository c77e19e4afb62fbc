import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import type { RunConfigInput } from '../../../src-main/api/run-config.ts';
import { RunStore, type RunFiles } from '../../../src-main/store/run-store.ts';
import { resolveRunConfig, versions } from '../../../src-main/train/config.ts';
import { decodeCheckpoint } from '../../../src-main/train/checkpoint.ts';
import { ControlState, runSession, type SessionEnd } from '../../../src-main/train/session.ts';
import { loadRunPolicy } from '../../../src-main/export/run-policy.ts';
import type { DenseLayer } from '../../../src-main/export/policy-graph.ts';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';

/**
 * A DDPG run on webgpu, end to end through the product's own run path (runSession: backend
 * choice, set-up, trainer, evaluation, checkpoints, resume) and the exporter, with
 * RL_STUDIO_BACKEND=webgpu as a user sets it. Dawn runs here on the SwiftShader Vulkan driver (a
 * CPU-emulated adapter, see executors.test.ts), which costs ~15-25 ms per GPU dispatch on this
 * 2-core machine: about a second per update of these small networks and ~0.1 s per action, so a
 * run that learns the pendulum (thousands of updates, learns-pendulum-tfjs.test.ts on TF.js cpu)
 * does not fit a CI budget. What fits and still cannot pass by accident: the same run (same seed,
 * same config) on the wasm arena, and the webgpu run must match it step for step — its eval
 * return, its checkpointed networks, its resumed networks and its exported policy — within float
 * rounding. A webgpu run that skipped an update, read a stale action or lost optimizer state on
 * resume would drift away from the twin.
 */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const STEPS = 48;
const RESUMED_STEPS = 52;
const CONFIG: RunConfigInput = {
  env: 'pendulum',
  algo: 'ddpg',
  steps: STEPS,
  seed: 3,
  warmupSteps: 40,
  evalEvery: STEPS,
  evalEpisodes: 1,
  checkpointEvery: STEPS,
  keepCheckpoints: 3,
  saveReplay: true,
  hyperparams: { actorHidden: [16, 16], criticHidden: [16, 16], batchSize: 16 },
};

let dir = '';
const saved = { backend: process.env.RL_STUDIO_BACKEND, icd: process.env.VK_ICD_FILENAMES };

beforeAll(() => {
  if (!existsSync(SWIFTSHADER))
    throw new Error(
      `the webgpu tests need ${SWIFTSHADER} (Debian's chromium: node scripts/ensure-chromium.mjs) and libvulkan1 (node scripts/ensure-vulkan.mjs)`,
    );
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  dir = mkdtempSync(join(tmpdir(), 'rl-studio-webgpu-run-'));
});

afterAll(() => {
  for (const [k, v] of [
    ['RL_STUDIO_BACKEND', saved.backend],
    ['VK_ICD_FILENAMES', saved.icd],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function newRun(input: RunConfigInput = CONFIG): RunFiles {
  const { config, env } = resolveRunConfig(input);
  return new RunStore(dir).create(config, { source: env, origin: env.origin, dir: env.dir }, { versions: versions() });
}

/** Trains (or resumes) the run on `backend`, as `RL_STUDIO_BACKEND=<backend> rl-studio train|resume` does. */
async function train(run: RunFiles, backend: 'wasm' | 'webgpu', steps?: number): Promise<{ end: SessionEnd; events: TrainEvent[] }> {
  process.env.RL_STUDIO_BACKEND = backend;
  const events: TrainEvent[] = [];
  const end = await runSession({ runDir: run.dir, ...(steps ? { steps } : {}) }, new ControlState(), (e) => events.push(e));
  expect(end.status, end.reason ?? '').toBe('done');
  return { end, events };
}

function checkpointAt(run: RunFiles, step: number) {
  const { checkpoint } = run.latestCheckpoint();
  expect(checkpoint?.step).toBe(step);
  return decodeCheckpoint(checkpoint!.meta, checkpoint!.arrays);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** The exported policies of two runs (3 dense layers) hold the same weights. */
async function expectSamePolicies(a: RunFiles, b: RunFiles): Promise<void> {
  const dense = async (run: RunFiles) =>
    (await loadRunPolicy(run.dir, 'latest')).graph.layers.filter((l): l is DenseLayer => l.kind === 'dense');
  const [la, lb] = [await dense(a), await dense(b)];
  expect(la.length).toBe(3);
  la.forEach((l, i) => expect(maxRelDiff(l.weight, lb[i].weight), `dense ${i}`).toBeLessThan(1e-3));
}

describe('when webgpu is chosen', () => {
  it('only when asked, saying why', async () => {
    const auto = await selectBackend({ env: {} });
    expect(auto.name).not.toBe('webgpu');
    expect(auto.tried.find((t) => t.name === 'webgpu')?.error).toMatch(/only when asked/);
  });
});

describe('a DDPG run with RL_STUDIO_BACKEND=webgpu (Dawn on SwiftShader, CPU-emulated)', () => {
  it('trains, evaluates, checkpoints, resumes and exports on webgpu, matching the same run on wasm', async () => {
    const t0 = performance.now();
    const onWasm = newRun();
    const onGpu = newRun();
    const wasm = await train(onWasm, 'wasm');
    const gpu = await train(onGpu, 'webgpu');
    const trained = performance.now();

    // Where the networks ran, as the run's config records it.
    const backend = onGpu.readConfig().backend!;
    expect(backend.name, backend.reason).toBe('webgpu');
    expect(backend.networks).toMatch(/^webgpu: DDPG networks as TF.js ops on webgpu/);
    expect(onWasm.readConfig().backend!.networks ?? 'wasm').toMatch(/^wasm/);

    // Same updates, same evaluation: learning steps 40..48, one eval episode at the end.
    const gpuCk = checkpointAt(onGpu, STEPS);
    const wasmCk = checkpointAt(onWasm, STEPS);
    expect(gpuCk.trainer.updates).toBe(STEPS - CONFIG.warmupSteps! + 1);
    expect(gpuCk.agent.meta.updates).toBe(gpuCk.trainer.updates);
    for (const name of ['actor', 'actorTarget', 'critic0', 'critic0Adam.v']) {
      expect(maxRelDiff(gpuCk.agent.tensors[name].data, wasmCk.agent.tensors[name].data), name).toBeLessThan(1e-3);
    }
    // The updates moved the networks (the comparison is not of two untouched initialisations).
    expect(gpuCk.agent.meta.actorAdamT).toBe(gpuCk.trainer.updates);
    expect(gpuCk.agent.tensors['actorAdam.v'].data.some((v) => v > 0)).toBe(true);
    const gpuEval = gpu.events.find((e) => e.type === 'eval');
    const wasmEval = wasm.events.find((e) => e.type === 'eval');
    expect(gpuEval && wasmEval && gpuEval.type === 'eval' && wasmEval.type === 'eval').toBe(true);
    const [ge, we] = [gpuEval as Extract<TrainEvent, { type: 'eval' }>, wasmEval as Extract<TrainEvent, { type: 'eval' }>];
    expect(Math.abs(ge.evalReturn - we.evalReturn)).toBeLessThan(1e-3 * Math.abs(we.evalReturn) + 1e-3);
    expect(gpu.end.evalReturn).toBe(ge.evalReturn);

    // Resume from the webgpu checkpoint (replay, Adam moments and steps, rng, noise): 4 more updates,
    // as the wasm twin resumed. Without evaluation this time (it was checked above; each eval
    // episode costs 200 GPU round trips here).
    for (const run of [onWasm, onGpu]) {
      const stored = run.readConfig();
      run.writeConfig({ ...stored, config: { ...stored.config, evalEpisodes: 0 } });
    }
    await train(onWasm, 'wasm', RESUMED_STEPS);
    const resumed = await train(onGpu, 'webgpu', RESUMED_STEPS);
    expect(resumed.events.some((e) => e.type === 'warning' && e.message.includes(`resuming from the checkpoint at step ${STEPS}`))).toBe(
      true,
    );
    const gpuResumed = checkpointAt(onGpu, RESUMED_STEPS);
    const wasmResumed = checkpointAt(onWasm, RESUMED_STEPS);
    expect(gpuResumed.agent.meta.updates).toBe(gpuCk.trainer.updates + RESUMED_STEPS - STEPS);
    expect(gpuResumed.agent.meta.actorAdamT).toBe(gpuResumed.agent.meta.updates);
    for (const name of ['actor', 'critic0', 'critic0Adam.m']) {
      expect(maxRelDiff(gpuResumed.agent.tensors[name].data, wasmResumed.agent.tensors[name].data), name).toBeLessThan(1e-3);
    }
    const resumedAt = performance.now();

    // Export of the finished run, its agent rebuilt on webgpu (the backend is still webgpu here).
    await expectSamePolicies(onGpu, onWasm);
    console.log(
      `webgpu run (SwiftShader): wasm + webgpu to ${STEPS} steps ${((trained - t0) / 1000).toFixed(1)} s, resume to ${RESUMED_STEPS} ${((resumedAt - trained) / 1000).toFixed(1)} s, export ${((performance.now() - resumedAt) / 1000).toFixed(1)} s; eval ${ge.evalReturn.toFixed(3)} (wasm ${we.evalReturn.toFixed(3)})`,
    );
  }, 300_000);
});

describe('a NAF run with RL_STUDIO_BACKEND=webgpu (Dawn on SwiftShader, CPU-emulated)', () => {
  it('trains, checkpoints and exports on webgpu, matching the same run on wasm', async () => {
    // No evaluation (each eval episode is 200 GPU round trips here); NAF's importance-weighted loss through prioritized replay.
    const config: RunConfigInput = {
      ...CONFIG,
      algo: 'naf',
      evalEpisodes: 0,
      hyperparams: { hidden: [16, 16], batchSize: 16, prioritizedReplay: true, updatesPerStep: 5 },
    };
    const onWasm = newRun(config);
    const onGpu = newRun(config);
    await train(onWasm, 'wasm');
    await train(onGpu, 'webgpu');
    const backend = onGpu.readConfig().backend!;
    expect(backend.networks).toMatch(/^webgpu: NAF networks as TF.js ops on webgpu/);
    const gpuCk = checkpointAt(onGpu, STEPS);
    const wasmCk = checkpointAt(onWasm, STEPS);
    expect(gpuCk.agent.meta.updates).toBe((STEPS - CONFIG.warmupSteps! + 1) * 5);
    expect(gpuCk.agent.meta.adamT).toBe(gpuCk.agent.meta.updates);
    expect(gpuCk.agent.tensors['netAdam.v'].data.some((v) => v > 0)).toBe(true);
    for (const name of ['net', 'target', 'netAdam.m', 'netAdam.v']) {
      expect(maxRelDiff(gpuCk.agent.tensors[name].data, wasmCk.agent.tensors[name].data), name).toBeLessThan(1e-3);
    }
    await expectSamePolicies(onGpu, onWasm);
  }, 300_000);
});
