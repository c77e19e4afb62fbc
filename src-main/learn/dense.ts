import * as tf from '@tensorflow/tfjs';

/**
 * Dense layers with hand-written backward passes: the "custom gradient" of every network here.
 * The wasm backend lacks a fast transposed matMul (BatchMatMul with transposeA/B is ~12x slower
 * than transpose + matMul), so every gradient product is written as a plain matMul against an
 * explicit transpose; weight transposes come precomputed from FlatParams.tensorT. Writing the
 * backward pass by hand also lets each caller ask only for the gradients it needs (the actor's pass
 * through the critic needs dQ/da, not the critic's weight gradients). Checked against finite
 * differences in test/unit/learn/dense.test.ts.
 */
export type Activation = 'relu' | 'linear' | 'tanh';

/** y = act(x W + b) in one fused kernel where the backend has one. */
export function denseForward(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, act: Activation): tf.Tensor2D {
  if (act === 'tanh') return tf.tanh(tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b })) as tf.Tensor2D;
  return tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b, activation: act }) as tf.Tensor2D;
}

/** Gradient w.r.t. the pre-activation, given the gradient w.r.t. the output y = act(pre). */
export function activationBackward(dy: tf.Tensor2D, y: tf.Tensor2D, act: Activation): tf.Tensor2D {
  if (act === 'relu') return tf.mul(dy, tf.step(y));
  if (act === 'tanh') return tf.mul(dy, tf.sub(1, tf.square(y)));
  return dy;
}

/** dL/dW = x^T dpre, with an explicit transpose (see file comment). */
export function weightGrad(x: tf.Tensor2D, dpre: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(x), dpre);
}

export function biasGrad(dpre: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(dpre, 0);
}

/** dL/dx = dpre W^T, with W^T precomputed. */
export function inputGrad(dpre: tf.Tensor2D, wT: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(dpre, wT);
}
