import type { EnvInfo, ObsPart } from '../sim/types.ts';

/**
 * What travels with every exported policy, whatever the format: enough to feed it the right
 * observation and to know what its actions mean, and where it came from.
 * TF.js: model.json `userDefinedMetadata.rlStudio`; ONNX: metadata_props `rl_studio`;
 * JSON: the top-level `meta` field.
 */
export interface PolicyMeta {
  format: 'rl-studio-policy';
  /** Bumped when the meaning of a field changes. */
  version: 1;
  algo: string;
  env: {
    id: string;
    /** The env's spec as the studio saw it at export time (obs layout, actuators, timing). */
    spec: EnvInfo;
  };
  observation: {
    kind: 'lowdim' | 'pixels';
    /** Shape of one observation: [size], or [height, width, channels] (NHWC, values as the env renders them). */
    shape: number[];
    /** Named slices of the flat low-dimensional observation, in order. */
    layout: ObsPart[];
    /** Observation normalisation inside the exported graph (already applied: feed raw observations). */
    normalization: { mean: number[]; std: number[]; clip: number | null } | null;
  };
  action: {
    size: number;
    names: string[];
    low: number[];
    high: number[];
    /** The exported output is in actuator units: low + (a + 1) / 2 * (high - low), a = tanh output. */
    scaling: string;
  };
  checkpoint: { name: string; step: number | null };
  /** Deterministic evaluation return recorded for this checkpoint, when the run has one. */
  evalReturn: number | null;
  run: { id: string; seed: number | null };
  /** The run's config.json, verbatim. */
  trainingConfig: unknown;
  exportedAt: string;
  producer: string;
}

export const ACTION_SCALING_TEXT = 'low + (a + 1) / 2 * (high - low), a in [-1, 1] (tanh output)';

/** Maps an exported (actuator-unit) action back to the env's [-1, 1] convention, per component. */
export function toUnitAction(meta: PolicyMeta, action: Float32Array): Float32Array {
  const out = new Float32Array(action.length);
  for (let i = 0; i < action.length; i++) {
    const lo = meta.action.low[i];
    const hi = meta.action.high[i];
    out[i] = hi > lo ? ((action[i] - lo) / (hi - lo)) * 2 - 1 : 0;
  }
  return out;
}
