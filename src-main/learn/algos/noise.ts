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

/**
 * A noise whose draws are scaled by a factor that falls linearly from `startScale` to 1 over
 * `decaySteps` draws (one per exploring env step), as DrQ-v2's exploration schedule (Yarats et al.
 * 2021, std 1.0 to 0.1): wide early exploration fills the replay with the whole action range, so
 * the critic learns Q across it before the policy commits (a saturated actor with narrow noise never
 * puts small actions in the replay). The draw count is part of the state, so a resumed run goes on
 * where it stopped.
 */
export class ScheduledNoise implements ActionNoise {
  private draws = 0;

  constructor(
    private readonly inner: ActionNoise,
    readonly startScale: number,
    readonly decaySteps: number,
  ) {}

  get kind(): ActionNoise['kind'] {
    return this.inner.kind;
  }

  /** The factor of the next draw. */
  scale(): number {
    const f = Math.min(1, this.draws / this.decaySteps);
    return this.startScale + (1 - this.startScale) * f;
  }

  sample(): Float32Array {
    const k = this.scale();
    this.draws++;
    const out = this.inner.sample();
    for (let i = 0; i < out.length; i++) out[i] *= k;
    return out;
  }

  reset(): void {
    this.inner.reset();
  }

  getState(): NoiseState {
    return { ...this.inner.getState(), draws: this.draws };
  }

  setState(s: NoiseState): void {
    this.inner.setState(s);
    this.draws = typeof s.draws === 'number' ? s.draws : 0;
  }
}

export interface NoiseParams {
  ouTheta: number;
  ouSigma: number;
  gaussianSigma: number;
  /** Absent or 1 with decay 0: constant noise. */
  noiseStartScale?: number;
  noiseDecaySteps?: number;
}

export function makeActionNoise(kind: 'ou' | 'gaussian' | 'param' | 'none', size: number, p: NoiseParams, rng: Rng): ActionNoise {
  const base =
    kind === 'ou'
      ? new OrnsteinUhlenbeckNoise(size, p.ouTheta, p.ouSigma, rng)
      : kind === 'gaussian'
        ? new GaussianNoise(size, p.gaussianSigma, rng)
        : new NoNoise(size);
  const start = p.noiseStartScale ?? 1;
  const steps = p.noiseDecaySteps ?? 0;
  return steps > 0 && start !== 1 && base.kind !== 'none' ? new ScheduledNoise(base, start, steps) : base;
}
