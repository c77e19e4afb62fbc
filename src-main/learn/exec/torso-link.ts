import * as tf from '@tensorflow/tfjs';
import { IdentityEncoder, type ObsEncoder } from '../nets/encoder.ts';
import type { Buf, Executor } from './executor.ts';

type TorsoState = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * Carries observations through an agent's torsos (ObsEncoder) into its executor's buffers, and the
 * feature gradient back to the torsos. On the TF.js executor a tensor torso's features and
 * gradients stay on the device (Executor.fromTensor/toTensor); on the arena they are copied.
 * Within one step an observation array becomes one input tensor, which every torso reading it
 * shares: a detached reader of a torso then gets the features that torso computed from it (see
 * ConvEncoder.encodeDetached). release() ends the step.
 */
export class TorsoLink {
  private readonly inputs = new Map<Float32Array, tf.Tensor2D>();

  constructor(
    private readonly exec: Executor,
    private readonly obsSize: number,
  ) {}

  private input(obs: Float32Array, rows: number): tf.Tensor2D {
    let t = this.inputs.get(obs);
    if (!t || t.shape[0] !== rows) {
      t?.dispose();
      t = tf.keep(tf.tensor2d(obs.subarray(0, rows * this.obsSize), [rows, this.obsSize]));
      this.inputs.set(obs, t);
    }
    return t;
  }

  /** The torso's features of `rows` observations in the executor's buffer `name`. */
  features(enc: ObsEncoder, obs: Float32Array, rows: number, name: string): Buf {
    const out = this.exec.buffer(name, rows * enc.outSize);
    if (enc instanceof IdentityEncoder) this.exec.write(out, obs.subarray(0, rows * this.obsSize));
    else tf.tidy(() => this.exec.fromTensor(out, enc.encode(this.input(obs, rows))));
    return out;
  }

  /** Hands dL/d(features) (row-major, `rows` rows) to a trainable torso, which takes its own optimizer step. */
  step(enc: ObsEncoder, obs: Float32Array, dFeatures: Buf, rows: number): void {
    tf.tidy(() => enc.applyGradient(this.input(obs, rows), this.exec.toTensor(dFeatures, rows, enc.outSize)));
  }

  /** Ends a step: the input tensors go. */
  release(): void {
    for (const t of this.inputs.values()) t.dispose();
    this.inputs.clear();
  }
}

/** The torsos' checkpoint tensors, `encoder.<name>.<tensor>` (read asynchronously where a torso lives on such a device). */
export async function torsoStatesAsync(encoders: Record<string, ObsEncoder>): Promise<Record<string, TorsoState[string]>> {
  const out: Record<string, TorsoState[string]> = {};
  for (const [n, e] of Object.entries(encoders))
    for (const [tn, t] of Object.entries(e.getStateAsync ? await e.getStateAsync() : e.getState())) out[`encoder.${n}.${tn}`] = t;
  return out;
}

/** torsoStatesAsync, read synchronously. */
export function torsoStates(encoders: Record<string, ObsEncoder>): Record<string, TorsoState[string]> {
  const out: Record<string, TorsoState[string]> = {};
  for (const [n, e] of Object.entries(encoders)) for (const [tn, t] of Object.entries(e.getState())) out[`encoder.${n}.${tn}`] = t;
  return out;
}

/** Hands each torso its part (`encoder.<name>.`) of a checkpoint's tensors. */
export function setTorsoStates(encoders: Record<string, ObsEncoder>, tensors: TorsoState): void {
  for (const [n, e] of Object.entries(encoders)) {
    const prefix = `encoder.${n}.`;
    const part: TorsoState = {};
    for (const [tn, t] of Object.entries(tensors)) if (tn.startsWith(prefix)) part[tn.slice(prefix.length)] = t;
    e.setState(part);
  }
}
