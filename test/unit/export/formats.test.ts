import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import type { PolicyGraph } from '../../../src-main/export/policy-graph.ts';
import type { PolicyMeta } from '../../../src-main/export/meta.ts';
import { fakeMeta } from './helpers.ts';
import { policyToOnnx } from '../../../src-main/export/onnx.ts';
import { policyToTfjs, TFJS_WEIGHTS_FILE } from '../../../src-main/export/tfjs.ts';
import { policyToJson, runnerSource } from '../../../src-main/export/json.ts';
import { decodeModel } from '../../../src-main/export/onnx-proto.ts';
import { loadExportedPolicy, type ExportedPolicy } from '../../../src-main/export/load.ts';
import { Rng } from '../../../src-main/util/rng.ts';

/**
 * The three writers against an independent reference (TF.js ops written out by hand) on synthetic
 * graphs that use every layer kind, including those the trained runs may not (conv, batch norm,
 * clipped normalisation). The end-to-end check against a trained agent is in run-export.test.ts.
 */
const TOL = 1e-5;
let dir = '';

beforeAll(async () => {
  await selectBackend();
  dir = mkdtempSync(join(tmpdir(), 'rls-export-formats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(-bound, bound);
  return a;
}

function dense(rng: Rng, inSize: number, outSize: number, bound = 1 / Math.sqrt(inSize)) {
  return { kind: 'dense' as const, inSize, outSize, weight: uniform(rng, inSize * outSize, bound), bias: uniform(rng, outSize, bound) };
}

function lowdimGraph(rng: Rng, obs: number, act: number): PolicyGraph {
  const std = Float64Array.from(uniform(rng, obs, 1), (v) => 0.5 + Math.abs(v) + 1e-8);
  return {
    inputShape: [obs],
    layers: [
      { kind: 'normalize', mean: Float64Array.from(uniform(rng, obs, 2), (v) => v / 3), std, clip: 5 },
      {
        kind: 'batchnorm',
        size: obs,
        gamma: uniform(rng, obs, 1),
        beta: uniform(rng, obs, 0.5),
        mean: uniform(rng, obs, 0.3),
        variance: uniform(rng, obs, 1).map((v) => 0.2 + Math.abs(v)),
        epsilon: 1e-3,
      },
      dense(rng, obs, 64),
      { kind: 'relu' },
      dense(rng, 64, 48),
      { kind: 'relu' },
      dense(rng, 48, act, 3e-1),
      { kind: 'tanh' },
      {
        kind: 'actionScale',
        low: Float32Array.from({ length: act }, (_, i) => -1 - i),
        high: Float32Array.from({ length: act }, (_, i) => 0.5 + 2 * i),
      },
    ],
  };
}

function pixelGraph(rng: Rng, act: number): PolicyGraph {
  const conv = (cin: number, cout: number, stride: number, padding: 'valid' | 'same') => ({
    kind: 'conv2d' as const,
    kernel: uniform(rng, 3 * 3 * cin * cout, 1 / Math.sqrt(9 * cin)),
    bias: uniform(rng, cout, 0.1),
    kernelSize: [3, 3] as [number, number],
    inChannels: cin,
    outChannels: cout,
    strides: [stride, stride] as [number, number],
    padding,
  });
  // 13x11x6 -> same/2 -> 7x6x8 -> valid/1 -> 5x4x8 -> flatten 160.
  return {
    inputShape: [13, 11, 6],
    layers: [
      conv(6, 8, 2, 'same'),
      { kind: 'relu' },
      conv(8, 8, 1, 'valid'),
      { kind: 'relu' },
      { kind: 'flatten' },
      dense(rng, 160, 32),
      { kind: 'relu' },
      dense(rng, 32, act),
      { kind: 'tanh' },
      { kind: 'actionScale', low: new Float32Array(act).fill(-2), high: new Float32Array(act).fill(2) },
    ],
  };
}

/** The graph written out with TF.js ops, one batch, independent of every exporter. */
function reference(graph: PolicyGraph, obs: Float32Array, batch: number): Float32Array {
  return tf.tidy(() => {
    let x: tf.Tensor = tf.tensor(obs, [batch, ...graph.inputShape]);
    for (const l of graph.layers) {
      switch (l.kind) {
        case 'normalize': {
          // float64 in JS, as learn/nets/obs-norm.ts does it.
          const v = x.dataSync();
          const n = l.mean.length;
          const z = new Float32Array(v.length);
          for (let i = 0; i < v.length; i++) {
            const t = (v[i] - l.mean[i % n]) / l.std[i % n];
            z[i] = l.clip === null ? t : Math.min(l.clip, Math.max(-l.clip, t));
          }
          x = tf.tensor(z, x.shape);
          break;
        }
        case 'dense':
          x = tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(l.weight, [l.inSize, l.outSize])), tf.tensor1d(l.bias));
          break;
        case 'batchnorm':
          x = tf.batchNorm(x, tf.tensor1d(l.mean), tf.tensor1d(l.variance), tf.tensor1d(l.beta), tf.tensor1d(l.gamma), l.epsilon);
          break;
        case 'relu':
          x = tf.relu(x);
          break;
        case 'tanh':
          x = tf.tanh(x);
          break;
        case 'conv2d':
          x = tf.add(
            tf.conv2d(x as tf.Tensor4D, tf.tensor4d(l.kernel, [...l.kernelSize, l.inChannels, l.outChannels]), l.strides, l.padding),
            tf.tensor1d(l.bias),
          );
          break;
        case 'flatten':
          x = tf.reshape(x, [batch, -1]);
          break;
        case 'actionScale':
          // The env's own formula: low + (a + 1) / 2 * (high - low).
          x = tf.add(tf.tensor1d(l.low), tf.mul(tf.div(tf.add(x, 1), 2), tf.sub(tf.tensor1d(l.high), tf.tensor1d(l.low))));
          break;
      }
    }
    return x.dataSync() as Float32Array;
  });
}

async function writeAll(name: string, graph: PolicyGraph, meta: PolicyMeta): Promise<Record<'onnx' | 'tfjs' | 'json', string>> {
  const base = join(dir, name);
  mkdirSync(join(base, 'tfjs'), { recursive: true });
  mkdirSync(join(base, 'json'), { recursive: true });
  writeFileSync(join(base, 'policy.onnx'), policyToOnnx(graph, meta));
  const { modelJson, weights } = await policyToTfjs(graph, meta);
  writeFileSync(join(base, 'tfjs', 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(base, 'tfjs', TFJS_WEIGHTS_FILE), weights);
  writeFileSync(join(base, 'json', 'policy.json'), policyToJson(graph, meta));
  writeFileSync(join(base, 'json', 'runner.mjs'), runnerSource());
  return { onnx: join(base, 'policy.onnx'), tfjs: join(base, 'tfjs'), json: join(base, 'json') };
}

async function maxDiff(policy: ExportedPolicy, graph: PolicyGraph, obs: Float32Array, n: number, act: number): Promise<number> {
  const want = reference(graph, obs, n);
  const size = obs.length / n;
  let worst = 0;
  for (let k = 0; k < n; k++) {
    const got = await policy(obs.subarray(k * size, (k + 1) * size));
    expect(got.length).toBe(act);
    for (let j = 0; j < act; j++) worst = Math.max(worst, Math.abs(got[j] - want[k * act + j]));
  }
  return worst;
}

describe('exported formats compute the policy graph', () => {
  it('low-dimensional: normalisation with clip, batch norm, MLP, tanh, actuator scaling (1000 observations)', async () => {
    const rng = new Rng(7);
    const graph = lowdimGraph(rng, 11, 3);
    const paths = await writeAll('lowdim', graph, fakeMeta(graph, 3));
    // Wide enough that some observations hit the normalisation clip.
    const obs = uniform(rng, 1000 * 11, 15);
    for (const format of ['onnx', 'tfjs', 'json'] as const) {
      const policy = await loadExportedPolicy(paths[format]);
      expect(policy.format).toBe(format);
      expect(policy.meta.evalReturn).toBe(1.5);
      const d = await maxDiff(policy, graph, obs, 1000, 3);
      console.log(`synthetic lowdim ${format}: max |diff| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(TOL);
      await policy.dispose();
    }
  });

  it('pixels: NHWC conv (same and valid padding, strides) and flatten order (200 observations)', async () => {
    const rng = new Rng(11);
    const graph = pixelGraph(rng, 2);
    const paths = await writeAll('pixels', graph, fakeMeta(graph, 2));
    const obs = uniform(rng, 200 * 13 * 11 * 6, 1).map(Math.abs);
    for (const format of ['onnx', 'tfjs', 'json'] as const) {
      const policy = await loadExportedPolicy(paths[format]);
      const d = await maxDiff(policy, graph, obs, 200, 2);
      console.log(`synthetic pixels ${format}: max |diff| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(TOL);
      await policy.dispose();
    }
  });

  it('writes ONNX that decodes with the official field numbers (opset, graph io, metadata)', async () => {
    const graph = lowdimGraph(new Rng(3), 5, 2);
    const model = decodeModel(policyToOnnx(graph, fakeMeta(graph, 2)));
    expect(model.ir_version).toBe(8);
    expect(model.opset_import[0].version).toBeGreaterThanOrEqual(13);
    expect(model.graph.input.map((i) => i.name)).toEqual(['obs']);
    expect(model.graph.output.map((o) => o.name)).toEqual(['action']);
    expect(model.graph.node.map((n) => n.op_type)).toEqual([
      'Cast',
      'Sub',
      'Div',
      'Clip',
      'Cast',
      'BatchNormalization',
      'Gemm',
      'Relu',
      'Gemm',
      'Relu',
      'Gemm',
      'Tanh',
      'Mul',
      'Add',
    ]);
    const meta = JSON.parse(model.metadata_props.find((p) => p.key === 'rl_studio')!.value) as PolicyMeta;
    expect(meta.env.id).toBe('synthetic');
  });

  it('runner.mjs runs from the command line with no dependencies', async () => {
    const rng = new Rng(5);
    const graph = lowdimGraph(rng, 4, 2);
    const paths = await writeAll('runner-cli', graph, fakeMeta(graph, 2));
    const obs = uniform(rng, 4, 1);
    const r = spawnSync(process.execPath, ['runner.mjs', 'policy.json', JSON.stringify(Array.from(obs))], {
      cwd: paths.json,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as number[];
    const want = reference(graph, obs, 1);
    for (let j = 0; j < 2; j++) expect(Math.abs(got[j] - want[j])).toBeLessThan(TOL);
    // Only dynamic imports of node: built-ins, and only when run as a command.
    const code = readFileSync(join(paths.json, 'runner.mjs'), 'utf8')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('//'));
    expect(code.filter((l) => /^\s*import\s/.test(l))).toEqual([]);
    expect(code.join('\n').match(/import\('([^']+)'\)/g)).toEqual(["import('node:url')", "import('node:fs/promises')"]);
  });
});
