/**
 * `rl-studio sweep create|list|show|wait|run`: hyperparameter and seed sweeps (api/sweep.ts is the
 * file format). Without --queue the runs train on this machine (a background `sweep run` process,
 * the local pool); with --queue redis://HOST:PORT they are BullMQ jobs for `rl-studio worker`s.
 */
import type { Command } from 'commander';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../util/errors.ts';
import { appRoot, defaultRunsDir } from '../../util/paths.ts';
import type { SweepView } from '../../api/sweeps.ts';
import { createSweep, readSweepFile } from '../../sweep/create.ts';
import { POOL_FILE, runLocalPool, type PoolInfo } from '../../sweep/local-pool.ts';
import { enqueueSweep, probeRedis } from '../../sweep/queue.ts';
import { SweepStore } from '../../sweep/sweep-store.ts';
import { makeOutput } from '../output.ts';

const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(1));

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UserError({ field: flag, message: `'${v}' is not a whole number of at least 1` });
  return Number(v);
}

/** Starts the local pool for a sweep as a process of its own (its own process group), logging to the sweep's folder. */
function startPoolProcess(runsDir: string, sweepId: string, dir: string): number {
  const log = openSync(join(dir, 'pool.log'), 'a');
  const child = spawn(process.execPath, [join(appRoot(), 'bin', 'rl-studio.mjs'), 'sweep', 'run', sweepId, '--runs-dir', runsDir], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  return child.pid ?? 0;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a local sweep can no longer progress (its pool process is gone), or null. */
function poolGone(sweeps: SweepStore, view: SweepView): string | null {
  if (view.queue !== null || view.state !== 'running') return null;
  const file = join(sweeps.dir(view.id), POOL_FILE);
  if (!existsSync(file)) return null;
  const pool = JSON.parse(readFileSync(file, 'utf8')) as PoolInfo;
  if (pool.host !== hostname() || pidAlive(pool.pid)) return null;
  return `the local pool of ${view.id} (pid ${pool.pid}) is gone; continue it with \`rl-studio sweep run ${view.id}\``;
}

function printView(out: ReturnType<typeof makeOutput>, v: SweepView): void {
  if (out.json) return out.result({ ...v });
  const lines = [
    `${v.id}  ${v.name}  ${v.state}  ${v.queue ?? 'local pool'}  ${Object.entries(v.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`,
  ];
  for (const r of v.runs)
    lines.push(
      `  ${r.id}  ${(r.earlyStopped ? 'early-stop' : r.status).padEnd(11)} ${`${r.step}/${r.steps}`.padStart(13)}  final ${fmt(r.finalReturn).padStart(8)}  best ${fmt(r.bestReturn).padStart(8)}  ${JSON.stringify(r.params)} seed ${r.seed}`,
    );
  if (v.best)
    lines.push(
      `best: ${JSON.stringify(v.best.params)}  final ${fmt(v.best.meanFinal)} ± ${fmt(v.best.stdFinal)} over ${v.best.runs.length} seed(s)`,
    );
  for (const i of v.importance)
    lines.push(`importance ${i.key}: rank correlation ${i.correlation === null ? '-' : i.correlation.toFixed(2)}`);
  out.result({ ...v }, lines.join('\n'));
}

export function registerSweep(program: Command): void {
  const sweep = program.command('sweep').description('Hyperparameter and seed sweeps, on this machine or on workers through Redis');
  const runsDirOf = (o: { runsDir?: string }) => resolve(o.runsDir ?? defaultRunsDir());

  sweep
    .command('create')
    .description('Create a sweep from a JSON file and start it (prints the sweep id and its runs)')
    .argument('<file>', 'the sweep file')
    .option('--queue <url>', 'redis://HOST:PORT: run as BullMQ jobs for `rl-studio worker`s (default: this machine)')
    .option('--runs-dir <dir>', 'runs folder (shared by the workers when --queue is given)')
    .option('--json', 'print JSON lines only', false)
    .action(async (file: string, opts: { queue?: string; runsDir?: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const runsDir = runsDirOf(opts);
      if (opts.queue) await probeRedis(opts.queue);
      const record = createSweep({ file: readSweepFile(file), fileName: file, runsDir, queue: opts.queue ?? null });
      const sweeps = new SweepStore(runsDir);
      if (opts.queue) await enqueueSweep(opts.queue, record);
      else startPoolProcess(runsDir, record.id, sweeps.dir(record.id));
      out.result(
        { event: 'sweep', id: record.id, runs_dir: runsDir, queue: record.queue, runs: record.runs },
        `sweep ${record.id}: ${record.runs.length} runs on ${opts.queue ?? 'this machine'}`,
      );
      if (!opts.json) for (const r of record.runs) out.result({}, `  ${r.id}  ${JSON.stringify(r.params)} seed ${r.seed}`);
    });

  sweep
    .command('list')
    .description('The sweeps in the runs folder')
    .option('--runs-dir <dir>', 'runs folder')
    .option('--json', 'print JSON lines only', false)
    .action((opts: { runsDir?: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const sweeps = new SweepStore(runsDirOf(opts));
      const records = sweeps.list();
      if (!records.length && !opts.json) out.info(`no sweeps in ${sweeps.runs.root}`);
      for (const r of records) {
        const v = sweeps.view(r.id);
        out.result(
          { id: v.id, name: v.name, state: v.state, queue: v.queue, counts: v.counts, best: v.best },
          `${v.id}  ${v.name.padEnd(20)} ${v.state.padEnd(10)} ${Object.entries(v.counts)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ')}${v.best ? `  best final ${fmt(v.best.meanFinal)}` : ''}`,
        );
      }
    });

  sweep
    .command('show')
    .description('A sweep: its runs and their status, the best configuration, parameter importance')
    .argument('<id>', 'sweep id')
    .option('--runs-dir <dir>', 'runs folder')
    .option('--json', 'print one JSON object', false)
    .action((id: string, opts: { runsDir?: string; json: boolean }) => {
      printView(makeOutput(opts.json), new SweepStore(runsDirOf(opts)).view(id));
    });

  sweep
    .command('wait')
    .description('Wait until every run of the sweep has ended; exit 0 if all finished (trained, or stopped early by the rule)')
    .argument('<id>', 'sweep id')
    .option('--runs-dir <dir>', 'runs folder')
    .option('--timeout <s>', 'give up after this many seconds (exit 1)')
    .option('--json', 'print JSON lines only', false)
    .action(async (id: string, opts: { runsDir?: string; timeout?: string; json: boolean }) => {
      const out = makeOutput(opts.json);
      const sweeps = new SweepStore(runsDirOf(opts));
      const timeout = positiveInt('--timeout', opts.timeout);
      const until = timeout ? Date.now() + timeout * 1000 : Infinity;
      let v = sweeps.view(id);
      while (v.state === 'running') {
        const gone = poolGone(sweeps, v);
        if (gone) {
          out.info(gone);
          process.exitCode = 1;
          return;
        }
        if (Date.now() > until) {
          out.info(`sweep ${id} is still running after ${timeout} s`);
          process.exitCode = 1;
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
        v = sweeps.view(id);
      }
      printView(out, v);
      process.exitCode = v.state === 'finished' ? 0 : 1;
    });

  sweep
    .command('run')
    .description("Train a sweep's unfinished runs on this machine (what `sweep create` starts in the background without --queue)")
    .argument('<id>', 'sweep id')
    .option('--runs-dir <dir>', 'runs folder')
    .option('--concurrency <n>', 'runs trained at once (default: the number of cores)')
    .action(async (id: string, opts: { runsDir?: string; concurrency?: string }) => {
      const out = makeOutput(false);
      const concurrency = positiveInt('--concurrency', opts.concurrency);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await runLocalPool({
          runsDir: runsDirOf(opts),
          sweepId: id,
          ...(concurrency ? { concurrency } : {}),
          signal: abort.signal,
          onEvent: (e) => {
            if (e.type === 'eval') out.info(`${e.runId} step ${e.step}: eval return ${e.evalReturn.toFixed(2)}`);
            else if (e.type === 'status' || e.type === 'warning')
              out.info(`${e.runId} ${e.type === 'status' ? `${e.status}${e.reason ? `: ${e.reason}` : ''}` : `warning: ${e.message}`}`);
          },
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
