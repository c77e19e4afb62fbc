import { createEnv } from '../sim/env.ts';
import { resolveEnv } from '../sim/registry.ts';
import type { Env } from '../sim/types.ts';
import { PixelEnv } from '../render/pixel-env.ts';
import { PIXEL_SETTINGS_PAPER, PixelSettingsSchema } from '../api/run-config.ts';
import { SyncRenderHost } from '../render/sync-host.ts';
import { evalSeed } from '../train/evaluate.ts';
import { UserError } from '../util/errors.ts';
import { loadExportedPolicy, type ExportedPolicy } from './load.ts';
import { toUnitAction } from './meta.ts';

/**
 * `rl-studio eval --policy PATH [--env ID]`: an exported file evaluated in an env (by default the
 * one it was trained on), on the evaluation seeds of the run it came from, so a faithful export
 * reproduces that run's eval return. A pixel policy sees what its run saw: frames drawn by the
 * render host (headless Chromium) from the task's camera at the policy's input size, one per
 * action repeat, stacked (render/pixel-env.ts).
 */
export async function evaluatePolicyFile(opts: {
  policy: string;
  env?: string;
  episodes: number;
}): Promise<{ evalReturn: number; returns: number[]; env: string; seed: number }> {
  const policy = await loadExportedPolicy(opts.policy);
  let host: SyncRenderHost | null = null;
  try {
    const seed = policy.meta.run.seed ?? 0;
    const source = resolveEnv(opts.env ?? policy.meta.env.id);
    const [height, width, channels] = policy.meta.observation.shape;
    const pixels = policy.meta.observation.kind === 'pixels';
    if (pixels && !(channels > 0 && channels % 3 === 0))
      throw new UserError({ file: opts.policy, message: `a pixel policy takes stacked RGB frames; its input has ${channels} channels` });
    const inner = await createEnv(source, { seed });
    let env: Env = inner;
    if (pixels) {
      try {
        host = await SyncRenderHost.start();
        env = await PixelEnv.create(inner, host, {
          specCamera: source.spec.camera,
          width,
          height,
          ...pixelSettingsOf(policy.meta.trainingConfig, channels / 3),
        });
      } catch (e) {
        inner.dispose();
        throw new UserError({
          file: opts.policy,
          message: `a pixel policy needs the render host to draw its frames, and it did not start: ${e instanceof Error ? e.message : String(e)}`,
        });
      }
    }
    try {
      const r = await evaluateExportedPolicy(env, policy, { episodes: opts.episodes, runSeed: seed });
      return { ...r, env: env.info.id, seed };
    } finally {
      env.dispose();
    }
  } finally {
    await host?.close();
    await policy.dispose();
  }
}

/**
 * Runs an exported policy in an env the way the trainer evaluates a run (train/evaluate.ts): N
 * episodes from the run's evaluation seeds, no noise. The policy answers in actuator units; the env
 * takes [-1, 1], so each action is mapped back through the ranges in the policy's metadata.
 */
export async function evaluateExportedPolicy(
  env: Env,
  policy: ExportedPolicy,
  opts: { episodes: number; runSeed: number },
): Promise<{ evalReturn: number; returns: number[] }> {
  checkCompatible(env, policy);
  const returns: number[] = [];
  for (let k = 0; k < opts.episodes; k++) {
    let obs = env.reset(evalSeed(opts.runSeed, k));
    let ret = 0;
    for (;;) {
      const r = env.step(toUnitAction(policy.meta, await policy(obs)));
      ret += r.reward;
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
    returns.push(ret);
  }
  const evalReturn = returns.length ? returns.reduce((a, b) => a + b, 0) / returns.length : 0;
  return { evalReturn, returns };
}

/** The env must hand out the observation the policy was trained on and drive the same actuators. */
export function checkCompatible(env: Env, policy: ExportedPolicy): void {
  const { meta } = policy;
  const info = env.info;
  if (info.obs.size !== policy.inputSize) {
    throw new UserError({
      field: '--env',
      message: `${info.id} has ${info.obs.size} observation values; the policy (trained on ${meta.env.id}) takes ${policy.inputSize}`,
    });
  }
  if (info.action.size !== meta.action.size) {
    throw new UserError({
      field: '--env',
      message: `${info.id} has ${info.action.size} actuators; the policy (trained on ${meta.env.id}) drives ${meta.action.size}`,
    });
  }
}

/**
 * The frame settings of the run a pixel policy comes from (its training config), else those of runs
 * before the settings existed: one frame per action repeat (DDPG paper: 3), all stacked, no anti-aliasing.
 */
function pixelSettingsOf(
  trainingConfig: unknown,
  frames: number,
): { actionRepeat: number; stacking: 'repeats' | 'sliding'; stack: number; antialias: boolean } {
  const given = (trainingConfig as { config?: { pixels?: unknown } } | null)?.config?.pixels;
  // A setting an older config lacks is the paper's, as it trained (api/run-config.ts pixelSettings).
  const parsed = typeof given === 'object' && given !== null ? PixelSettingsSchema.safeParse({ ...PIXEL_SETTINGS_PAPER, ...given }) : null;
  if (parsed?.success) {
    const { actionRepeat, stacking, stack, antialias } = parsed.data;
    // Only settings that give the policy's input (frames per observation) are taken.
    if ((stacking === 'sliding' ? stack : actionRepeat) === frames) return { actionRepeat, stacking, stack, antialias };
  }
  return { actionRepeat: frames, stacking: 'repeats', stack: frames, antialias: false };
}
