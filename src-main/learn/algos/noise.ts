import type { Rng, RngState } from '../../util/rng.ts';

/**
 * Exploration noise as strategy objects: sample() gives the next draw, reset() starts an episode,
 * getState()/setState() make runs resumable. Each owns its generator, so exploration never shifts
 * the random stream of network initialisation or minibatch sampling.
 */
export interface NoiseState {
  kind: string;
  rng: RngState;
  [k: string]: unknown;
}

export interface ActionNoise {
  readonly kind: 'ou' | 'gaussian' | 'none';
  /** Additive noise for one action vector (a fresh array). */
  sample(): Float32Array;
  reset(): void;
  getState(): NoiseState;
  setState(s: NoiseState): void;
}

/**
 * Ornstein-Uhlenbeck process dx = theta (mu - x) dt + sigma dW with dt = 1 per step, as in the DDPG
 * supplement 7 (theta 0.15, sigma 0.2): temporally correlated noise for inertial systems.
 */
export class OrnsteinUhlenbeckNoise implements ActionNoise {
  readonly kind = 'ou';
  private x: Float32Array;

  constructor(
    readonly size: number,
    readonly theta: number,
    readonly sigma: number,
    private readonly rng: Rng,
    readonly mu = 0,
  ) {
    this.x = new Float32Array(size).fill(mu);
  }

  sample(): Float32Array {
    for (let i = 0; i < this.size; i++) this.x[i] += this.theta * (this.mu - this.x[i]) + this.sigma * this.rng.normal();
    return this.x.slice();
  }

  reset(): void {
    this.x.fill(this.mu);
  }

  getState(): NoiseState {
    return { kind: this.kind, rng: this.rng.getState(), x: Array.from(this.x) };
  }

  setState(s: NoiseState): void {
    this.rng.setState(s.rng);
    this.x = Float32Array.from(s.x as number[]);
  }
}

/** Uncorrelated N(0, sigma^2) action noise (TD3 section 6.1: sigma 0.1). */
export class GaussianNoise implements ActionNoise {
  readonly kind = 'gaussian';
  constructor(
    readonly size: number,
    readonly sigma: number,
    private readonly rng: Rng,
  ) {}

  sample(): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.sigma * this.rng.normal();
    return out;
  }

  reset(): void {}

  getState(): NoiseState {
    return { kind: this.kind, rng: this.rng.getState() };
  }

  setState(s: NoiseState): void {
    this.rng.setState(s.rng);
  }
}

export class NoNoise implements ActionNoise {
  readonly kind = 'none';
  constructor(readonly size: number) {}
  sample(): Float32Array {
    return new Float32Array(this.size);
  }
  reset(): void {}
  getState(): NoiseState {
    return { kind: this.kind, rng: { s: [0, 0, 0, 0], spare: null } };
  }
  setState(): void {}
}

/**
 * Adaptive parameter-space noise (Plappert et al. 2017, section 3): the actor acts with perturbed
 * weights theta + N(0, sigma^2); sigma is scaled by alpha = 1.01 after each adaptation so that the
 * action-space distance between perturbed and clean policy tracks the target delta.
 * Deviation: the paper also adds layer normalisation to the perturbed networks; not done here.
 */
export class ParameterNoise {
  readonly kind = 'param';
  sigma: number;
  /** Plappert et al. 2017, section 3: alpha = 1.01. */
  readonly alpha = 1.01;

  constructor(
    readonly size: number,
    readonly targetStd: number,
    initialSigma: number,
    private readonly rng: Rng,
  ) {
    this.sigma = initialSigma;
  }

  /** A fresh weight perturbation N(0, sigma^2) of `size` entries (drawn at each episode start). */
  sample(): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.sigma * this.rng.normal();
    return out;
  }

  reset(): void {}

  /** Update sigma from d = sqrt(mean (mu(s) - mu~(s))^2) over a batch of replayed states. */
  adapt(distance: number): void {
    if (distance > this.targetStd) this.sigma /= this.alpha;
    else this.sigma *= this.alpha;
  }

  getState(): NoiseState {
    return { kind: this.kind, rng: this.rng.getState(), sigma: this.sigma };
  }

  setState(s: NoiseState): void {
    this.rng.setState(s.rng);
    this.sigma = s.sigma as number;
  }
}

export function makeActionNoise(kind: 'ou' | 'gaussian' | 'param' | 'none', size: number, p: { ouTheta: number; ouSigma: number; gaussianSigma: number }, rng: Rng): ActionNoise {
  if (kind === 'ou') return new OrnsteinUhlenbeckNoise(size, p.ouTheta, p.ouSigma, rng);
  if (kind === 'gaussian') return new GaussianNoise(size, p.gaussianSigma, rng);
  return new NoNoise(size);
}
