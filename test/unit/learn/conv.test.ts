import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/backend.ts';
import { col2im, conv2d, convBackward, convDims, convForward, im2col, im2colT, transposeMatrix, type ConvDims } from '../../../src-main/learn/conv.ts';
import { PixelEncoder } from '../../../src-main/learn/pixel-nets.ts';
import { Rng } from '../../../src-main/util/rng.ts';

// The wasm backend is registered (and lacks the conv backprop kernels); tests switch between it
// and the plain cpu backend, whose native conv gradients are the reference.
beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

function data(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.range(-1, 1));
}

/** Reference convolution in float64: out[b, oy, ox, o] = sum x[b, oy*s+i, ox*s+j, c] w[i, j, c, o]. */
function naiveConv(x: ArrayLike<number>, w: ArrayLike<number>, batch: number, d: ConvDims): Float64Array {
  const out = new Float64Array(batch * d.P * d.outC);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < d.outH; oy++)
      for (let ox = 0; ox < d.outW; ox++)
        for (let o = 0; o < d.outC; o++) {
          let s = 0;
          for (let i = 0; i < d.kernel; i++)
            for (let j = 0; j < d.kernel; j++)
              for (let c = 0; c < d.inC; c++) s += x[((b * d.inH + oy * d.stride + i) * d.inW + ox * d.stride + j) * d.inC + c] * w[((i * d.kernel + j) * d.inC + c) * d.outC + o];
          out[((b * d.outH + oy) * d.outW + ox) * d.outC + o] = s;
        }
  return out;
}

const GEOMETRIES = [
  { inH: 9, inW: 8, inC: 3, kernel: 3, stride: 2, outC: 4 },
  { inH: 8, inW: 8, inC: 2, kernel: 4, stride: 4, outC: 3 },
  { inH: 7, inW: 6, inC: 4, kernel: 3, stride: 1, outC: 2 },
];

describe('im2col and col2im', () => {
  it('im2colT is the transpose of im2col and col2im is its adjoint', () => {
    const rng = new Rng(1);
    for (const g of GEOMETRIES) {
      const d = convDims(g);
      const B = 2;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const cols = im2col(x, B, d);
      const colsT = im2colT(x, B, d);
      expect(Array.from(transposeMatrix(cols, B * d.P, d.K))).toEqual(Array.from(colsT));
      // <im2col(x), c> == <x, col2im(c)> for every c: the backward of the gather is the scatter-add.
      const c = data(rng, cols.length);
      const back = col2im(c, B, d);
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < cols.length; i++) lhs += cols[i] * c[i];
      for (let i = 0; i < x.length; i++) rhs += x[i] * back[i];
      expect(lhs).toBeCloseTo(rhs, 3);
    }
  });

  it('refuses an input smaller than the kernel', () => {
    expect(() => convDims({ inH: 2, inW: 8, inC: 1, kernel: 3, stride: 1, outC: 1 })).toThrow(/smaller than the kernel/);
  });
});

describe('conv forward and backward', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: fused forward equals a float64 reference convolution`, async () => {
      await tf.setBackend(backend);
      const rng = new Rng(2);
      for (const g of GEOMETRIES) {
        const d = convDims(g);
        const B = 2;
        const x = data(rng, B * d.inH * d.inW * d.inC);
        const w = data(rng, d.K * d.outC);
        const ref = naiveConv(x, w, B, d);
        const y = tf.tidy(() => convForward(tf.tensor4d(x, [B, d.inH, d.inW, d.inC]), tf.tensor4d(w, [d.kernel, d.kernel, d.inC, d.outC]), null, d.stride, 'linear').dataSync());
        for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i] - ref[i])).toBeLessThan(1e-4);
      }
    });
  }

  it('im2col backward equals the cpu backend native Conv2DBackpropFilter / Input', async () => {
    await tf.setBackend('cpu');
    const rng = new Rng(3);
    for (const g of GEOMETRIES) {
      const d = convDims(g);
      const B = 3;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const w = data(rng, d.K * d.outC);
      const dy = tf.tensor4d(data(rng, B * d.P * d.outC), [B, d.outH, d.outW, d.outC]);
      const wT = tf.tensor2d(transposeMatrix(w, d.K, d.outC), [d.outC, d.K]);
      const mine = convBackward(x, dy, d, B, wT, 'im2col');
      const native = convBackward(x, dy, d, B, wT, 'native');
      for (let i = 0; i < native.dW.length; i++) expect(Math.abs(mine.dW[i] - native.dW[i])).toBeLessThan(1e-4);
      for (let i = 0; i < native.dx!.length; i++) expect(Math.abs(mine.dx![i] - native.dx![i])).toBeLessThan(1e-4);
      for (let i = 0; i < native.db.length; i++) expect(Math.abs(mine.db[i] - native.db[i])).toBeLessThan(1e-4);
      dy.dispose();
      wT.dispose();
    }
  });

  it('wasm backward matches float64 finite differences of sum(conv(x, w) * r)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(4);
    for (const g of GEOMETRIES) {
      const d = convDims(g);
      const B = 2;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const w = data(rng, d.K * d.outC);
      const r = data(rng, B * d.P * d.outC);
      const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>) => naiveConv(xv, wv, B, d).reduce((s, v, i) => s + v * r[i], 0);
      const dy = tf.tensor4d(r, [B, d.outH, d.outW, d.outC]);
      const wT = tf.tensor2d(transposeMatrix(w, d.K, d.outC), [d.outC, d.K]);
      const gr = convBackward(x, dy, d, B, wT);
      const h = 1e-3;
      for (let n = 0; n < 12; n++) {
        const i = rng.int(w.length);
        const wp = Float64Array.from(w);
        wp[i] += h;
        const wm = Float64Array.from(w);
        wm[i] -= h;
        const fd = (loss(x, wp) - loss(x, wm)) / (2 * h);
        expect(Math.abs(fd - gr.dW[i]), `dW[${i}]`).toBeLessThan(1e-3 + 1e-3 * Math.abs(fd));
        const j = rng.int(x.length);
        const xp = Float64Array.from(x);
        xp[j] += h;
        const xm = Float64Array.from(x);
        xm[j] -= h;
        const fdx = (loss(xp, w) - loss(xm, w)) / (2 * h);
        expect(Math.abs(fdx - gr.dx![j]), `dx[${j}]`).toBeLessThan(1e-3 + 1e-3 * Math.abs(fdx));
      }
      dy.dispose();
      wT.dispose();
    }
  });

  it('conv2d (customGrad) differentiates on wasm and equals tf.conv2d gradients on cpu', async () => {
    const rng = new Rng(5);
    const d = convDims(GEOMETRIES[0]);
    const B = 2;
    const x = data(rng, B * d.inH * d.inW * d.inC);
    const w = data(rng, d.K * d.outC);
    const r = data(rng, B * d.P * d.outC);
    const run = (op: typeof conv2d) => {
      const [gx, gw] = tf.grads((xt: tf.Tensor, wt: tf.Tensor) => tf.sum(tf.mul(op(xt as tf.Tensor4D, wt as tf.Tensor4D, d.stride), tf.tensor4d(r, [B, d.outH, d.outW, d.outC]))))([
        tf.tensor4d(x, [B, d.inH, d.inW, d.inC]),
        tf.tensor4d(w, [d.kernel, d.kernel, d.inC, d.outC]),
      ]);
      return [gx.dataSync().slice(), gw.dataSync().slice()];
    };
    await tf.setBackend('wasm');
    expect(() => tf.grad((wt: tf.Tensor) => tf.sum(tf.conv2d(tf.tensor4d(x, [B, d.inH, d.inW, d.inC]), wt as tf.Tensor4D, d.stride, 'valid')))(tf.tensor4d(w, [d.kernel, d.kernel, d.inC, d.outC]))).toThrow();
    const [wx, ww] = run(conv2d);
    await tf.setBackend('cpu');
    const [cx, cw] = run((a, b, s) => tf.conv2d(a, b, s, 'valid'));
    for (let i = 0; i < cx.length; i++) expect(Math.abs(wx[i] - cx[i])).toBeLessThan(1e-4);
    for (let i = 0; i < cw.length; i++) expect(Math.abs(ww[i] - cw[i])).toBeLessThan(1e-4);
  });
});

describe('PixelEncoder', () => {
  it('weight gradient of the whole conv torso matches float64 finite differences (wasm)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(6);
    const shape = { height: 12, width: 12, channels: 6 };
    const layers = [
      { kernel: 4, stride: 2, filters: 4 },
      { kernel: 3, stride: 1, filters: 3 },
      { kernel: 2, stride: 1, filters: 2 },
    ];
    const enc = new PixelEncoder(shape, layers, new Rng(7), 1e-3);
    const B = 2;
    const obs = Float32Array.from({ length: B * 12 * 12 * 6 }, () => rng.uniform());
    const r = data(rng, B * enc.outSize);
    // Float64 reference forward of the torso (conv + bias + relu per layer) with the encoder's weights.
    const loss = (p: Float64Array) => {
      let h: ArrayLike<number> = obs;
      enc.dims.forEach((d, i) => {
        const W = p.subarray(enc.params.slot(`c${i}.W`).offset, enc.params.slot(`c${i}.W`).offset + d.K * d.outC);
        const b = p.subarray(enc.params.slot(`c${i}.b`).offset, enc.params.slot(`c${i}.b`).offset + d.outC);
        const y = naiveConv(h, W, B, d);
        for (let k = 0; k < y.length; k++) y[k] = Math.max(0, y[k] + b[k % d.outC]);
        h = y;
      });
      let s = 0;
      for (let k = 0; k < r.length; k++) s += h[k] * r[k];
      return s;
    };
    const grad = tf.tidy(() => {
      const o = tf.tensor2d(obs, [B, 12 * 12 * 6]);
      const f = enc.encode(o);
      expect(f.shape).toEqual([B, enc.outSize]);
      return enc.gradient(o, tf.tensor2d(r, [B, enc.outSize]), new Float32Array(enc.params.size));
    });
    const p0 = Float64Array.from(enc.params.values);
    const h = 1e-4;
    for (const s of enc.params.slots) {
      for (let n = 0; n < 5; n++) {
        const i = s.offset + rng.int(s.size);
        const up = Float64Array.from(p0);
        up[i] += h;
        const down = Float64Array.from(p0);
        down[i] -= h;
        const fd = (loss(up) - loss(down)) / (2 * h);
        expect(Math.abs(fd - grad[i]), `${s.name}[${i - s.offset}] fd ${fd} analytic ${grad[i]}`).toBeLessThan(2e-3 + 2e-3 * Math.abs(fd));
      }
    }
    enc.dispose();
  });
});
