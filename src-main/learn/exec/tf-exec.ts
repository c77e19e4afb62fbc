import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../nets/params.ts';
import type { Activation, Layer, NormCtx } from '../nets/mlp.ts';
import { BN_EPS, BN_MOMENTUM, type NormMode } from '../nets/batch-norm.ts';
import { HALF_LOG_2PI, LOG_STD_MAX, LOG_STD_MIN } from './squashed-gaussian.ts';
import { triangleMaps } from './naf-head.ts';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPS,
  specSize,
  type AdamOptimizer,
  type AdamState,
  type Buf,
  type DenseGrads,
  type Executor,
  type ExecutorName,
  type Params,
} from './executor.ts';

/**
 * The TF.js executor: the primitives of executor.ts as TF.js ops on the active backend (webgpu,
 * tensorflow or cpu). Each buffer and each parameter slot holds one tensor; an op computes its
 * result inside tf.tidy (temporaries freed) and replaces the destination's tensor, disposing the
 * old one, so the number of live tensors is fixed once every buffer has been written (the memory
 * test counts them over 10^3 updates). Tensors are 2-D [rows x cols] as the op that made them.
 *
 * The math is the arena's (arena-exec.ts, mlp.ts): same Adam with decay folded into the gradient
 * and bias corrections folded into the step, same soft update; results agree within float
 * rounding (different summation orders), checked in test/unit/learn/executors.test.ts.
 */
class TfBuf implements Buf {
  t: tf.Tensor | null = null;
  constructor(
    readonly name: string,
    /** The size asked for last: ops replace the tensor whatever its size, so this is bookkeeping. */
    public n: number,
  ) {}
}

class TfParams implements Params {
  readonly slots = new Map<string, tf.Tensor>();
  readonly size: number;
  constructor(readonly specs: readonly ParamSpec[]) {
    this.size = specs.reduce((n, s) => n + specSize(s), 0);
    for (const s of specs) this.slots.set(s.name, tf.keep(tf.zeros(s.shape)));
  }
  get(name: string): tf.Tensor {
    const t = this.slots.get(name);
    if (!t) throw new Error(`no parameter '${name}'`);
    return t;
  }
  set(name: string, t: tf.Tensor): void {
    const old = this.slots.get(name);
    this.slots.set(name, tf.keep(t));
    if (old && old !== t) old.dispose();
  }
  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
  }
}

class TfAdam implements AdamOptimizer {
  t = 0;
  readonly m: TfParams;
  readonly v: TfParams;
  constructor(
    readonly params: TfParams,
    public lr: number,
    readonly l2: number,
  ) {
    this.m = new TfParams(params.specs);
    this.v = new TfParams(params.specs);
  }
}

/** The tensor of one slot of a TF.js executor's parameter set (the pixel torso computes on it directly). */
export function tfParamTensor(p: Params, name: string): tf.Tensor {
  return (p as TfParams).get(name);
}

/** Replaces one slot's tensor (kept; the old one disposed). */
export function setTfParamTensor(p: Params, name: string, t: tf.Tensor): void {
  (p as TfParams).set(name, t);
}

export class TfExecutor implements Executor {
  readonly name: ExecutorName;
  readonly syncRead: boolean;
  private readonly bufs = new Map<string, TfBuf>();
  private readonly owned: { dispose(): void }[] = [];

  /** On the TF.js backend active now (selectBackend has set it). */
  constructor() {
    const backend = tf.getBackend();
    if (backend !== 'webgpu' && backend !== 'tensorflow' && backend !== 'cpu')
      throw new Error(`the TF.js executor runs on webgpu, tensorflow or cpu, not '${backend}' (the wasm networks run on the arena)`);
    this.name = backend;
    // Dawn in Node cannot map GPU memory synchronously (tfjs-backend-webgpu's readSync needs OffscreenCanvas).
    this.syncRead = backend !== 'webgpu';
  }

  buffer(name: string, n: number): Buf {
    let b = this.bufs.get(name);
    if (!b) {
      b = new TfBuf(name, n);
      b.t = tf.keep(tf.zeros([n]));
      this.bufs.set(name, b);
    } else if (b.n !== n) {
      b.n = n;
      if (b.t!.size < n) this.put(b, tf.zeros([n]));
    }
    return b;
  }

  private put(dst: Buf, t: tf.Tensor): void {
    const b = dst as TfBuf;
    const old = b.t;
    b.t = tf.keep(t);
    if (old && old !== t) old.dispose();
  }

  private get(b: Buf): tf.Tensor {
    const t = (b as TfBuf).t;
    if (!t) throw new Error(`buffer '${b.name}' was released`);
    return t;
  }

  /** The buffer's first rows x cols values as a matrix (a reshape; call inside tf.tidy). */
  private mat(b: Buf, rows: number, cols: number): tf.Tensor2D {
    const t = this.get(b);
    if (t.rank === 2 && t.shape[0] === rows && t.shape[1] === cols) return t as tf.Tensor2D;
    return (t.size === rows * cols ? t : t.reshape([-1]).slice(0, rows * cols)).reshape([rows, cols]);
  }

  /** The first `rows` values of a buffer as a vector (call inside tf.tidy). */
  private vec(b: Buf, rows: number): tf.Tensor1D {
    const t = this.get(b);
    const flat = (t.rank === 1 ? t : t.reshape([-1])) as tf.Tensor1D;
    return flat.size === rows ? flat : flat.slice(0, rows);
  }

  write(dst: Buf, src: Float32Array): void {
    // A copy: the cpu backend keeps the array it is given, and callers reuse theirs (batches).
    const data = new Float32Array(dst.n);
    data.set(src.length > dst.n ? src.subarray(0, dst.n) : src);
    this.put(dst, tf.tensor1d(data));
  }

  fill(dst: Buf, value: number): void {
    this.put(dst, tf.fill([dst.n], value));
  }

  read(src: Buf): Float32Array {
    if (!this.syncRead) throw new Error(`the ${this.name} executor reads results only asynchronously (readAsync)`);
    return this.get(src).dataSync() as Float32Array;
  }

  async readAsync(src: Buf): Promise<Float32Array> {
    return (await this.get(src).data()) as Float32Array;
  }

  params(specs: ParamSpec[]): Params {
    const p = new TfParams(specs);
    this.owned.push(p);
    return p;
  }

  private flatParams(p: Params): tf.Tensor1D {
    const tp = p as TfParams;
    return tf.tidy(() => tf.concat(tp.specs.map((s) => tp.get(s.name).reshape([-1]))) as tf.Tensor1D);
  }

  readParams(p: Params): Float32Array {
    if (!this.syncRead) throw new Error(`the ${this.name} executor reads results only asynchronously (readParamsAsync)`);
    const flat = this.flatParams(p);
    try {
      return flat.dataSync() as Float32Array;
    } finally {
      flat.dispose();
    }
  }

  async readParamsAsync(p: Params): Promise<Float32Array> {
    const flat = this.flatParams(p);
    try {
      return (await flat.data()) as Float32Array;
    } finally {
      flat.dispose();
    }
  }

  writeParams(p: Params, values: Float32Array): void {
    const tp = p as TfParams;
    let off = 0;
    for (const s of tp.specs) {
      const n = specSize(s);
      tp.set(s.name, tf.tensor(values.slice(off, off + n), s.shape));
      off += n;
    }
  }

  copyParams(dst: Params, src: Params): void {
    const d = dst as TfParams;
    const s = src as TfParams;
    for (const spec of d.specs) d.set(spec.name, tf.clone(s.get(spec.name)));
  }

  softUpdate(target: Params, source: Params, tau: number): void {
    const t = target as TfParams;
    const s = source as TfParams;
    for (const spec of t.specs)
      t.set(
        spec.name,
        tf.tidy(() => tf.add(tf.mul(t.get(spec.name), 1 - tau), tf.mul(s.get(spec.name), tau))),
      );
  }

  adam(params: Params, lr: number, l2 = 0): AdamOptimizer {
    const opt = new TfAdam(params as TfParams, lr, l2);
    this.owned.push(opt.m, opt.v);
    return opt;
  }

  adamStep(opt: AdamOptimizer, grads: Params): void {
    const o = opt as TfAdam;
    const g = grads as TfParams;
    o.t++;
    const b1 = ADAM_BETA1;
    const b2 = ADAM_BETA2;
    // As params.ts Adam: bias corrections folded into the step size and epsilon.
    const stepSize = (o.lr * Math.sqrt(1 - Math.pow(b2, o.t))) / (1 - Math.pow(b1, o.t));
    const epsHat = ADAM_EPS * Math.sqrt(1 - Math.pow(b2, o.t));
    for (const s of o.params.specs) {
      const w = o.params.get(s.name);
      const [m, v] = tf.tidy(() => {
        let gi = g.get(s.name);
        if (o.l2 !== 0 && s.decay) gi = tf.add(gi, tf.mul(w, o.l2));
        return [
          tf.add(tf.mul(o.m.get(s.name), b1), tf.mul(gi, 1 - b1)),
          tf.add(tf.mul(o.v.get(s.name), b2), tf.mul(tf.square(gi), 1 - b2)),
        ];
      });
      o.m.set(s.name, m);
      o.v.set(s.name, v);
      o.params.set(
        s.name,
        tf.tidy(() => tf.sub(w, tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), epsHat)))),
      );
    }
  }

  readAdam(opt: AdamOptimizer): AdamState {
    const o = opt as TfAdam;
    return { m: this.readParams(o.m), v: this.readParams(o.v), t: o.t };
  }

  async readAdamAsync(opt: AdamOptimizer): Promise<AdamState> {
    const o = opt as TfAdam;
    const t = o.t;
    return { m: await this.readParamsAsync(o.m), v: await this.readParamsAsync(o.v), t };
  }

  writeAdam(opt: AdamOptimizer, state: AdamState): void {
    const o = opt as TfAdam;
    this.writeParams(o.m, state.m);
    this.writeParams(o.v, state.v);
    o.t = state.t;
  }

  /** Batch-norm scratch of the last 'train'/'update' forward under each name: xhat and 1/sqrt(var + eps). */
  private readonly bnScratch = new Map<string, { xhat: tf.Tensor2D; istd: tf.Tensor1D }>();

  /**
   * v [rows x n] normalised as nets/batch-norm.ts bnForward: the batch's statistics in 'train' and
   * 'update' (which also moves the running ones), the running statistics in 'infer' or for one row.
   * Returns a new tensor (call outside tf.tidy: the scratch and running statistics are kept).
   */
  private bnForward(p: TfParams, prefix: string, v: tf.Tensor2D, rows: number, mode: NormMode, scratch: string): tf.Tensor2D {
    const gamma = p.get(`${prefix}.gamma`);
    const beta = p.get(`${prefix}.beta`);
    const rMean = p.get(`${prefix}.mean`);
    const rVar = p.get(`${prefix}.var`);
    if (mode === 'infer' || rows < 2)
      return tf.tidy(() => {
        const scale = tf.div(gamma, tf.sqrt(tf.add(rVar, BN_EPS)));
        return tf.add(tf.mul(v, scale), tf.sub(beta, tf.mul(rMean, scale))) as tf.Tensor2D;
      });
    const [out, xhat, istd, newMean, newVar] = tf.tidy(() => {
      const mean = tf.mean(v, 0);
      const d = tf.sub(v, mean);
      const sq = tf.sum(tf.square(d), 0);
      const istd = tf.rsqrt(tf.add(tf.div(sq, rows), BN_EPS)) as tf.Tensor1D;
      const xhat = tf.mul(d, istd) as tf.Tensor2D;
      const out = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
      if (mode !== 'update') return [out, xhat, istd];
      // The running variance estimates the population's: the unbiased batch variance.
      return [
        out,
        xhat,
        istd,
        tf.add(tf.mul(rMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)),
        tf.add(tf.mul(rVar, BN_MOMENTUM), tf.mul(tf.div(sq, rows - 1), 1 - BN_MOMENTUM)),
      ];
    });
    if (newMean) p.set(`${prefix}.mean`, newMean);
    if (newVar) p.set(`${prefix}.var`, newVar);
    const old = this.bnScratch.get(scratch);
    this.bnScratch.set(scratch, { xhat: tf.keep(xhat as tf.Tensor2D), istd: tf.keep(istd as tf.Tensor1D) });
    old?.xhat.dispose();
    old?.istd.dispose();
    return out as tf.Tensor2D;
  }

  /** Backward through the last 'train'/'update' bnForward under `scratch`: gamma/beta gradients into g, returns dL/d(input). */
  private bnBackward(p: TfParams, g: TfParams, prefix: string, d: tf.Tensor2D, rows: number, scratch: string): tf.Tensor2D {
    const sc = this.bnScratch.get(scratch);
    if (!sc) throw new Error(`batch norm '${prefix}': no training forward under '${scratch}' to go back through`);
    const [dx, sdy, sdyx] = tf.tidy(() => {
      const sdy = tf.sum(d, 0);
      const sdyx = tf.sum(tf.mul(d, sc.xhat), 0);
      // dx = gamma istd / N (N dy - sum dy - xhat sum(dy xhat)).
      const k = tf.div(tf.mul(p.get(`${prefix}.gamma`), sc.istd), rows);
      return [tf.mul(k, tf.sub(tf.sub(tf.mul(d, rows), sdy), tf.mul(sc.xhat, sdyx))) as tf.Tensor2D, sdy, sdyx];
    });
    g.set(`${prefix}.gamma`, sdyx);
    g.set(`${prefix}.beta`, sdy);
    return dx;
  }

  denseForward(p: Params, L: Layer, x: Buf, rows: number, y: Buf, extra?: Buf, pre?: Buf, norm?: NormCtx): void {
    const tp = p as TfParams;
    if (L.bn) {
      // act(BN(x W + b)); batch-normalised layers take no extra input (mlp.ts Layer).
      const z = tf.tidy(() => tf.add(tf.matMul(this.mat(x, rows, L.in), tp.get(L.W) as tf.Tensor2D), tp.get(L.b)) as tf.Tensor2D);
      const zn = this.bnForward(tp, L.bn, z, rows, norm?.mode ?? 'infer', norm?.scratch ?? '');
      if (pre) this.put(pre, z);
      else z.dispose();
      const out = tf.tidy(() => activate(zn, L.act));
      if (out !== zn) zn.dispose();
      this.put(y, out);
      return;
    }
    if (!pre && !(extra && L.A)) {
      // One fused kernel for x W + b (and a ReLU): on a GPU each op is a dispatch, and dispatches,
      // not flops, bound these small layers.
      this.put(
        y,
        tf.tidy(() => {
          const z = tf.fused.matMul({
            a: this.mat(x, rows, L.in),
            b: tp.get(L.W) as tf.Tensor2D,
            bias: tp.get(L.b),
            activation: L.act === 'relu' ? 'relu' : 'linear',
          });
          return L.act === 'tanh' ? tf.tanh(z) : z;
        }),
      );
      return;
    }
    const [preT, yT] = tf.tidy(() => {
      const base = tf.add(tf.matMul(this.mat(x, rows, L.in), tp.get(L.W) as tf.Tensor2D), tp.get(L.b));
      const z = extra && L.A ? tf.add(base, tf.matMul(this.mat(extra, rows, L.extra!), tp.get(L.A) as tf.Tensor2D)) : base;
      const out = activate(z, L.act);
      // Two buffers never share one tensor (each disposes its own when replaced).
      return [base, pre && out === base ? tf.clone(out) : out];
    });
    if (pre) this.put(pre, preT);
    else if (preT !== yT) preT.dispose();
    this.put(y, yT);
  }

  denseFromPre(p: Params, L: Layer, pre: Buf, e: Buf, rows: number, y: Buf): void {
    const tp = p as TfParams;
    this.put(
      y,
      tf.tidy(() =>
        activate(tf.add(this.mat(pre, rows, L.out), tf.matMul(this.mat(e, rows, L.extra!), tp.get(L.A!) as tf.Tensor2D)), L.act),
      ),
    );
  }

  normalizeInput(p: Params, L: Layer, x: Buf, rows: number, norm: NormCtx): Buf {
    const xn = this.buffer(`${norm.scratch}.x`, rows * L.in);
    const v = tf.tidy(() => this.mat(x, rows, L.in).clone());
    const out = this.bnForward(p as TfParams, L.bnIn!, v, rows, norm.mode, norm.scratch);
    v.dispose();
    this.put(xn, out);
    return xn;
  }

  activationBackward(dy: Buf, y: Buf, rows: number, cols: number, act: Activation, dpre: Buf): void {
    this.put(
      dpre,
      tf.tidy(() => {
        const d = this.mat(dy, rows, cols);
        const out = this.mat(y, rows, cols);
        if (act === 'relu') return tf.mul(d, tf.step(out));
        if (act === 'tanh') return tf.mul(d, tf.sub(1, tf.square(out)));
        return tf.clone(d);
      }),
    );
  }

  backToPre(p: Params, g: Params, L: Layer, dy: Buf, y: Buf, rows: number, dpre: Buf, _forInput: boolean, scratch: string): void {
    this.activationBackward(dy, y, rows, L.out, L.act, dpre);
    if (L.bn) this.put(dpre, this.bnBackward(p as TfParams, g as TfParams, L.bn, this.mat(dpre, rows, L.out), rows, scratch));
  }

  backToInput(p: Params, g: Params, L: Layer, dIn: Buf, rows: number, dx: Buf | null, scratch: string): Buf | null {
    if (L.bnIn) {
      const d = this.bnBackward(p as TfParams, g as TfParams, L.bnIn, this.mat(dIn, rows, L.in), rows, scratch);
      if (dx) this.put(dx, d);
      else d.dispose();
      return dx;
    }
    if (dx)
      this.put(
        dx,
        tf.tidy(() => tf.clone(this.mat(dIn, rows, L.in))),
      );
    return dx;
  }

  denseBackward(p: Params, g: Params | null, L: Layer, x: Buf, e: Buf | null, rows: number, dpre: Buf, out: DenseGrads): void {
    const tp = p as TfParams;
    const d = () => this.mat(dpre, rows, L.out);
    if (g) {
      const tg = g as TfParams;
      tg.set(
        L.W,
        tf.tidy(() => tf.matMul(this.mat(x, rows, L.in), d(), true, false)),
      );
      tg.set(
        L.b,
        tf.tidy(() => tf.sum(d(), 0)),
      );
      if (L.A && e)
        tg.set(
          L.A,
          tf.tidy(() => tf.matMul(this.mat(e, rows, L.extra!), d(), true, false)),
        );
    }
    if (out.dIn)
      this.put(
        out.dIn,
        tf.tidy(() => tf.matMul(d(), tp.get(L.W) as tf.Tensor2D, false, true)),
      );
    if (out.dExtra && L.A)
      this.put(
        out.dExtra,
        tf.tidy(() => tf.matMul(d(), tp.get(L.A!) as tf.Tensor2D, false, true)),
      );
  }

  tdTarget(y: Buf, rewards: Buf, discounts: Buf, qA: Buf, qB: Buf | null, rows: number, entropy?: { logp: Buf; alpha: number }): void {
    this.put(
      y,
      tf.tidy(() => {
        let q: tf.Tensor = qB ? tf.minimum(this.vec(qA, rows), this.vec(qB, rows)) : this.vec(qA, rows);
        if (entropy) q = tf.sub(q, tf.mul(this.vec(entropy.logp, rows), entropy.alpha));
        return tf.add(this.vec(rewards, rows), tf.mul(this.vec(discounts, rows), q));
      }),
    );
  }

  /** mu, raw log sigma, log sigma and sigma of actor outputs [rows x 2A] (call inside tf.tidy). */
  private gaussian(out: Buf, rows: number, A: number): { mu: tf.Tensor2D; raw: tf.Tensor2D; logStd: tf.Tensor2D; sigma: tf.Tensor2D } {
    const o = this.mat(out, rows, 2 * A);
    const mu = tf.slice(o, [0, 0], [rows, A]);
    const raw = tf.slice(o, [0, A], [rows, A]);
    const logStd = tf.add(LOG_STD_MIN, tf.mul(0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.add(tf.tanh(raw), 1))) as tf.Tensor2D;
    return { mu, raw, logStd, sigma: tf.exp(logStd) };
  }

  squashedGaussian(out: Buf, eps: Buf, rows: number, A: number, actions: Buf, logp: Buf, sigma: Buf): void {
    const [a, lp, s] = tf.tidy(() => {
      const g = this.gaussian(out, rows, A);
      const e = this.mat(eps, rows, A);
      const u = tf.add(g.mu, tf.mul(g.sigma, e));
      // log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), as the arena's kernel.
      const logOneMinusTanhSq = tf.mul(2, tf.sub(tf.sub(Math.LN2, u), tf.softplus(tf.mul(u, -2))));
      const perAction = tf.sub(tf.sub(tf.sub(tf.mul(tf.square(e), -0.5), g.logStd), HALF_LOG_2PI), logOneMinusTanhSq);
      return [tf.tanh(u), tf.sum(perAction, 1), g.sigma];
    });
    this.put(actions, a);
    this.put(logp, lp);
    this.put(sigma, s);
  }

  squashedGaussianBackward(
    dOut: Buf,
    out: Buf,
    eps: Buf,
    actions: Buf,
    sigma: Buf,
    qA: Buf,
    qB: Buf,
    dA: Buf,
    dB: Buf,
    alpha: number,
    rows: number,
    A: number,
  ): void {
    this.put(
      dOut,
      tf.tidy(() => {
        const useB = tf.reshape(tf.less(this.vec(qB, rows), this.vec(qA, rows)), [rows, 1]);
        const dLda = tf.where(tf.broadcastTo(useB, [rows, A]), this.mat(dB, rows, A), this.mat(dA, rows, A));
        const a = this.mat(actions, rows, A);
        const dLdu = tf.add(tf.mul(dLda, tf.sub(1, tf.square(a))), tf.mul(a, (2 * alpha) / rows));
        const th = tf.tanh(tf.slice(this.mat(out, rows, 2 * A), [0, A], [rows, A]));
        const dLogStdDraw = tf.mul(0.5 * (LOG_STD_MAX - LOG_STD_MIN), tf.sub(1, tf.square(th)));
        const dRaw = tf.mul(tf.sub(tf.mul(tf.mul(dLdu, this.mat(sigma, rows, A)), this.mat(eps, rows, A)), alpha / rows), dLogStdDraw);
        return tf.concat([dLdu, dRaw], 1);
      }),
    );
  }

  squaredErrorGrad(dq: Buf, q: Buf, y: Buf, weights: Buf | null, rows: number): void {
    this.put(
      dq,
      tf.tidy(() => {
        const delta = tf.sub(this.vec(q, rows), this.vec(y, rows));
        const w = weights ? tf.mul(this.vec(weights, rows), 2 / rows) : tf.scalar(2 / rows);
        return tf.mul(w, delta);
      }),
    );
  }

  /** Index maps of NAF's packed triangle for n action dimensions, made once (exec/naf-head.ts). */
  private readonly triangles = new Map<number, { unpack: tf.Tensor1D; pack: tf.Tensor1D; diagonal: tf.Tensor2D }>();

  private triangle(n: number): { unpack: tf.Tensor1D; pack: tf.Tensor1D; diagonal: tf.Tensor2D } {
    let t = this.triangles.get(n);
    if (!t) {
      const m = triangleMaps(n);
      t = {
        unpack: tf.keep(tf.tensor1d(m.unpack, 'int32')),
        pack: tf.keep(tf.tensor1d(m.pack, 'int32')),
        diagonal: tf.keep(tf.tensor2d(m.diagonal, [1, n * n])),
      };
      this.triangles.set(n, t);
      const made = t;
      this.owned.push({ dispose: () => (made.unpack.dispose(), made.pack.dispose(), made.diagonal.dispose()) });
    }
    return t;
  }

  nafQuadratic(heads: Buf, actions: Buf, y: Buf, weights: Buf | null, rows: number, n: number, dHeads: Buf, q: Buf): void {
    const P = (n * (n + 1)) / 2;
    const tri = this.triangle(n);
    const [qT, dT] = tf.tidy(() => {
      const h = this.mat(heads, rows, 1 + n + P);
      const V = tf.reshape(tf.slice(h, [0, 0], [rows, 1]), [rows]);
      const mu = tf.tanh(tf.slice(h, [0, 1], [rows, n]));
      // L [rows x n*n]: the packed entries gathered into place (a zero column above the diagonal), the diagonal exponentiated.
      const raw = tf.gather(tf.concat([tf.slice(h, [0, 1 + n], [rows, P]), tf.zeros([rows, 1])], 1), tri.unpack, 1);
      const onDiag = tf.mul(tri.diagonal, tf.sub(tf.exp(raw), 1));
      const L = tf.add(raw, tf.mul(tri.diagonal, tf.sub(tf.exp(raw), raw)));
      const L3 = tf.reshape(L, [rows, n, n]);
      const d = tf.sub(this.mat(actions, rows, n), mu);
      // w = L^T d, Q = V - 1/2 |w|^2.
      const w = tf.reshape(tf.matMul(L3, tf.reshape(d, [rows, n, 1]), true, false), [rows, n]);
      const qv = tf.add(V, tf.mul(-0.5, tf.sum(tf.square(w), 1)));
      const delta = tf.sub(qv, this.vec(y, rows));
      const g = tf.reshape(weights ? tf.mul(tf.mul(this.vec(weights, rows), 2 / rows), delta) : tf.mul(delta, 2 / rows), [rows, 1]);
      // dQ/dmu = L w through tanh; dQ/dL_ij = -w_j d_i, times L_ii on the diagonal (through exp).
      const Lw = tf.reshape(tf.matMul(L3, tf.reshape(w, [rows, n, 1])), [rows, n]);
      const dMu = tf.mul(tf.mul(g, Lw), tf.sub(1, tf.square(mu)));
      const outer = tf.reshape(tf.mul(tf.reshape(d, [rows, n, 1]), tf.reshape(w, [rows, 1, n])), [rows, n * n]);
      const dL = tf.mul(tf.mul(tf.neg(g), outer), tf.add(1, onDiag));
      return [qv, tf.concat([g, dMu, tf.gather(dL, tri.pack, 1)], 1)];
    });
    this.put(q, qT);
    this.put(dHeads, dT);
  }

  column(src: Buf, rows: number, cols: number, c: number, dst: Buf): void {
    this.put(
      dst,
      tf.tidy(() => tf.reshape(tf.slice(this.mat(src, rows, cols), [0, c], [rows, 1]), [rows])),
    );
  }

  addClamped(a: Buf, noise: Buf, n: number, lo: number, hi: number): void {
    this.put(
      a,
      tf.tidy(() => tf.clipByValue(tf.add(this.vec(a, n), this.vec(noise, n)), lo, hi)),
    );
  }

  axpy(y: Buf, x: Buf, alpha: number, n: number, margin = 0): void {
    this.put(
      y,
      tf.tidy(() => {
        const xv = this.vec(x, n);
        const shrunk = margin === 0 ? xv : tf.mul(tf.sign(xv), tf.relu(tf.sub(tf.abs(xv), margin)));
        return tf.add(this.vec(y, n), tf.mul(shrunk, alpha));
      }),
    );
  }

  fromTensor(dst: Buf, t: tf.Tensor): void {
    this.put(dst, t.reshape([t.size]));
  }

  toTensor(src: Buf, rows: number, cols: number): tf.Tensor2D {
    return this.mat(src, rows, cols);
  }

  dispose(): void {
    for (const b of this.bufs.values()) b.t?.dispose();
    this.bufs.clear();
    for (const o of this.owned) o.dispose();
    this.owned.length = 0;
    this.triangles.clear();
    for (const sc of this.bnScratch.values()) {
      sc.xhat.dispose();
      sc.istd.dispose();
    }
    this.bnScratch.clear();
  }
}

function activate(t: tf.Tensor, act: Activation): tf.Tensor {
  if (act === 'relu') return tf.relu(t);
  if (act === 'tanh') return tf.tanh(t);
  return t;
}
