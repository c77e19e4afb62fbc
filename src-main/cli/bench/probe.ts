import * as tf from '@tensorflow/tfjs';
import type { BenchSuite } from './suite.ts';
import { PIXEL_SETTINGS_DEFAULTS, PIXEL_SETTINGS_PAPER, type PixelSettings } from '../../api/run-config.ts';
import { selectBackend } from '../../learn/exec/backend.ts';
import { moments, rSquared } from '../../learn/nets/linear-probe.ts';
import { Adam, FlatParams, fanInBound } from '../../learn/nets/params.ts';
import { framesToObservation } from '../../learn/replay/pixel-replay.ts';
import { CONV_TORSOS } from '../../learn/nets/conv-torsos.ts';
import { pixelEncoderFactory, type ConvEncoder } from '../../learn/nets/pixel-nets.ts';
import { PixelEnv } from '../../render/pixel-env.ts';
import { SyncRenderHost } from '../../render/sync-host.ts';
import { createEnv } from '../../sim/env.ts';
import { resolveEnv } from '../../sim/registry.ts';
import { pixelEnvOptions } from '../../train/run-setup.ts';
import { UserError } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { matchesCase } from './learning.ts';

/**
 * Can the pixel torso read the state at all? A supervised probe that separates "the torso cannot
 * see it" from "RL cannot use it" in minutes, where a pixel DDPG run takes a quarter of an hour.
 *
 * Frames of cartpole-balance come from the PixelEnv a pixel run builds (same render host, same
 * pixel settings: train/run-setup.ts pixelEnvOptions), from three sources of equal size: episodes
 * under uniform random actions, episodes under zero actions (the pole falls slowly from upright and
 * swings), and short rollouts under small random actions from states sampled around upright
 * (angle within +-0.25 rad; the states a balancing policy must tell apart). Episodes are cut so
 * each source has at least 4; one episode in 4 is held out.
 *
 * The torso is the one a pixel run's critic trains (pixel-nets.ts pixelEncoderFactory with the
 * case's conv torso and trunk), here with a linear head, both trained by Adam to
 * regress the env's low-dimensional observation, standardised (mean squared error; batch 32,
 * learning rate 1e-3, the critic's in the DDPG paper). No random shift: the question is what the
 * frames show, not what augmentation does. Reported: held-out R^2 per observation dimension after
 * N updates (learn/nets/linear-probe.ts rSquared), over all held-out rows (`r2`) and over the held-out
 * rows within 0.2 rad of upright (`r2_upright`, with that subset's own variance: can the torso tell
 * near-upright states apart, which balancing needs). 1: read off exactly; 0 or less: not at all.
 *
 * Cases: the DDPG paper's pixels (64x64, 3 action repeats rendered and stacked, aliased), the
 * settings of the `ddpg-pixels-cartpole-balance` learning case (8 repeats, sliding stack of 3,
 * anti-aliased, LayerNorm trunk of 50), both at 84x84 (DrQ-v2's size), the latter without its
 * trunk, and with DrQ-v2's conv torso. Pick with $RL_STUDIO_BENCH_CASES (comma-separated, `*` wildcards); updates per case with
 * $RL_STUDIO_PROBE_UPDATES (default 1000, --quick 300).
 */
const ENV = 'cartpole-balance';
/** The names of cartpole's observation (cart_position, pole_angle as cos/sin, velocity). */
const DIMS = ['cart_position', 'pole_cos', 'pole_sin', 'cart_velocity', 'pole_angular_velocity'] as const;
/** Held-out rows within this angle of upright form the `r2_upright` subset. */
const UPRIGHT_RAD = 0.2;
const BATCH = 32;
const LR = 1e-3;

/** The DDPG paper's pixel setting (Lillicrap et al. 2015, section 7). */
const PAPER: PixelSettings = PIXEL_SETTINGS_PAPER;

interface ProbeCase {
  name: string;
  pixels: PixelSettings;
}

export const PROBE_CASES: ProbeCase[] = [
  { name: 'paper-64', pixels: PAPER },
  // The pixel defaults (api/pixel-settings.ts), the earlier learning case's frames, at 64 and 84.
  { name: 'bench-case-64', pixels: { ...PIXEL_SETTINGS_DEFAULTS, size: 64 } },
  { name: 'paper-84', pixels: { ...PAPER, size: 84 } },
  { name: 'bench-case-84', pixels: PIXEL_SETTINGS_DEFAULTS },
  // Without the 50-unit trunk: the linear head reads the 2048 conv features, as in the paper's torso.
  { name: 'bench-case-84-no-trunk', pixels: { ...PIXEL_SETTINGS_DEFAULTS, trunk: 0, trunkNorm: false } },
  // DrQ-v2's torso (3x3 stride 2, then three 3x3 stride 1) in place of the fast one's 4x4 stride 4 first layer.
  { name: 'bench-case-84-drq', pixels: { ...PIXEL_SETTINGS_DEFAULTS, conv: 'drq' } },
];

interface Sample {
  /** The observation's frames (PixelEnv.pixels(), frame-major uint8). */
  frames: Uint8Array;
  /** The low-dimensional observation the frames show. */
  state: Float32Array;
  heldOut: boolean;
}

/** Renders `perSource` samples from each of the three sources (see the file comment). */
function collect(env: PixelEnv, perSource: number, rng: Rng): Sample[] {
  const samples: Sample[] = [];
  const maxSteps = Math.ceil(perSource / 4);
  const A = env.info.action.size;
  const rollout = (start: () => void, action: () => Float32Array, steps: number, heldOut: boolean) => {
    start();
    for (let t = 0; t < steps; t++) {
      samples.push({ frames: env.pixels().frames, state: Float32Array.from(env.state()), heldOut });
      const r = env.step(action());
      if (r.terminated || r.truncated) break;
    }
  };
  const sources: { start: (episode: number) => void; action: () => Float32Array; steps: number }[] = [
    { start: (e) => env.reset(1000 + e), action: () => Float32Array.from({ length: A }, () => rng.range(-1, 1)), steps: maxSteps },
    { start: (e) => env.reset(2000 + e), action: () => new Float32Array(A), steps: maxSteps },
    {
      // Cart within +-0.5, pole within +-0.25 rad of upright, modest velocities; small pushes.
      start: () => env.setState([rng.range(-0.5, 0.5), rng.range(-0.25, 0.25)], [0.5 * rng.normal(), 0.5 * rng.normal()]),
      action: () => Float32Array.from({ length: A }, () => rng.range(-0.3, 0.3)),
      steps: 16,
    },
  ];
  for (const source of sources) {
    const first = samples.length;
    for (let e = 0; samples.length - first < perSource; e++)
      rollout(() => source.start(e), source.action, Math.min(source.steps, perSource - (samples.length - first)), e % 4 === 3);
  }
  return samples;
}

/** The torso with a linear head, trained by Adam on standardised targets. */
class SupervisedProbe {
  private readonly head: FlatParams;
  private readonly headOpt: Adam;
  private readonly headGrad: Float32Array;
  private readonly obs: Float32Array<ArrayBuffer>;
  private readonly inSize: number;

  constructor(
    private readonly torso: ConvEncoder,
    private readonly stack: number,
    private readonly outSize: number,
    rng: Rng,
  ) {
    const F = torso.outSize;
    this.head = new FlatParams([
      { name: 'W', shape: [F, outSize], bound: fanInBound(F), decay: false },
      { name: 'b', shape: [outSize], bound: 0, decay: false },
    ]);
    this.head.init(rng);
    this.headOpt = new Adam(this.head, LR);
    this.headGrad = new Float32Array(this.head.size);
    this.inSize = torso.inSize;
    this.obs = new Float32Array(BATCH * this.inSize);
  }

  /** Features and head outputs for up to BATCH samples (their frames put in this.obs). */
  private forward(rows: Sample[]): { features: Float32Array; predicted: Float32Array[] } {
    rows.forEach((s, i) => framesToObservation(s.frames, this.stack, this.obs.subarray(i * this.inSize, (i + 1) * this.inSize)));
    const n = rows.length;
    const features = tf.tidy(() =>
      Float32Array.from(this.torso.encode(tf.tensor2d(this.obs.subarray(0, n * this.inSize), [n, this.inSize])).dataSync()),
    );
    const F = this.torso.outSize;
    const D = this.outSize;
    const W = this.head.view('W');
    const b = this.head.view('b');
    const predicted = rows.map((_, r) => {
      const y = Float32Array.from(b);
      for (let i = 0; i < F; i++) {
        const x = features[r * F + i];
        if (x !== 0) for (let d = 0; d < D; d++) y[d] += x * W[i * D + d];
      }
      return y;
    });
    return { features, predicted };
  }

  /** One Adam step of torso and head on the mean squared error against `targets`. */
  update(rows: Sample[], targets: Float32Array[]): number {
    const n = rows.length;
    const F = this.torso.outSize;
    const D = this.outSize;
    const { features, predicted } = this.forward(rows);
    const W = this.head.view('W');
    const g = this.headGrad.fill(0);
    const dFeatures = new Float32Array(n * F);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      for (let d = 0; d < D; d++) {
        const err = predicted[r][d] - targets[r][d];
        loss += err * err;
        const dy = (2 * err) / (n * D);
        g[F * D + d] += dy;
        for (let i = 0; i < F; i++) {
          g[i * D + d] += features[r * F + i] * dy;
          dFeatures[r * F + i] += W[i * D + d] * dy;
        }
      }
    }
    tf.tidy(() =>
      this.torso.applyGradient(tf.tensor2d(this.obs.subarray(0, n * this.inSize), [n, this.inSize]), tf.tensor2d(dFeatures, [n, F])),
    );
    this.headOpt.step(g);
    return loss / (n * D);
  }

  predict(rows: Sample[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; i < rows.length; i += BATCH) out.push(...this.forward(rows.slice(i, i + BATCH)).predicted);
    return out;
  }

  dispose(): void {
    this.torso.dispose();
    this.head.dispose();
  }
}

const round = (v: number) => +v.toFixed(3);
/**
 * One field per dimension (`r2_pole_sin`), so the text output stays one line of key=value. Near
 * upright the cosine is flat (1 - angle^2 / 2 > 0.98): its R^2 there says nothing and is left out.
 */
const byDim = (prefix: string, values: number[], skip: readonly string[] = []) =>
  Object.fromEntries(DIMS.flatMap((name, d) => (skip.includes(name) ? [] : [[`${prefix}_${name}`, round(values[d])]])));

export const run: BenchSuite = async function* ({ quick, log }) {
  const backend = await selectBackend();
  log(`backend ${backend.reason}`);
  const updates = Number(process.env.RL_STUDIO_PROBE_UPDATES ?? (quick ? 300 : 1000));
  if (!Number.isInteger(updates) || updates < 1)
    throw new UserError({ field: 'RL_STUDIO_PROBE_UPDATES', message: 'a whole number of updates, at least 1' });
  const perSource = quick ? 400 : 1000;
  const pick = process.env.RL_STUDIO_BENCH_CASES?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = PROBE_CASES.filter((c) => !pick || pick.some((p) => matchesCase(p, c.name)));
  if (!chosen.length)
    throw new UserError({
      field: 'RL_STUDIO_BENCH_CASES',
      message: `no case matches ${pick?.join(', ')}; cases: ${PROBE_CASES.map((c) => c.name).join(', ')}`,
    });
  const source = resolveEnv(ENV);
  const host = await SyncRenderHost.start();
  try {
    for (const c of chosen) {
      const p = c.pixels;
      const env = await PixelEnv.create(await createEnv(source, { seed: 0 }), host, pixelEnvOptions(p, source.spec.camera));
      let probe: SupervisedProbe | null = null;
      try {
        if (env.inner.info.obs.size !== DIMS.length)
          throw new Error(`${ENV} observes ${env.inner.info.obs.size} values, the probe names ${DIMS.length}`);
        const rng = new Rng(0);
        const t0 = performance.now();
        const samples = collect(env, perSource, rng);
        const renderSeconds = (performance.now() - t0) / 1000;
        const fit = samples.filter((s) => !s.heldOut);
        const test = samples.filter((s) => s.heldOut);
        const { mean, std } = moments(fit.map((s) => s.state));
        const standardise = (s: Sample) => Float32Array.from(s.state, (v, d) => (v - mean[d]) / std[d]);
        const fitTargets = fit.map(standardise);
        const testTargets = test.map(standardise);
        const upright = test
          .map((s, i) => ({ i, angle: Math.atan2(s.state[2], s.state[1]) }))
          .filter((r) => Math.abs(r.angle) < UPRIGHT_RAD)
          .map((r) => r.i);
        const torso = pixelEncoderFactory({
          ...env.shape,
          layers: CONV_TORSOS[p.conv],
          lr: LR,
          seed: 0x5eed,
          trunk: p.trunk,
          trunkNorm: p.trunkNorm,
        })(env.shape.height * env.shape.width * env.shape.channels, { network: 'critic', lr: LR });
        probe = new SupervisedProbe(torso, env.stack, DIMS.length, rng.fork());
        log(
          `${c.name}: ${samples.length} samples (${test.length} held out, ${upright.length} of them near upright) rendered in ${renderSeconds.toFixed(0)} s; ${torso.outSize} features`,
        );
        const t1 = performance.now();
        let loss = 0;
        const order = fit.map((_, i) => i);
        let cursor = order.length;
        const evaluate = () => {
          const predicted = probe!.predict(test);
          return {
            all: rSquared(predicted, testTargets),
            upright: rSquared(
              upright.map((i) => predicted[i]),
              upright.map((i) => testTargets[i]),
            ),
          };
        };
        for (let u = 1; u <= updates; u++) {
          if (cursor + BATCH > order.length) {
            for (let i = order.length - 1; i > 0; i--) {
              const j = Math.floor(rng.uniform() * (i + 1));
              [order[i], order[j]] = [order[j], order[i]];
            }
            cursor = 0;
          }
          const rows = order.slice(cursor, cursor + BATCH);
          cursor += BATCH;
          loss += probe.update(
            rows.map((i) => fit[i]),
            rows.map((i) => fitTargets[i]),
          );
          if (u % Math.max(1, Math.round(updates / 4)) === 0 && u < updates) {
            const r2 = evaluate();
            log(
              `${c.name}: ${u} updates, train loss ${(loss / Math.round(updates / 4)).toFixed(3)}, held-out R^2 ${r2.all.map(round).join(' ')}, near upright ${r2.upright.map(round).join(' ')} (${((performance.now() - t1) / 1000).toFixed(0)} s)`,
            );
            loss = 0;
          }
        }
        const r2 = evaluate();
        yield {
          case: c.name,
          env: ENV,
          size: p.size,
          action_repeat: p.actionRepeat,
          stacking: p.stacking,
          stack: p.stack,
          antialias: p.antialias,
          trunk: p.trunk,
          trunk_norm: p.trunkNorm,
          features: torso.outSize,
          updates,
          batch: BATCH,
          samples_fit: fit.length,
          samples_held_out: test.length,
          samples_upright: upright.length,
          ...byDim('r2', r2.all),
          ...byDim('r2_upright', r2.upright, ['pole_cos']),
          render_s: +renderSeconds.toFixed(1),
          train_s: +((performance.now() - t1) / 1000).toFixed(1),
          backend: backend.name,
        };
      } finally {
        probe?.dispose();
        env.dispose();
      }
    }
  } finally {
    await host.close();
  }
};
