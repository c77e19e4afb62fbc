import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allPresets } from '../../../src-main/learn/algos/specs.ts';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import type { ActorCriticAgent } from '../../../src-main/learn/algos/ddpg/agent.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { createEnv } from '../../../src-main/sim/env.ts';
import { RunStore } from '../../../src-main/store/run-store.ts';
import { resolveRunConfig, versions } from '../../../src-main/train/config.ts';
import { OffPolicyTrainer } from '../../../src-main/train/trainer.ts';
import { ControlState } from '../../../src-main/train/session.ts';

/**
 * DDPG learns the dense pendulum with its networks as TF.js ops (the TF.js executor), through the
 * product trainer, on TF.js's `cpu` backend (what `--backend cpu` gives). Not on webgpu: SwiftShader,
 * the only adapter here, takes about a second an update on this loaded 2-core machine; a webgpu run
 * is checked step for step against the same run on the arena instead (train/webgpu-run.test.ts),
 * and the webgpu update against the arena's in executors.test.ts.
 *
 * Smaller than ddpg-quick (32-32, batch 64) so the plain-JS backend does it in about a minute.
 * Random actions score about -1250 here, a pump-then-balance controller about -150.
 */
const STEPS = 6000;
const LEARNED = -400;

beforeAll(async () => {
  expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
});

describe('DDPG on the dense pendulum, networks on TF.js cpu', () => {
  it(`reaches an eval return above ${LEARNED} within ${STEPS} steps`, async () => {
    const t0 = performance.now();
    const hyperparams = { ...allPresets()['ddpg-quick']!.hyperparams, actorHidden: [32, 32], criticHidden: [32, 32], batchSize: 64 };
    const { config, env: resolved } = resolveRunConfig({
      env: 'pendulum',
      algo: 'ddpg',
      steps: STEPS,
      seed: 0,
      evalEvery: STEPS,
      evalEpisodes: 5,
      checkpointEvery: STEPS,
      keepCheckpoints: 1,
      saveReplay: false,
      hyperparams,
    });
    const env = await createEnv(resolved, { seed: 1 });
    const evalEnv = await createEnv(resolved, { seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'rl-studio-learns-tfjs-'));
    try {
      const run = new RunStore(dir).create(
        config,
        { source: resolved, origin: resolved.origin, dir: resolved.dir },
        { versions: versions() },
      );
      const agent = createAgent('ddpg', env.info.obs.size, env.info.action, { ...config.hyperparams }, 0) as ActorCriticAgent;
      expect(agent.executorNote).toMatch(/^cpu: DDPG networks as TF.js ops/);
      const replay = new ReplayBuffer({ capacity: STEPS, obsSize: env.info.obs.size, actionSize: env.info.action.size });
      const state = {
        step: 0,
        episodes: 0,
        episodeIndex: 0,
        divergedEpisodes: 0,
        updates: 0,
        elapsed: 0,
        latestEval: null,
        bestEval: null,
        rng: new Rng(5).getState(),
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
        steps: STEPS,
        control: new ControlState(),
        emit: (e) => void (e.type === 'eval' && (evalReturn = e.evalReturn)),
      });
      expect(await trainer.run()).toBe('done');
      agent.dispose();
      console.log(
        `pendulum ddpg on tfjs-cpu: eval return ${evalReturn.toFixed(1)} after ${STEPS} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      expect(evalReturn).toBeGreaterThan(LEARNED);
    } finally {
      env.dispose();
      evalEnv.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
