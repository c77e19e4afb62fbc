import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { instantiate, type GemmFn, type WasmMemory } from './simd.ts';
import { J, SPIN_MS, WRITING, workOn } from './gemm-pool.ts';

/**
 * A GEMM helper thread (see gemm-pool.ts): waits for published jobs and claims chunks of them,
 * running the same WebAssembly kernels on the arena's shared memory. Arenas are announced on the
 * port; the thread reads the port synchronously when a job names an arena it does not know yet.
 */
const { job: buffer, port } = workerData as { job: SharedArrayBuffer; port: MessagePort };
const job = new Int32Array(buffer);
const kernels = new Map<number, GemmFn>();

function readAnnouncements(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const { id, memory } = m.message as { id: number; memory: WasmMemory | null };
    if (memory) kernels.set(id, instantiate(memory).gemm as GemmFn);
    else kernels.delete(id);
  }
}

let last = -1;
for (;;) {
  let w = Atomics.load(job, J.word);
  let since = performance.now();
  for (let polls = 1; w >>> 10 === last || (w & WRITING) === WRITING; polls++) {
    if ((polls & 255) === 0 && performance.now() - since > SPIN_MS) {
      Atomics.add(job, J.sleeping, 1);
      if (Atomics.load(job, J.word) === w) Atomics.wait(job, J.word, w);
      Atomics.sub(job, J.sleeping, 1);
      readAnnouncements();
      since = performance.now();
    }
    w = Atomics.load(job, J.word);
  }
  last = w >>> 10;
  let gemm = kernels.get(job[J.arena]);
  if (!gemm) {
    readAnnouncements();
    gemm = kernels.get(job[J.arena]);
    if (!gemm) continue;
  }
  try {
    const ran = workOn(job, last, gemm);
    if (ran > 0) Atomics.add(job, J.helped, ran);
  } catch {
    Atomics.store(job, J.failed, 1);
  }
}
