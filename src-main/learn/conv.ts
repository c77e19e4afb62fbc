import * as tf from '@tensorflow/tfjs';

/**
 * 2-D convolution ('valid' padding, NHWC, filters [kh, kw, cin, cout]) with a backward pass that
 * runs on every backend.
 *
 * Why: the wasm backend registers Conv2D (XNNPACK, fast) but neither Conv2DBackpropFilter nor
 * Conv2DBackpropInput, so tf.conv2d cannot be differentiated there. The forward stays the native
 * fused conv; the backward is written as matMuls (which XNNPACK does well) around im2col / col2im
 * loops in JS:
 *   dW [K, cout]  = colsT [K, N] @ dy [N, cout]        (colsT built transposed directly, no
 *                                                      transposed matMul: ~12x slower on wasm)
 *   dx            = col2im(dy [N, cout] @ W^T [cout, K])
 * with N = batch x output positions and K = kh x kw x cin, ordered as the filter's flat layout.
 * Where the backend has the native kernels (tensorflow, cpu, webgl) they are used instead.
 * Checked against finite differences and tf.conv2d on the cpu backend (test/unit/learn/conv.test.ts).
 */

export interface ConvGeometry {
  inH: number;
  inW: number;
  inC: number;
  kernel: number;
  stride: number;
  outC: number;
}

export interface ConvDims extends ConvGeometry {
  outH: number;
  outW: number;
  /** kernel x kernel x inC: one im2col row. */
  K: number;
  /** Output positions per sample (outH x outW). */
  P: number;
}

/** Output size of a 'valid' convolution; throws when the input is smaller than the kernel. */
export function convOutSize(n: number, kernel: number, stride: number): number {
  if (n < kernel) throw new Error(`input size ${n} is smaller than the kernel (${kernel})`);
  return Math.floor((n - kernel) / stride) + 1;
}

export function convDims(g: ConvGeometry): ConvDims {
  const outH = convOutSize(g.inH, g.kernel, g.stride);
  const outW = convOutSize(g.inW, g.kernel, g.stride);
  return { ...g, outH, outW, K: g.kernel * g.kernel * g.inC, P: outH * outW };
}

/** Whether the active backend can differentiate tf.conv2d itself. */
export function hasNativeConvGrad(): boolean {
  const b = tf.getBackend();
  return tf.getKernel('Conv2DBackpropFilter', b) !== undefined && tf.getKernel('Conv2DBackpropInput', b) !== undefined;
}

/**
 * im2col, transposed: out[k * N + n] = x[b, oy*s + i, ox*s + j, c] with k = (i, j, c) in filter
 * order and n = (b, oy, ox). x is NHWC, batch rows.
 */
export function im2colT(x: Float32Array, batch: number, d: ConvDims, out = new Float32Array(d.K * batch * d.P)): Float32Array {
  const { inH, inW, inC, kernel, stride, outH, outW, P } = d;
  const N = batch * P;
  const rowStride = inW * inC;
  const sampleStride = inH * rowStride;
  for (let i = 0; i < kernel; i++) {
    for (let j = 0; j < kernel; j++) {
      for (let c = 0; c < inC; c++) {
        const k = (i * kernel + j) * inC + c;
        let o = k * N;
        for (let b = 0; b < batch; b++) {
          const base = b * sampleStride + i * rowStride + j * inC + c;
          for (let oy = 0; oy < outH; oy++) {
            let src = base + oy * stride * rowStride;
            const step = stride * inC;
            for (let ox = 0; ox < outW; ox++, src += step) out[o++] = x[src];
          }
        }
      }
    }
  }
  return out;
}

/** im2col: out[n * K + k], the layout whose product with W [K, cout] is the convolution. */
export function im2col(x: Float32Array, batch: number, d: ConvDims, out = new Float32Array(batch * d.P * d.K)): Float32Array {
  const { inH, inW, inC, kernel, stride, outH, outW } = d;
  const span = kernel * inC;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let i = 0; i < kernel; i++) {
          const src = ((b * inH + oy * stride + i) * inW + ox * stride) * inC;
          out.set(x.subarray(src, src + span), o);
          o += span;
        }
      }
    }
  }
  return out;
}

/** col2im: scatter-adds rows of dcols [N, K] back onto the input grid (the adjoint of im2col). */
export function col2im(dcols: Float32Array, batch: number, d: ConvDims, out = new Float32Array(batch * d.inH * d.inW * d.inC)): Float32Array {
  const { inH, inW, inC, kernel, stride, outH, outW } = d;
  out.fill(0);
  const span = kernel * inC;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let i = 0; i < kernel; i++) {
          const dst = ((b * inH + oy * stride + i) * inW + ox * stride) * inC;
          for (let t = 0; t < span; t++) out[dst + t] += dcols[o + t];
          o += span;
        }
      }
    }
  }
  return out;
}

export type ConvActivation = 'relu' | 'linear';

/** y = act(conv(x, w) + b): the backend's fused conv (XNNPACK on wasm). */
export function convForward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, stride: number, act: ConvActivation): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: w, strides: stride, pad: 'valid', ...(b ? { bias: b } : {}), activation: act });
}

export interface ConvGrads {
  /** dL/dW, flat in filter layout [kh, kw, cin, cout]. */
  dW: Float32Array;
  /** dL/db [cout]. */
  db: Float32Array;
  /** dL/dx, NHWC; only when asked for. */
  dx?: Float32Array;
}

/**
 * Gradients of a convolution given dL/d(pre-activation) `dpre` [batch, outH, outW, cout], its
 * input `x` (NHWC values) and, when dx is wanted, the filter as [cout, K] (W^T).
 */
export function convBackward(x: Float32Array | tf.Tensor4D, dpre: tf.Tensor4D, d: ConvDims, batch: number, wT: tf.Tensor2D | null, path: 'auto' | 'native' | 'im2col' = 'auto'): ConvGrads {
  const N = batch * d.P;
  let dW: Float32Array = new Float32Array(0);
  let db: Float32Array = new Float32Array(0);
  let dx: Float32Array | undefined;
  // Results leave the tidy through these variables: tf.tidy walks whatever it returns, and walking
  // a typed array of millions of entries costs seconds.
  tf.tidy(() => {
    const dy2 = tf.reshape(dpre, [N, d.outC]) as tf.Tensor2D;
    db = (tf.sum(dy2, 0).dataSync() as Float32Array).slice();
    if (path === 'native' || (path === 'auto' && hasNativeConvGrad())) {
      const xt = x instanceof tf.Tensor ? x : tf.tensor4d(x, [batch, d.inH, d.inW, d.inC]);
      const conv = { strides: [d.stride, d.stride], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined };
      dW = (tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dpre }, { ...conv, filterShape: [d.kernel, d.kernel, d.inC, d.outC] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
      if (wT) {
        const w = tf.reshape(tf.transpose(wT), [d.kernel, d.kernel, d.inC, d.outC]);
        dx = (tf.engine().runKernel('Conv2DBackpropInput', { dy: dpre, filter: w }, { ...conv, inputShape: [batch, d.inH, d.inW, d.inC] } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
      }
    } else {
      const xv = x instanceof tf.Tensor ? (x.dataSync() as Float32Array) : x;
      const colsT = tf.tensor2d(im2colT(xv, batch, d), [d.K, N]);
      dW = tf.matMul(colsT, dy2).dataSync() as Float32Array;
      if (wT) dx = col2im(tf.matMul(dy2, wT).dataSync() as Float32Array, batch, d);
    }
    dW = dW.slice();
  });
  return { dW, db, ...(dx ? { dx } : {}) };
}

/** Transpose of a [rows, cols] row-major matrix (the filter as [K, cout] -> [cout, K]). */
export function transposeMatrix(src: Float32Array, rows: number, cols: number, out = new Float32Array(rows * cols)): Float32Array {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = src[r + j];
  }
  return out;
}

/**
 * tf.conv2d ('valid', NHWC) that is differentiable on every backend: the forward is the native
 * conv, the gradient is convBackward (native kernels where registered, else im2col + matMul).
 * For use inside tf.grads / tf.variableGrads.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xt, wt, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xt, wt]);
    const value = tf.conv2d(xt, wt, stride, 'valid');
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [batch, inH, inW, inC] = xs.shape;
      const [kernel, , , outC] = ws.shape;
      const d = convDims({ inH, inW, inC, kernel, stride, outC });
      const wT = tf.tensor2d(transposeMatrix(ws.dataSync() as Float32Array, d.K, outC), [outC, d.K]);
      const g = convBackward(xs, dy, d, batch, wT);
      wT.dispose();
      return [tf.tensor4d(g.dx!, xs.shape), tf.tensor4d(g.dW, ws.shape)];
    };
    return { value, gradFunc };
  });
  return f(x, w) as tf.Tensor4D;
}
