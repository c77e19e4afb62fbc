// RL Studio policy runner: evaluates a policy exported with `rl-studio export --format json`.
// No dependencies; runs in Node >= 18 and in browsers.
//
//   import { createPolicy } from './runner.mjs';
//   const policy = createPolicy(JSON.parse(policyJsonText));
//   const action = policy.act(observation);   // Float32Array in actuator units
//
//   node runner.mjs policy.json '[0.1, -0.2, ...]'   prints the action as a JSON array
//
// policy.json: { format: "rl-studio-policy-json", version: 1, meta, inputShape, layers: [...] }
// with weights as plain number arrays, dense weights [in, out] row-major (y = x W + b), images
// NHWC and conv kernels [kh, kw, in, out]. Arithmetic is float64; the result is rounded to float32.

export const FORMAT = 'rl-studio-policy-json';

/** Builds `{ act(obs) -> Float32Array, meta, inputSize, outputSize }` from a parsed policy.json. */
export function createPolicy(spec) {
  if (!spec || spec.format !== FORMAT) throw new Error(`not an ${FORMAT} file`);
  if (spec.version !== 1) throw new Error(`unsupported ${FORMAT} version ${spec.version}`);
  const inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
  const steps = [];
  let shape = spec.inputShape.slice();
  for (const layer of spec.layers) {
    const [fn, next] = compile(layer, shape);
    steps.push(fn);
    shape = next;
  }
  const outputSize = shape.reduce((a, b) => a * b, 1);
  return {
    meta: spec.meta,
    inputSize,
    outputSize,
    act(obs) {
      if (obs.length !== inputSize) throw new Error(`expected ${inputSize} observation values, got ${obs.length}`);
      let x = Float64Array.from(obs);
      for (const step of steps) x = step(x);
      return Float32Array.from(x);
    },
  };
}

function compile(layer, shape) {
  switch (layer.type) {
    case 'normalize': {
      const { mean, std, clip } = layer;
      return [
        (x) =>
          x.map((v, i) => {
            // float64, then rounded to float32 as the studio feeds its network.
            const z = (v - mean[i]) / std[i];
            return Math.fround(clip === null ? z : Math.min(clip, Math.max(-clip, z)));
          }),
        shape,
      ];
    }
    case 'dense': {
      const { inSize, outSize, weight, bias } = layer;
      return [
        (x) => {
          const y = Float64Array.from(bias);
          for (let i = 0; i < inSize; i++) {
            const xi = x[i];
            if (xi === 0) continue;
            const row = i * outSize;
            for (let j = 0; j < outSize; j++) y[j] += xi * weight[row + j];
          }
          return y;
        },
        [outSize],
      ];
    }
    case 'batchnorm': {
      const { gamma, beta, mean, variance, epsilon } = layer;
      const n = gamma.length;
      return [(x) => x.map((v, i) => gamma[i % n] * ((v - mean[i % n]) / Math.sqrt(variance[i % n] + epsilon)) + beta[i % n]), shape];
    }
    case 'layernorm': {
      const { gamma, beta, epsilon } = layer;
      return [
        (x) => {
          const n = x.length;
          let mean = 0;
          for (const v of x) mean += v;
          mean /= n;
          let variance = 0;
          for (const v of x) variance += (v - mean) ** 2;
          const inv = 1 / Math.sqrt(variance / n + epsilon);
          return x.map((v, i) => gamma[i] * (v - mean) * inv + beta[i]);
        },
        shape,
      ];
    }
    case 'relu':
      return [(x) => x.map((v) => (v > 0 ? v : 0)), shape];
    case 'tanh':
      return [(x) => x.map(Math.tanh), shape];
    case 'flatten':
      return [(x) => x, [shape.reduce((a, b) => a * b, 1)]];
    case 'conv2d':
      return conv2d(layer, shape);
    case 'actionScale': {
      const { low, high } = layer;
      return [(x) => x.map((v, i) => v * ((high[i] - low[i]) / 2) + (high[i] + low[i]) / 2), shape];
    }
    default:
      throw new Error(`unknown layer type '${layer.type}'`);
  }
}

function conv2d(layer, shape) {
  const [inH, inW, cin] = shape;
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  const cout = layer.outChannels;
  const { kernel, bias } = layer;
  let outH, outW, padTop, padLeft;
  if (layer.padding === 'same') {
    outH = Math.ceil(inH / sh);
    outW = Math.ceil(inW / sw);
    // TensorFlow's 'same': the extra padding pixel goes at the bottom / right.
    padTop = Math.floor(Math.max((outH - 1) * sh + kh - inH, 0) / 2);
    padLeft = Math.floor(Math.max((outW - 1) * sw + kw - inW, 0) / 2);
  } else {
    outH = Math.floor((inH - kh) / sh) + 1;
    outW = Math.floor((inW - kw) / sw) + 1;
    padTop = 0;
    padLeft = 0;
  }
  const fn = (x) => {
    const y = new Float64Array(outH * outW * cout);
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const base = (oy * outW + ox) * cout;
        for (let o = 0; o < cout; o++) y[base + o] = bias[o];
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - padTop;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - padLeft;
            if (ix < 0 || ix >= inW) continue;
            const xin = (iy * inW + ix) * cin;
            const kin = (ky * kw + kx) * cin;
            for (let i = 0; i < cin; i++) {
              const xv = x[xin + i];
              const krow = (kin + i) * cout;
              for (let o = 0; o < cout; o++) y[base + o] += xv * kernel[krow + o];
            }
          }
        }
      }
    }
    return y;
  };
  return [fn, [outH, outW, cout]];
}

// Command line: node runner.mjs policy.json '[obs...]'
const invokedDirectly =
  typeof process !== 'undefined' && process.argv?.[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const [file, obsText] = process.argv.slice(2);
  if (!file || !obsText) {
    process.stderr.write("usage: node runner.mjs policy.json '[obs, ...]'\n");
    process.exit(2);
  }
  const { readFile } = await import('node:fs/promises');
  const policy = createPolicy(JSON.parse(await readFile(file, 'utf8')));
  process.stdout.write(JSON.stringify(Array.from(policy.act(JSON.parse(obsText)))) + '\n');
}
