import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { selectBackend } from '../learn/exec/backend.ts';
import { UserError } from '../util/errors.ts';
import type { PolicyMeta } from './meta.ts';
import { decodeModel } from './onnx-proto.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx.ts';
import { createPolicy, FORMAT as JSON_FORMAT } from './runner.mjs';
import type { TfjsModelJson } from './tfjs.ts';

export type ExportFormat = 'tfjs' | 'onnx' | 'json';

/**
 * A policy read back from an export: obs -> action in actuator units, as the file computes it
 * (onnxruntime for ONNX, tf.loadLayersModel for TF.js, runner.mjs for JSON). Async because
 * onnxruntime's run is; the TF.js and JSON forms resolve at once.
 */
export interface ExportedPolicy {
  (obs: Float32Array): Promise<Float32Array>;
  readonly format: ExportFormat;
  readonly meta: PolicyMeta;
  /** Number of observation values one call takes (product of meta.observation.shape). */
  readonly inputSize: number;
  dispose(): Promise<void>;
}

/**
 * Opens an exported policy: a .onnx file, a TF.js folder or model.json (with weights beside it or
 * inline), or a JSON export folder or policy.json.
 */
export async function loadExportedPolicy(path: string): Promise<ExportedPolicy> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info) throw new UserError({ file: path, message: 'no such file or folder' });
  if (info.isDirectory()) {
    for (const [name, open] of [
      ['policy.onnx', openOnnx],
      ['model.json', openJsonFile],
      ['policy.json', openJsonFile],
    ] as const) {
      if (await exists(join(full, name))) return open(join(full, name));
    }
    throw new UserError({ file: path, message: 'not an exported policy folder (no policy.onnx, model.json or policy.json)' });
  }
  const bytes = await readFile(full);
  if (full.endsWith('.onnx')) return openOnnx(full, bytes);
  if (full.endsWith('.json')) return openJsonFile(full, bytes);
  throw new UserError({ file: path, message: 'not an exported policy (expected .onnx, model.json or policy.json)' });
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function inputSizeOf(meta: PolicyMeta): number {
  return meta.observation.shape.reduce((a, b) => a * b, 1);
}

function checkObs(obs: Float32Array, n: number): void {
  if (obs.length !== n) throw new UserError(`the policy takes ${n} observation values, got ${obs.length}`);
}

function makePolicy(
  format: ExportFormat,
  meta: PolicyMeta,
  act: (obs: Float32Array) => Promise<Float32Array>,
  dispose: () => Promise<void>,
): ExportedPolicy {
  const inputSize = inputSizeOf(meta);
  const fn = async (obs: Float32Array) => {
    checkObs(obs, inputSize);
    return act(obs);
  };
  return Object.assign(fn, { format, meta, inputSize, dispose });
}

async function openOnnx(file: string, given?: Buffer): Promise<ExportedPolicy> {
  const bytes = given ?? (await readFile(file));
  let meta: PolicyMeta;
  try {
    const model = decodeModel(bytes);
    const entry = (model.metadata_props ?? []).find((p) => p.key === 'rl_studio');
    if (!entry) throw new Error('no rl_studio metadata');
    meta = JSON.parse(entry.value) as PolicyMeta;
  } catch (e) {
    throw new UserError({ file, message: `not an RL Studio ONNX policy (${e instanceof Error ? e.message : String(e)})` });
  }
  const session = await ort.InferenceSession.create(bytes);
  const shape = [1, ...meta.observation.shape];
  return makePolicy(
    'onnx',
    meta,
    async (obs) => {
      const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', Float32Array.from(obs), shape) });
      const action = out[ONNX_OUTPUT].data as Float32Array;
      return Float32Array.from(action);
    },
    () => session.release(),
  );
}

async function openJsonFile(file: string, given?: Buffer): Promise<ExportedPolicy> {
  const text = (given ?? (await readFile(file))).toString('utf8');
  let doc: { format?: unknown };
  try {
    doc = JSON.parse(text) as { format?: unknown };
  } catch (e) {
    throw new UserError({ file, message: `not valid JSON (${e instanceof Error ? e.message : String(e)})` });
  }
  if (doc.format === 'layers-model') return openTfjs(file, doc as TfjsModelJson);
  if (doc.format === JSON_FORMAT) {
    const policy = createPolicy(doc);
    const meta = policy.meta as PolicyMeta;
    return makePolicy(
      'json',
      meta,
      async (obs) => policy.act(obs),
      async () => {},
    );
  }
  throw new UserError({ file, message: `not an exported policy (format '${String(doc.format)}')` });
}

async function openTfjs(file: string, modelJson: TfjsModelJson): Promise<ExportedPolicy> {
  const meta = modelJson.userDefinedMetadata?.rlStudio;
  if (!meta) throw new UserError({ file, message: 'a TF.js model without RL Studio metadata (userDefinedMetadata.rlStudio)' });
  const handler: tf.io.IOHandler = {
    load: async () => {
      const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
      let weightData: ArrayBuffer;
      if (modelJson.weightsBase64 !== undefined) {
        weightData = toArrayBuffer(Buffer.from(modelJson.weightsBase64, 'base64'));
      } else {
        const parts = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dirname(file), p))));
        weightData = toArrayBuffer(Buffer.concat(parts));
      }
      return {
        modelTopology: modelJson.modelTopology as object,
        weightSpecs,
        weightData,
        format: modelJson.format,
        userDefinedMetadata: modelJson.userDefinedMetadata as unknown as Record<string, object>,
      };
    },
  };
  await selectBackend();
  const model = await tf.loadLayersModel(handler);
  const shape = [1, ...meta.observation.shape];
  return makePolicy(
    'tfjs',
    meta,
    async (obs) =>
      tf.tidy(() => {
        const y = model.predict(tf.tensor(obs, shape, 'float32')) as tf.Tensor;
        return Float32Array.from(y.dataSync() as Float32Array);
      }),
    async () => {
      model.dispose();
    },
  );
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
