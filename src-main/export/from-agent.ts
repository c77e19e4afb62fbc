import type { FlatParams } from '../learn/params.ts';
import type { AnyAgent } from '../learn/factory.ts';
import { NafAgent } from '../learn/naf.ts';
import type { RunningObsNorm } from '../learn/obs-norm.ts';
import { UserError } from '../util/errors.ts';
import type { DenseLayer, PolicyGraph, PolicyLayer } from './policy-graph.ts';

/**
 * The deterministic policy of a trained agent as a PolicyGraph, exactly what `agent.act(obs,
 * false)` computes followed by the env's mapping to actuator units:
 *   DDPG / TD3: [obs norm] -> (dense, ReLU) x hidden -> dense -> tanh -> scale;
 *   NAF: the mu head, [obs norm] -> (dense, ReLU) x hidden -> the mu columns of the heads layer
 *   -> tanh -> scale (Gu et al. 2016: the policy is mu(x), the maximiser of Q).
 */
export function policyGraphFromAgent(agent: AnyAgent, action: { low: ArrayLike<number>; high: ArrayLike<number> }): PolicyGraph {
  if (hasEncoder(agent)) {
    throw new UserError('exporting pixel (conv encoder) policies is not supported yet: only low-dimensional runs can be exported');
  }
  const n = agent.actionSize;
  if (action.low.length !== n || action.high.length !== n) {
    throw new Error(`the env has ${action.low.length} actuators, the agent ${n} actions`);
  }
  const layers: PolicyLayer[] = [];
  if (agent.obsNorm) layers.push(normalizeLayer(agent.obsNorm));
  if (agent instanceof NafAgent) {
    agent.hp.hidden.forEach((_, i) => layers.push(denseFrom(agent.net, `l${i}`), { kind: 'relu' }));
    layers.push(muHead(agent.net, n), { kind: 'tanh' });
  } else {
    agent.hp.actorHidden.forEach((_, i) => layers.push(denseFrom(agent.actor, `l${i}`), { kind: 'relu' }));
    layers.push(denseFrom(agent.actor, 'out'), { kind: 'tanh' });
  }
  layers.push({ kind: 'actionScale', low: Float32Array.from(action.low), high: Float32Array.from(action.high) });
  return { inputShape: [agent.obsSize], layers };
}

/** True when the agent has a trained observation encoder (pixel runs) rather than the identity. */
function hasEncoder(agent: AnyAgent): boolean {
  return Object.keys(agent.getState().tensors).some((name) => name.startsWith('encoder.'));
}

function denseFrom(p: FlatParams, prefix: string): DenseLayer {
  const [inSize, outSize] = p.slot(`${prefix}.W`).shape;
  return { kind: 'dense', inSize, outSize, weight: p.view(`${prefix}.W`).slice(), bias: p.view(`${prefix}.b`).slice() };
}

/** NAF's heads layer holds [V | mu (n) | L entries] side by side; the policy uses the mu columns. */
function muHead(p: FlatParams, n: number): DenseLayer {
  const [inSize, heads] = p.slot('heads.W').shape;
  const w = p.view('heads.W');
  const b = p.view('heads.b');
  const weight = new Float32Array(inSize * n);
  for (let r = 0; r < inSize; r++) for (let j = 0; j < n; j++) weight[r * n + j] = w[r * heads + 1 + j];
  return { kind: 'dense', inSize, outSize: n, weight, bias: b.slice(1, 1 + n) };
}

/** The running normalisation as it stands (learn/obs-norm.ts: std = sqrt(m2 / (count - 1)) + 1e-8, or 1 before two samples). */
function normalizeLayer(norm: RunningObsNorm): PolicyLayer {
  const s = norm.getState();
  const mean = Float64Array.from(s.mean);
  const std = Float64Array.from(s.m2, (m2) => (s.count > 1 ? Math.sqrt(m2 / (s.count - 1)) + 1e-8 : 1));
  return { kind: 'normalize', mean, std, clip: norm.clip };
}
