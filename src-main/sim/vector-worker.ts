/**
 * Worker thread of VectorEnv: hosts a contiguous slice of the envs and steps them when the calling
 * thread bumps its request counter in shared memory (no per-step messages).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MujocoEnv } from './env.ts';
import { loadMujocoModule } from './mujoco.ts';
import { awaitChange, CMD_CLOSE, EnvSlice, publish, sharedViews, SPIN_MS, type VectorWorkerData } from './vector-shared.ts';

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
  const v = sharedViews(init.buffers, init.numEnvs, init.obsSize, init.actSize, init.numWorkers);
  const slice = new EnvSlice(envs, init.start, v);
  parentPort!.postMessage({ type: 'ready' });
  const w = init.worker;
  let seen = 0;
  for (;;) {
    seen = awaitChange(v.request, w, seen, v.workerSleeping, SPIN_MS);
    const cmd = Atomics.load(v.command, w);
    if (cmd === CMD_CLOSE) break;
    try {
      slice.run(cmd);
      Atomics.store(v.status, w, 0);
    } catch (e) {
      Atomics.store(v.status, w, 1);
      parentPort!.postMessage({ type: 'error', error: serialiseError(e) });
    }
    publish(v.done, w, seen, v.callerSleeping);
  }
  slice.dispose();
  parentPort!.postMessage({ type: 'closed' });
}

function serialiseError(e: unknown): { name: string; message: string; details?: unknown } {
  const err = e as { name?: string; message?: string; details?: unknown };
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), details: err?.details };
}

void main();
