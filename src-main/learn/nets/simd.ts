import { gemmPool, PARALLEL_MIN_MACS, type GemmFn, type WasmMemory } from './gemm-pool.ts';

export type { GemmFn, WasmMemory };

/**
 * Hand-assembled WebAssembly SIMD kernels for the dense networks: a register-blocked SGEMM
 * micro-kernel family, emitted as bytes at start-up (no toolchain, no npm package).
 *
 * Why: at DDPG's sizes (batch 64, 400-300) the TensorFlow.js wasm backend spends about as long
 * around each matMul as in it (tensor creation, XNNPACK re-packing weights that change every
 * update, explicit transposes, dataSync). These kernels read and write plain Float32Array views of
 * one WebAssembly.Memory, take A with arbitrary row/column strides (so A^T costs nothing) and
 * accumulate into C, so a whole update runs without a single tensor.
 *
 * Micro-kernel MR x NR: C[MR x NR] (+)= sum_k A(i, k) B(k, j) with A(i, k) at a + i*rsA + k*csA,
 * B row-major with row stride ldb, C row-major with row stride ldc (strides in bytes). The
 * accumulation order over k is fixed (k = 0, 1, ...), so results are deterministic.
 */

// ---- a tiny WebAssembly binary writer ----

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/** Instruction emitter for one function body. */
class Body {
  readonly code: number[] = [];
  get(i: number): this {
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(v, this.code);
    return this;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  simd(opcode: number, memOffset?: number): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    if (memOffset !== undefined) {
      this.code.push(0); // alignment hint (log2): 1 byte, always valid
      uleb(memOffset, this.code);
    }
    return this;
  }
  mem(opcode: number, memOffset: number): this {
    this.code.push(opcode, 0);
    uleb(memOffset, this.code);
    return this;
  }
}

const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  empty: 0x40,
  i32add: 0x6a,
  i32sub: 0x6b,
  i32mul: 0x6c,
  i32gtS: 0x4a,
  i32geS: 0x4e,
  call: 0x10,
  i32eqz: 0x45,
  f32load: 0x2a,
  f32store: 0x38,
  f32add: 0x92,
  f32mul: 0x94,
  f32const0: [0x43, 0, 0, 0, 0],
};
const SIMD = {
  load: 0x00,
  splat32: 0x09,
  store: 0x0b,
  f32x4splat: 0x13,
  f32x4sqrt: 0xe3,
  f32x4add: 0xe4,
  f32x4sub: 0xe5,
  f32x4mul: 0xe6,
  f32x4div: 0xe7,
};

interface FuncDef {
  name: string;
  params: number[];
  locals: number[];
  body: Body;
}

function assemble(funcs: FuncDef[]): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]) => {
    out.push(id);
    uleb(content.length, out);
    out.push(...content);
  };
  // Types: one per function (simple, no dedup needed at this size).
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const f of funcs) {
    types.push(0x60);
    uleb(f.params.length, types);
    types.push(...f.params);
    types.push(0);
  }
  section(1, types);
  // Import: env.memory, shared (so a helper thread can run kernels on it), 1 to MAX_PAGES pages.
  const imports: number[] = [];
  uleb(1, imports);
  for (const s of ['env', 'memory']) {
    uleb(s.length, imports);
    for (const ch of s) imports.push(ch.charCodeAt(0));
  }
  imports.push(0x02, 0x03);
  uleb(1, imports);
  uleb(MAX_PAGES, imports);
  section(2, imports);
  const fsec: number[] = [];
  uleb(funcs.length, fsec);
  funcs.forEach((_, i) => uleb(i, fsec));
  section(3, fsec);
  const exp: number[] = [];
  uleb(funcs.length, exp);
  funcs.forEach((f, i) => {
    uleb(f.name.length, exp);
    for (const ch of f.name) exp.push(ch.charCodeAt(0));
    exp.push(0x00);
    uleb(i, exp);
  });
  section(7, exp);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const f of funcs) {
    const body: number[] = [];
    // Locals, run-length encoded by type.
    const groups: [number, number][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, body);
    for (const [n, t] of groups) {
      uleb(n, body);
      body.push(t);
    }
    body.push(...f.body.code, OP.end);
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code);
  return Uint8Array.from(out);
}

// ---- the micro-kernels ----

/**
 * gemm_MRxNR(a, b, c, k, rsA, csA, ldb, ldc, accumulate): NR is 8 or 4 (f32x4 vectors) or 1
 * (scalar f32). k >= 1.
 */
function microKernel(MR: number, NR: number): FuncDef {
  const vec = NR >= 4;
  const NV = vec ? NR / 4 : NR; // vectors (or scalars) per row
  const T = vec ? V128 : F32;
  const P = { a: 0, b: 1, c: 2, k: 3, rsA: 4, csA: 5, ldb: 6, ldc: 7, acc: 8 };
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, I32];
  const locals: number[] = [];
  let next = params.length;
  const aPtr: number[] = [];
  for (let i = 0; i < MR; i++) {
    aPtr.push(next++);
    locals.push(I32);
  }
  const accL: number[][] = [];
  for (let i = 0; i < MR; i++) {
    const row: number[] = [];
    for (let r = 0; r < NV; r++) {
      row.push(next++);
      locals.push(T);
    }
    accL.push(row);
  }
  const bL: number[] = [];
  for (let r = 0; r < NV; r++) {
    bL.push(next++);
    locals.push(T);
  }
  const av = next++;
  locals.push(T);
  const cRow = next++;
  locals.push(I32);
  const w = new Body();
  const width = vec ? 16 : 4;
  const load = (off: number) => (vec ? w.simd(SIMD.load, off) : w.mem(OP.f32load, off));
  const store = (off: number) => (vec ? w.simd(SIMD.store, off) : w.mem(OP.f32store, off));
  // Row pointers of A.
  for (let i = 0; i < MR; i++) {
    w.get(P.a);
    for (let t = 0; t < i; t++) w.get(P.rsA).op(OP.i32add);
    w.set(aPtr[i]);
  }
  // Accumulators: C or zero.
  w.get(P.acc).op(OP.if, OP.empty);
  w.get(P.c).set(cRow);
  for (let i = 0; i < MR; i++) {
    for (let r = 0; r < NV; r++) {
      w.get(cRow);
      load(r * width);
      w.set(accL[i][r]);
    }
    if (i < MR - 1) w.get(cRow).get(P.ldc).op(OP.i32add).set(cRow);
  }
  w.op(0x05); // else: locals start at zero
  w.op(OP.end);
  // k loop
  w.op(OP.loop, OP.empty);
  for (let r = 0; r < NV; r++) {
    w.get(P.b);
    load(r * width);
    w.set(bL[r]);
  }
  for (let i = 0; i < MR; i++) {
    w.get(aPtr[i]);
    if (vec) w.simd(SIMD.splat32, 0);
    else w.mem(OP.f32load, 0);
    w.set(av);
    for (let r = 0; r < NV; r++) {
      w.get(accL[i][r]).get(av).get(bL[r]);
      if (vec) w.simd(SIMD.f32x4mul).simd(SIMD.f32x4add);
      else w.op(OP.f32mul, OP.f32add);
      w.set(accL[i][r]);
    }
    w.get(aPtr[i]).get(P.csA).op(OP.i32add).set(aPtr[i]);
  }
  w.get(P.b).get(P.ldb).op(OP.i32add).set(P.b);
  w.get(P.k).i32(1).op(OP.i32sub).set(P.k);
  w.get(P.k).op(OP.brIf, 0);
  w.op(OP.end);
  // Store.
  w.get(P.c).set(cRow);
  for (let i = 0; i < MR; i++) {
    for (let r = 0; r < NV; r++) {
      w.get(cRow).get(accL[i][r]);
      store(r * width);
    }
    if (i < MR - 1) w.get(cRow).get(P.ldc).op(OP.i32add).set(cRow);
  }
  return { name: `k${MR}x${NR}`, params, locals, body: w };
}

/**
 * adam(w, g, m, v, d, n, b1, c1, b2, c2, step, epsHat) over n floats (a multiple of 4):
 * g' = g + d w (d: per-parameter L2 coefficient), m = b1 m + c1 g', v = b2 v + c2 g'^2,
 * w -= step m / (sqrt(v) + epsHat). Bias corrections are folded into step and epsHat by the caller.
 */
function adamKernel(): FuncDef {
  const [w, g, m, v, d, n] = [0, 1, 2, 3, 4, 5];
  const params = [I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32];
  const splats = [12, 13, 14, 15, 16, 17]; // b1 c1 b2 c2 step eps as f32x4
  const [gi, mi, vi] = [18, 19, 20];
  const locals = [V128, V128, V128, V128, V128, V128, V128, V128, V128];
  const b = new Body();
  for (let i = 0; i < 6; i++)
    b.get(6 + i)
      .simd(SIMD.f32x4splat)
      .set(splats[i]);
  b.get(n).op(OP.i32eqz).op(OP.if, OP.empty).op(OP.br, 1).op(OP.end);
  b.op(OP.loop, OP.empty);
  // gi = g + d * w
  b.get(g).simd(SIMD.load, 0).get(d).simd(SIMD.load, 0).get(w).simd(SIMD.load, 0).simd(SIMD.f32x4mul).simd(SIMD.f32x4add).set(gi);
  // m = b1 m + c1 gi
  b.get(m).get(splats[0]).get(m).simd(SIMD.load, 0).simd(SIMD.f32x4mul).get(splats[1]).get(gi).simd(SIMD.f32x4mul).simd(SIMD.f32x4add);
  b.set(mi).get(mi).simd(SIMD.store, 0);
  // v = b2 v + c2 gi^2
  b.get(v)
    .get(splats[2])
    .get(v)
    .simd(SIMD.load, 0)
    .simd(SIMD.f32x4mul)
    .get(splats[3])
    .get(gi)
    .get(gi)
    .simd(SIMD.f32x4mul)
    .simd(SIMD.f32x4mul)
    .simd(SIMD.f32x4add);
  b.set(vi).get(vi).simd(SIMD.store, 0);
  // w -= step m / (sqrt v + eps)
  b.get(w)
    .get(w)
    .simd(SIMD.load, 0)
    .get(splats[4])
    .get(mi)
    .simd(SIMD.f32x4mul)
    .get(vi)
    .simd(SIMD.f32x4sqrt)
    .get(splats[5])
    .simd(SIMD.f32x4add)
    .simd(SIMD.f32x4div)
    .simd(SIMD.f32x4sub)
    .simd(SIMD.store, 0);
  for (const p of [w, g, m, v, d]) b.get(p).i32(16).op(OP.i32add).set(p);
  b.get(n).i32(4).op(OP.i32sub).set(n).get(n).op(OP.brIf, 0);
  b.op(OP.end);
  return { name: 'adam', params, locals, body: b };
}

/** lerp(t, s, n, keep, tau): t = keep t + tau s over n floats (a multiple of 4). */
function lerpKernel(): FuncDef {
  const [t, s, n] = [0, 1, 2];
  const params = [I32, I32, I32, F32, F32];
  const [K, T] = [5, 6];
  const b = new Body();
  b.get(3).simd(SIMD.f32x4splat).set(K).get(4).simd(SIMD.f32x4splat).set(T);
  b.get(n).op(OP.i32eqz).op(OP.if, OP.empty).op(OP.br, 1).op(OP.end);
  b.op(OP.loop, OP.empty);
  b.get(t)
    .get(K)
    .get(t)
    .simd(SIMD.load, 0)
    .simd(SIMD.f32x4mul)
    .get(T)
    .get(s)
    .simd(SIMD.load, 0)
    .simd(SIMD.f32x4mul)
    .simd(SIMD.f32x4add)
    .simd(SIMD.store, 0);
  b.get(t).i32(16).op(OP.i32add).set(t).get(s).i32(16).op(OP.i32add).set(s);
  b.get(n).i32(4).op(OP.i32sub).set(n).get(n).op(OP.brIf, 0);
  b.op(OP.end);
  return { name: 'lerp', params, locals: [V128, V128], body: b };
}

/**
 * gemm(M, N, K, a, rsA, csA, b, ldb, c, ldc, accumulate): the tile loop over C, calling the
 * MR x NR micro-kernels (funcs[kernelIndex(mr, nr)]) for NR = 8, 4, 1 in turn; strides in bytes.
 * Every element of C is one micro-kernel lane summing over k in order, so any split of C into
 * blocks (threads, chunks) gives bit-identical results.
 */
function driverKernel(): FuncDef {
  const [M, N, K, a, rs, cs, b, lb, c, lc, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [j, i, aRow, cRow, bCol, rsMR, lcMR] = [11, 12, 13, 14, 15, 16, 17];
  const w = new Body();
  w.get(rs).i32(MR).op(OP.i32mul).set(rsMR).get(lc).i32(MR).op(OP.i32mul).set(lcMR);
  const call = (fn: number) => {
    w.get(aRow).get(bCol).get(cRow).get(K).get(rs).get(cs).get(lb).get(lc).get(acc).op(OP.call);
    uleb(fn, w.code);
  };
  for (const nr of NRS) {
    w.op(OP.block, OP.empty, OP.loop, OP.empty);
    w.get(j).i32(nr).op(OP.i32add).get(N).op(OP.i32gtS, OP.brIf, 1);
    w.get(b).get(j).i32(4).op(OP.i32mul, OP.i32add).set(bCol);
    w.get(c).get(j).i32(4).op(OP.i32mul, OP.i32add).set(cRow);
    w.get(a).set(aRow).i32(0).set(i);
    // Full MR-row tiles.
    w.op(OP.block, OP.empty, OP.loop, OP.empty);
    w.get(i).i32(MR).op(OP.i32add).get(M).op(OP.i32gtS, OP.brIf, 1);
    call(kernelIndex(MR, nr));
    w.get(aRow).get(rsMR).op(OP.i32add).set(aRow).get(cRow).get(lcMR).op(OP.i32add).set(cRow);
    w.get(i).i32(MR).op(OP.i32add).set(i).op(OP.br, 0, OP.end, OP.end);
    // Remaining rows one at a time.
    w.op(OP.block, OP.empty, OP.loop, OP.empty);
    w.get(i).get(M).op(OP.i32geS, OP.brIf, 1);
    call(kernelIndex(1, nr));
    w.get(aRow).get(rs).op(OP.i32add).set(aRow).get(cRow).get(lc).op(OP.i32add).set(cRow);
    w.get(i).i32(1).op(OP.i32add).set(i).op(OP.br, 0, OP.end, OP.end);
    w.get(j).i32(nr).op(OP.i32add).set(j).op(OP.br, 0, OP.end, OP.end);
  }
  return { name: 'gemm', params: new Array<number>(11).fill(I32), locals: new Array<number>(7).fill(I32), body: w };
}

export const MR = 4;
const NRS = [8, 4, 1] as const;
/** Pages of 64 KiB an arena may grow to (1 GiB): shared memories declare their maximum. */
const MAX_PAGES = 16384;

function kernelIndex(mr: number, nr: number): number {
  return (mr === MR ? 0 : NRS.length) + NRS.indexOf(nr as (typeof NRS)[number]);
}

type AdamFn = (
  w: number,
  g: number,
  m: number,
  v: number,
  d: number,
  n: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  step: number,
  eps: number,
) => void;
type LerpFn = (t: number, s: number, n: number, keep: number, tau: number) => void;

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | null = null;

function module(): object {
  if (!compiled) {
    const funcs: FuncDef[] = [];
    for (const mr of [MR, 1]) for (const nr of NRS) funcs.push(microKernel(mr, nr));
    funcs.push(adamKernel(), lerpKernel(), driverKernel());
    compiled = new WA.Module(assemble(funcs));
  }
  return compiled;
}

/** The kernels bound to one memory (on whichever thread calls this). */
export function instantiate(memory: WasmMemory): Record<string, unknown> {
  return new WA.Instance(module(), { env: { memory } }).exports;
}

interface Region {
  off: number;
  n: number;
  view: Float32Array;
}

/**
 * One WebAssembly memory holding an agent's parameters, optimizer moments, gradients and scratch
 * activations, with the kernels bound to it. Regions are named and allocated on first use (bump
 * allocation; an agent's arena lives as long as the agent). Growing the memory detaches old views,
 * so callers ask `get()` for a view when they need one instead of keeping it across allocations.
 *
 * The memory is shared so that large GEMMs are split between this thread and the helper threads
 * of gemm-pool.ts (results are bit-identical whatever the split; see driverKernel).
 */
export class Arena {
  private static nextId = 0;
  readonly memory: WasmMemory;
  /** Identifies this arena's memory to the helper threads. */
  readonly id = Arena.nextId++;
  private top = 64;
  private readonly regions = new Map<string, Region>();
  private buffer: ArrayBufferLike;
  /** Every buffer object this memory has handed out (a grown shared memory keeps old views valid). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly gemmFn: GemmFn;
  private readonly adamFn: AdamFn;
  private readonly lerpFn: LerpFn;

  constructor(bytes = 1 << 20) {
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    if (pages > MAX_PAGES) throw new Error(`networks need ${bytes} bytes, more than the ${MAX_PAGES * 64} KiB an arena can hold`);
    this.memory = new WA.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    this.buffer = this.memory.buffer;
    this.buffers.add(this.buffer);
    const exports = instantiate(this.memory);
    this.gemmFn = exports.gemm as GemmFn;
    this.adamFn = exports.adam as AdamFn;
    this.lerpFn = exports.lerp as LerpFn;
  }

  /** A fresh unique region name (for owners that allocate on behalf of objects). */
  static uid(prefix: string): string {
    return `${prefix}#${Arena.nextId++}`;
  }

  /**
   * The named region as a view of n floats, allocated zero-filled (16-byte aligned, padded to a
   * multiple of 4 floats) on first use; a request for more floats than it has moves it to a new,
   * zeroed region.
   */
  get(name: string, n: number): Float32Array {
    if (this.buffer !== this.memory.buffer) this.refresh();
    let r = this.regions.get(name);
    if (!r || r.n < n) {
      const padded = Math.ceil(n / 4) * 4;
      const off = this.top;
      this.top += padded * 4;
      const need = this.top - this.memory.buffer.byteLength;
      if (need > 0) {
        if (this.memory.buffer.byteLength / 65536 + Math.ceil(need / 65536) > MAX_PAGES)
          throw new Error(`networks need more than the ${MAX_PAGES * 64} KiB an arena can hold`);
        this.memory.grow(Math.ceil(need / 65536));
        this.refresh();
      }
      r = { off, n: padded, view: new Float32Array(this.memory.buffer, off, padded) };
      this.regions.set(name, r);
    }
    return r.view.length === n ? r.view : r.view.subarray(0, n);
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.buffers.add(this.buffer);
    for (const r of this.regions.values()) r.view = new Float32Array(this.buffer, r.off, r.n);
  }

  owns(v: Float32Array): boolean {
    if (this.buffer !== this.memory.buffer) this.refresh();
    return this.buffers.has(v.buffer);
  }

  private off(v: Float32Array): number {
    if (!this.buffers.has(v.buffer)) {
      if (this.buffer !== this.memory.buffer) this.refresh();
      if (!this.buffers.has(v.buffer)) throw new Error('array is not in this arena');
    }
    return v.byteOffset;
  }

  /**
   * C[M x N] (+)= A B with A(i, k) = A[i*rsA + k*csA] (strides in floats), B row-major with row
   * stride ldb, C row-major with row stride ldc. All three are views of this arena. Large products
   * are shared with the helper threads (gemm-pool.ts).
   */
  gemm(
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    rsA: number,
    csA: number,
    B: Float32Array,
    ldb: number,
    C: Float32Array,
    ldc: number,
    accumulate: boolean,
  ): void {
    if (M === 0 || N === 0) return;
    if (K === 0) {
      if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, i * ldc, i * ldc + N);
      return;
    }
    const args = [M, N, K, this.off(A), rsA * 4, csA * 4, this.off(B), ldb * 4, this.off(C), ldc * 4, accumulate ? 1 : 0] as const;
    if (M * N * K >= PARALLEL_MIN_MACS && gemmPool.run(this, this.gemmFn, args)) return;
    this.gemmFn(...args);
  }

  /** Fused Adam step over whole regions (w, g, m, v, d of equal padded length; see adamKernel). */
  adam(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    d: Float32Array,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    step: number,
    eps: number,
  ): void {
    const n = Math.ceil(w.length / 4) * 4;
    this.adamFn(this.off(w), this.off(g), this.off(m), this.off(v), this.off(d), n, b1, c1, b2, c2, step, eps);
  }

  /** t = keep t + tau s over whole regions. */
  lerp(t: Float32Array, s: Float32Array, keep: number, tau: number): void {
    this.lerpFn(this.off(t), this.off(s), Math.ceil(t.length / 4) * 4, keep, tau);
  }

  /** Lets the helper threads drop their hold on this arena's memory. */
  dispose(): void {
    gemmPool.forget(this);
  }
}
