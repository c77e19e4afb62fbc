import { activeBackend } from './backend.ts';
import { ArenaExecutor } from './arena-exec.ts';
import type { Executor } from './executor.ts';
import { TfExecutor } from './tf-exec.ts';

/**
 * Which executor an agent's networks run on, from the backend selectBackend chose (learn/exec/backend.ts):
 * `wasm` (or no selection yet, as in unit tests) -> the WebAssembly SIMD arena; `tensorflow`,
 * `webgpu` and `cpu` -> TF.js ops on that backend (on webgpu the trainer, evaluation and checkpoints
 * await the agents' reads, learn/agent-reads.ts). Agents (or torsos) that read synchronously keep
 * the arena under webgpu, which reads only asynchronously, and the note says why in one line. A
 * pixel conv torso runs beside the dense networks on the same TF.js backend (nets/pixel-nets.ts
 * TensorConvEncoder; exec/torso-link.ts).
 */
export interface ExecutorRequest {
  /** The algorithm, for the note (`DDPG`). */
  what: string;
  /** Initial arena size (it grows). */
  arenaBytes: number;
  /** Why the agent reads synchronously (DDPG's parameter-space noise, NAF's model, an arena conv torso), if it does: then not on webgpu. */
  needsSyncReads?: string;
}

export interface ExecutorChoice {
  exec: Executor;
  /** One line: the executor and, when it is not the backend's, why. */
  note: string;
}

export function networkExecutor(req: ExecutorRequest): ExecutorChoice {
  const backend = activeBackend();
  const arena = (why: string): ExecutorChoice => ({
    exec: ArenaExecutor.create(req.arenaBytes),
    note: `wasm: ${req.what} networks on the WebAssembly SIMD arena${why ? ` (${why})` : ''}`,
  });
  if (!backend || backend === 'wasm') return arena('');
  const reason = unsupported(req, backend);
  if (reason) return arena(`${backend} not used: ${reason}`);
  return { exec: new TfExecutor(), note: `${backend}: ${req.what} networks as TF.js ops on ${backend}` };
}

/** Why the TF.js executor on `backend` cannot run this agent, or null. */
function unsupported(req: Omit<ExecutorRequest, 'arenaBytes'>, backend: string): string | null {
  // Dawn in Node reads GPU memory only asynchronously (tf-exec.ts syncRead).
  if (req.needsSyncReads && backend === 'webgpu') return req.needsSyncReads;
  return null;
}

/** The needsSyncReads part of a request: `{ needsSyncReads: why }` when there is a reason, else nothing. */
export function syncReadsOf(why: string | undefined): Pick<ExecutorRequest, 'needsSyncReads'> {
  return why ? { needsSyncReads: why } : {};
}
