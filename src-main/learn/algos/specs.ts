/**
 * The registry of algorithm specs (learn/algos/spec.ts): everything that lists algorithms — the
 * run config's `algo` field, the New-run form, CLI help, sweeps, the charts' metric descriptions —
 * reads it here. Pure: the renderer imports it. The constructors are in learn/algos/index.ts,
 * whose registerAlgorithm adds a spec here too.
 */
import { ddpgSpec } from './ddpg/spec.ts';
import { nafSpec } from './naf/spec.ts';
import { sacSpec } from './sac/spec.ts';
import { metricNameProblem, type AlgorithmSpec, type PresetSpec } from './spec.ts';
import { td3Spec } from './td3/spec.ts';

/** The algorithms this build ships, by id, in the order the studio lists them. */
export const BUILT_IN_SPECS = { ddpg: ddpgSpec, td3: td3Spec, naf: nafSpec, sac: sacSpec } as const;
/** Ids of the shipped algorithms. */
export type BuiltInAlgo = keyof typeof BUILT_IN_SPECS;

// Stored type-erased: each spec's hyperparameter type is its own.
const specs = new Map<string, AlgorithmSpec>(Object.values(BUILT_IN_SPECS).map((s) => [s.id, s as unknown as AlgorithmSpec]));

/** Every registered algorithm, in registration order. */
export function algorithmSpecs(): AlgorithmSpec[] {
  return [...specs.values()];
}

export function algorithmIds(): string[] {
  return [...specs.keys()];
}

/** The spec of an algorithm id, or undefined when none is registered under it. */
export function findAlgorithmSpec(id: string): AlgorithmSpec | undefined {
  return specs.get(id);
}

/** Adds an algorithm (learn/algos/index.ts registerAlgorithm calls this); an id or preset name taken twice is a programming error. */
export function addAlgorithmSpec(spec: AlgorithmSpec): void {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(spec.id)) throw new Error(`algorithm id '${spec.id}': lower-case letters, digits and '-'`);
  if (specs.has(spec.id)) throw new Error(`algorithm '${spec.id}' is registered already`);
  const taken = new Set(Object.keys(allPresets()));
  for (const name of Object.keys(spec.presets))
    if (taken.has(name)) throw new Error(`preset '${name}' of ${spec.id} is registered already`);
  for (const name of Object.keys(spec.metrics)) {
    const problem = metricNameProblem(name);
    if (problem) throw new Error(`${spec.id}: ${problem}`);
  }
  specs.set(spec.id, spec);
}

/** Every algorithm's named presets, with the algorithm each is for. */
export function allPresets(): Record<string, PresetSpec & { algo: string }> {
  const out: Record<string, PresetSpec & { algo: string }> = {};
  for (const s of specs.values()) for (const [name, p] of Object.entries(s.presets)) out[name] = { ...p, algo: s.id };
  return out;
}

/** Ids of the algorithms with a pixel (conv torso) variant, as registered now. */
export function pixelAlgos(): string[] {
  return algorithmSpecs()
    .filter((s) => s.pixelDefaults !== null)
    .map((s) => s.id);
}
