import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite } from '../commands/bench.ts';
import type { Algo } from '../../api/hyperparams.ts';
import { DDPG_QUICK_PRESET } from '../../api/hyperparams.ts';
import { selectBackend } from '../../learn/backend.ts';
import { createAgent } from '../../learn/factory.ts';
import { ReplayBuffer } from '../../learn/replay.ts';
import { Rng } from '../../util/rng.ts';
import { createEnv } from '../../sim/env.ts';
import { RunStore } from '../../store/run-store.ts';
import { resolveRunConfig, versions } from '../../train/config.ts';
import { OffPolicyTrainer } from '../../train/trainer.ts';
import { ControlState } from '../../train/session.ts';
import { setUpRun } from '../../train/run-setup.ts';
import { PixelTrainReplay } from '../../train/replay-kinds.ts';
import { PixelEnv } from '../../render/pixel-env.ts';
import type { PixelSettings } from '../../api/run-config.ts';

/**
 * Learning benchmarks (not CI): train through the product trainer (OffPolicyTrainer, the same loop
 * as `rl-studio train`) and report how far each case gets in a fixed number of env steps, with the
 * evaluation curve of every case appended to one JSONL file named in the output (one line per
 * evaluation: {case, env, algo, step, eval_return, wall_s}).
 *
 * Cases: DDPG (the 'ddpg-quick' preset) on the dense pendulum, cartpole balance (goal: eval return
 * >= 800 within 50k steps; published agents ~990), cartpole swing-up and pendulum swing-up; NAF
 * with and without imagination rollouts (Gu et al. 2016, Algorithm 2) on the same dm_control tasks.
 * NAF uses the same small networks and target rate as the quick DDPG preset, and one update per env
 * step (plus one imagined minibatch per step with the model) so the two NAF cases differ only in the
 * imagination rollouts. naf-ilqg-cartpole-balance adds iLQG exploration (section 5.2) to the
 * imagination case: half of the training episodes after the first fit are driven by the linear-
 * Gaussian controller of the fitted model (on cartpole-balance that controller alone scores about
 * 200-400 per episode where doing nothing scores about 750: the per-step fits on 5 episodes are
 * poor models there). ddpg-pixels-cartpole-balance trains pixel DDPG through the same trainer on
 * frames from the render host (the pixel learning benchmark; render/pixel-train.ts prints the
 * random-action and do-nothing returns to compare with). --quick runs a fifth of the steps.
 *
 * Where the curves go: $RL_STUDIO_BENCH_DIR, else <tmpdir>/rl-studio-bench. Cases can be picked
 * with $RL_STUDIO_BENCH_CASES (comma-separated case names).
 */
interface Case {
  name: string;
  env: string;
  algo: Algo;
  steps: number;
  hyperparams: Record<string, unknown>;
  evalEpisodes: number;
  /** Pixel observations with these frame settings (run config `pixels`); absent: the state. */
  pixels?: Partial<PixelSettings>;
}

const DDPG_HP = { ...DDPG_QUICK_PRESET, actorHidden: [...DDPG_QUICK_PRESET.actorHidden], criticHidden: [...DDPG_QUICK_PRESET.criticHidden] };
const NAF_HP = { hidden: [64, 64], tau: 0.005, batchSize: 128, updatesPerStep: 1, learningStarts: 1000, randomSteps: 1000 };

export const CASES: Case[] = [
  { name: 'ddpg-pendulum', env: 'pendulum', algo: 'ddpg', steps: 10_000, hyperparams: DDPG_HP, evalEpisodes: 10 },
  { name: 'ddpg-cartpole-balance', env: 'cartpole-balance', algo: 'ddpg', steps: 50_000, hyperparams: DDPG_HP, evalEpisodes: 3 },
  { name: 'ddpg-cartpole-swingup', env: 'cartpole-swingup', algo: 'ddpg', steps: 100_000, hyperparams: DDPG_HP, evalEpisodes: 3 },
  { name: 'ddpg-pendulum-swingup', env: 'pendulum-swingup', algo: 'ddpg', steps: 100_000, hyperparams: DDPG_HP, evalEpisodes: 3 },
  ...(['cartpole-balance', 'cartpole-swingup', 'pendulum-swingup'] as const).flatMap((env) => [
    { name: `naf-${env}`, env, algo: 'naf' as Algo, steps: env === 'cartpole-balance' ? 50_000 : 100_000, hyperparams: { ...NAF_HP, hidden: [...NAF_HP.hidden] }, evalEpisodes: 3 },
    { name: `naf-imagination-${env}`, env, algo: 'naf' as Algo, steps: env === 'cartpole-balance' ? 50_000 : 100_000, hyperparams: { ...NAF_HP, hidden: [...NAF_HP.hidden], modelBased: true }, evalEpisodes: 3 },
  ]),
  { name: 'naf-ilqg-cartpole-balance', env: 'cartpole-balance', algo: 'naf', steps: 50_000, hyperparams: { ...NAF_HP, hidden: [...NAF_HP.hidden], modelBased: true, ilqgExploration: 0.5 }, evalEpisodes: 3 },
  // Pixel DDPG (the paper's networks and batch 16) with the settings that learned best here (see
  // the README): 8 action repeats, a sliding stack of 3, anti-aliased frames, random shift 4
  // (DrQ), a 50-unit LayerNorm trunk and 3-step returns (DrQ-v2), twin critics with target-policy
  // smoothing and Gaussian exploration (TD3's, as DrQ-v2), critic learning rate 3e-4.
  {
    name: 'ddpg-pixels-cartpole-balance',
    env: 'cartpole-balance',
    algo: 'ddpg',
    steps: 20_000,
    hyperparams: {
      tau: 0.01,
      criticL2: 0,
      criticLr: 3e-4,
      twinCritics: true,
      targetNoise: 0.2,
      targetNoiseClip: 0.3,
      exploration: 'gaussian',
      gaussianSigma: 0.2,
      randomSteps: 1000,
      learningStarts: 1000,
    },
    evalEpisodes: 5,
    pixels: { actionRepeat: 8, stacking: 'sliding', stack: 3, shift: 4, trunk: 50, trunkNorm: true, nStep: 3, antialias: true },
  },
];

export const run: BenchSuite = async function* ({ quick, log }) {
  const backend = await selectBackend();
  log(`backend ${backend.reason}`);
  const outDir = process.env.RL_STUDIO_BENCH_DIR ?? join(tmpdir(), 'rl-studio-bench');
  mkdirSync(outDir, { recursive: true });
  const curveFile = join(outDir, `learning-${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.jsonl`);
  writeFileSync(curveFile, '');
  log(`curves: ${curveFile}`);
  const pick = process.env.RL_STUDIO_BENCH_CASES?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of CASES) {
    if (pick && !pick.includes(c.name)) continue;
    const steps = quick ? Math.round(c.steps / 5) : c.steps;
    const evalEvery = Math.max(1000, Math.round(steps / 20 / 1000) * 1000);
    const { config, env: resolved } = resolveRunConfig({
      env: c.env,
      algo: c.algo,
      steps,
      seed: 0,
      evalEvery,
      evalEpisodes: c.evalEpisodes,
      checkpointEvery: steps,
      keepCheckpoints: 1,
      saveReplay: false,
      hyperparams: c.hyperparams,
      ...(c.pixels ? { obs: 'pixels', pixels: c.pixels } : {}),
    });
    // Pixel cases build their envs (one render host) and agent as training does.
    const setup = c.pixels ? await setUpRun(config, resolved, 2) : null;
    const env = setup ? setup.envs[0] : await createEnv(resolved, { seed: 1 });
    const evalEnv = setup ? setup.envs[1] : await createEnv(resolved, { seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'rl-studio-bench-'));
    try {
      const runFiles = new RunStore(dir).create(config, { source: resolved, origin: resolved.origin, dir: resolved.dir }, { versions: versions() });
      const obsSize = env.info.obs.size;
      const agent = setup ? setup.agent : createAgent(c.algo, obsSize, env.info.action, { ...config.hyperparams }, config.seed);
      const capacity = Math.min(config.hyperparams.replayCapacity, steps);
      const replay =
        env instanceof PixelEnv
          ? new PixelTrainReplay(env.newReplay(capacity, { shift: config.pixels.shift, nStep: config.pixels.nStep, gamma: config.hyperparams.gamma }), env)
          : new ReplayBuffer({ capacity, obsSize, actionSize: env.info.action.size });
      const state = { step: 0, episodes: 0, episodeIndex: 0, divergedEpisodes: 0, updates: 0, elapsed: 0, latestEval: null, bestEval: null, rng: new Rng(config.seed + 5).getState() };
      const t0 = performance.now();
      let final: number | null = null;
      let best: number | null = null;
      const trainer = new OffPolicyTrainer({
        runId: runFiles.id,
        config,
        run: runFiles,
        env,
        evalEnv,
        agent,
        replay,
        state,
        steps,
        control: new ControlState(),
        emit: (e) => {
          if (e.type !== 'eval') return;
          final = e.evalReturn;
          best = best === null ? e.evalReturn : Math.max(best, e.evalReturn);
          const wall = (performance.now() - t0) / 1000;
          appendFileSync(curveFile, JSON.stringify({ case: c.name, env: c.env, algo: c.algo, step: e.step, eval_return: +e.evalReturn.toFixed(2), wall_s: +wall.toFixed(1) }) + '\n');
          log(`${c.name}: step ${e.step} eval return ${e.evalReturn.toFixed(1)} (${wall.toFixed(0)} s)`);
        },
      });
      await trainer.run();
      if (!setup) agent.dispose();
      yield {
        case: c.name,
        env: c.env,
        algo: c.algo + (c.pixels ? '+pixels' : '') + (c.hyperparams.modelBased ? '+imagination' : '') + (c.hyperparams.ilqgExploration ? '+ilqg' : ''),
        steps,
        final_eval_return: final === null ? null : +(final as number).toFixed(2),
        best_eval_return: best === null ? null : +(best as number).toFixed(2),
        wall_s: +((performance.now() - t0) / 1000).toFixed(1),
        curve_file: curveFile,
      };
    } finally {
      if (setup) await setup.close();
      else {
        env.dispose();
        evalEnv.dispose();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
};
