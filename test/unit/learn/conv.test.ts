import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { col2im, convBackwardGemm, convDims, convForwardGemm, transposeMatrix, type ConvDims } from '../../../src-main/learn/nets/conv.ts';
import { Arena } from '../../../src-main/learn/nets/simd.ts';
import { LAYER_NORM_EPS, TensorConvEncoder, PixelEncoder, type ConvEncoder } from '../../../src-main/learn/nets/pixel-nets.ts';
import { Rng } from '../../../src-main/util/rng.ts';

// The wasm backend is the one the agents run on; the plain cpu backend's native conv gradients are
// a reference.
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
              for (let c = 0; c < d.inC; c++)
                s +=
                  x[((b * d.inH + oy * d.stride + i) * d.inW + ox * d.stride + j) * d.inC + c] *
                  w[((i * d.kernel + j) * d.inC + c) * d.outC + o];
          out[((b * d.outH + oy) * d.outW + ox) * d.outC + o] = s;
        }
  return out;
}

/** im2col: row n = (b, oy, ox) holds the patch in filter order k = (i, j, c) (the layout col2im scatters back). */
function im2col(x: Float32Array, B: number, d: ConvDims): Float32Array {
  const out = new Float32Array(B * d.P * d.K);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < d.outH; oy++)
      for (let ox = 0; ox < d.outW; ox++)
        for (let i = 0; i < d.kernel; i++)
          for (let j = 0; j < d.kernel; j++)
            for (let c = 0; c < d.inC; c++)
              out[((b * d.outH + oy) * d.outW + ox) * d.K + (i * d.kernel + j) * d.inC + c] =
                x[((b * d.inH + oy * d.stride + i) * d.inW + ox * d.stride + j) * d.inC + c];
  return out;
}

const GEOMETRIES = [
  { inH: 9, inW: 8, inC: 3, kernel: 3, stride: 2, outC: 4 },
  { inH: 8, inW: 8, inC: 2, kernel: 4, stride: 4, outC: 3 },
  { inH: 7, inW: 6, inC: 4, kernel: 3, stride: 1, outC: 2 },
];

describe('im2col and col2im', () => {
  it('col2im is the adjoint of im2col', () => {
    const rng = new Rng(1);
    for (const g of GEOMETRIES) {
      const d = convDims(g);
      const B = 2;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const cols = im2col(x, B, d);
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

/** One conv layer on an arena: forward (linear) and its gradients for dL/dy = r. */
function arenaConv(x: Float32Array, w: Float32Array, bias: Float32Array, r: Float32Array, B: number, d: ConvDims) {
  const ar = new Arena(1 << 16);
  const N = B * d.P;
  const sizes = {
    x: x.length,
    w: w.length,
    b: d.outC,
    r: r.length,
    y: N * d.outC,
    dW: d.K * d.outC,
    db: d.outC,
    dcols: N * d.K,
    wT: d.K * d.outC,
  };
  // Allocate first: growing the arena detaches the views handed out before.
  for (const [name, n] of Object.entries(sizes)) ar.get(name, n);
  const v = (name: keyof typeof sizes) => ar.get(name, sizes[name]);
  v('x').set(x);
  v('w').set(w);
  v('b').set(bias);
  v('r').set(r);
  convForwardGemm(ar, v('x'), B, d, v('w'), v('b'), v('y'), 'linear');
  transposeMatrix(v('w'), d.K, d.outC, v('wT'));
  convBackwardGemm(ar, v('x'), v('r'), B, d, v('dW'), v('db'), v('dcols'), v('wT'));
  return { y: v('y').slice(), dW: v('dW').slice(), db: v('db').slice(), dx: col2im(v('dcols'), B, d) };
}

describe('conv layers as GEMMs on an arena', () => {
  it("forward equals a float64 reference convolution (and the wasm backend's conv2d)", () => {
    const rng = new Rng(2);
    for (const g of [...GEOMETRIES, { inH: 64, inW: 64, inC: 9, kernel: 4, stride: 4, outC: 32 }]) {
      const d = convDims(g);
      const B = 2;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const w = data(rng, d.K * d.outC);
      const bias = data(rng, d.outC);
      const ref = naiveConv(x, w, B, d);
      const { y } = arenaConv(x, w, bias, new Float32Array(B * d.P * d.outC), B, d);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y[i] - ref[i] - bias[i % d.outC])).toBeLessThan(1e-4);
      const tfy = tf.tidy(() =>
        tf
          .conv2d(tf.tensor4d(x, [B, d.inH, d.inW, d.inC]), tf.tensor4d(w, [d.kernel, d.kernel, d.inC, d.outC]), d.stride, 'valid')
          .dataSync(),
      );
      for (let i = 0; i < ref.length; i++) expect(Math.abs(tfy[i] - ref[i])).toBeLessThan(1e-4);
    }
  });

  it("backward equals the cpu backend's native Conv2DBackpropFilter / Input", async () => {
    await tf.setBackend('cpu');
    try {
      const rng = new Rng(3);
      for (const g of GEOMETRIES) {
        const d = convDims(g);
        const B = 3;
        const x = data(rng, B * d.inH * d.inW * d.inC);
        const w = data(rng, d.K * d.outC);
        const r = data(rng, B * d.P * d.outC);
        const mine = arenaConv(x, w, new Float32Array(d.outC), r, B, d);
        const [gx, gw] = tf.grads((xt: tf.Tensor, wt: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, d.stride, 'valid'), tf.tensor4d(r, [B, d.outH, d.outW, d.outC]))),
        )([tf.tensor4d(x, [B, d.inH, d.inW, d.inC]), tf.tensor4d(w, [d.kernel, d.kernel, d.inC, d.outC])]);
        const nx = gx.dataSync();
        const nw = gw.dataSync();
        for (let i = 0; i < nw.length; i++) expect(Math.abs(mine.dW[i] - nw[i])).toBeLessThan(1e-4);
        for (let i = 0; i < nx.length; i++) expect(Math.abs(mine.dx[i] - nx[i])).toBeLessThan(1e-4);
        for (let o = 0; o < d.outC; o++) {
          let s = 0;
          for (let n = 0; n < B * d.P; n++) s += r[n * d.outC + o];
          expect(Math.abs(mine.db[o] - s)).toBeLessThan(1e-4);
        }
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('backward matches float64 finite differences of sum(conv(x, w) * r), also with a wide input row', () => {
    const rng = new Rng(4);
    for (const g of [...GEOMETRIES, { inH: 30, inW: 30, inC: 2, kernel: 2, stride: 1, outC: 3 }]) {
      const d = convDims(g);
      const B = 2;
      const x = data(rng, B * d.inH * d.inW * d.inC);
      const w = data(rng, d.K * d.outC);
      const r = data(rng, B * d.P * d.outC);
      const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>) => naiveConv(xv, wv, B, d).reduce((s, v, i) => s + v * r[i], 0);
      const gr = arenaConv(x, w, new Float32Array(d.outC), r, B, d);
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
        expect(Math.abs(fdx - gr.dx[j]), `dx[${j}]`).toBeLessThan(1e-3 + 1e-3 * Math.abs(fdx));
      }
    }
  });
});

describe('PixelEncoder', () => {
  it.each([
    [0, false],
    [5, false],
    [5, true],
  ])(
    'weight gradient of the whole conv torso (feature trunk of %i units, LayerNorm %s) matches float64 finite differences (wasm)',
    async (trunk, norm) => {
      await tf.setBackend('wasm');
      const rng = new Rng(6);
      const shape = { height: 12, width: 12, channels: 6 };
      const layers = [
        { kernel: 4, stride: 2, filters: 4 },
        { kernel: 3, stride: 1, filters: 3 },
        { kernel: 2, stride: 1, filters: 2 },
      ];
      const enc = new PixelEncoder(shape, layers, new Rng(7), 1e-3, 0, trunk, norm);
      if (norm) {
        // Away from the initial scale 1 and shift 0, so that their gradients are tested too.
        enc.params.view('ln.g').set(Float32Array.from({ length: trunk }, () => rng.range(0.5, 1.5)));
        enc.params.view('ln.b').set(Float32Array.from({ length: trunk }, () => rng.range(-0.5, 0.5)));
      }
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
        if (trunk > 0) {
          // Trunk: tanh(h W + b), or tanh(LayerNorm(h W + b)), with h the flattened last conv output.
          const C = enc.convOut;
          const view = (name: string, n: number) => p.subarray(enc.params.slot(name).offset, enc.params.slot(name).offset + n);
          const W = view('t.W', C * trunk);
          const b = view('t.b', trunk);
          const t = new Float64Array(B * trunk);
          for (let n = 0; n < B; n++) {
            const z = new Float64Array(trunk);
            for (let j = 0; j < trunk; j++) {
              z[j] = b[j];
              for (let c = 0; c < C; c++) z[j] += h[n * C + c] * W[c * trunk + j];
            }
            if (norm) {
              const g = view('ln.g', trunk);
              const beta = view('ln.b', trunk);
              const mean = z.reduce((a, v) => a + v, 0) / trunk;
              const variance = z.reduce((a, v) => a + (v - mean) ** 2, 0) / trunk;
              for (let j = 0; j < trunk; j++) z[j] = g[j] * ((z[j] - mean) / Math.sqrt(variance + LAYER_NORM_EPS)) + beta[j];
            }
            for (let j = 0; j < trunk; j++) t[n * trunk + j] = Math.tanh(z[j]);
          }
          h = t;
        }
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
          expect(Math.abs(fd - grad[i]), `${s.name}[${i - s.offset}] fd ${fd} analytic ${grad[i]}`).toBeLessThan(
            2e-3 + 2e-3 * Math.abs(fd),
          );
        }
      }
      enc.dispose();
    },
  );
});

describe('TensorConvEncoder (TensorFlow.js conv kernels on the device, for the tensorflow and webgpu backends)', () => {
  it.each([
    [0, false],
    [6, true],
  ])('computes the same features and weight gradient as the arena GEMMs (trunk %i, LayerNorm %s; cpu backend)', async (trunk, norm) => {
    await tf.setBackend('cpu');
    try {
      const rng = new Rng(12);
      const shape = { height: 16, width: 16, channels: 6 };
      const layers = [
        { kernel: 4, stride: 2, filters: 5 },
        { kernel: 3, stride: 2, filters: 4 },
        { kernel: 2, stride: 1, filters: 3 },
      ];
      const arena = new PixelEncoder(shape, layers, new Rng(3), 1e-3, 0, trunk, norm);
      const native = new TensorConvEncoder(shape, layers, new Rng(99), 1e-3, 0, trunk, norm);
      // The same weights (LayerNorm scale and shift off their initial values).
      arena.params.values.set(Float32Array.from({ length: arena.params.size }, () => rng.range(-0.4, 0.4)));
      if (norm) arena.params.view('ln.g').set(Float32Array.from({ length: trunk }, () => rng.range(0.5, 1.5)));
      native.copyFrom(arena);
      const B = 3;
      const obs = Float32Array.from({ length: B * 16 * 16 * 6 }, () => rng.uniform());
      const dF = Float32Array.from({ length: B * arena.outSize }, () => rng.range(-1, 1));
      const run = (enc: ConvEncoder) =>
        tf.tidy(() => {
          const o = tf.tensor2d(obs, [B, obs.length / B]);
          const f = Float32Array.from(enc.encode(o).dataSync());
          const g = enc.gradient(o, tf.tensor2d(dF, [B, enc.outSize]), new Float32Array(enc.params.size));
          return { f, g };
        });
      const a = run(arena);
      const n = run(native);
      expect(native.outSize).toBe(arena.outSize);
      for (let i = 0; i < a.f.length; i++) expect(Math.abs(n.f[i] - a.f[i]), `feature ${i}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(a.f[i]));
      let scale = 0;
      for (const v of a.g) scale = Math.max(scale, Math.abs(v));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < a.g.length; i++) expect(Math.abs(n.g[i] - a.g[i]), `gradient ${i}`).toBeLessThan(1e-4 * scale);
      // A training step moves both the same way.
      const o = tf.tensor2d(obs, [B, obs.length / B]);
      const d = tf.tensor2d(dF, [B, arena.outSize]);
      arena.applyGradient(o, d);
      native.applyGradient(o, d);
      o.dispose();
      d.dispose();
      const pa = arena.params.values;
      const pn = native.readParams();
      for (let i = 0; i < pa.length; i++) expect(Math.abs(pn[i] - pa[i]), `weight ${i} after a step`).toBeLessThan(1e-5);
      arena.dispose();
      native.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
