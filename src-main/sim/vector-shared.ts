/** Shared-memory layout between VectorEnv and its workers (one SharedArrayBuffer per array). */
import type { EnvSource } from './env.ts';

export const CMD_STEP = 1;
export const CMD_RESET = 2;
export const CMD_CLOSE = 3;

export interface VectorBuffers {
  actions: SharedArrayBuffer;
  obs: SharedArrayBuffer;
  finalObs: SharedArrayBuffer;
  reward: SharedArrayBuffer;
  flags: SharedArrayBuffer;
  seeds: SharedArrayBuffer;
  /** Int32 per worker: request counter, done counter, command, status. */
  control: SharedArrayBuffer;
}

export interface VectorWorkerData {
  source: EnvSource;
  buffers: VectorBuffers;
  numEnvs: number;
  numWorkers: number;
  obsSize: number;
  actSize: number;
  worker: number;
  start: number;
  end: number;
  seed: number;
}

export function allocBuffers(numEnvs: number, obsSize: number, actSize: number, numWorkers: number): VectorBuffers {
  return {
    actions: new SharedArrayBuffer(8 * numEnvs * actSize),
    obs: new SharedArrayBuffer(4 * numEnvs * obsSize),
    finalObs: new SharedArrayBuffer(4 * numEnvs * obsSize),
    reward: new SharedArrayBuffer(8 * numEnvs),
    flags: new SharedArrayBuffer(3 * numEnvs),
    seeds: new SharedArrayBuffer(8 * numEnvs),
    control: new SharedArrayBuffer(4 * 4 * numWorkers),
  };
}

export function sharedViews(b: VectorBuffers, numEnvs: number, obsSize: number, actSize: number, numWorkers: number) {
  const control = new Int32Array(b.control);
  return {
    actions: new Float64Array(b.actions, 0, numEnvs * actSize),
    obs: new Float32Array(b.obs, 0, numEnvs * obsSize),
    finalObs: new Float32Array(b.finalObs, 0, numEnvs * obsSize),
    reward: new Float64Array(b.reward, 0, numEnvs),
    flags: new Uint8Array(b.flags, 0, 3 * numEnvs),
    seeds: new Float64Array(b.seeds, 0, numEnvs),
    request: control.subarray(0, numWorkers),
    done: control.subarray(numWorkers, 2 * numWorkers),
    command: control.subarray(2 * numWorkers, 3 * numWorkers),
    status: control.subarray(3 * numWorkers, 4 * numWorkers),
  };
}
