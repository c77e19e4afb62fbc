/**
 * `rl-studio bench envs`: env steps per second for every suite env against raw mj_step on the same
 * model in the same run (target: env_steps_per_s x frame_skip >= 0.8 x raw_steps_per_s); the vector
 * env on 2 threads (this one and a worker) against the same envs stepped one after another in this
 * thread (target >= 1.6x); and memory before and after 10^6 env steps (target: no growth).
 *
 * Env steps are timed inside episodes; resets (which for cheetah include dm_control's 200 settling
 * steps) are timed separately and reported as reset_ms.
 */
import type { BenchSuite } from './suite.ts';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { listEnvIds, resolveEnv } from '../../sim/registry.ts';
import { MujocoEnv } from '../../sim/env.ts';
import { loadModel } from '../../sim/mujoco.ts';
import { loadMujocoModule, type Mujoco } from '../../sim/mujoco.ts';
import { VectorEnv } from '../../sim/vector.ts';

/** Deterministic pseudo-random actions, precomputed so generating them costs nothing in the loop. */
function actionTable(n: number, size: number): Float64Array {
  const t = new Float64Array(n * size);
  let s = 1;
  for (let i = 0; i < t.length; i++) t[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  return t;
}

/** Rows in the action tables. */
const TABLE = 1024;

export const run: BenchSuite = async function* ({ quick, log }) {
  const mj = await loadMujocoModule();
  const seconds = quick ? 0.6 : 3;
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

  yield* vectorCases(mj, seconds, quick, log);
  log('bench envs: memory over 10^6 steps');
  yield memoryCase(mj, quick);
};

/**
 * Vector env on 2 threads against the same N envs stepped one after another in this thread with
 * plain env.step: same seeds, same actions, same auto-resets (included in both), so the ratio is
 * what the threads buy. Windows of each alternate and the best of each counts, as above.
 */
async function* vectorCases(
  mj: Mujoco,
  seconds: number,
  quick: boolean,
  log: (text: string) => void,
): AsyncGenerator<Record<string, unknown>> {
  const id = 'cheetah-run';
  const source = resolveEnv(id);
  for (const numEnvs of [2, 8]) {
    log(`bench envs: vector ${id}, ${numEnvs} envs`);
    const singles = Array.from({ length: numEnvs }, (_, i) => new MujocoEnv(mj, source, { seed: i }));
    const vec = await VectorEnv.create(source, { numEnvs, numWorkers: 2 });
    try {
      const nu = vec.info.action.size;
      const acts = actionTable(TABLE, numEnvs * nu);
      const batchRows = Array.from({ length: TABLE }, (_, b) => acts.subarray(b * numEnvs * nu, (b + 1) * numEnvs * nu));
      const envRows = Array.from({ length: TABLE * numEnvs }, (_, r) => acts.subarray(r * nu, (r + 1) * nu));
      singles.forEach((e) => e.reset());
      vec.reset();
      let batches = 0;
      const singleWindow = (ms: number): number => {
        let n = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < ms) {
          for (let k = 0; k < 10; k++, n++, batches++) {
            for (let i = 0; i < numEnvs; i++) {
              const r = singles[i].step(envRows[(batches % TABLE) * numEnvs + i]);
              if (r.terminated || r.truncated) singles[i].reset();
            }
          }
        }
        return (n * numEnvs) / ((performance.now() - t0) / 1000);
      };
      const vectorWindow = (ms: number): number => {
        let n = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < ms) {
          for (let k = 0; k < 10; k++, n++, batches++) vec.step(batchRows[batches % TABLE]);
        }
        return (n * numEnvs) / ((performance.now() - t0) / 1000);
      };
      let one = 0;
      let rate = 0;
      const rounds = quick ? 2 : 6;
      for (let k = 0; k < rounds; k++) {
        one = Math.max(one, singleWindow((seconds * 1000) / rounds / 2));
        rate = Math.max(rate, vectorWindow((seconds * 1000) / rounds / 2));
      }
      yield {
        case: `vector-${id}-2w-${numEnvs}envs`,
        model: join(source.dir, `${id}.xml`),
        env_steps_per_s: Math.round(rate),
        one_env_steps_per_s: Math.round(one),
        speedup_vs_one: +(rate / one).toFixed(2),
        workers: 2,
        num_envs: numEnvs,
      };
    } finally {
      await vec.close();
      for (const e of singles) e.dispose();
    }
  }
}

/** Resident memory, JS heap (after a full GC) and WebAssembly memory before and after 10^6 env steps with resets. */
function memoryCase(mj: Mujoco, quick: boolean): Record<string, unknown> {
  const id = 'pendulum-swingup';
  const source = resolveEnv(id);
  const steps = quick ? 100_000 : 1_000_000;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const env = new MujocoEnv(mj, source);
  const MB = 1024 * 1024;
  try {
    const nu = env.info.action.size;
    const acts = actionTable(TABLE, nu);
    const rows = Array.from({ length: TABLE }, (_, r) => acts.subarray(r * nu, (r + 1) * nu));
    let ep = 0;
    const run = (n: number): void => {
      env.reset(ep++);
      for (let t = 0; t < n; t++) {
        const r = env.step(rows[t % TABLE]);
        if (r.terminated || r.truncated) env.reset(ep++);
      }
    };
    const measure = (): { rss: number; heap: number; wasm: number } => {
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss / MB, heap: m.heapUsed / MB, wasm: env.wasmBytes / MB };
    };
    run(20_000); // warm-up: compiled code and steady-state buffers in place
    const before = measure();
    const t0 = performance.now();
    run(steps);
    const seconds = (performance.now() - t0) / 1000;
    const after = measure();
    const mb = (x: number): number => +x.toFixed(1);
    return {
      case: `memory-${id}`,
      model: join(source.dir, `${id}.xml`),
      steps,
      seconds: +seconds.toFixed(1),
      rss_mb_before: mb(before.rss),
      rss_mb_after: mb(after.rss),
      js_heap_mb_before: mb(before.heap),
      js_heap_mb_after: mb(after.heap),
      wasm_mb_before: mb(before.wasm),
      wasm_mb_after: mb(after.wasm),
    };
  } finally {
    env.dispose();
  }
}
