import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from './suite.ts';
import { selectBackend } from '../../learn/exec/backend.ts';
import { createAgent } from '../../learn/algos/factory.ts';
import { readsAsync } from '../../learn/agent-reads.ts';
import { ReplayBuffer } from '../../learn/replay/replay.ts';
import { Rng } from '../../util/rng.ts';
import { createEnv } from '../../sim/env.ts';
import { RunStore } from '../../store/run-store.ts';
import { resolveRunConfig, versions } from '../../train/config.ts';
import { OffPolicyTrainer } from '../../train/trainer.ts';
import { ControlState } from '../../train/session.ts';

/** Adds the wall time of every call of `obj[name]` to `acc[key]`. */
function timeCalls<T extends object, K extends string>(obj: T, name: keyof T, acc: Record<K, number>, key: K): void {
  const fn = (obj[name] as (...a: unknown[]) => unknown).bind(obj);
  (obj as Record<keyof T, unknown>)[name] = (...args: unknown[]) => {
    const t = performance.now();
    const out = fn(...args);
    // An awaited call (an agent on webgpu, learn/agent-reads.ts) counts until its result arrives.
    if (out instanceof Promise) return out.finally(() => (acc[key] += performance.now() - t));
    acc[key] += performance.now() - t;
    return out;
  };
}

/**
 * End-to-end training speed of a short DDPG run on the dense pendulum (paper networks, one update
 * per env step, metrics and checkpoints written as in a real run, no evaluation). The time inside
 * env.step, agent.act, agent.update and replay sampling is measured within the same run, so the
 * loop's own share (`loop_overhead_pct`) does not depend on how busy the machine was.
 */
export const run: BenchSuite = async function* ({ quick, log }) {
  const backend = await selectBackend();
  log(`backend ${backend.reason}`);
  const steps = quick ? 1000 : 3000;
  const { config, env: resolved } = resolveRunConfig({
    env: 'pendulum',
    algo: 'ddpg',
    steps,
    evalEpisodes: 0,
    checkpointEvery: 1000,
    warmupSteps: 0,
  });
  const env = await createEnv(resolved, { seed: 1 });
  const evalEnv = await createEnv(resolved, { seed: 1 });
  const obsSize = env.info.obs.size;
  const dir = mkdtempSync(join(tmpdir(), 'rl-studio-bench-'));
  try {
    const runFiles = new RunStore(dir).create(
      config,
      { source: resolved, origin: resolved.origin, dir: resolved.dir },
      { versions: versions() },
    );
    const agent = createAgent('ddpg', obsSize, env.info.action, { ...config.hyperparams }, 1);
    const replay = new ReplayBuffer({ capacity: config.hyperparams.replayCapacity, obsSize, actionSize: env.info.action.size });
    const t = { env: 0, act: 0, update: 0, sample: 0 };
    timeCalls(env, 'step', t, 'env');
    const awaited = readsAsync(agent);
    timeCalls(agent, awaited ? 'actAsync' : 'act', t, 'act');
    timeCalls(agent, awaited ? 'updateAsync' : 'update', t, 'update');
    timeCalls(replay, 'sample', t, 'sample');
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
    const trainer = new OffPolicyTrainer({
      runId: runFiles.id,
      config,
      run: runFiles,
      env,
      evalEnv,
      agent,
      replay,
      state,
      steps,
      control: new ControlState(),
      emit: () => {},
    });
    const t0 = performance.now();
    await trainer.run();
    const ms = performance.now() - t0;
    const updates = trainer.state.updates;
    agent.dispose();
    const rest = ms - t.env - t.act - t.update - t.sample;
    yield {
      case: 'ddpg-pendulum-e2e',
      backend: backend.name,
      steps,
      env_steps_per_s: +((steps * 1000) / ms).toFixed(1),
      updates_per_s: +((updates * 1000) / t.update).toFixed(1),
      env_only_steps_per_s: Math.round((steps * 1000) / t.env),
      act_per_s: Math.round((steps * 1000) / t.act),
      loop_overhead_pct: +((100 * rest) / ms).toFixed(2),
    };
  } finally {
    env.dispose();
    evalEnv.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
};
