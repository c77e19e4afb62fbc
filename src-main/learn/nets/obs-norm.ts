/**
 * Running observation normalisation (mean / std by Welford's algorithm). Not in the DDPG or NAF
 * papers: optional and off by default (hyperparameter `obsNormalization`).
 */
export interface ObsNormState {
  count: number;
  mean: number[];
  m2: number[];
}

export class RunningObsNorm {
  private count = 0;
  private mean: Float64Array;
  private m2: Float64Array;

  constructor(
    readonly size: number,
    readonly clip = 10,
  ) {
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }

  observe(obs: ArrayLike<number>): void {
    this.count++;
    for (let i = 0; i < this.size; i++) {
      const d = obs[i] - this.mean[i];
      this.mean[i] += d / this.count;
      this.m2[i] += d * (obs[i] - this.mean[i]);
    }
  }

  /** Normalises rows of `size` values from src into dst (may be the same array). */
  apply(src: Float32Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
    const n = this.size;
    for (let i = 0; i < src.length; i++) {
      const j = i % n;
      const std = this.count > 1 ? Math.sqrt(this.m2[j] / (this.count - 1)) + 1e-8 : 1;
      const z = (src[i] - this.mean[j]) / std;
      dst[i] = z > this.clip ? this.clip : z < -this.clip ? -this.clip : z;
    }
    return dst;
  }

  getState(): ObsNormState {
    return { count: this.count, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  setState(s: ObsNormState): void {
    this.count = s.count;
    this.mean = Float64Array.from(s.mean);
    this.m2 = Float64Array.from(s.m2);
  }
}
