import type { Batch } from '../learn/types.ts';
import type { Rng } from '../util/rng.ts';
import type { ReplayBuffer } from '../learn/replay/replay.ts';
import type { PixelObservation, PixelReplay } from '../learn/replay/pixel-replay.ts';
import type { StepResult } from '../sim/types.ts';
import type { PixelEnv } from '../render/pixel-env.ts';
import type { SavableReplay } from './checkpoint.ts';

/**
 * What the trainer needs of a replay buffer, over the two kinds: low-dim transitions (float
 * observations) and pixel transitions (uint8 frames with ids, taken from the PixelEnv after each
 * reset and step). The trainer calls begin() after every reset and add() after every step.
 */
export interface TrainReplay {
  readonly size: number;
  readonly prioritized: boolean;
  beta: number;
  /** The buffer itself, as a checkpoint saves it. */
  readonly buffer: SavableReplay;
  makeBatch(size: number): Batch;
  sample(rng: Rng, out: Batch): Batch;
  updatePriorities(indices: Int32Array, tdErrors: Float32Array): void;
  /** An episode starts at `obs` (what env.reset returned). */
  begin(obs: Float32Array): void;
  /** Stores the transition from the current observation under `action` to the step's result. */
  add(action: Float32Array, r: StepResult): void;
}

/** Low-dim observations: the env's float vectors go straight into the ReplayBuffer. */
export class LowDimTrainReplay implements TrainReplay {
  private obs: Float32Array | null = null;
  constructor(readonly buffer: ReplayBuffer) {}

  get size(): number {
    return this.buffer.size;
  }
  get prioritized(): boolean {
    return this.buffer.prioritized;
  }
  get beta(): number {
    return this.buffer.beta;
  }
  set beta(v: number) {
    this.buffer.beta = v;
  }
  makeBatch(size: number): Batch {
    return this.buffer.makeBatch(size);
  }
  sample(rng: Rng, out: Batch): Batch {
    return this.buffer.sample(rng, out);
  }
  updatePriorities(indices: Int32Array, tdErrors: Float32Array): void {
    this.buffer.updatePriorities(indices, tdErrors);
  }
  begin(obs: Float32Array): void {
    this.obs = obs;
  }
  add(action: Float32Array, r: StepResult): void {
    this.buffer.add(this.obs!, action, r.reward, r.obs, r.terminated);
    this.obs = r.obs;
  }
}

/** Pixel observations: each frame is stored once as uint8 (PixelReplay), read from env.pixels(). No prioritized replay. */
export class PixelTrainReplay implements TrainReplay {
  readonly prioritized = false;
  beta = 0;
  private pix: PixelObservation | null = null;
  constructor(
    readonly buffer: PixelReplay,
    private readonly env: PixelEnv,
  ) {}

  get size(): number {
    return this.buffer.size;
  }
  makeBatch(size: number): Batch {
    return this.buffer.makeBatch(size);
  }
  sample(rng: Rng, out: Batch): Batch {
    return this.buffer.sample(rng, out);
  }
  updatePriorities(): void {
    /* uniform sampling */
  }
  begin(): void {
    this.pix = this.env.pixels();
  }
  add(action: Float32Array, r: StepResult): void {
    const next = this.env.pixels();
    this.buffer.add(this.pix!, action, r.reward, next, r.terminated);
    this.pix = next;
  }
}
