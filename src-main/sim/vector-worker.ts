/**
 * Worker thread of VectorEnv: hosts a contiguous slice of the envs and steps them when the main
 * side bumps its request counter in shared memory (no per-step messages).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MujocoEnv } from './env.ts';
import { loadMujocoModule } from './mujoco.ts';
import { CMD_CLOSE, CMD_RESET, CMD_STEP, sharedViews, type VectorWorkerData } from './vector-shared.ts';

const init = workerData as VectorWorkerData;

async function main(): Promise<void> {
  const mj = await loadMujocoModule();
  const envs: MujocoEnv[] = [];
  try {
    for (let i = init.start; i < init.end; i++) envs.push(new MujocoEnv(mj, init.source, { seed: init.seed + i }));
  } catch (e) {
    for (const env of envs) env.dispose();
    parentPort!.postMessage({ type: 'error', error: serialiseError(e) });
    return;
  }
  parentPort!.postMessage({ type: 'ready' });
  const v = sharedViews(init.buffers, init.numEnvs, init.obsSize, init.actSize, init.numWorkers);
  const w = init.worker;
  let seen = 0;
  for (;;) {
    Atomics.wait(v.request, w, seen);
    seen = Atomics.load(v.request, w);
    const cmd = Atomics.load(v.command, w);
    if (cmd === CMD_CLOSE) break;
    try {
      for (let k = 0; k < envs.length; k++) {
        const i = init.start + k;
        const env = envs[k];
        if (cmd === CMD_RESET) {
          const s = v.seeds[i];
          v.obs.set(env.reset(Number.isNaN(s) ? undefined : s), i * init.obsSize);
          v.reward[i] = 0;
          v.flags.fill(0, 3 * i, 3 * i + 3);
        } else if (cmd === CMD_STEP) {
          const r = env.step(v.actions.subarray(i * init.actSize, (i + 1) * init.actSize));
          v.reward[i] = r.reward;
          v.flags[3 * i] = r.terminated ? 1 : 0;
          v.flags[3 * i + 1] = r.truncated ? 1 : 0;
          v.flags[3 * i + 2] = r.diverged ? 1 : 0;
          if (r.terminated || r.truncated) {
            // Auto-reset: the final observation goes to finalObs, the row carries the new episode's first one.
            v.finalObs.set(r.obs, i * init.obsSize);
            v.obs.set(env.reset(), i * init.obsSize);
          } else v.obs.set(r.obs, i * init.obsSize);
        }
      }
      Atomics.store(v.status, w, 0);
    } catch (e) {
      Atomics.store(v.status, w, 1);
      parentPort!.postMessage({ type: 'error', error: serialiseError(e) });
    }
    Atomics.store(v.done, w, seen);
    Atomics.notify(v.done, w);
  }
  for (const env of envs) env.dispose();
  parentPort!.postMessage({ type: 'closed' });
}

function serialiseError(e: unknown): { name: string; message: string; details?: unknown } {
  const err = e as { name?: string; message?: string; details?: unknown };
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), details: err?.details };
}

void main();
