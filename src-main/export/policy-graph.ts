/**
 * The exported policy as plain data: a chain of layers from the observation the env hands out to the
 * action the actuators take. Every exporter (TF.js, ONNX, JSON) writes this one description, so the
 * three files compute the same function; the agent-specific part is only how it is built
 * (see from-agent.ts).
 *
 * Conventions (those of the in-app networks, TensorFlow.js):
 *   - dense weights are [in, out] row-major: y = x W + b;
 *   - images are NHWC (height, width, channels), conv kernels [kh, kw, in, out];
 *   - `flatten` flattens in H, W, C order.
 */

/**
 * (x - mean) / std, then clipped to [-clip, clip] when clip is set, then rounded to float32: the
 * running observation normalisation, which the app computes in float64 (learn/nets/obs-norm.ts). ONNX and
 * JSON reproduce that bit for bit; TF.js (float32 only) to within rounding.
 */
export interface NormalizeLayer {
  kind: 'normalize';
  mean: Float64Array;
  std: Float64Array;
  clip: number | null;
}

export interface DenseLayer {
  kind: 'dense';
  inSize: number;
  outSize: number;
  /** [inSize, outSize] row-major. */
  weight: Float32Array;
  bias: Float32Array;
}

/** Inference-mode batch norm over the last axis: gamma (x - mean) / sqrt(variance + epsilon) + beta. */
export interface BatchNormLayer {
  kind: 'batchnorm';
  size: number;
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Layer normalisation over the last axis of each observation: gamma (x - mean) / sqrt(variance + epsilon) + beta (biased variance). */
export interface LayerNormLayer {
  kind: 'layernorm';
  size: number;
  gamma: Float32Array;
  beta: Float32Array;
  epsilon: number;
}

export interface Conv2dLayer {
  kind: 'conv2d';
  /** [kh, kw, inChannels, outChannels] row-major. */
  kernel: Float32Array;
  bias: Float32Array;
  kernelSize: [number, number];
  inChannels: number;
  outChannels: number;
  strides: [number, number];
  padding: 'valid' | 'same';
}

export interface ActivationLayer {
  kind: 'relu' | 'tanh';
}

export interface FlattenLayer {
  kind: 'flatten';
}

/**
 * From the network's [-1, 1] output to the actuator range: low + (a + 1) / 2 * (high - low),
 * computed as a * halfRange + mid (the same affine map, one multiply and one add).
 */
export interface ActionScaleLayer {
  kind: 'actionScale';
  low: Float32Array;
  high: Float32Array;
}

export type PolicyLayer =
  NormalizeLayer | DenseLayer | BatchNormLayer | LayerNormLayer | Conv2dLayer | ActivationLayer | FlattenLayer | ActionScaleLayer;

export interface PolicyGraph {
  /** Shape of one observation: [size] for low-dimensional state, [height, width, channels] for pixels. */
  inputShape: number[];
  layers: PolicyLayer[];
}

/** The halfRange and mid of an action-scale layer (float32, as every exporter stores them). */
export function actionAffine(layer: ActionScaleLayer): { scale: Float32Array; offset: Float32Array } {
  const n = layer.low.length;
  const scale = new Float32Array(n);
  const offset = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    scale[i] = (layer.high[i] - layer.low[i]) / 2;
    offset[i] = (layer.high[i] + layer.low[i]) / 2;
  }
  return { scale, offset };
}

/** Output shapes after each layer; throws when a layer does not fit its input (a bug in a builder). */
export function inferShapes(graph: PolicyGraph): number[][] {
  const shapes: number[][] = [];
  let shape = graph.inputShape.slice();
  for (const [i, layer] of graph.layers.entries()) {
    const fail = (why: string): never => {
      throw new Error(`policy layer ${i} (${layer.kind}): ${why}; input shape [${shape.join(', ')}]`);
    };
    switch (layer.kind) {
      case 'normalize':
        if (shape.length !== 1 || layer.mean.length !== shape[0] || layer.std.length !== shape[0]) fail('mean/std size');
        break;
      case 'dense':
        if (shape.length !== 1 || shape[0] !== layer.inSize) fail(`expects ${layer.inSize} inputs`);
        if (layer.weight.length !== layer.inSize * layer.outSize || layer.bias.length !== layer.outSize) fail('weight size');
        shape = [layer.outSize];
        break;
      case 'batchnorm':
        if (shape[shape.length - 1] !== layer.size) fail(`expects ${layer.size} features`);
        break;
      case 'layernorm':
        if (shape.length !== 1 || shape[0] !== layer.size) fail(`expects ${layer.size} features`);
        if (layer.gamma.length !== layer.size || layer.beta.length !== layer.size) fail('gamma/beta size');
        break;
      case 'conv2d': {
        if (shape.length !== 3 || shape[2] !== layer.inChannels) fail(`expects [h, w, ${layer.inChannels}]`);
        const [kh, kw] = layer.kernelSize;
        if (layer.kernel.length !== kh * kw * layer.inChannels * layer.outChannels || layer.bias.length !== layer.outChannels)
          fail('kernel size');
        const [sh, sw] = layer.strides;
        const out = (n: number, k: number, s: number) => (layer.padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
        shape = [out(shape[0], kh, sh), out(shape[1], kw, sw), layer.outChannels];
        if (shape[0] < 1 || shape[1] < 1) fail('image too small for the kernel');
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'actionScale':
        if (shape.length !== 1 || layer.low.length !== shape[0] || layer.high.length !== shape[0]) fail('action size');
        break;
      case 'relu':
      case 'tanh':
        break;
    }
    shapes.push(shape.slice());
  }
  return shapes;
}

/** Length of the flat action vector the graph produces. */
export function outputSize(graph: PolicyGraph): number {
  const shapes = inferShapes(graph);
  const last = shapes.length ? shapes[shapes.length - 1] : graph.inputShape;
  if (last.length !== 1) throw new Error('a policy must end in a flat action vector');
  return last[0];
}

/** Padding (top, left, bottom, right) TensorFlow uses for 'same': the extra pixel goes at the end. */
export function samePadding(inH: number, inW: number, layer: Conv2dLayer): [number, number, number, number] {
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  const total = (n: number, k: number, s: number) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = total(inH, kh, sh);
  const tw = total(inW, kw, sw);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}
