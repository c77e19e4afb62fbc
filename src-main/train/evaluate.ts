import type { Env } from '../sim/types.ts';
import type { Agent } from '../learn/types.ts';
import { actAwaited, readsAsync } from '../learn/agent-reads.ts';
import type { EpisodeRecording } from '../store/episodes.ts';

/** Seeds of evaluation episodes: fixed per episode index, so every evaluation of a run meets the same start states. */
export function evalSeed(runSeed: number, index: number): number {
  return (0x5eed0000 + runSeed * 1009 + index) >>> 0;
}

export interface EvalResult {
  returns: number[];
  evalReturn: number;
  /** Spread of the returns over the evaluation episodes (the studio draws it as a band around the mean). */
  spread: { min: number; max: number; std: number };
  recordings: EpisodeRecording[];
}

/**
 * N deterministic episodes (the policy's mean action, no exploration noise), each recorded
 * compactly: qpos per frame (the initial state and after every step), actions and rewards, the
 * observation per frame (the low-dimensional state where the agent sees pixels) and the reward's
 * top-level terms per step, for replay's traces.
 */
export async function evaluatePolicy(
  env: Env,
  agent: Agent,
  opts: { episodes: number; runSeed: number; step: number; record: boolean },
): Promise<EvalResult> {
  // An agent on webgpu answers only asynchronously (learn/agent-reads.ts); the others without an await per step.
  const awaited = readsAsync(agent);
  const returns: number[] = [];
  const recordings: EpisodeRecording[] = [];
  const { nq, action, episodeLength, id, controlTimestep } = env.info;
  const na = action.size;
  // Pixel envs report the state under the pixels; other envs' observation is that state.
  const obsSpec = env.info.stateObs && env.state ? env.info.stateObs : env.info.obs;
  const stateOf = (obs: Float32Array): Float32Array => (env.info.stateObs && env.state ? env.state() : obs);
  const no = obsSpec.size;
  const terms = env.info.rewardTerms && env.lastRewardTerms ? env.info.rewardTerms : null;
  const nt = terms?.labels.length ?? 0;
  for (let k = 0; k < opts.episodes; k++) {
    let obs = env.reset(evalSeed(opts.runSeed, k));
    // Preallocated for a full-length episode; trimmed when it ends early.
    const qpos = opts.record ? new Float64Array((episodeLength + 1) * nq) : null;
    const actions = opts.record ? new Float32Array(episodeLength * na) : null;
    const rewards = opts.record ? new Float32Array(episodeLength) : null;
    const observations = opts.record ? new Float32Array((episodeLength + 1) * no) : null;
    const termValues = opts.record && terms ? new Float32Array(episodeLength * nt) : null;
    qpos?.set(env.qpos(), 0);
    observations?.set(stateOf(obs), 0);
    let ret = 0;
    let t = 0;
    let diverged = false;
    for (;;) {
      const a = awaited ? await actAwaited(agent, obs, false) : agent.act(obs, false);
      const r = env.step(a);
      if (qpos && actions && rewards && observations && t < episodeLength) {
        actions.set(a, t * na);
        rewards[t] = r.reward;
        qpos.set(env.qpos(), (t + 1) * nq);
        observations.set(stateOf(r.obs), (t + 1) * no);
        termValues?.set(env.lastRewardTerms!(), t * nt);
      }
      ret += r.reward;
      t++;
      obs = r.obs;
      if (r.diverged) diverged = true;
      if (r.terminated || r.truncated) break;
    }
    returns.push(ret);
    if (qpos && actions && rewards && observations) {
      const T = Math.min(t, episodeLength);
      recordings.push({
        step: opts.step,
        index: k,
        env: id,
        nq,
        actionSize: na,
        dt: controlTimestep,
        qpos: qpos.slice(0, (T + 1) * nq),
        actions: actions.slice(0, T * na),
        rewards: rewards.slice(0, T),
        observations: { spec: obsSpec, values: observations.slice(0, (T + 1) * no) },
        ...(terms && termValues
          ? { rewardTerms: { labels: terms.labels, combine: terms.combine, values: termValues.slice(0, T * nt) } }
          : {}),
        episodeReturn: ret,
        diverged,
      });
    }
  }
  const evalReturn = returns.length ? returns.reduce((a, b) => a + b, 0) / returns.length : 0;
  const spread = returns.length
    ? {
        min: Math.min(...returns),
        max: Math.max(...returns),
        std: Math.sqrt(returns.reduce((a, r) => a + (r - evalReturn) ** 2, 0) / returns.length),
      }
    : { min: 0, max: 0, std: 0 };
  return { returns, evalReturn, spread, recordings };
}
