import { describe, it, expect } from 'vitest';
import { Adam, FlatParams, softUpdate } from '../../../src-main/learn/nets/params.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { Arena } from '../../../src-main/learn/nets/simd.ts';
import { Chain } from '../../../src-main/learn/nets/mlp.ts';
import { actorLayers, actorSpecs, criticLayers, criticSpecs } from '../../../src-main/learn/algos/ddpg/agent.ts';
import { ArenaExecutor } from '../../../src-main/learn/exec/arena-exec.ts';
import { criticActionGrad, criticBackward, criticForward, ExecChain } from '../../../src-main/learn/exec/nets.ts';
import { nafLayers } from '../../../src-main/learn/algos/naf/agent.ts';
import { nafQuadratic } from '../../../src-main/learn/exec/naf-head.ts';

/** NAF's loss mean w (Q - y)^2 through nafQuadratic, its gradient into dHeads. */
function nafLoss(
  heads: Float32Array,
  n: number,
  rows: number,
  u: Float32Array,
  y: Float32Array,
  w: Float32Array | null,
  dHeads: Float32Array,
): { loss: number; q: Float32Array } {
  const q = new Float32Array(rows);
  nafQuadratic(heads, n, rows, u, y, w, dHeads, q);
  let loss = 0;
  for (let r = 0; r < rows; r++) loss += ((w ? w[r] : 1) * (q[r] - y[r]) ** 2) / rows;
  return { loss, q };
}

// The networks run in float32 (WebAssembly SIMD kernels); float32 central differences with a small
// step and smooth-enough inputs keep the relative error well under 1e-2.
const B = 5; // not a multiple of the kernels' 4-row blocks: exercises the edge paths
const OBS = 3;
const ACT = 2;

function data(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.range(-1, 1));
}

/** Central-difference check of an analytic gradient of f w.r.t. x at a few indices of each [start, end) range. */
function checkFd(
  x: Float32Array,
  ranges: { name: string; start: number; end: number }[],
  f: () => number,
  analytic: Float32Array,
  rng: Rng,
  h = 3e-3,
): void {
  // h: small enough not to cross ReLU kinks at these sizes (batch norm rescales pre-activations to
  // unit spread over 5 rows, which brings kinks closer: those cases pass a smaller step).
  for (const s of ranges) {
    for (let n = 0; n < 4; n++) {
      const i = s.start + rng.int(s.end - s.start);
      const v = x[i];
      x[i] = v + h;
      const up = f();
      x[i] = v - h;
      const down = f();
      x[i] = v;
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - analytic[i]), `${s.name}[${i - s.start}] fd ${fd} analytic ${analytic[i]}`).toBeLessThan(
        2e-3 + 2e-2 * Math.abs(fd),
      );
    }
  }
}

function paramRanges(p: FlatParams) {
  return p.slots.map((s) => ({ name: s.name, start: s.offset, end: s.offset + s.size }));
}

describe('SIMD kernels', () => {
  it('gemm matches a plain loop for edge shapes, strided (transposed) A and accumulation', () => {
    const rng = new Rng(3);
    const ar = new Arena();
    for (const [M, N, K, trans, acc] of [
      [1, 1, 1, false, false],
      [5, 7, 3, false, true],
      [9, 13, 17, true, false],
      [64, 300, 40, false, false],
      [40, 64, 30, true, true],
      [3, 6, 1, false, false],
    ] as const) {
      const A = ar.get(`A${M}x${K}`, M * K).fill(0);
      A.set(data(rng, M * K));
      const Bm = ar.get(`B${K}x${N}`, K * N);
      Bm.set(data(rng, K * N));
      const C = ar.get(`C${M}x${N}`, M * N);
      const C0 = data(rng, M * N);
      C.set(C0);
      const rsA = trans ? 1 : K;
      const csA = trans ? M : 1;
      ar.gemm(M, N, K, A, rsA, csA, Bm, N, C, N, acc);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = acc ? C0[i * N + j] : 0;
          for (let k = 0; k < K; k++) s += A[i * rsA + k * csA] * Bm[k * N + j];
          expect(Math.abs(C[i * N + j] - s), `${M}x${N}x${K} (${i}, ${j})`).toBeLessThan(1e-5 * (1 + K));
        }
      }
    }
  });

  it('Adam and the soft update agree with the float64 reference loops', () => {
    const rng = new Rng(4);
    const specs = [
      { name: 'W', shape: [7, 5], bound: 1, decay: true },
      { name: 'b', shape: [5], bound: 1, decay: false },
    ];
    const p = new FlatParams(specs);
    p.init(rng);
    const w = Float64Array.from(p.values);
    const m = new Float64Array(p.size);
    const v = new Float64Array(p.size);
    const l2 = 1e-2;
    const opt = new Adam(p, 1e-3, l2);
    for (let t = 1; t <= 20; t++) {
      const g = data(rng, p.size);
      opt.step(g);
      const stepSize = (1e-3 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      const epsHat = 1e-8 * Math.sqrt(1 - 0.999 ** t);
      for (let i = 0; i < p.size; i++) {
        const gi = g[i] + (i < 35 ? l2 * w[i] : 0);
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        w[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + epsHat);
      }
    }
    for (let i = 0; i < p.size; i++) expect(Math.abs(p.values[i] - w[i])).toBeLessThan(1e-6);
    // Same arena (SIMD) and separate arenas (JS loop) give the same soft update.
    const src = new FlatParams(specs, p.arena);
    src.init(rng);
    const other = new FlatParams(specs);
    other.copyFrom(p);
    softUpdate(p, src, 0.01);
    softUpdate(other, src, 0.01);
    for (let i = 0; i < p.size; i++) expect(Math.abs(p.values[i] - other.values[i])).toBeLessThan(1e-7);
  });
});

describe('hand-written gradients match finite differences', () => {
  for (const [k, bn] of [
    [0, false],
    [1, false],
    [0, true],
    [1, true],
  ] as const) {
    const norm = bn ? ', batch norm on batch statistics' : '';
    const step = bn ? 1e-3 : 3e-3;
    it(`critic weights and input (action enters layer ${k}${norm})`, () => {
      const rng = new Rng(1);
      const exec = new ArenaExecutor(new Arena());
      const specs = criticSpecs(OBS, [5, 4], ACT, k, null, bn);
      const P = exec.params(specs);
      const p = exec.flat(P);
      p.init(rng);
      const L = criticLayers(OBS, [5, 4], ACT, k, bn);
      const xb = exec.buffer('x', B * OBS);
      const x = exec.view(xb);
      x.set(data(rng, B * OBS));
      const ab = exec.buffer('a', B * ACT);
      exec.write(ab, data(rng, B * ACT));
      const y = data(rng, B);
      const loss = () => {
        const q = exec.read(criticForward(exec, P, L, xb, ab, B, 'fd', 'train'));
        let l = 0;
        for (let i = 0; i < B; i++) l += (q[i] - y[i]) ** 2 / B;
        return l;
      };
      const G = exec.params(specs);
      const q = exec.read(criticForward(exec, P, L, xb, ab, B, 'c', 'train'));
      const dqb = exec.buffer('dq', B);
      const dq = exec.view(dqb);
      for (let i = 0; i < B; i++) dq[i] = (2 * (q[i] - y[i])) / B;
      const dx = Float32Array.from(exec.read(criticBackward(exec, P, G, L, xb, ab, dqb, B, true, 'c')!));
      checkFd(p.values, paramRanges(p), loss, exec.flat(G).values, rng, step);
      checkFd(x, [{ name: 'input', start: 0, end: B * OBS }], loss, dx, rng, step);
    });

    it(`actor through the critic, -mean Q(s, mu(s)) (action layer ${k}${norm})`, () => {
      const rng = new Rng(2);
      const exec = new ArenaExecutor(new Arena());
      const aSpecs = actorSpecs(OBS, [6, 5], ACT, null, bn);
      const actorP = exec.params(aSpecs);
      const actor = exec.flat(actorP);
      actor.init(rng);
      const criticP = exec.params(criticSpecs(OBS, [5, 4], ACT, k, null, bn));
      exec.flat(criticP).init(rng);
      const AL = actorLayers(OBS, [6, 5], ACT, bn);
      const CL = criticLayers(OBS, [5, 4], ACT, k, bn);
      const chain = new ExecChain(exec, AL, 'actor');
      const xb = exec.buffer('x', B * OBS);
      const x = exec.view(xb);
      x.set(data(rng, B * OBS));
      const zeros = exec.buffer('zeros', B * ACT);
      const loss = () => {
        const mu = new ExecChain(exec, AL, 'fd').forward(actorP, xb, B, 'train');
        const q = exec.read(criticForward(exec, criticP, CL, xb, mu, B, 'fdc', 'train'));
        let l = 0;
        for (let i = 0; i < B; i++) l -= q[i] / B;
        return l;
      };
      const G = exec.params(aSpecs);
      const mu = chain.forward(actorP, xb, B, 'train');
      // The shared obs-part comes from a critic forward on any action (here zeros).
      criticForward(exec, criticP, CL, xb, zeros, B, 'c', 'train');
      const grads = criticActionGrad(exec, criticP, CL, mu, B, 'c');
      const q = exec.read(grads.q);
      let lq = 0;
      for (let i = 0; i < B; i++) lq -= q[i] / B;
      expect(lq).toBeCloseTo(loss(), 5);
      const dAction = Float32Array.from(exec.read(grads.dAction));
      const dx = Float32Array.from(exec.read(chain.backward(actorP, G, xb, grads.dAction, B, true)!));
      checkFd(actor.values, paramRanges(actor), loss, exec.flat(G).values, rng, step);
      checkFd(
        x,
        [{ name: 'input', start: 0, end: B * OBS }],
        () => {
          // d/dx of -mean Q(x, mu(x)) through the actor only (critic's x held fixed) is not what
          // the actor backward returns; check the actor's own input gradient against its output.
          const out = exec.read(new ExecChain(exec, AL, 'fd').forward(actorP, xb, B, 'train'));
          let l = 0;
          for (let i = 0; i < B * ACT; i++) l += out[i] * dAction[i];
          return l;
        },
        dx,
        rng,
        step,
      );
    });
  }

  it("the actor's pre-tanh penalty, c sum log cosh(u) with a = tanh(u), on top of a loss linear in a", () => {
    const rng = new Rng(4);
    const exec = new ArenaExecutor(new Arena());
    const aSpecs = actorSpecs(OBS, [6, 5], ACT, null, false);
    const actorP = exec.params(aSpecs);
    const actor = exec.flat(actorP);
    actor.init(rng);
    const AL = actorLayers(OBS, [6, 5], ACT, false);
    const xb = exec.buffer('x', B * OBS);
    const x = exec.view(xb);
    x.set(data(rng, B * OBS));
    const dOutB = exec.buffer('dOut', B * ACT);
    const dOut = Float32Array.from(data(rng, B * ACT));
    exec.view(dOutB).set(dOut);
    const c = 0.7;
    const step = 3e-3;
    const loss = () => {
      const out = exec.read(new ExecChain(exec, AL, 'fd').forward(actorP, xb, B, 'train'));
      let l = 0;
      for (let i = 0; i < B * ACT; i++) l += out[i] * dOut[i] + c * Math.log(Math.cosh(Math.atanh(out[i])));
      return l;
    };
    const chain = new ExecChain(exec, AL, 'actor');
    chain.forward(actorP, xb, B, 'train');
    const G = exec.params(aSpecs);
    const dx = Float32Array.from(exec.read(chain.backward(actorP, G, xb, dOutB, B, true, c)!));
    checkFd(actor.values, paramRanges(actor), loss, exec.flat(G).values, rng, step);
    checkFd(x, [{ name: 'input', start: 0, end: B * OBS }], loss, dx, rng, step);
  });

  it("NAF's quadratic advantage head: dLoss/dHeads", () => {
    const rng = new Rng(5);
    const n = 3;
    const H = 1 + n + (n * (n + 1)) / 2;
    const heads = data(rng, B * H);
    for (let i = 0; i < heads.length; i++) heads[i] *= 0.7;
    const u = data(rng, B * n);
    const y = data(rng, B);
    const w = Float32Array.from({ length: B }, () => rng.range(0.5, 1.5));
    const dHeads = new Float32Array(B * H);
    const scratch = new Float32Array(B * H);
    nafLoss(heads, n, B, u, y, w, dHeads);
    const loss = () => nafLoss(heads, n, B, u, y, w, scratch).loss;
    const ranges = [];
    for (let r = 0; r < B; r++) {
      ranges.push({ name: `row${r}.V`, start: r * H, end: r * H + 1 });
      ranges.push({ name: `row${r}.mu`, start: r * H + 1, end: r * H + 1 + n });
      ranges.push({ name: `row${r}.L`, start: r * H + 1 + n, end: (r + 1) * H });
    }
    checkFd(heads, ranges, loss, dHeads, rng);
    // Q at u = mu equals V (the advantage is zero at the greedy action).
    const one = Float32Array.from(heads.subarray(0, H));
    const mu = Float32Array.from({ length: n }, (_, i) => Math.tanh(one[1 + i]));
    const r = nafLoss(one, n, 1, mu, Float32Array.of(0), null, new Float32Array(H));
    expect(r.q[0]).toBeCloseTo(one[0], 6);
  });

  it('NAF network: torso and heads through the quadratic head', () => {
    const rng = new Rng(6);
    const ar = new Arena();
    const L = nafLayers(OBS, [6, 5], ACT);
    const specs = L.flatMap((l) => [
      { name: l.W, shape: [l.in, l.out], bound: 1 / Math.sqrt(l.in), decay: true },
      { name: l.b, shape: [l.out], bound: 1 / Math.sqrt(l.in), decay: false },
    ]);
    const p = new FlatParams(specs, ar);
    p.init(rng);
    const H = L[L.length - 1].out;
    const x = ar.get('x', B * OBS);
    x.set(data(rng, B * OBS));
    const u = data(rng, B * ACT);
    const y = data(rng, B);
    const chain = new Chain(ar, L, 'naf');
    const loss = () => nafLoss(new Chain(ar, L, 'fd').forward(p, x, B), ACT, B, u, y, null, new Float32Array(B * H)).loss;
    const dHeads = ar.get('dHeads', B * H);
    nafLoss(chain.forward(p, x, B), ACT, B, u, y, null, dHeads);
    const g = ar.get('g', p.size);
    chain.backward(p, g, x, dHeads, B, false);
    checkFd(p.values, paramRanges(p), loss, g, rng);
  });
});
