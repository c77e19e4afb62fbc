import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../learn/exec/backend.ts';
import type { PolicyGraph } from './policy-graph.ts';
import { actionAffine, inferShapes } from './policy-graph.ts';
import type { PolicyMeta } from './meta.ts';

/**
 * TF.js layers-model export: a tf.Sequential of standard layers only (Dense, BatchNormalization,
 * Activation, ReLU, Conv2D, Flatten), so `tf.loadLayersModel` loads it with no custom classes.
 * Per-feature affine maps (observation normalisation, actuator scaling) are Dense layers with a
 * diagonal kernel: the off-diagonal zeros add nothing, so the result is x * scale + offset.
 *
 * Without tfjs-node there is no file:// saving; the model is saved through tf.io.withSaveHandler
 * and the artifacts are written here.
 */
export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** model.json as tf.loadLayersModel reads it, plus the single-file form's inline weights. */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: string;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata: { rlStudio: PolicyMeta };
  /** Single-file form only: the weights file, base64 (load with tf.io.fromMemory). */
  weightsBase64?: string;
}

export async function policyToTfjs(graph: PolicyGraph, meta: PolicyMeta): Promise<{ modelJson: TfjsModelJson; weights: Uint8Array }> {
  await selectBackend();
  const model = buildLayersModel(graph);
  try {
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const saved = artifacts as tf.io.ModelArtifacts | null;
    if (!saved || !saved.weightSpecs || !saved.weightData) throw new Error('TF.js did not hand over the model artifacts');
    const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
    const modelJson: TfjsModelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version['tfjs-layers']}`,
      convertedBy: meta.producer,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: saved.weightSpecs }],
      userDefinedMetadata: { rlStudio: meta },
    };
    return { modelJson, weights };
  } finally {
    model.dispose();
  }
}

/** The graph as a tf.Sequential with its weights set (caller disposes). */
export function buildLayersModel(graph: PolicyGraph): tf.Sequential {
  inferShapes(graph);
  const model = tf.sequential({ name: 'policy' });
  model.add(tf.layers.inputLayer({ inputShape: graph.inputShape, name: 'obs' }));
  const pending: { layer: tf.layers.Layer; weights: { data: Float32Array; shape: number[] }[] }[] = [];
  const add = (layer: tf.layers.Layer, weights: { data: Float32Array; shape: number[] }[] = []) => {
    model.add(layer);
    if (weights.length) pending.push({ layer, weights });
  };
  graph.layers.forEach((layer, i) => {
    const name = `l${i}_${layer.kind}`;
    switch (layer.kind) {
      case 'normalize': {
        const n = layer.mean.length;
        const scale = new Float32Array(n);
        const offset = new Float32Array(n);
        for (let k = 0; k < n; k++) {
          scale[k] = 1 / layer.std[k];
          offset[k] = -layer.mean[k] / layer.std[k];
        }
        if (layer.clip === null) {
          add(diagonalDense(name, n), diagonalWeights(scale, offset));
        } else {
          // clip(z, -c, c) = min(max(z + c, 0), 2c) - c: a ReLU with maxValue between two affine maps.
          const c = layer.clip;
          add(
            diagonalDense(`${name}_shift`, n),
            diagonalWeights(
              scale,
              offset.map((o) => o + c),
            ),
          );
          add(tf.layers.reLU({ maxValue: 2 * c, name: `${name}_clip` }));
          add(diagonalDense(`${name}_unshift`, n), diagonalWeights(new Float32Array(n).fill(1), new Float32Array(n).fill(-c)));
        }
        break;
      }
      case 'dense':
        add(tf.layers.dense({ units: layer.outSize, name }), [
          { data: layer.weight, shape: [layer.inSize, layer.outSize] },
          { data: layer.bias, shape: [layer.outSize] },
        ]);
        break;
      case 'batchnorm':
        add(tf.layers.batchNormalization({ axis: -1, epsilon: layer.epsilon, name }), [
          { data: layer.gamma, shape: [layer.size] },
          { data: layer.beta, shape: [layer.size] },
          { data: layer.mean, shape: [layer.size] },
          { data: layer.variance, shape: [layer.size] },
        ]);
        break;
      case 'layernorm':
        add(tf.layers.layerNormalization({ axis: -1, epsilon: layer.epsilon, name }), [
          { data: layer.gamma, shape: [layer.size] },
          { data: layer.beta, shape: [layer.size] },
        ]);
        break;
      case 'relu':
      case 'tanh':
        add(tf.layers.activation({ activation: layer.kind, name }));
        break;
      case 'conv2d':
        add(
          tf.layers.conv2d({
            filters: layer.outChannels,
            kernelSize: layer.kernelSize,
            strides: layer.strides,
            padding: layer.padding,
            dataFormat: 'channelsLast',
            name,
          }),
          [
            { data: layer.kernel, shape: [...layer.kernelSize, layer.inChannels, layer.outChannels] },
            { data: layer.bias, shape: [layer.outChannels] },
          ],
        );
        break;
      case 'flatten':
        add(tf.layers.flatten({ name }));
        break;
      case 'actionScale': {
        const { scale, offset } = actionAffine(layer);
        add(diagonalDense(name, scale.length), diagonalWeights(scale, offset));
        break;
      }
    }
  });
  for (const { layer, weights } of pending) {
    const tensors = weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return model;
}

function diagonalDense(name: string, n: number): tf.layers.Layer {
  return tf.layers.dense({ units: n, name });
}

function diagonalWeights(scale: Float32Array, offset: Float32Array): { data: Float32Array; shape: number[] }[] {
  const n = scale.length;
  const kernel = new Float32Array(n * n);
  for (let k = 0; k < n; k++) kernel[k * n + k] = scale[k];
  return [
    { data: kernel, shape: [n, n] },
    { data: Float32Array.from(offset), shape: [n] },
  ];
}
