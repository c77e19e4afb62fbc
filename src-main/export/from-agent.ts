import type { FlatParams } from '../learn/nets/params.ts';
import { algorithmOf } from '../learn/algos/index.ts';
import type { Agent, AgentState } from '../learn/types.ts';
import type { RunningObsNorm } from '../learn/nets/obs-norm.ts';
import { bnAffine } from '../learn/nets/batch-norm.ts';
import { LAYER_NORM_EPS, PixelEncoder, type ConvLayerSpec, type PixelShape } from '../learn/nets/pixel-nets.ts';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { DenseLayer, PolicyGraph, PolicyLayer } from './policy-graph.ts';

/** The conv torso of a pixel agent (learn/nets/pixel-nets.ts): input shape and layers. */
export interface PixelTorso {
  shape: PixelShape;
  layers: readonly ConvLayerSpec[];
  /** Units of the torso's dense + tanh feature trunk (0 or absent: none). */
  trunk?: number;
  /** Whether the trunk has a LayerNorm before its tanh. */
  trunkNorm?: boolean;
}

/**
 * The deterministic policy of a trained agent as a PolicyGraph, exactly what `agent.act(obs,
 * false)` computes followed by the env's mapping to actuator units: [obs norm] -> (dense, ReLU) x
 * hidden -> dense (or the policy's columns of a layer of several heads) -> tanh -> scale, the dense
 * layers as the agent's algorithm module names them (learn/algos/<id>/index.ts `policy`).
 * Pixel agents (pass their torso) start with the actor's conv layers, (conv 'valid', ReLU) x n,
 * then flatten (H, W, C order, as the encoder reshapes) [and the feature trunk, dense (+ LayerNorm) + tanh], on
 * images of height x width x channels.
 *
 * `state`: the agent's state when the caller has it (a checkpoint just loaded); on an executor that
 * reads only asynchronously (webgpu) pass it, and await the agent's host views first
 * (learn/agent-reads.ts refreshHostViews), as export/run-policy.ts does.
 */
export function policyGraphFromAgent(
  agent: Agent,
  action: { low: ArrayLike<number>; high: ArrayLike<number> },
  pixels?: PixelTorso,
  state: AgentState = agent.getState(),
): PolicyGraph {
  const encoded = Object.keys(state.tensors).some((name) => name.startsWith('encoder.'));
  if (encoded && !pixels) throw new Error('the agent has a conv encoder: pass its pixel torso');
  const n = agent.actionSize;
  if (action.low.length !== n || action.high.length !== n) {
    throw new Error(`the env has ${action.low.length} actuators, the agent ${n} actions`);
  }
  const policy = algorithmOf(agent).policy(agent);
  const layers: PolicyLayer[] = [];
  let inputShape = [agent.obsSize];
  if (pixels) {
    if (agent.obsNorm) throw new UserError('exporting a pixel policy with observation normalisation is not supported');
    layers.push(...convLayers(pixels, state.tensors, policy.encoderPrefix));
    inputShape = [pixels.shape.height, pixels.shape.width, pixels.shape.channels];
  }
  if (agent.obsNorm) layers.push(normalizeLayer(agent.obsNorm));
  for (const h of policy.hidden) layers.push(denseFrom(policy.params, h.prefix, h.inNorm ?? null, h.outNorm ?? null), { kind: 'relu' });
  const { out } = policy;
  layers.push(out.columns ? headColumns(policy.params, out.prefix, out.columns.start, n) : denseFrom(policy.params, out.prefix), {
    kind: 'tanh',
  });
  layers.push({ kind: 'actionScale', low: Float32Array.from(action.low), high: Float32Array.from(action.high) });
  return { inputShape, layers };
}

/** The conv layers of one encoder, read back through PixelEncoder itself (its parameter layout). */
function convLayers(torso: PixelTorso, tensors: Record<string, { shape: number[]; data: Float32Array }>, prefix: string): PolicyLayer[] {
  const part: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(tensors)) if (name.startsWith(prefix)) part[name.slice(prefix.length)] = t;
  const enc = new PixelEncoder(torso.shape, torso.layers, new Rng(0), 0, 0, torso.trunk ?? 0, torso.trunkNorm ?? false);
  try {
    enc.setState(part);
    const out: PolicyLayer[] = [];
    enc.dims.forEach((d, i) => {
      // c{i}.W is [kernel * kernel * inC, outC]: the same memory as the [kh, kw, in, out] filter.
      out.push(
        {
          kind: 'conv2d',
          kernel: enc.params.view(`c${i}.W`).slice(),
          bias: enc.params.view(`c${i}.b`).slice(),
          kernelSize: [d.kernel, d.kernel],
          inChannels: d.inC,
          outChannels: d.outC,
          strides: [d.stride, d.stride],
          padding: 'valid',
        },
        { kind: 'relu' },
      );
    });
    out.push({ kind: 'flatten' });
    if (enc.trunk > 0) {
      // t.W is [convOut, trunk] over the flattened (H, W, C) features: a dense layer as it stands.
      out.push({
        kind: 'dense',
        inSize: enc.convOut,
        outSize: enc.trunk,
        weight: enc.params.view('t.W').slice(),
        bias: enc.params.view('t.b').slice(),
      });
      if (enc.trunkNorm)
        out.push({
          kind: 'layernorm',
          size: enc.trunk,
          gamma: enc.params.view('ln.g').slice(),
          beta: enc.params.view('ln.b').slice(),
          epsilon: LAYER_NORM_EPS,
        });
      out.push({ kind: 'tanh' });
    }
    return out;
  } finally {
    enc.dispose();
  }
}

/**
 * A dense layer of a network, with the inference-mode batch norms of its input (`inNorm`) and of
 * its pre-activation (`outNorm`) folded in: x -> (x s_in + t_in) W + b -> (.) s_out + t_out.
 */
function denseFrom(p: FlatParams, prefix: string, inNorm: string | null = null, outNorm: string | null = null): DenseLayer {
  const [inSize, outSize] = p.slot(`${prefix}.W`).shape;
  const weight = p.view(`${prefix}.W`).slice();
  const bias = p.view(`${prefix}.b`).slice();
  if (inNorm) {
    const { scale, shift } = bnAffine(p, inNorm);
    for (let r = 0; r < inSize; r++) {
      for (let j = 0; j < outSize; j++) {
        bias[j] += shift[r] * weight[r * outSize + j];
        weight[r * outSize + j] *= scale[r];
      }
    }
  }
  if (outNorm) {
    const { scale, shift } = bnAffine(p, outNorm);
    for (let j = 0; j < outSize; j++) {
      for (let r = 0; r < inSize; r++) weight[r * outSize + j] *= scale[j];
      bias[j] = bias[j] * scale[j] + shift[j];
    }
  }
  return { kind: 'dense', inSize, outSize, weight, bias };
}

/**
 * Columns start..start+n-1 of a dense layer whose outputs hold several heads side by side (NAF:
 * [V | mu | L entries], the policy is mu; SAC: [mu | log sigma], the policy is mu).
 */
function headColumns(p: FlatParams, prefix: string, start: number, n: number): DenseLayer {
  const [inSize, heads] = p.slot(`${prefix}.W`).shape;
  const w = p.view(`${prefix}.W`);
  const b = p.view(`${prefix}.b`);
  const weight = new Float32Array(inSize * n);
  for (let r = 0; r < inSize; r++) for (let j = 0; j < n; j++) weight[r * n + j] = w[r * heads + start + j];
  return { kind: 'dense', inSize, outSize: n, weight, bias: b.slice(start, start + n) };
}

/** The running normalisation as it stands (learn/nets/obs-norm.ts: std = sqrt(m2 / (count - 1)) + 1e-8, or 1 before two samples). */
function normalizeLayer(norm: RunningObsNorm): PolicyLayer {
  const s = norm.getState();
  const mean = Float64Array.from(s.mean);
  const std = Float64Array.from(s.m2, (m2) => (s.count > 1 ? Math.sqrt(m2 / (s.count - 1)) + 1e-8 : 1));
  return { kind: 'normalize', mean, std, clip: norm.clip };
}
