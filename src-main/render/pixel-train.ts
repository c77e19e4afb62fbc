/**
 * A pixel-DDPG run end to end, outside the trainer: PixelEnv (3 rendered action repeats, 9 x 64 x
 * 64) + PixelReplay + DDPG with the paper's pixel networks. It is the learning benchmark of the
 * pixel pipeline (`node --import tsx src-main/render/pixel-train.ts --steps 20000`) and the
 * reference for wiring pixels into the trainer: every piece the trainer needs appears here once.
 *
 * Prints JSON lines: {"event":"random","eval_return"} (uniform random actions, same eval seeds),
 * {"event":"eval","step","eval_return","episodes","wall_s","updates_per_s","env_steps_per_s"} and
 * {"event":"episode","step","return"} for training episodes.
 */
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../learn/backend.ts';
import { createPixelAgent } from '../learn/pixel-nets.ts';
import { PixelReplay } from '../learn/pixel-replay.ts';
import { Rng } from '../util/rng.ts';
import type { Agent } from '../learn/types.ts';
import { createEnv } from '../sim/env.ts';
import { resolveEnv } from '../sim/registry.ts';
import { PixelEnv } from './pixel-env.ts';
import { SyncRenderHost } from './sync-host.ts';

export interface PixelTrainOptions {
  env: string;
  algo: 'ddpg' | 'td3' | 'naf';
  steps: number;
  seed: number;
  evalEvery: number;
  evalEpisodes: number;
  /** Steps with uniform random actions before the policy acts (and before updates start). */
  warmup: number;
  size: number;
  /** Gives the actor its own conv torso at this learning rate (0: frozen); default: the actor reads the critic's torso, detached. */
  actorEncoderLr?: number;
  hyperparams: Record<string, unknown>;
}

export const PIXEL_TRAIN_DEFAULTS: PixelTrainOptions = {
  env: 'cartpole-balance',
  algo: 'ddpg',
  steps: 20_000,
  seed: 1,
  evalEvery: 2_000,
  evalEpisodes: 3,
  warmup: 1_000,
  size: 64,
  // Paper values (pixel-nets defaults: batch 16, 2 x 200, final init 3e-4) except tau: 0.001
  // moves the targets too slowly for a budget of 10^4 steps; 0.01 is our choice for this run.
  hyperparams: { tau: 0.01 },
};

/** Mean return over `episodes` deterministic episodes, and the mean |action| taken (saturation shows as ~1). */
function evaluate(env: PixelEnv, policy: (obs: Float32Array) => Float32Array, episodes: number, seed: number): { ret: number; absAction: number } {
  let total = 0;
  let abs = 0;
  let n = 0;
  for (let e = 0; e < episodes; e++) {
    let obs = env.reset(1_000_000 + seed * 1000 + e);
    for (;;) {
      const a = policy(obs);
      for (const v of a) abs += Math.abs(v);
      n += a.length;
      const r = env.step(a);
      total += r.reward;
      obs = r.obs;
      if (r.terminated || r.truncated) break;
    }
  }
  return { ret: total / episodes, absAction: abs / n };
}

export async function trainPixels(o: PixelTrainOptions, emit: (event: Record<string, unknown>) => void): Promise<void> {
  const backend = await selectBackend();
  const source = resolveEnv(o.env);
  const host = await SyncRenderHost.start();
  const env = await PixelEnv.create(await createEnv(source, { seed: o.seed }), host, { specCamera: source.spec.camera, width: o.size, height: o.size });
  const evalEnv = await PixelEnv.create(await createEnv(source, { seed: o.seed + 1 }), host, { specCamera: source.spec.camera, width: o.size, height: o.size });
  const A = env.info.action.size;
  const agent: Agent = createPixelAgent({ algo: o.algo, shape: env.shape, actionSize: A, seed: o.seed, hyperparams: o.hyperparams, ...(o.actorEncoderLr !== undefined ? { actorEncoder: 'own', actorEncoderLr: o.actorEncoderLr } : {}) });
  const hp = (agent as unknown as { hp: { batchSize: number; replayCapacity: number } }).hp;
  const replay = new PixelReplay({ capacity: Math.min(hp.replayCapacity, o.steps), height: o.size, width: o.size, stack: env.stack, newFramesPerStep: env.stack, actionSize: A });
  const batch = replay.makeBatch(hp.batchSize);
  const rng = new Rng(o.seed + 7);
  const randomPolicy = () => Float32Array.from({ length: A }, () => rng.range(-1, 1));
  emit({ event: 'start', env: o.env, algo: o.algo, hyperparams: o.hyperparams, actor_encoder_lr: o.actorEncoderLr ?? null, backend: backend.name, batch: hp.batchSize, obs: env.shape, steps: o.steps });
  emit({ event: 'random', eval_return: +evaluate(evalEnv, randomPolicy, o.evalEpisodes, o.seed).ret.toFixed(1), episodes: o.evalEpisodes });
  const t0 = performance.now();
  let updateSeconds = 0;
  let updates = 0;
  let episode = 0;
  let obs = env.reset(o.seed * 100_000);
  let pix = env.pixels();
  agent.resetEpisode();
  let ret = 0;
  const sums = { criticLoss: 0, q: 0, actorLoss: 0, n: 0 };
  try {
    for (let step = 1; step <= o.steps; step++) {
      const action = step <= o.warmup ? randomPolicy() : agent.act(obs, true);
      const r = env.step(action);
      const next = env.pixels();
      replay.add(pix, action, r.reward, next, r.terminated);
      ret += r.reward;
      obs = r.obs;
      pix = next;
      if (r.terminated || r.truncated) {
        emit({ event: 'episode', step, return: +ret.toFixed(1) });
        episode++;
        ret = 0;
        obs = env.reset(o.seed * 100_000 + episode);
        pix = env.pixels();
        agent.resetEpisode();
      }
      if (step > o.warmup) {
        const u0 = performance.now();
        const st = agent.update(replay.sample(rng, batch));
        sums.criticLoss += st.criticLoss;
        sums.q += st.q;
        sums.actorLoss += st.actorLoss ?? 0;
        sums.n++;
        updateSeconds += (performance.now() - u0) / 1000;
        updates++;
      }
      if (step % o.evalEvery === 0 || step === o.steps) {
        const ev = evaluate(evalEnv, (x) => agent.act(x, false), o.evalEpisodes, o.seed);
        const wall = (performance.now() - t0) / 1000;
        const k = Math.max(1, sums.n);
        emit({
          event: 'eval',
          step,
          eval_return: +ev.ret.toFixed(1),
          episodes: o.evalEpisodes,
          abs_action: +ev.absAction.toFixed(3),
          critic_loss: +(sums.criticLoss / k).toPrecision(3),
          q: +(sums.q / k).toPrecision(3),
          actor_loss: +(sums.actorLoss / k).toPrecision(3),
          wall_s: Math.round(wall),
          updates_per_s: updates ? +(updates / updateSeconds).toFixed(2) : 0,
          env_render_s: +env.renderSeconds.toFixed(1),
        });
        sums.criticLoss = sums.q = sums.actorLoss = sums.n = 0;
      }
    }
  } finally {
    agent.dispose();
    env.dispose();
    evalEnv.dispose();
    await host.close();
  }
}

function parseArgs(argv: string[]): PixelTrainOptions {
  const o: PixelTrainOptions = { ...PIXEL_TRAIN_DEFAULTS, hyperparams: { ...PIXEL_TRAIN_DEFAULTS.hyperparams } };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i].replace(/^--/, ''), argv[i + 1]];
    if (k === 'set') {
      const [hk, hv] = v.split('=');
      o.hyperparams[hk] = JSON.parse(hv);
    } else if (k === 'env') o.env = v;
    else if (k === 'algo') o.algo = v as PixelTrainOptions['algo'];
    else if (k === 'actor-encoder-lr') o.actorEncoderLr = Number(v);
    else if (k in o) (o as unknown as Record<string, number>)[k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = Number(v);
    else {
      const camel = k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
      if (!(camel in o)) throw new Error(`unknown option --${k}`);
      (o as unknown as Record<string, number>)[camel] = Number(v);
    }
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  trainPixels(parseArgs(process.argv.slice(2)), (e) => console.log(JSON.stringify(e))).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
