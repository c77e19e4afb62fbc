import type { Agent, AgentState, Batch, UpdateStats } from './types.ts';

/**
 * The calls that read an agent's results, for callers that serve every executor: synchronous
 * where the agent's networks read synchronously (the wasm arena, TF.js cpu / tensorflow), awaited
 * where they read only asynchronously (webgpu through Dawn). Hot loops (the trainer's env steps)
 * branch on `readsAsync` themselves so the synchronous path never pays an await.
 */
export function readsAsync(agent: Pick<Agent, 'syncRead'>): boolean {
  return agent.syncRead === false;
}

function need<T>(agent: Agent, fn: T | undefined, what: string): T {
  if (!fn) throw new Error(`the ${agent.algo} agent reads only asynchronously but has no ${what}`);
  return fn;
}

/** act() on any executor. */
export function actAwaited(agent: Agent, obs: Float32Array, explore: boolean): Promise<Float32Array> {
  return readsAsync(agent) ? need(agent, agent.actAsync, 'actAsync').call(agent, obs, explore) : Promise.resolve(agent.act(obs, explore));
}

/** update() on any executor. */
export function updateAwaited(agent: Agent, batch: Batch): Promise<UpdateStats> {
  return readsAsync(agent) ? need(agent, agent.updateAsync, 'updateAsync').call(agent, batch) : Promise.resolve(agent.update(batch));
}

/** getState() on any executor (checkpoints, export). */
export function stateAwaited(agent: Agent): Promise<AgentState> {
  return readsAsync(agent) ? need(agent, agent.getStateAsync, 'getStateAsync').call(agent) : Promise.resolve(agent.getState());
}

/** Brings the host views of the networks (agent.actor, ...) up to date on any executor. */
export async function refreshHostViews(agent: Agent): Promise<void> {
  await agent.refreshHostViews?.();
}
