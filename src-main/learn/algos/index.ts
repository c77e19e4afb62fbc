/**
 * The registry of algorithm modules: the one list the trainer's set-up, the exporter, the CLI and
 * the benchmarks enumerate. An algorithm is a folder learn/algos/<id>/ with a pure spec.ts and an
 * index.ts exporting its descriptor (learn/algos/algorithm.ts); adding one is one line here (or a
 * registerAlgorithm call, as the tests do).
 */
import { UserError } from '../../util/errors.ts';
import type { Agent } from '../types.ts';
import type { Algorithm } from './algorithm.ts';
import { ddpg } from './ddpg/index.ts';
import { naf } from './naf/index.ts';
import { sac } from './sac/index.ts';
import { addAlgorithmSpec, algorithmIds, BUILT_IN_SPECS, type BuiltInAlgo } from './specs.ts';
import { td3 } from './td3/index.ts';

/** The shipped modules, keyed as their specs are listed in learn/algos/specs.ts. */
export const BUILT_IN_ALGORITHMS = { ddpg, td3, naf, sac } as const satisfies Record<BuiltInAlgo, unknown>;

/** The agent class a shipped algorithm makes. */
export type AgentOf<K extends BuiltInAlgo> = ReturnType<(typeof BUILT_IN_ALGORITHMS)[K]['create']>;

// Stored type-erased: each module's hyperparameter and agent types are its own business.
const algorithms = new Map<string, Algorithm>(
  (Object.keys(BUILT_IN_SPECS) as BuiltInAlgo[]).map((id) => [id, BUILT_IN_ALGORITHMS[id] as unknown as Algorithm]),
);

/** Every registered module, in the order of the spec registry. */
export function allAlgorithms(): Algorithm[] {
  return algorithmIds().map((id) => algorithms.get(id)!);
}

/** The module of an algorithm id; an unknown id is the user's mistake, named by field. */
export function getAlgorithm(id: string): Algorithm {
  const a = algorithms.get(id);
  if (!a) throw new UserError({ field: 'algo', message: `unknown algorithm '${id}' (choose ${algorithmIds().join(', ')})` });
  return a;
}

/** The module that made an agent. */
export function algorithmOf(agent: Agent): Algorithm {
  return getAlgorithm(agent.algo);
}

/** Adds an algorithm module (its spec goes to learn/algos/specs.ts, where the run config and the studio read it). */
export function registerAlgorithm<H extends object, A extends Agent>(algorithm: Algorithm<H, A>): void {
  addAlgorithmSpec(algorithm as unknown as Algorithm);
  algorithms.set(algorithm.id, algorithm as unknown as Algorithm);
}
