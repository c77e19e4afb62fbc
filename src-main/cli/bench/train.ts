import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from '../commands/bench.ts';
import { selectBackend } from '../../learn/backend.ts';
import { createAgent } from '../../learn/factory.ts';
import { ReplayBuffer } from '../../learn/replay.ts';
import { Rng } from '../../learn/rng.ts';
import { createEnv } from '../../sim/env.ts';
import { RunStore } from '../../store/run-store.ts';
import { resolveRunConfig, versions } from '../../train/config.ts';
import { OffPolicyTrainer } from '../../train/trainer.ts';
import { ControlState } from '../../train/session.ts';

/**
 * End-to-end training speed of a short DDPG run on the dense pendulum (paper networks, one update
 * per env step, metrics and checkpoints written as in a real run, no evaluation), next to the
 * rates of its parts measured alone: env steps, agent.act with exploration, and updates. The loop's
 * own cost is what e2e loses against the parts.
 */
export const run: BenchSuite = async function* ({ quick, log }) {
  const backend = await selectBackend();
  log(`backend ${backend.reason}`);
  const steps = quick ? 1500 : 4000;
  const { config, env: resolved } = resolveRunConfig({ env: 'pendulum', algo: 'ddpg', steps, evalEpisodes: 0, checkpointEvery: 1000, warmupSteps: 0 });
  const env = await createEnv(resolved, { seed: 1 });
  const evalEnv = await createEnv(resolved, { seed: 1 });
  const obsSize = env.info.obs.size;
  const rng = new Rng(3);

  // Env alone, random actions.
  const a = new Float32Array(env.info.action.size);
  let obs = env.reset(1);
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < (quick ? 500 : 2000)) {
    for (let i = 0; i < a.length; i++) a[i] = rng.range(-1, 1);
    const r = env.step(a);
    obs = r.obs;
    if (r.terminated || r.truncated) obs = env.reset();
    n++;
  }
  const envRate = n / ((performance.now() - t0) / 1000);

  // act() and update() alone.
  const probe = createAgent('ddpg', obsSize, env.info.action, { ...config.hyperparams }, 1);
  const buf = new ReplayBuffer({ capacity: 10_000, obsSize, actionSize: a.length });
  for (let i = 0; i < 5000; i++) {
    const r = env.step(probe.act(obs, true));
    buf.add(obs, a, r.reward, r.obs, r.terminated);
    obs = r.terminated || r.truncated ? env.reset() : r.obs;
  }
  n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < (quick ? 500 : 1500)) {
    probe.act(obs, true);
    n++;
  }
  const actRate = n / ((performance.now() - t0) / 1000);
  const batch = buf.makeBatch(config.hyperparams.batchSize);
  for (let i = 0; i < 20; i++) probe.update(buf.sample(rng, batch));
  n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < (quick ? 1500 : 4000)) {
    probe.update(buf.sample(rng, batch));
    n++;
  }
  const updateRate = n / ((performance.now() - t0) / 1000);
  probe.dispose();

  // The real loop, writing into a throwaway run folder.
  const dir = mkdtempSync(join(tmpdir(), 'rl-studio-bench-'));
  try {
    const runFiles = new RunStore(dir).create(config, { source: resolved, origin: resolved.origin, dir: resolved.dir }, { versions: versions() });
    const agent = createAgent('ddpg', obsSize, env.info.action, { ...config.hyperparams }, 1);
    const replay = new ReplayBuffer({ capacity: config.hyperparams.replayCapacity, obsSize, actionSize: a.length });
    const state = { step: 0, episodes: 0, episodeIndex: 0, divergedEpisodes: 0, updates: 0, elapsed: 0, latestEval: null, bestEval: null, rng: new Rng(5).getState() };
    const trainer = new OffPolicyTrainer({ runId: runFiles.id, config, run: runFiles, env, evalEnv, agent, replay, state, steps, control: new ControlState(), emit: () => {} });
    t0 = performance.now();
    await trainer.run();
    const seconds = (performance.now() - t0) / 1000;
    agent.dispose();
    const e2e = steps / seconds;
    const updatesPerStep = config.hyperparams.updatesPerStep;
    const parts = 1 / (1 / envRate + 1 / actRate + updatesPerStep / updateRate);
    yield {
      case: 'ddpg-pendulum-e2e',
      backend: backend.name,
      steps,
      env_steps_per_s: +e2e.toFixed(1),
      updates_per_s: +updateRate.toFixed(1),
      env_only_steps_per_s: Math.round(envRate),
      act_per_s: Math.round(actRate),
      parts_steps_per_s: +parts.toFixed(1),
      loop_overhead_pct: +((100 * (parts - e2e)) / parts).toFixed(1),
    };
  } finally {
    env.dispose();
    evalEnv.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
};
