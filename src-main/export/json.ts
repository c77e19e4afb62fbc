import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyGraph, PolicyLayer } from './policy-graph.ts';
import { inferShapes } from './policy-graph.ts';
import type { PolicyMeta } from './meta.ts';
import { FORMAT } from './runner.mjs';
import { appRoot } from '../util/paths.ts';

/**
 * Plain JSON export: the architecture and the weights as number arrays (a float32 value printed by
 * JavaScript reads back to the same float32 in any language), one file, runnable with runner.mjs.
 */
export function policyToJson(graph: PolicyGraph, meta: PolicyMeta): string {
  inferShapes(graph);
  const doc = {
    format: FORMAT,
    version: 1,
    meta,
    inputShape: graph.inputShape,
    layers: graph.layers.map(layerToJson),
  };
  return JSON.stringify(doc);
}

function layerToJson(layer: PolicyLayer): Record<string, unknown> {
  const a = (v: Float32Array | Float64Array) => Array.from(v);
  switch (layer.kind) {
    case 'normalize':
      return { type: 'normalize', mean: a(layer.mean), std: a(layer.std), clip: layer.clip };
    case 'dense':
      return { type: 'dense', inSize: layer.inSize, outSize: layer.outSize, weight: a(layer.weight), bias: a(layer.bias) };
    case 'batchnorm':
      return {
        type: 'batchnorm',
        gamma: a(layer.gamma),
        beta: a(layer.beta),
        mean: a(layer.mean),
        variance: a(layer.variance),
        epsilon: layer.epsilon,
      };
    case 'layernorm':
      return { type: 'layernorm', gamma: a(layer.gamma), beta: a(layer.beta), epsilon: layer.epsilon };
    case 'conv2d':
      return {
        type: 'conv2d',
        kernelSize: layer.kernelSize,
        inChannels: layer.inChannels,
        outChannels: layer.outChannels,
        strides: layer.strides,
        padding: layer.padding,
        kernel: a(layer.kernel),
        bias: a(layer.bias),
      };
    case 'actionScale':
      return { type: 'actionScale', low: a(layer.low), high: a(layer.high) };
    case 'relu':
    case 'tanh':
    case 'flatten':
      return { type: layer.kind };
  }
}

/**
 * The source of runner.mjs, copied into JSON export folders. Read from next to this module when
 * running from sources (CLI, tests), else from the app root.
 */
export function runnerSource(): string {
  const candidates = [fileURLToPath(new URL('./runner.mjs', import.meta.url)), join(appRoot(), 'src-main', 'export', 'runner.mjs')];
  for (const path of candidates) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      // next candidate
    }
  }
  throw new Error(`runner.mjs not found (looked in ${candidates.join(', ')})`);
}
