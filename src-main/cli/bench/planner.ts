/**
 * The reference planner's cost (`rl-studio bench planner`): per env, with the settings `baseline`
 * uses by default, agent steps simulated per control step and wall seconds per control step, plus
 * the simulation rate they come to. A planner episode costs episode_length x seconds_per_control_step.
 */
import { loadavg } from 'node:os';
import type { BenchSuite } from './suite.ts';
import { createEnv } from '../../sim/env.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { TrueModelPlanner } from '../../reference/planner.ts';
import { plannerOptionsFor } from '../../reference/baseline.ts';

export const run: BenchSuite = async function* ({ quick, log }) {
  for (const id of ['cartpole-balance', 'cheetah-run', 'walker-walk']) {
    const env = await createEnv(resolveEnv(id));
    try {
      const options = plannerOptionsFor(env.info.controlTimestep);
      const obs = env.reset(0);
      const planner = new TrueModelPlanner(env, options, 1);
      const controlSteps = quick ? 10 : 40;
      log(`${id}: ${controlSteps} control steps of MPPI, ${options.samples} samples x ${options.horizon} steps`);
      for (let t = 0; t < controlSteps; t++) {
        const o = env.stepInto(planner.act(obs), obs, 0);
        if (o.terminated || o.truncated) {
          env.resetInto(obs, 0, t);
          planner.reset();
        }
      }
      const { simulatedSteps, seconds } = planner.stats;
      yield {
        case: `planner-${id}`,
        samples: options.samples,
        horizon: options.horizon,
        frame_skip: env.info.frameSkip,
        sim_steps_per_control_step: +(simulatedSteps / controlSteps).toFixed(1),
        seconds_per_control_step: +(seconds / controlSteps).toFixed(4),
        env_steps_per_s: Math.round(simulatedSteps / seconds),
        episode_seconds: +((seconds / controlSteps) * env.info.episodeLength).toFixed(1),
        load_avg: +loadavg()[0].toFixed(2),
      };
    } finally {
      env.dispose();
    }
  }
};
