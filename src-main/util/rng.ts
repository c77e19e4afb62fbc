/**
 * The one source of randomness in learning code: a small seeded PRNG (sfc32, seeded through
 * splitmix32) whose whole state is four integers plus a cached Gaussian, so runs can be saved and
 * resumed bit for bit. Math.random is never used by agents, buffers or noise.
 */
export interface RngState {
  s: [number, number, number, number];
  /** Second Box-Muller variate waiting to be returned, or null. */
  spare: number | null;
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spare: number | null = null;

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller; the second variate is cached and part of the state). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An independent generator for a sub-component (e.g. one per network), derived from this one. */
  fork(): Rng {
    return new Rng(this.uint32());
  }

  getState(): RngState {
    return { s: [this.a, this.b, this.c, this.d], spare: this.spare };
  }

  setState(state: RngState): void {
    [this.a, this.b, this.c, this.d] = state.s.map((v) => v | 0) as [number, number, number, number];
    this.spare = state.spare;
  }
}
