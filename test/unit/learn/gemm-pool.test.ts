import { describe, expect, it } from 'vitest';
import { Arena } from '../../../src-main/learn/nets/simd.ts';
import { gemmPool } from '../../../src-main/learn/nets/gemm-pool.ts';
import { Rng } from '../../../src-main/util/rng.ts';

function fill(v: Float32Array, rng: Rng): void {
  for (let i = 0; i < v.length; i++) v[i] = rng.range(-1, 1);
}

/** One row at a time: each product is below the parallel threshold, so it runs on this thread. */
function rowByRow(
  ar: Arena,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  rsA: number,
  csA: number,
  B: Float32Array,
  C: Float32Array,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) ar.gemm(1, N, K, A.subarray(i * rsA), rsA, csA, B, N, C.subarray(i * N), N, accumulate);
}

/** Random A (M x K) and B (K x N) in the arena, their product computed row by row, and room for C. */
function product(
  ar: Arena,
  rng: Rng,
  M: number,
  N: number,
  K: number,
): { A: Float32Array; B: Float32Array; ref: Float32Array; C: Float32Array } {
  const A = ar.get('A', M * K);
  const B = ar.get('B', K * N);
  fill(A, rng);
  fill(B, rng);
  const ref = ar.get('R', M * N);
  rowByRow(ar, M, N, K, A, K, 1, B, ref);
  return { A, B, ref, C: ar.get('C', M * N) };
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

// Two threads whatever the machine's default (one on machines with fewer than 4 cores).
gemmPool.setThreads(2);

describe('GEMM across threads', () => {
  it('puts the helper thread to work', async () => {
    expect(gemmPool.stats().threads).toBe(2);
    const ar = new Arena();
    const [M, N, K] = [64, 256, 256];
    const A = ar.get('A', M * K).fill(0.5);
    const B = ar.get('B', K * N).fill(0.25);
    const C = ar.get('C', M * N);
    // Helpers start asynchronously; until then the caller claims every chunk itself.
    const deadline = Date.now() + 30_000;
    while (gemmPool.stats().helperChunks === 0 && Date.now() < deadline) {
      ar.gemm(M, N, K, A, K, 1, B, N, C, N, false);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(gemmPool.stats().helperChunks).toBeGreaterThan(0);
    expect(C[0]).toBe(0.5 * 0.25 * K);
    expect(C[M * N - 1]).toBe(0.5 * 0.25 * K);
    ar.dispose();
  });

  it('gives bit-identical products to the single-threaded kernels (helpers running), wide and narrow, with A transposed', async () => {
    const rng = new Rng(7);
    const ar = new Arena();
    const cases: [number, number, number, boolean][] = [
      [64, 300, 400, false], // C split by columns
      [400, 6, 300, false], // narrow C: split by rows
      [300, 400, 64, true], // weight gradient x^T dpre
      [61, 37, 129, false], // ragged edges
    ];
    for (const [M, N, K, transposed] of cases) {
      const A = ar.get(`A${M}`, M * K);
      const B = ar.get(`B${M}`, K * N);
      fill(A, rng);
      fill(B, rng);
      const [rsA, csA] = transposed ? [1, M] : [K, 1];
      const ref = ar.get(`R${M}`, M * N);
      // Row i of A^T starts at column i of A: rowByRow's subarray(i * rsA) handles both layouts.
      rowByRow(ar, M, N, K, A, rsA, csA, B, ref);
      const C = ar.get(`C${M}`, M * N);
      ar.gemm(M, N, K, A, rsA, csA, B, N, C, N, false);
      expect(bytes(C).equals(bytes(ref)), `${M}x${N}x${K}`).toBe(true);
      // Accumulating into C (C += A B) too.
      ar.gemm(M, N, K, A, rsA, csA, B, N, C, N, true);
      rowByRow(ar, M, N, K, A, rsA, csA, B, ref, true);
      expect(bytes(C).equals(bytes(ref)), `${M}x${N}x${K} accumulated`).toBe(true);
    }
    ar.dispose();
  });

  it('serves many arenas, including ones created after others were disposed', () => {
    const rng = new Rng(3);
    for (let round = 0; round < 6; round++) {
      const ar = new Arena();
      const [M, N, K] = [32, 128, 64];
      const { A, B, ref, C } = product(ar, rng, M, N, K);
      ar.gemm(M, N, K, A, K, 1, B, N, C, N, false);
      expect(Array.from(C)).toEqual(Array.from(ref));
      if (round % 2 === 0) ar.dispose();
    }
  });

  it('in adaptive mode (the default) probes both ways, picks one, and the products stay bit-identical', () => {
    gemmPool.setThreads(2, true);
    try {
      const rng = new Rng(11);
      const ar = new Arena();
      const [M, N, K] = [64, 300, 400];
      const { A, B, ref, C } = product(ar, rng, M, N, K);
      const before = gemmPool.stats().chose;
      // Two probes of at least 136 products and 50 ms each end in a choice.
      const deadline = Date.now() + 60_000;
      let products = 0;
      while (gemmPool.stats().chose.helpers + gemmPool.stats().chose.alone === before.helpers + before.alone && Date.now() < deadline) {
        ar.gemm(M, N, K, A, K, 1, B, N, C, N, false);
        products++;
        if (products % 50 === 0) expect(bytes(C).equals(bytes(ref))).toBe(true);
      }
      const after = gemmPool.stats().chose;
      expect(after.helpers + after.alone).toBe(before.helpers + before.alone + 1);
      expect(products).toBeGreaterThanOrEqual(2 * 136);
      ar.gemm(M, N, K, A, K, 1, B, N, C, N, false);
      expect(bytes(C).equals(bytes(ref))).toBe(true);
      ar.dispose();
    } finally {
      gemmPool.setThreads(2);
    }
  });
});
