import { pixelSettings } from '../api/run-config.ts';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainEvent } from '../api/events.ts';
import type { RunStatus } from '../api/runs.ts';
import { PixelReplay } from '../learn/replay/pixel-replay.ts';
import { ReplayBuffer } from '../learn/replay/replay.ts';
import { Rng } from '../util/rng.ts';
import { PixelEnv } from '../render/pixel-env.ts';
import { isUserError, UserError } from '../util/errors.ts';
import { RunFiles, storageProblem } from '../store/run-store.ts';
import { decodeCheckpoint, type TrainerState } from './checkpoint.ts';
import { runEnvSource } from './config.ts';
import { selectRunBackend, setUpRun } from './run-setup.ts';
import { LowDimTrainReplay, PixelTrainReplay, type TrainReplay } from './replay-kinds.ts';
import { OffPolicyTrainer, type TrainerControl } from './trainer.ts';

/** Pause / resume / stop requests and the live-view switch, as the worker receives them. */
export class ControlState implements TrainerControl {
  pauseRequested = false;
  stopRequested = false;
  live = false;
  private waiters: ((v: 'resume' | 'stop') => void)[] = [];

  pause(): void {
    this.pauseRequested = true;
  }

  resume(): void {
    this.pauseRequested = false;
    for (const w of this.waiters.splice(0)) w('resume');
  }

  stop(): void {
    this.stopRequested = true;
    for (const w of this.waiters.splice(0)) w('stop');
  }

  waitForResume(): Promise<'resume' | 'stop'> {
    if (this.stopRequested) return Promise.resolve('stop');
    return new Promise((res) => this.waiters.push(res));
  }
}

export interface SessionEnd {
  status: RunStatus;
  step: number;
  reason: string | null;
  evalReturn: number | null;
}

/**
 * One training session of a run: picks the backend, rebuilds env and agent, resumes from the newest
 * intact checkpoint (dropping metric lines and recordings past it), and trains. Everything the user
 * should know (a damaged checkpoint skipped, a cut episode) is emitted as a warning.
 */
export async function runSession(
  input: { runDir: string; steps?: number },
  control: ControlState,
  emit: (e: TrainEvent) => void,
): Promise<SessionEnd> {
  const run = RunFiles.open(input.runDir);
  const runId = run.id;
  const warn = (message: string) => emit({ runId, type: 'warning', message });
  let step = 0;
  const fail = (status: RunStatus, reason: string): SessionEnd => {
    try {
      const prev = run.readStatus().status;
      run.writeStatus({
        status,
        step: prev?.step ?? step,
        steps: prev?.steps ?? input.steps ?? 1,
        latestEval: prev?.latestEval ?? null,
        bestEval: prev?.bestEval ?? null,
        reason,
        checkpointStep: prev?.checkpointStep ?? null,
        pid: null,
        updatedAt: new Date().toISOString(),
      });
    } catch {
      /* the event below still tells the host */
    }
    emit({ runId, type: 'status', status, step, reason });
    return { status, step, reason, evalReturn: null };
  };

  let closeSetup = async () => {};
  try {
    const stored = run.readConfig();
    const config = stored.config;
    const backend = await selectRunBackend();
    try {
      run.writeConfig({ ...stored, backend: { name: backend.name, reason: backend.reason } });
    } catch (e) {
      const why = storageProblem(e, 'config.json');
      if (why) return fail('paused', why);
      throw e;
    }
    const setup = await setUpRun(config, runEnvSource(run), 2);
    closeSetup = setup.close;
    // Where the networks run can differ from the backend (learn/exec/select.ts): recorded with it.
    const networks = setup.agent.executorNote ?? null;
    if (networks) {
      try {
        run.writeConfig({ ...run.readConfig(), backend: { name: backend.name, reason: backend.reason, networks } });
      } catch (e) {
        const why = storageProblem(e, 'config.json');
        if (why) return fail('paused', why);
        throw e;
      }
    }
    const [env, evalEnv] = setup.envs;
    const agent = setup.agent;

    let state: TrainerState = {
      step: 0,
      episodes: 0,
      episodeIndex: 0,
      divergedEpisodes: 0,
      updates: 0,
      elapsed: 0,
      latestEval: null,
      bestEval: null,
      rng: new Rng((config.seed ^ 0x7a11ed) >>> 0).getState(),
    };
    let replay: ReplayBuffer | PixelReplay | null = null;
    const { checkpoint, problems } = run.latestCheckpoint();
    for (const p of problems) warn(`${p.file}: ${p.message}`);
    if (checkpoint) {
      const ck = decodeCheckpoint(checkpoint.meta, checkpoint.arrays);
      agent.setState(ck.agent);
      state = ck.trainer;
      replay = ck.replay;
      if (!replay) warn(`resumed at step ${state.step} without a stored replay buffer: it refills from new experience`);
    }
    step = state.step;
    const hp = agent.hp;
    let trainReplay: TrainReplay;
    if (env instanceof PixelEnv) {
      if (replay && !(replay instanceof PixelReplay))
        throw new UserError({ message: 'the checkpoint holds a low-dim replay buffer but the run observes pixels' });
      const { shift, nStep } = pixelSettings(config);
      replay ??= env.newReplay(hp.replayCapacity, { shift, nStep, gamma: hp.gamma });
      trainReplay = new PixelTrainReplay(replay, env);
    } else {
      if (replay && !(replay instanceof ReplayBuffer))
        throw new UserError({ message: 'the checkpoint holds a pixel replay buffer but the run observes low-dim states' });
      replay ??= new ReplayBuffer({
        capacity: hp.replayCapacity,
        obsSize: env.info.obs.size,
        actionSize: env.info.action.size,
        ...(hp.prioritizedReplay ? { prioritized: { alpha: hp.priorityAlpha, beta: hp.priorityBeta } } : {}),
      });
      trainReplay = new LowDimTrainReplay(replay);
    }

    // Work past the checkpoint is redone: its metric lines and recordings go, so nothing repeats.
    const cut = run.truncateMetricsAfter(state.step);
    for (const p of cut.problems) warn(`${p.file}: ${p.message}`);
    if (cut.dropped > 0)
      warn(`dropped ${cut.dropped} metric records after step ${state.step} (the newest checkpoint); that work is redone`);
    removeEpisodesAfter(run.inside(run.episodesDir), state.step);
    removeTempFiles(run);
    if (checkpoint && state.step > 0 && state.step < (input.steps ?? config.steps)) {
      warn(`resuming from the checkpoint at step ${state.step}`);
    }

    const steps = input.steps ?? Math.max(config.steps, state.step);
    const trainer = new OffPolicyTrainer({ runId, config, run, env, evalEnv, agent, replay: trainReplay, state, steps, control, emit });
    const how = await trainer.run();
    step = trainer.state.step;
    const end: SessionEnd = { status: how, step, reason: null, evalReturn: trainer.state.latestEval?.evalReturn ?? null };
    if (how === 'paused') end.reason = trainer.reason ?? 'a write to the runs folder failed';
    return end;
  } catch (e) {
    if (isUserError(e)) return fail('failed', e.message);
    const why = storageProblem(e, 'the run');
    if (why) return fail('paused', why);
    return fail('failed', `studio fault: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await closeSetup();
  }
}

function removeEpisodesAfter(dir: string, step: number): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const m = /^(\d+)-\d+\.(json|bin)$/.exec(f);
    if (m && Number(m[1]) > step) rmSync(join(dir, f), { force: true });
  }
}

/** Temp files of atomic writes cut short by a crash. */
function removeTempFiles(run: RunFiles): void {
  for (const dir of [run.dir, run.checkpointsDir, run.episodesDir].map((d) => run.inside(d))) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.includes('.tmp-')) rmSync(join(dir, f), { force: true });
  }
}
