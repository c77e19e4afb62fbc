/** Types of runner.mjs, the dependency-free runner shipped next to a JSON export. */
export declare const FORMAT: 'rl-studio-policy-json';

export interface RunnerPolicy {
  meta: unknown;
  inputSize: number;
  outputSize: number;
  act(obs: ArrayLike<number>): Float32Array;
}

export declare function createPolicy(spec: unknown): RunnerPolicy;
