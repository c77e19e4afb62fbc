import type { PolicyGraph } from './policy-graph.ts';
import { actionAffine, inferShapes, samePadding } from './policy-graph.ts';
import type { PolicyMeta } from './meta.ts';
import {
  ATTR,
  TENSOR_DOUBLE,
  TENSOR_FLOAT,
  encodeModel,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto.ts';

/**
 * ONNX export: obs -> action with normalisation and actuator scaling inside the graph, so a
 * consumer (onnxruntime in Python, C++, the web) needs nothing but the file. Opset 17 (IR 8):
 * BatchNormalization in its inference form, Clip with tensor bounds, Gemm, Conv; the observation
 * normalisation runs in double between two Casts.
 *
 * Input `obs` [batch, ...observation shape] float32 (images NHWC as the env hands them out;
 * the graph transposes to ONNX's NCHW for Conv); output `action` [batch, actions] float32.
 */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'obs';
export const ONNX_OUTPUT = 'action';

export function policyToOnnx(graph: PolicyGraph, meta: PolicyMeta): Uint8Array {
  const shapes = inferShapes(graph);
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  let current = ONNX_INPUT;
  // Images stay NHWC until a Conv needs NCHW; flatten must see NHWC to match TF.js's order.
  let layout: 'nhwc' | 'nchw' = 'nhwc';
  let inShape = graph.inputShape;

  const node = (op: string, inputs: string[], attrs: OnnxAttribute[] = [], name = `${op.toLowerCase()}_${nodes.length}`): string => {
    const out = `${name}_out`;
    nodes.push({ op_type: op, name, input: inputs, output: [out], ...(attrs.length ? { attribute: attrs } : {}) });
    current = out;
    return out;
  };
  const init = (name: string, data: Float32Array, dims: number[]): string => {
    inits.push(floatTensor(name, data, dims));
    return name;
  };
  const initDouble = (name: string, data: Float64Array, dims: number[]): string => {
    inits.push(doubleTensor(name, data, dims));
    return name;
  };

  graph.layers.forEach((layer, i) => {
    const p = `l${i}_${layer.kind}`;
    switch (layer.kind) {
      case 'normalize': {
        // In double, as the app computes it, then rounded to float like the Float32Array it fills.
        node('Cast', [current], [{ name: 'to', type: ATTR.INT, i: TENSOR_DOUBLE }], `${p}_to_double`);
        node('Sub', [current, initDouble(`${p}_mean`, layer.mean, [layer.mean.length])], [], `${p}_sub`);
        node('Div', [current, initDouble(`${p}_std`, layer.std, [layer.std.length])], [], `${p}_div`);
        if (layer.clip !== null) {
          const lo = initDouble(`${p}_min`, Float64Array.of(-layer.clip), []);
          const hi = initDouble(`${p}_max`, Float64Array.of(layer.clip), []);
          node('Clip', [current, lo, hi], [], `${p}_clip`);
        }
        node('Cast', [current], [{ name: 'to', type: ATTR.INT, i: TENSOR_FLOAT }], `${p}_to_float`);
        break;
      }
      case 'dense':
        node(
          'Gemm',
          [current, init(`${p}_weight`, layer.weight, [layer.inSize, layer.outSize]), init(`${p}_bias`, layer.bias, [layer.outSize])],
          [],
          `${p}_gemm`,
        );
        break;
      case 'batchnorm': {
        if (inShape.length !== 1) throw new Error('ONNX export: batch norm is only supported on flat features');
        const n = layer.size;
        node(
          'BatchNormalization',
          [
            current,
            init(`${p}_gamma`, layer.gamma, [n]),
            init(`${p}_beta`, layer.beta, [n]),
            init(`${p}_mean`, layer.mean, [n]),
            init(`${p}_var`, layer.variance, [n]),
          ],
          [{ name: 'epsilon', type: ATTR.FLOAT, f: layer.epsilon }],
          `${p}_bn`,
        );
        break;
      }
      case 'layernorm':
        // LayerNormalization (opset 17) over the last axis, biased variance as the encoder computes it.
        node(
          'LayerNormalization',
          [current, init(`${p}_gamma`, layer.gamma, [layer.size]), init(`${p}_beta`, layer.beta, [layer.size])],
          [
            { name: 'axis', type: ATTR.INT, i: -1 },
            { name: 'epsilon', type: ATTR.FLOAT, f: layer.epsilon },
          ],
          `${p}_ln`,
        );
        break;
      case 'relu':
        node('Relu', [current], [], `${p}`);
        break;
      case 'tanh':
        node('Tanh', [current], [], `${p}`);
        break;
      case 'conv2d': {
        if (layout === 'nhwc') {
          node('Transpose', [current], [{ name: 'perm', type: ATTR.INTS, ints: [0, 3, 1, 2] }], `${p}_to_nchw`);
          layout = 'nchw';
        }
        const [kh, kw] = layer.kernelSize;
        const pads = layer.padding === 'same' ? samePadding(inShape[0], inShape[1], layer) : [0, 0, 0, 0];
        node(
          'Conv',
          [
            current,
            init(`${p}_kernel`, kernelToOihw(layer.kernel, kh, kw, layer.inChannels, layer.outChannels), [
              layer.outChannels,
              layer.inChannels,
              kh,
              kw,
            ]),
            init(`${p}_bias`, layer.bias, [layer.outChannels]),
          ],
          [
            { name: 'kernel_shape', type: ATTR.INTS, ints: [kh, kw] },
            { name: 'strides', type: ATTR.INTS, ints: [...layer.strides] },
            // ONNX pads are [top, left, bottom, right].
            { name: 'pads', type: ATTR.INTS, ints: [pads[0], pads[1], pads[2], pads[3]] },
          ],
          `${p}_conv`,
        );
        break;
      }
      case 'flatten':
        if (layout === 'nchw') {
          node('Transpose', [current], [{ name: 'perm', type: ATTR.INTS, ints: [0, 2, 3, 1] }], `${p}_to_nhwc`);
          layout = 'nhwc';
        }
        node('Flatten', [current], [{ name: 'axis', type: ATTR.INT, i: 1 }], `${p}`);
        break;
      case 'actionScale': {
        const { scale, offset } = actionAffine(layer);
        node('Mul', [current, init(`${p}_half_range`, scale, [scale.length])], [], `${p}_mul`);
        node('Add', [current, init(`${p}_mid`, offset, [offset.length])], [], `${p}_add`);
        break;
      }
    }
    inShape = shapes[i];
  });

  // The last node writes the graph output by name.
  const outShape = shapes.length ? shapes[shapes.length - 1] : graph.inputShape;
  if (nodes.length === 0) node('Identity', [current]);
  nodes[nodes.length - 1].output = [ONNX_OUTPUT];

  const model: OnnxModel = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'rl-studio',
    producer_version: meta.producer,
    model_version: 1,
    doc_string: `${meta.algo} policy for ${meta.env.id} (${meta.checkpoint.name}): ${ONNX_INPUT} -> ${ONNX_OUTPUT} in actuator units`,
    graph: {
      name: 'policy',
      node: nodes,
      initializer: inits,
      input: [valueInfo(ONNX_INPUT, graph.inputShape, 'observation, raw (normalisation is inside the graph)')],
      output: [valueInfo(ONNX_OUTPUT, outShape, 'action in actuator units (ctrlrange)')],
    },
    metadata_props: onnxMetadata(meta),
  };
  return encodeModel(model);
}

/** metadata_props: the full PolicyMeta as JSON under `rl_studio`, plus a few keys for quick reading. */
function onnxMetadata(meta: PolicyMeta): { key: string; value: string }[] {
  return [
    { key: 'rl_studio', value: JSON.stringify(meta) },
    { key: 'env_id', value: meta.env.id },
    { key: 'algo', value: meta.algo },
    { key: 'checkpoint', value: meta.checkpoint.name },
    { key: 'eval_return', value: meta.evalReturn === null ? '' : String(meta.evalReturn) },
    { key: 'action_names', value: meta.action.names.join(',') },
  ];
}

function valueInfo(name: string, shape: number[], doc: string): OnnxModel['graph']['input'][number] {
  return {
    name,
    doc_string: doc,
    type: { tensor_type: { elem_type: TENSOR_FLOAT, shape: { dim: [{ dim_param: 'batch' }, ...shape.map((d) => ({ dim_value: d }))] } } },
  };
}

function floatTensor(name: string, data: Float32Array, dims: number[]): OnnxTensor {
  // raw_data is little-endian IEEE 754 whatever the host; DataView makes that explicit.
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return { name, dims, data_type: TENSOR_FLOAT, raw_data: bytes };
}

function doubleTensor(name: string, data: Float64Array, dims: number[]): OnnxTensor {
  const bytes = new Uint8Array(data.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  return { name, dims, data_type: TENSOR_DOUBLE, raw_data: bytes };
}

/** TF.js kernel [kh, kw, in, out] to ONNX Conv weight [out, in, kh, kw]. */
function kernelToOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o];
  return out;
}
