import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { ArenaExecutor } from '../../../src-main/learn/exec/arena-exec.ts';
import { ActorCriticAgent } from '../../../src-main/learn/algos/ddpg/agent.ts';
import { SacAgent } from '../../../src-main/learn/algos/sac/agent.ts';
import { NafAgent } from '../../../src-main/learn/algos/naf/agent.ts';
import type { NafHyperparams } from '../../../src-main/learn/algos/naf/spec.ts';
import type { Executor } from '../../../src-main/learn/exec/executor.ts';
import type { ActorCriticHyperparams } from '../../../src-main/learn/algos/ddpg/spec.ts';
import type { SacHyperparams } from '../../../src-main/learn/algos/sac/spec.ts';
import { TfExecutor } from '../../../src-main/learn/exec/tf-exec.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { resolveHyperparams } from '../../../src-main/learn/algos/factory.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import type { Agent, Batch, UpdateStats } from '../../../src-main/learn/types.ts';
import { createPixelAgent } from '../../../src-main/learn/algos/pixel-agent.ts';

/**
 * The TF.js executor against the wasm arena: the same agent (same seed, so the same initial
 * weights) on each executor, fed the same batches, must end with the same weights and report the
 * same losses, within float rounding (the executors sum in different orders): DDPG, TD3, SAC and NAF. On `cpu` (TF.js's
 * plain-JS backend) and on `webgpu` through Dawn, here on the SwiftShader Vulkan driver (a
 * CPU-emulated adapter: correct, slow). And the TF.js executor leaks nothing: tensors and bytes
 * stay flat over 10^3 updates on cpu, and GPU bytes over 10 on webgpu.
 */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const OBS = 5;
const ACT = 2;
const HP = { actorHidden: [32, 24], criticHidden: [32, 24], batchSize: 16, criticL2: 0.01 };
const UPDATES = 4;

function filledBuffer(seed: number): { buf: ReplayBuffer; rng: Rng } {
  const rng = new Rng(seed);
  const buf = new ReplayBuffer({ capacity: 256, obsSize: OBS, actionSize: ACT });
  for (let i = 0; i < 256; i++) {
    const o = Float32Array.from({ length: OBS }, () => rng.normal());
    buf.add(
      o,
      Float32Array.from({ length: ACT }, () => rng.range(-1, 1)),
      rng.normal(),
      o.map((v) => v + 0.1 * rng.normal()),
      rng.uniform() < 0.05,
    );
  }
  return { buf, rng };
}

/** Batches copied out (the buffer's sample reuses one batch object). */
function batches(n: number, batchSize: number): Batch[] {
  const { buf, rng } = filledBuffer(3);
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    const b = buf.sample(rng, buf.makeBatch(batchSize));
    out.push({
      size: b.size,
      obs: b.obs.slice(),
      actions: b.actions.slice(),
      rewards: b.rewards.slice(),
      nextObs: b.nextObs.slice(),
      dones: b.dones.slice(),
    });
  }
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

type Ported = ActorCriticAgent | SacAgent | NafAgent;
/** `ddpg-bn`: DDPG with the paper's batch normalisation (state input, every actor layer, the critic below the action). */
type PortedAlgo = 'ddpg' | 'ddpg-bn' | 'td3' | 'sac' | 'naf';
const PORTED: PortedAlgo[] = ['ddpg', 'ddpg-bn', 'td3', 'sac', 'naf'];

function agentOn(algo: PortedAlgo, executor: Executor): Ported {
  const { criticL2, ...common } = HP;
  if (algo === 'naf') {
    // Importance weights exercise the weighted loss of NAF's head.
    const hp = resolveHyperparams('naf', { hidden: HP.actorHidden, batchSize: HP.batchSize, prioritizedReplay: true, lr: 1e-3 });
    return new NafAgent({ obsSize: OBS, actionSize: ACT, hp: hp as NafHyperparams, seed: 11, executor });
  }
  if (algo === 'sac') {
    const hp = resolveHyperparams('sac', common);
    return new SacAgent({ obsSize: OBS, actionSize: ACT, hp: hp as SacHyperparams, seed: 11, executor });
  }
  const id = algo === 'td3' ? 'td3' : 'ddpg';
  const extra =
    algo === 'td3'
      ? { policyDelay: 2, actionL2: 0.5, actionL2Margin: 0.02, preTanhPenalty: 0.3 }
      : algo === 'ddpg-bn'
        ? { batchNorm: true }
        : {};
  const hp = resolveHyperparams(id, { ...common, criticL2, ...extra });
  return new ActorCriticAgent({ algo: id, obsSize: OBS, actionSize: ACT, hp: hp as ActorCriticHyperparams, seed: 11, executor });
}

async function compareWithArena(algo: PortedAlgo): Promise<void> {
  const hp = HP;
  const arena = agentOn(algo, ArenaExecutor.create(1 << 20));
  const onTf = agentOn(algo, new TfExecutor());
  expect(arena.exec.name).toBe('wasm');
  const before = await onTf.readNetworks();
  for (const [name, w] of Object.entries(await arena.readNetworks())) expect(before[name]).toEqual(w);
  const stats: [UpdateStats, UpdateStats][] = [];
  const rng = new Rng(9);
  for (const b of batches(UPDATES, hp.batchSize)) {
    if (algo === 'naf') b.weights = Float32Array.from({ length: b.size }, () => rng.range(0.5, 1.5));
    stats.push([arena.update(b), await onTf.updateAsync(b)]);
  }
  const after = await onTf.readNetworks();
  for (const [name, w] of Object.entries(await arena.readNetworks())) {
    // Weights moved by the updates (Adam steps of lr), and both executors moved them alike.
    expect(maxRelDiff(w, before[name]), `${name} moved`).toBeGreaterThan(1e-5);
    expect(maxRelDiff(w, after[name]), `${name} on ${onTf.exec.name}`).toBeLessThan(2e-4);
  }
  for (const [s, t] of stats) {
    expect(t.metrics.critic_loss).toBeCloseTo(s.metrics.critic_loss, 4);
    expect(t.metrics.q).toBeCloseTo(s.metrics.q, 4);
    if (s.metrics.actor_loss !== undefined) expect(t.metrics.actor_loss).toBeCloseTo(s.metrics.actor_loss, 4);
    else expect(t.metrics.actor_loss).toBeUndefined();
    // SAC's temperature (host-side, from the read-back log pi).
    if (s.metrics.alpha !== undefined) expect(t.metrics.alpha).toBeCloseTo(s.metrics.alpha, 5);
    expect(maxRelDiff(s.tdErrors!, t.tdErrors!)).toBeLessThan(1e-3);
  }
  // A deterministic action agrees as well.
  const obs = Float32Array.of(0.3, -1, 0.5, 2, -0.2);
  const a = arena.act(obs, false);
  const b = await onTf.actAsync(obs, false);
  for (let i = 0; i < ACT; i++) expect(b[i]).toBeCloseTo(a[i], 4);
  arena.dispose();
  onTf.dispose();
}

/** Pixel agents: a conv torso (2 conv layers, an 8-unit trunk with LayerNorm) on 12 x 12 x 6 observations. */
const PIXELS = { shape: { height: 12, width: 12, channels: 6 }, batch: 8 };
const PIXEL_SIZE = 12 * 12 * 6;

function pixelAgent(algo: 'ddpg' | 'naf', executor: Executor, kernels: 'arena' | 'native'): Agent {
  return createPixelAgent({
    algo,
    shape: PIXELS.shape,
    actionSize: ACT,
    seed: 5,
    layers: [
      { kernel: 4, stride: 2, filters: 4 },
      { kernel: 3, stride: 1, filters: 4 },
    ],
    trunk: 8,
    trunkNorm: true,
    kernels,
    executor,
    hyperparams:
      algo === 'naf'
        ? { hidden: [16, 16], batchSize: PIXELS.batch }
        : { actorHidden: [16, 16], criticHidden: [16, 16], batchSize: PIXELS.batch, criticL2: 0.01 },
  });
}

function pixelBatches(n: number): Batch[] {
  const rng = new Rng(21);
  const B = PIXELS.batch;
  return Array.from({ length: n }, () => ({
    size: B,
    obs: Float32Array.from({ length: B * PIXEL_SIZE }, () => rng.uniform()),
    actions: Float32Array.from({ length: B * ACT }, () => rng.range(-1, 1)),
    rewards: Float32Array.from({ length: B }, () => rng.normal()),
    nextObs: Float32Array.from({ length: B * PIXEL_SIZE }, () => rng.uniform()),
    dones: new Float32Array(B),
  }));
}

/**
 * A pixel agent with its conv torso as TF.js tensors on the TF.js executor (TensorConvEncoder)
 * against the same agent with the arena's GEMM torso on the arena. The arena torso reads its input
 * synchronously, which webgpu cannot, so the reference runs on the cpu backend first.
 */
async function compareTorsoWithArena(algo: 'ddpg' | 'naf'): Promise<void> {
  const device = tf.getBackend();
  const bs = pixelBatches(UPDATES);
  const obs = bs[0].obs.subarray(0, PIXEL_SIZE);
  await tf.setBackend('cpu');
  const arena = pixelAgent(algo, ArenaExecutor.create(1 << 20), 'arena');
  const ref = { before: arena.getState(), stats: bs.map((b) => arena.update(b)), after: arena.getState(), act: arena.act(obs, false) };
  arena.dispose();
  await tf.setBackend(device);
  const onTf = pixelAgent(algo, new TfExecutor(), 'native');
  try {
    const before = await onTf.getStateAsync!();
    expect(Object.keys(before.tensors).sort()).toEqual(Object.keys(ref.before.tensors).sort());
    for (const [name, t] of Object.entries(ref.before.tensors)) expect(before.tensors[name].data, name).toEqual(t.data);
    const stats: UpdateStats[] = [];
    for (const b of bs) stats.push(await onTf.updateAsync!(b));
    const after = (await onTf.getStateAsync!()).tensors;
    const torso = algo === 'naf' ? 'encoder.net.params' : 'encoder.critic0.params';
    expect(maxRelDiff(ref.after.tensors[torso].data, ref.before.tensors[torso].data), 'the torso trained').toBeGreaterThan(1e-5);
    for (const [name, t] of Object.entries(ref.after.tensors))
      if (!name.includes('dam.')) expect(maxRelDiff(t.data, after[name].data), `${name} on ${device}`).toBeLessThan(2e-4);
    stats.forEach((t, i) => {
      expect(t.metrics.critic_loss).toBeCloseTo(ref.stats[i].metrics.critic_loss, 4);
      expect(t.metrics.q).toBeCloseTo(ref.stats[i].metrics.q, 4);
    });
    const a = await onTf.actAsync!(obs, false);
    for (let i = 0; i < ACT; i++) expect(a[i]).toBeCloseTo(ref.act[i], 4);
  } finally {
    onTf.dispose();
  }
}

/**
 * Tensors (and GPU bytes) live after `n` more updates, once every buffer exists: TD3 with batch
 * normalisation on state, or pixel DDPG with its conv torso on tensors.
 */
async function flatOver(n: number, kind: 'state' | 'pixels' = 'state'): Promise<void> {
  const t0 = performance.now();
  const pixels = kind === 'pixels';
  const agent: Agent = pixels
    ? pixelAgent('ddpg', new TfExecutor(), 'native')
    : new ActorCriticAgent({
        algo: 'td3',
        obsSize: OBS,
        actionSize: ACT,
        hp: resolveHyperparams('td3', { ...HP, batchNorm: true }) as never,
        seed: 4,
        executor: new TfExecutor(),
      });
  const bs = pixels ? pixelBatches(8) : batches(8, HP.batchSize);
  const obs = bs[0].obs.subarray(0, pixels ? PIXEL_SIZE : OBS);
  for (const b of bs) await agent.updateAsync!(b);
  await agent.actAsync!(obs, true);
  const start = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  for (let i = 0; i < n; i++) await agent.updateAsync!(bs[i % bs.length]);
  await agent.actAsync!(obs, true);
  await agent.getStateAsync!();
  const end = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  expect(end.numTensors).toBe(start.numTensors);
  expect(end.numBytes).toBe(start.numBytes);
  if (start.numBytesInGPU !== undefined) expect(end.numBytesInGPU).toBe(start.numBytesInGPU);
  console.log(
    `${tf.getBackend()}: ${n} ${pixels ? 'pixel DDPG' : 'TD3 (batch norm)'} updates in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${end.numTensors} tensors throughout`,
  );
  const live = tf.memory().numTensors;
  agent.dispose();
  expect(tf.memory().numTensors).toBeLessThan(live);
}

describe('TF.js executor on cpu', () => {
  beforeAll(async () => {
    expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
  });
  for (const algo of PORTED) it(`${algo}: updates equal the wasm arena's`, () => compareWithArena(algo));
  for (const algo of ['ddpg', 'naf'] as const)
    it(`${algo} on pixels: the conv torso on tensors trains as the arena's`, () => compareTorsoWithArena(algo));
  it('tensor count and bytes stay flat over 10^3 updates', () => flatOver(1000));
  // 200 pixel updates (27 s for 10^3 on the CI machine): a tensor leaked per update shows in any count.
  it('tensor count and bytes stay flat over 200 pixel updates (the conv torso on tensors)', () => flatOver(200, 'pixels'));
});

describe('TF.js executor on webgpu (Dawn on SwiftShader, CPU-emulated)', () => {
  beforeAll(async () => {
    if (!existsSync(SWIFTSHADER))
      throw new Error(
        `the webgpu tests need ${SWIFTSHADER} (Debian's chromium: node scripts/ensure-chromium.mjs) and libvulkan1 (node scripts/ensure-vulkan.mjs)`,
      );
    process.env.VK_ICD_FILENAMES = SWIFTSHADER;
    const choice = await selectBackend({ backend: 'webgpu' });
    expect(choice.name, choice.reason).toBe('webgpu');
  });
  afterAll(() => {
    delete process.env.VK_ICD_FILENAMES;
  });
  for (const algo of PORTED) it(`${algo}: updates equal the wasm arena's`, () => compareWithArena(algo));
  for (const algo of ['ddpg', 'naf'] as const)
    it(`${algo} on pixels: the conv torso on webgpu trains as the arena's`, () => compareTorsoWithArena(algo));
  // 10 updates here (after 8 that lay out every buffer): SwiftShader runs each of an update's few
  // hundred dispatches on the CPU (0.5-2 s an update on this loaded 2-core machine); the 10^3 on
  // cpu above run the same code.
  it('tensors and GPU bytes stay flat over 10 updates', () => flatOver(10));
  it('tensors and GPU bytes stay flat over 4 pixel updates (the conv torso on webgpu; ~4 s each on SwiftShader)', () =>
    flatOver(4, 'pixels'));
});
