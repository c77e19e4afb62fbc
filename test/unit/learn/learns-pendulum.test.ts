import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allPresets, type BuiltInAlgo as Algo } from '../../../src-main/learn/algos/specs.ts';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { createEnv } from '../../../src-main/sim/env.ts';
import { RunStore } from '../../../src-main/store/run-store.ts';
import { resolveRunConfig, versions } from '../../../src-main/train/config.ts';
import { OffPolicyTrainer } from '../../../src-main/train/trainer.ts';
import { ControlState } from '../../../src-main/train/session.ts';
import { QUICK_STEPS } from '../../../src-main/cli/commands/train.ts';

/**
 * Learning on the dense pendulum through the product trainer: what `rl-studio train` with no
 * arguments runs (the 'ddpg-quick' preset, QUICK_STEPS env steps), and every algorithm with the
 * defaults a new run gets (no hyperparameter given). Deterministic for a seed (the networks run in
 * WebAssembly float32, the env in MuJoCo's wasm build). The suite-wide claim that the defaults
 * learn lives in `rl-studio bench learning`; this is its CI-sized check.
 *
 * Random actions score about -1250 here and a pump-then-balance controller about -150.
 * Threshold and margins: see the LEARNED constant.
 */
const SEED = 0;
// Measured through this path (10 eval episodes, 10k steps, undamped pendulum): seed 0 -74.8,
// seed 1 -347.1, seed 2 -269.6; the test runs seed 0 (margin ~325 to the threshold).
const LEARNED = -400;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

async function trainPendulum(
  seed: number,
  steps: number,
  algo: Algo = 'ddpg',
  hyperparams: Record<string, unknown> = structuredClone(allPresets()['ddpg-quick']!.hyperparams) as Record<string, unknown>,
): Promise<number> {
  const { config, env: resolved } = resolveRunConfig({
    env: 'pendulum',
    algo,
    steps,
    seed,
    evalEvery: steps,
    evalEpisodes: 10,
    checkpointEvery: steps,
    keepCheckpoints: 1,
    saveReplay: false,
    hyperparams,
  });
  const env = await createEnv(resolved, { seed: 1 });
  const evalEnv = await createEnv(resolved, { seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'rl-studio-learns-'));
  try {
    const run = new RunStore(dir).create(
      config,
      { source: resolved, origin: resolved.origin, dir: resolved.dir },
      { versions: versions() },
    );
    const obsSize = env.info.obs.size;
    const agent = createAgent(algo, obsSize, env.info.action, { ...config.hyperparams }, seed);
    const replay = new ReplayBuffer({ capacity: steps, obsSize, actionSize: env.info.action.size });
    const state = {
      step: 0,
      episodes: 0,
      episodeIndex: 0,
      divergedEpisodes: 0,
      updates: 0,
      elapsed: 0,
      latestEval: null,
      bestEval: null,
      rng: new Rng(seed + 5).getState(),
    };
    let evalReturn = -Infinity;
    const trainer = new OffPolicyTrainer({
      runId: run.id,
      config,
      run,
      env,
      evalEnv,
      agent,
      replay,
      state,
      steps,
      control: new ControlState(),
      emit: (e) => void (e.type === 'eval' && (evalReturn = e.evalReturn)),
    });
    expect(await trainer.run()).toBe('done');
    agent.dispose();
    return evalReturn;
  } finally {
    env.dispose();
    evalEnv.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DDPG on the dense pendulum', () => {
  it(`the no-argument run (ddpg-quick, ${QUICK_STEPS} steps) reaches an eval return above ${LEARNED}`, async () => {
    const t0 = performance.now();
    const ret = await trainPendulum(SEED, QUICK_STEPS);
    console.log(
      `pendulum ddpg-quick seed ${SEED}: eval return ${ret.toFixed(1)} after ${QUICK_STEPS} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(ret).toBeGreaterThan(LEARNED);
  }, 180_000);
});

/**
 * Each algorithm with its defaults (5000 random warm-up steps, then learning), seed 0, 10 eval
 * episodes. Random actions score about -1250, a pump-then-balance controller about -150.
 * Measured through this path (eval return at STEPS): see each entry.
 */
const DEFAULTS_LEARN: Partial<Record<Algo, { steps: number; above: number; measured: string }>> = {
  // Adam 3e-4, its default since the paper's 1e-3 spun the pendulum on most seeds (-1242 here).
  naf: { steps: 10_000, above: -400, measured: '-76 at 10k' },
  ddpg: { steps: 10_000, above: -400, measured: '-92 at 7.5k, -74 at 10k' },
  td3: { steps: 10_000, above: -400, measured: '-696 at 7.5k, -92 at 10k' },
  // Its defaults warm up for 1000 steps only (SAC explores through its entropy term).
  sac: { steps: 10_000, above: -300, measured: '-74 at 10k' },
};

describe('every algorithm with its defaults on the dense pendulum', () => {
  for (const [algo, want] of Object.entries(DEFAULTS_LEARN) as [Algo, { steps: number; above: number; measured: string }][]) {
    it(`${algo} reaches an eval return above ${want.above} within ${want.steps} steps (measured ${want.measured})`, async () => {
      const t0 = performance.now();
      const ret = await trainPendulum(0, want.steps, algo, {});
      console.log(
        `pendulum ${algo} defaults seed 0: eval return ${ret.toFixed(1)} after ${want.steps} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(ret).toBeGreaterThan(want.above);
    }, 600_000);
  }
});
