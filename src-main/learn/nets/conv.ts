import type { Arena } from './simd.ts';

/**
 * 2-D convolution layers ('valid' padding, NHWC, filters [kh, kw, cin, cout] stored as a [K, cout]
 * matrix) computed as GEMMs on an Arena (simd.ts): the hand-written WebAssembly SIMD SGEMM that
 * runs the dense heads, on the same kind of memory, so a pixel update never builds a tensor.
 *
 * No im2col: for one output row (b, oy) and one kernel row i, the patches' kernel-row slices are
 * rows of x at a fixed stride (s x cin) with kw x cin contiguous values each, which Arena.gemm
 * reads in place through its A strides:
 *   forward:  y[b, oy] (outW x cout) += X_i (outW x kw*cin) W_i (kw*cin x cout), i = 0..kh-1
 *   backward: dW_i += X_i^T dpre[b, oy]      (the same view, transposed through the strides)
 *             db = column sums of dpre
 *             dx = col2im(dpre W^T)          (one GEMM, then a scatter-add; only when wanted)
 * Measured on this machine (batch 64, 9 x 64 x 64, 4x4 stride 4, 32 filters): im2col + one large
 * GEMM 21 ms (the 9 MB im2col matrix streams through the cache once per column block of C), the
 * strided GEMMs 7 ms.
 *
 * Why not TensorFlow.js: the wasm backend registers Conv2D but neither Conv2DBackpropFilter nor
 * Conv2DBackpropInput, and a backward built from its ops (uploads of im2col matrices, dataSync,
 * transposes) cost several times the arithmetic. Checked against float64 finite differences and
 * the cpu backend's native conv gradients (test/unit/learn/conv.test.ts).
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

/** col2im: scatter-adds rows of dcols [N, K] back onto the input grid (the adjoint of im2col). */
export function col2im(
  dcols: Float32Array,
  batch: number,
  d: ConvDims,
  out: Float32Array = new Float32Array(batch * d.inH * d.inW * d.inC),
): Float32Array {
  const { inH, inW, inC, kernel, stride, outH, outW } = d;
  out.fill(0, 0, batch * inH * inW * inC);
  const span = kernel * inC;
  const rowStride = inW * inC;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const rowBase = (b * inH + oy * stride) * rowStride;
      for (let ox = 0; ox < outW; ox++) {
        let dst = rowBase + ox * stride * inC;
        for (let i = 0; i < kernel; i++, dst += rowStride) {
          for (let t = 0; t < span; t++) out[dst + t] += dcols[o + t];
          o += span;
        }
      }
    }
  }
  return out;
}

/** Transpose of a [rows, cols] row-major matrix (the filter as [K, cout] -> [cout, K]). */
export function transposeMatrix(
  src: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array = new Float32Array(rows * cols),
): Float32Array {
  for (let i = 0; i < rows; i++) {
    const r = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = src[r + j];
  }
  return out;
}

export type ConvActivation = 'relu' | 'linear';

/**
 * y = act(conv(x, W) + b) for `batch` samples. x is NHWC (batch x inH x inW x inC), `w` the
 * [K, cout] filter, `y` batch x outH x outW x cout; all views of `ar`.
 */
export function convForwardGemm(
  ar: Arena,
  x: Float32Array,
  batch: number,
  d: ConvDims,
  w: Float32Array,
  b: Float32Array,
  y: Float32Array,
  act: ConvActivation,
): void {
  const { inH, inW, inC, kernel, stride, outH, outW, outC } = d;
  const span = kernel * inC;
  const rowStride = inW * inC;
  const wRows: Float32Array[] = [];
  for (let i = 0; i < kernel; i++) wRows.push(w.subarray(i * span * outC, (i + 1) * span * outC));
  for (let s = 0; s < batch; s++) {
    for (let oy = 0; oy < outH; oy++) {
      const out = y.subarray((s * outH + oy) * outW * outC);
      const top = (s * inH + oy * stride) * rowStride;
      for (let i = 0; i < kernel; i++)
        ar.gemm(outW, outC, span, x.subarray(top + i * rowStride), stride * inC, 1, wRows[i], outC, out, outC, i > 0);
    }
  }
  const n = batch * outH * outW * outC;
  if (act === 'relu') {
    for (let r = 0; r < n; r += outC) {
      for (let o = 0; o < outC; o++) {
        const v = y[r + o] + b[o];
        y[r + o] = v > 0 ? v : 0;
      }
    }
  } else {
    for (let r = 0; r < n; r += outC) for (let o = 0; o < outC; o++) y[r + o] += b[o];
  }
}

/**
 * Gradients of one conv layer from dpre = dL/d(pre-activation) (batch x outH x outW x cout) and
 * the layer's input x: dW [K, cout] and db [cout] are written (not accumulated); when `dcols` is
 * given it receives dpre W^T [batch x outH x outW, K] (col2im of it is dL/dx), with `wT` the
 * filter as [cout, K].
 */
export function convBackwardGemm(
  ar: Arena,
  x: Float32Array,
  dpre: Float32Array,
  batch: number,
  d: ConvDims,
  dW: Float32Array,
  db: Float32Array,
  dcols: Float32Array | null,
  wT: Float32Array | null,
): void {
  const { inH, inW, inC, kernel, stride, outH, outW, outC, K } = d;
  const N = batch * outH * outW;
  db.fill(0);
  for (let r = 0; r < N * outC; r += outC) for (let o = 0; o < outC; o++) db[o] += dpre[r + o];
  dW.fill(0);
  const span = kernel * inC;
  const rowStride = inW * inC;
  const dWRows: Float32Array[] = [];
  for (let i = 0; i < kernel; i++) dWRows.push(dW.subarray(i * span * outC, (i + 1) * span * outC));
  for (let s = 0; s < batch; s++) {
    for (let oy = 0; oy < outH; oy++) {
      const g = dpre.subarray((s * outH + oy) * outW * outC);
      const top = (s * inH + oy * stride) * rowStride;
      // X_i^T: row k' of the kernel-row slice is column k' of X_i (row stride 1, column stride s x cin).
      for (let i = 0; i < kernel; i++)
        ar.gemm(span, outC, outW, x.subarray(top + i * rowStride), 1, stride * inC, g, outC, dWRows[i], outC, true);
    }
  }
  if (dcols) {
    if (!wT) throw new Error('convBackwardGemm: dx needs the transposed filter');
    ar.gemm(N, K, outC, dpre, outC, 1, wT, K, dcols, K, false);
  }
}
