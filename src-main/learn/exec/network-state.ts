import type { AgentState } from '../types.ts';
import type { AdamOptimizer, AdamState, Executor, Params } from './executor.ts';

/**
 * The networks' part of an agent's state (checkpoints, resume, export), one implementation for
 * every agent written over the executor: each network's parameters under its name and, when it
 * has an optimiser, the Adam moments under `${name}Adam.m` / `${name}Adam.v` (the optimisers' step
 * counts travel in the agent's meta). Read synchronously where the executor can (the arena, TF.js
 * cpu / tensorflow), or awaited where it reads only asynchronously (webgpu through Dawn); the
 * tensors are the same either way.
 */
export interface StateNetwork {
  /** Tensor name in the checkpoint (`actor`, `critic0`, `criticTarget1`, ...). */
  name: string;
  params: Params;
  adam?: AdamOptimizer;
}

export type StateTensors = AgentState['tensors'];

/** The networks' parameters (and Adam moments) read now; the executor must read synchronously. */
export function readNetworkState(exec: Executor, nets: readonly StateNetwork[]): StateTensors {
  return collect(
    nets,
    nets.map((n) => exec.readParams(n.params)),
    nets.map((n) => (n.adam ? exec.readAdam(n.adam) : null)),
  );
}

/** readNetworkState on any executor: the reads are awaited. */
export async function readNetworkStateAsync(exec: Executor, nets: readonly StateNetwork[]): Promise<StateTensors> {
  const params = await Promise.all(nets.map((n) => exec.readParamsAsync(n.params)));
  const adams = await Promise.all(nets.map((n) => (n.adam ? exec.readAdamAsync(n.adam) : null)));
  return collect(nets, params, adams);
}

/** The networks' parameters alone, by name (copies), on any executor. */
export async function readNetworkParams(exec: Executor, nets: readonly StateNetwork[]): Promise<Record<string, Float32Array>> {
  const params = await Promise.all(nets.map((n) => exec.readParamsAsync(n.params)));
  return Object.fromEntries(nets.map((n, i) => [n.name, params[i].slice()]));
}

function collect(nets: readonly StateNetwork[], params: Float32Array[], adams: (AdamState | null)[]): StateTensors {
  const tensors: StateTensors = {};
  // Copies: the arena hands out live views of its memory.
  const put = (name: string, data: Float32Array) => (tensors[name] = { shape: [data.length], data: data.slice() });
  nets.forEach((n, i) => {
    put(n.name, params[i]);
    const adam = adams[i];
    if (adam) {
      put(`${n.name}Adam.m`, adam.m);
      put(`${n.name}Adam.v`, adam.v);
    }
  });
  return tensors;
}

/**
 * Loads the networks (and Adam moments) from a state's tensors; a tensor that is missing or of
 * the wrong size is an error naming it. Each optimiser's step count is set from `adamSteps`
 * (by network name) when given there. Writes never need to wait on any executor.
 */
export function writeNetworkState(
  exec: Executor,
  nets: readonly StateNetwork[],
  tensors: StateTensors,
  adamSteps: Record<string, number>,
): void {
  const get = (name: string, len: number) => {
    const t = tensors[name];
    if (!t || t.data.length !== len)
      throw new Error(`agent state '${name}' is missing or has the wrong size (${t ? t.data.length : 'absent'}, expected ${len})`);
    return t.data;
  };
  // Every tensor is checked before any network is written, so a bad state leaves the agent as it was.
  const loads = nets.map((n) => ({
    n,
    values: get(n.name, n.params.size),
    m: n.adam && get(`${n.name}Adam.m`, n.params.size),
    v: n.adam && get(`${n.name}Adam.v`, n.params.size),
  }));
  for (const { n, values, m, v } of loads) {
    exec.writeParams(n.params, values);
    if (n.adam && m && v) exec.writeAdam(n.adam, { m, v, t: adamSteps[n.name] ?? n.adam.t });
  }
}

/** The optimisers' step counts in the agent's meta as checkpoints store them: `actorAdamT`, `criticAdamT[j]` (network `critic{j}`). */
export function adamStepsMeta(nets: readonly StateNetwork[]): { actorAdamT: number; criticAdamT: number[] } {
  const actor = nets.find((n) => n.name === 'actor')?.adam;
  const critics = nets.filter((n) => /^critic\d+$/.test(n.name) && n.adam).map((n) => n.adam!.t);
  return { actorAdamT: actor?.t ?? 0, criticAdamT: critics };
}

/** adamStepsMeta read back, by network name (for writeNetworkState). */
export function adamStepsFromMeta(meta: Record<string, unknown>): Record<string, number> {
  const steps: Record<string, number> = {};
  if (typeof meta.actorAdamT === 'number') steps.actor = meta.actorAdamT;
  if (Array.isArray(meta.criticAdamT)) meta.criticAdamT.forEach((t, j) => typeof t === 'number' && (steps[`critic${j}`] = t));
  return steps;
}
