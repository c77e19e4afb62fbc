import type { Env, EnvInfo, StepResult } from '../../../src-main/sim/types.ts';
import { Rng } from '../../../src-main/util/rng.ts';

/**
 * A 1-D point mass pushed towards the origin: x' = x + 0.1 v, v' = 0.9 v + 0.1 u. Dense reward
 * -(x^2 + 0.1 u^2); 50 steps. Doing nothing scores about -17 on average; a good controller about -3.
 */
export class PointMassEnv implements Env {
  readonly info: EnvInfo = {
    id: 'point-mass-1d',
    obs: {
      size: 2,
      parts: [
        { name: 'position', offset: 0, size: 1 },
        { name: 'velocity', offset: 1, size: 1 },
      ],
    },
    action: { size: 1, names: ['force'], low: [-1], high: [1] },
    controlTimestep: 0.1,
    frameSkip: 1,
    episodeLength: 50,
    nq: 1,
    nbody: 1,
  };
  private x = 0;
  private v = 0;
  private t = 0;
  private rng = new Rng(0);

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.x = this.rng.range(-1, 1);
    this.v = 0;
    this.t = 0;
    return this.obs();
  }

  step(action: ArrayLike<number>): StepResult {
    const u = Math.max(-1, Math.min(1, action[0]));
    const reward = -(this.x * this.x + 0.1 * u * u);
    this.x += 0.1 * this.v + 0.1 * u;
    this.v = 0.9 * this.v + 0.1 * u;
    this.t++;
    return { obs: this.obs(), reward, terminated: false, truncated: this.t >= this.info.episodeLength, diverged: false };
  }

  qpos(): Float64Array {
    return Float64Array.of(this.x);
  }

  dispose(): void {}

  private obs(): Float32Array {
    return Float32Array.of(this.x, this.v);
  }
}
