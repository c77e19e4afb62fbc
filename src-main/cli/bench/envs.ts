/**
 * `rl-studio bench envs`: env steps per second for every suite env against raw mj_step on the same
 * model in the same run (target: env_steps_per_s x frame_skip >= 0.8 x raw_steps_per_s), and the
 * vector env on 2 workers against one env (target >= 1.6x).
 *
 * Env steps are timed inside episodes; resets (which for cheetah include dm_control's 200 settling
 * steps) are timed separately and reported as reset_ms.
 */
import type { BenchSuite } from '../commands/bench.ts';
import { join } from 'node:path';
import { listEnvIds, resolveEnv } from '../../sim/registry.ts';
import { loadModel, MujocoEnv } from '../../sim/env.ts';
import { loadMujocoModule } from '../../sim/mujoco.ts';
import { VectorEnv } from '../../sim/vector.ts';

/** Deterministic pseudo-random actions, precomputed so generating them costs nothing in the loop. */
function actionTable(n: number, size: number): Float64Array {
  const t = new Float64Array(n * size);
  let s = 1;
  for (let i = 0; i < t.length; i++) t[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  return t;
}

export const run: BenchSuite = async function* ({ quick, log }) {
  const mj = await loadMujocoModule();
  const seconds = quick ? 0.6 : 3;
  const TABLE = 1024;
  for (const { id, dir } of listEnvIds().filter((e) => e.origin === 'builtin')) {
    const source = resolveEnv(id);
    log(`bench envs: ${id}`);
    const model = loadModel(mj, source.files, source.xml);
    const data = new mj.MjData(model);
    const env = new MujocoEnv(mj, source);
    try {
      const nu = model.nu;
      const acts = actionTable(TABLE, nu);
      const row = new Float64Array(nu);
      mj.mj_forward(model, data);
      let rawSteps = 0;
      let envSteps = 0;
      let ep = 0;
      let resetMs = 0;
      let resets = 0;
      // Raw mj_step and env.step alternate in short windows and the best window of each counts, so
      // load from other processes on this shared machine hits both alike.
      const rawWindow = (ms: number): number => {
        let n = 0;
        const t0 = performance.now();
        let ctrl = data.ctrl as Float64Array;
        while (performance.now() - t0 < ms) {
          for (let k = 0; k < 100; k++, n++, rawSteps++) {
            const base = (rawSteps % TABLE) * nu;
            for (let i = 0; i < nu; i++) ctrl[i] = acts[base + i];
            mj.mj_step(model, data);
          }
          if (rawSteps % 2000 === 0) {
            mj.mj_resetData(model, data);
            ctrl = data.ctrl as Float64Array;
          }
        }
        return n / ((performance.now() - t0) / 1000);
      };
      let live = false;
      const envWindow = (ms: number): number => {
        let n = 0;
        let stepMs = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < ms) {
          if (!live) {
            const r0 = performance.now();
            env.reset(ep++);
            resetMs += performance.now() - r0;
            resets++;
            live = true;
          }
          const s0 = performance.now();
          for (let k = 0; k < 50 && live; k++, n++, envSteps++) {
            const base = (envSteps % TABLE) * nu;
            for (let i = 0; i < nu; i++) row[i] = acts[base + i];
            const r = env.step(row);
            if (r.terminated || r.truncated) live = false;
          }
          stepMs += performance.now() - s0;
        }
        return n / (stepMs / 1000);
      };
      let raw = 0;
      let envRate = 0;
      const rounds = quick ? 2 : 6;
      for (let k = 0; k < rounds; k++) {
        raw = Math.max(raw, rawWindow((seconds * 1000) / rounds / 2));
        envRate = Math.max(envRate, envWindow((seconds * 1000) / rounds / 2));
      }
      yield {
        case: id,
        model: join(dir, `${id}.xml`),
        env_steps_per_s: Math.round(envRate),
        frame_skip: env.info.frameSkip,
        raw_steps_per_s: Math.round(raw),
        physics_ratio: +((envRate * env.info.frameSkip) / raw).toFixed(3),
        reset_ms: resets ? +(resetMs / resets).toFixed(3) : 0,
      };
    } finally {
      env.dispose();
      data.delete();
      model.delete();
    }
  }

  // Vector env: 2 workers against one env in this thread, same env, same work per env step.
  const id = 'cheetah-run';
  const source = resolveEnv(id);
  const single = new MujocoEnv(mj, source);
  const nu = single.info.action.size;
  const acts = actionTable(TABLE, nu);
  let oneRate = 0;
  try {
    single.reset(0);
    const row = new Float64Array(nu);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      for (let k = 0; k < 100; k++, n++) {
        const base = (n % TABLE) * nu;
        for (let i = 0; i < nu; i++) row[i] = acts[base + i];
        const r = single.step(row);
        if (r.terminated || r.truncated) single.reset();
      }
    }
    oneRate = n / ((performance.now() - t0) / 1000);
  } finally {
    single.dispose();
  }
  for (const numEnvs of [2, 8]) {
    const vec = await VectorEnv.create(source, { numEnvs, numWorkers: 2 });
    try {
      vec.reset();
      const batch = new Float64Array(numEnvs * nu);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        for (let k = 0; k < 20; k++, n++) {
          for (let i = 0; i < batch.length; i++) batch[i] = acts[(n * batch.length + i) % acts.length];
          vec.step(batch);
        }
      }
      const rate = (n * numEnvs) / ((performance.now() - t0) / 1000);
      yield { case: `vector-${id}-2w-${numEnvs}envs`, model: join(source.dir, `${id}.xml`), env_steps_per_s: Math.round(rate), one_env_steps_per_s: Math.round(oneRate), speedup_vs_one: +(rate / oneRate).toFixed(2), workers: 2, num_envs: numEnvs };
    } finally {
      await vec.close();
    }
  }
};
