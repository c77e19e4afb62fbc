import type { Env } from '../../../src-main/sim/types.ts';
import type { Agent } from '../../../src-main/learn/types.ts';
import { ReplayBuffer } from '../../../src-main/learn/replay/replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';

/** Minimal off-policy loop for tests (the product trainer lives in src-main/train). */
export function trainLoop(
  env: Env,
  agent: Agent,
  opts: { episodes: number; batchSize: number; learningStarts: number; seed: number },
): number[] {
  const rng = new Rng(opts.seed);
  const buf = new ReplayBuffer({ capacity: 100_000, obsSize: env.info.obs.size, actionSize: env.info.action.size });
  const batch = buf.makeBatch(opts.batchSize);
  const returns: number[] = [];
  for (let ep = 0; ep < opts.episodes; ep++) {
    let obs = env.reset(opts.seed * 1000 + ep);
    agent.resetEpisode();
    let ret = 0;
    for (;;) {
      const a = agent.act(obs, true);
      const r = env.step(a);
      buf.add(obs, a, r.reward, r.obs, r.terminated);
      ret += r.reward;
      obs = r.obs;
      if (buf.size >= opts.learningStarts) agent.update(buf.sample(rng, batch));
      if (r.terminated || r.truncated) break;
    }
    returns.push(ret);
  }
  return returns;
}

export function evaluate(env: Env, agent: Agent, episodes: number, seed: number): number {
  let total = 0;
  for (let ep = 0; ep < episodes; ep++) {
    let obs = env.reset(seed + ep);
    for (;;) {
      const r = env.step(agent.act(obs, false));
      total += r.reward;
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
  }
  return total / episodes;
}
