import type * as tf from '@tensorflow/tfjs';

/**
 * The replaceable torso of every network: observations -> features. Low-dimensional runs use the
 * identity; pixel runs plug in a conv net (the DDPG supplement's 3 x 32 conv layers; nets/pixel-nets.ts)
 * that trains by its own optimizer, fed the feature gradient the agent's dense head computes on its
 * executor (exec/torso-link.ts carries features and gradients between the two).
 */
export interface ObsEncoder {
  readonly outSize: number;
  /** Why it reads TF.js results synchronously (e.g. the arena conv torso reads its input tensors), if it does: then not on webgpu. */
  readonly syncReads?: string;
  /** False for the identity: the head then skips computing the gradient w.r.t. its input. */
  readonly trainable: boolean;
  /** Features for a batch (called inside tf.tidy). */
  encode(obs: tf.Tensor2D): tf.Tensor2D;
  /**
   * Applies one optimizer step given dLoss/dFeatures for the batch: the encoder computes its own
   * vector-Jacobian product (e.g. tf.variableGrads of sum(encode(obs) * dFeatures)).
   */
  applyGradient(obs: tf.Tensor2D, dFeatures: tf.Tensor2D): void;
  /** Weights, soft-updated for target networks. */
  softUpdateFrom(source: ObsEncoder, tau: number): void;
  copyFrom(source: ObsEncoder): void;
  getState(): Record<string, { shape: number[]; data: Float32Array }>;
  /** getState() where the weights live on a device that reads only asynchronously (webgpu); absent: getState() serves. */
  getStateAsync?(): Promise<Record<string, { shape: number[]; data: Float32Array }>>;
  setState(state: Record<string, { shape: number[]; data: Float32Array }>): void;
  dispose(): void;
}

/** Creates one encoder per network (actor, critic, their targets). */
export type EncoderFactory = (obsSize: number) => ObsEncoder;

export class IdentityEncoder implements ObsEncoder {
  readonly trainable = false;
  constructor(readonly outSize: number) {}
  encode(obs: tf.Tensor2D): tf.Tensor2D {
    return obs;
  }
  applyGradient(): void {}
  softUpdateFrom(): void {}
  copyFrom(): void {}
  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    return {};
  }
  setState(): void {}
  dispose(): void {}
}

export const identityEncoder: EncoderFactory = (obsSize) => new IdentityEncoder(obsSize);
