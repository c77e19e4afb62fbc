import type { Command } from 'commander';
import { basename, dirname, resolve } from 'node:path';
import type { TrainEvent } from '../../api/events.ts';
import { QUICK_RUN, RUN_DEFAULTS, RunConfigInputSchema, type RunConfigInput } from '../../api/run-config.ts';
import { withPreset } from '../../api/preset.ts';
import { algorithmIds, allPresets } from '../../learn/algos/specs.ts';
import { UserError } from '../../util/errors.ts';
import { defaultRunsDir } from '../../util/paths.ts';
import { RunFiles } from '../../store/run-store.ts';
import { RunManager } from '../../train/run-manager.ts';
import type { SessionEnd } from '../../train/session.ts';
import { makeOutput, type Output } from '../output.ts';

interface TrainOpts {
  env?: string;
  algo?: string;
  obs?: string;
  steps?: string;
  seed?: string;
  seeds?: string;
  runsDir?: string;
  evalEvery?: string;
  evalEpisodes?: string;
  checkpointEvery?: string;
  warmupSteps?: string;
  preset?: string;
  set: string[];
  name?: string;
  tag: string[];
  parallel?: string;
  json: boolean;
}

function wholeNumber(flag: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UserError({
      field: flag,
      message: `'${v}' is not a whole number${min > 0 ? ` of at least ${min}` : min === 0 ? ' (0 or more)' : ''}`,
    });
  return n;
}

const TOP_LEVEL = new Set(Object.keys(RunConfigInputSchema.shape));

/** `--set key=value`: a run-config field (steps, warmupSteps, ...) or a hyperparameter; values are JSON where they parse. */
function applySets(config: Record<string, unknown>, sets: string[]): void {
  const hp: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError({ field: '--set', message: `'${s}' is not key=value` });
    const key = s.slice(0, eq).trim();
    const text = s.slice(eq + 1).trim();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    if (key.startsWith('hyperparams.')) hp[key.slice('hyperparams.'.length)] = value;
    else if (TOP_LEVEL.has(key) && key !== 'hyperparams') config[key] = value;
    else hp[key] = value;
  }
  if (Object.keys(hp).length) config.hyperparams = hp;
}

function configFromFlags(o: TrainOpts): RunConfigInput {
  const c: Record<string, unknown> = {};
  if (o.env !== undefined) c.env = o.env;
  if (o.algo !== undefined) c.algo = o.algo;
  if (o.obs !== undefined) c.obs = o.obs;
  const ints: [keyof TrainOpts, string, string, number][] = [
    ['steps', 'steps', '--steps', 1],
    ['seed', 'seed', '--seed', 0],
    ['evalEvery', 'evalEvery', '--eval-every', 1],
    ['evalEpisodes', 'evalEpisodes', '--eval-episodes', 0],
    ['checkpointEvery', 'checkpointEvery', '--checkpoint-every', 1],
    ['warmupSteps', 'warmupSteps', '--warmup-steps', 0],
  ];
  for (const [opt, field, flag, min] of ints) {
    const v = wholeNumber(flag, o[opt] as string | undefined, min);
    if (v !== undefined) c[field] = v;
  }
  if (o.name !== undefined) c.name = o.name;
  if (o.tag.length) c.tags = o.tag;
  applySets(c, o.set);
  if (o.preset === undefined) return c as RunConfigInput;
  // `--preset <name>`: its algorithm, hyperparameters and (a pixel preset) frames, under --set values.
  const preset = withPreset(c, o.preset, '--preset');
  if (preset.issues.length) throw new UserError(preset.issues);
  return preset.config as RunConfigInput;
}

/** Environment steps of the no-argument run (about a minute on one core; see QUICK below). */
export const QUICK_STEPS = 10_000;

/**
 * `rl-studio train` with no env, algorithm, observation kind or hyperparameter given: DDPG on the
 * dense pendulum with the 'ddpg-quick' preset (learn/algos/ddpg/spec.ts, deviations written down there)
 * for QUICK_STEPS steps, unless --steps says otherwise. The paper's defaults need far longer runs.
 */
export function applyQuickDefaults(o: Pick<TrainOpts, 'env' | 'algo' | 'obs'>, c: RunConfigInput): RunConfigInput {
  if (o.env !== undefined || o.algo !== undefined || o.obs !== undefined || c.hyperparams !== undefined) return c;
  const hp = allPresets()[QUICK_RUN.preset]!.hyperparams;
  return { ...c, steps: c.steps ?? QUICK_STEPS, hyperparams: structuredClone(hp) as Record<string, unknown> };
}

/** Prints training events: JSON lines with --json, a progress bar on a terminal otherwise. */
export function eventPrinter(out: Output, runDirs: Map<string, string>): { onEvent: (e: TrainEvent) => void; clear: () => void } {
  const bar = !out.json && process.stderr.isTTY === true;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[K');
    drawn = false;
  };
  const multi = runDirs.size > 1;
  const tag = (id: string) => (multi ? `[${id}] ` : '');
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'progress') {
      if (out.json) {
        // The update metrics first: whatever names the algorithm reports, the loop's own fields win.
        out.result({
          event: 'progress',
          ...e.metrics,
          run_id: e.runId,
          step: e.step,
          steps: e.steps,
          steps_per_s: e.stepsPerS,
          episode_return: e.episodeReturn,
          episodes: e.episodes,
          updates: e.updates,
          diverged_episodes: e.divergedEpisodes,
        });
      } else if (bar) {
        const width = 24;
        const filled = Math.round((width * e.step) / e.steps);
        const ret = e.episodeReturn === null ? '' : `  return ${e.episodeReturn.toFixed(1)}`;
        process.stderr.write(
          `\r\x1b[K${tag(e.runId)}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.step}/${e.steps}  ${Math.round(e.stepsPerS)} steps/s${ret}`,
        );
        drawn = true;
      }
    } else if (e.type === 'eval') {
      clear();
      if (out.json) out.result({ event: 'eval', run_id: e.runId, step: e.step, eval_return: e.evalReturn });
      else out.info(`${tag(e.runId)}step ${e.step}: eval return ${e.evalReturn.toFixed(2)} (${e.returns.length} episodes)`);
    } else if (e.type === 'checkpoint') {
      if (out.json) out.result({ event: 'checkpoint', run_id: e.runId, step: e.step, path: e.path });
    } else if (e.type === 'warning') {
      clear();
      out.info(`${tag(e.runId)}warning: ${e.message}`);
    } else if (e.type === 'status' && (e.status === 'paused' || e.status === 'failed') && e.reason) {
      clear();
      out.info(`${tag(e.runId)}${e.status}: ${e.reason}`);
    }
  };
  return { onEvent, clear };
}

/** Waits for every run's session, printing a `done` line per run; returns the exit code. */
export async function followRuns(manager: RunManager, ids: string[], out: Output): Promise<number> {
  const dirs = new Map(ids.map((id) => [id, manager.store.open(id).dir]));
  const printer = eventPrinter(out, dirs);
  // A run paused with a reason (a full or read-only disk) waits for someone to fix it and resume;
  // nobody at a terminal can press Resume, so the CLI ends that session: the run stays paused on
  // disk, intact, and the exit says how to continue.
  const endPaused = (e: TrainEvent) => {
    if (e.type === 'status' && e.status === 'paused' && e.reason && dirs.has(e.runId)) void manager.stop(e.runId);
  };
  const unsubscribe = manager.subscribe((e) => {
    printer.onEvent(e);
    endPaused(e);
  });
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) return;
    interrupted = true;
    printer.clear();
    out.info('stopping: writing a checkpoint (resume with `rl-studio resume RUN_DIR`)');
    void manager.shutdown();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let code = 0;
  try {
    const ends = await Promise.all(ids.map(async (id) => [id, await manager.waitForEnd(id)] as [string, SessionEnd]));
    printer.clear();
    for (const [id, end] of ends) {
      const dir = dirs.get(id)!;
      const evalReturn = end.evalReturn ?? manager.store.open(id).readStatus().status?.latestEval?.evalReturn ?? null;
      out.result(
        {
          event: 'done',
          run_id: id,
          run_dir: dir,
          status: end.status,
          step: end.step,
          eval_return: evalReturn,
          ...(end.reason ? { reason: end.reason } : {}),
        },
        `${end.status}: ${dir} at step ${end.step}${evalReturn !== null ? `, eval return ${evalReturn.toFixed(2)}` : ''}${end.reason ? ` (${end.reason.split('\n')[0]})` : ''}`,
      );
      if (end.status === 'failed') code = Math.max(code, 1);
      else if (end.status === 'paused') {
        out.info(`the run paused: ${end.reason}; fix it and run \`rl-studio resume ${dir}\``);
        code = Math.max(code, 1);
      }
    }
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  return interrupted ? 130 : code;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('Train an agent (with no options: DDPG on the dense pendulum, a result in about a minute)')
    .option('--env <id>', 'env id or path (default pendulum)')
    .option('--algo <algo>', `${algorithmIds().join(' | ')} (default ${RUN_DEFAULTS.algo})`)
    .option('--obs <kind>', 'lowdim | pixels (default lowdim)')
    .option('--steps <n>', 'environment steps to train for')
    .option('--seed <s>', 'seed (default 0)')
    .option('--seeds <n>', 'train N seeds (seed, seed+1, ...) as one experiment')
    .option('--runs-dir <dir>', 'runs folder (default: the user data folder)')
    .option('--eval-every <n>', 'environment steps between evaluations')
    .option('--eval-episodes <n>', 'deterministic episodes per evaluation')
    .option('--checkpoint-every <n>', 'environment steps between checkpoints')
    .option('--warmup-steps <n>', 'random-action steps before learning (default: the algorithm default)')
    .option('--preset <name>', `named hyperparameters, under any --set (${Object.keys(allPresets()).join(', ')})`)
    .option(
      '--set <key=value>',
      'a hyperparameter or run-config field, e.g. --set actorHidden=[64,64] (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--name <name>', 'display name')
    .option('--tag <tag>', 'tag (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--parallel <n>', 'runs trained at once for --seeds (default: number of cores)')
    .option('--json', 'print JSON lines only', false)
    .action(async (opts: TrainOpts) => {
      const out = makeOutput(opts.json);
      const config = applyQuickDefaults(opts, configFromFlags(opts));
      const seeds = wholeNumber('--seeds', opts.seeds, 1) ?? 1;
      const parallel = wholeNumber('--parallel', opts.parallel, 1);
      const manager = new RunManager({
        runsDir: resolve(opts.runsDir ?? defaultRunsDir()),
        ...(parallel ? { maxConcurrent: parallel } : {}),
      });
      const runs = manager.create(seeds > 1 ? { config, seeds } : config);
      for (const r of runs) out.info(`run ${r.id}: ${r.algo} on ${r.env}, seed ${r.seed}, ${r.steps} steps -> ${r.dir}`);
      const ids = runs.map((r) => r.id);
      // Workers report asynchronously: subscribing right after start misses nothing.
      for (const id of ids) manager.start(id);
      process.exitCode = await followRuns(manager, ids, out);
    });

  program
    .command('resume')
    .description('Continue a run from its newest intact checkpoint (after a stop, a crash or kill -9)')
    .argument('<run-dir>', 'the run folder')
    .option('--steps <n>', "train until this many environment steps in total (default: the run's own)")
    .option(
      '--start-over',
      'train it again from step 0 (when its checkpoints are all damaged); the old curve, checkpoints and episodes move to a before-start-over-* folder in the run',
      false,
    )
    .option('--json', 'print JSON lines only', false)
    .action(async (runDir: string, opts: { steps?: string; startOver: boolean; json: boolean }) => {
      const out = makeOutput(opts.json);
      const steps = wholeNumber('--steps', opts.steps, 1);
      const run = RunFiles.open(runDir);
      const manager = new RunManager({ runsDir: dirname(run.dir), maxConcurrent: 1 });
      const id = basename(run.dir);
      manager.resume(id, { ...(steps !== undefined ? { steps } : {}), ...(opts.startOver ? { startOver: true } : {}) });
      process.exitCode = await followRuns(manager, [id], out);
    });
}
