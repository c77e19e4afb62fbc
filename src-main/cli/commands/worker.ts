/**
 * `rl-studio worker --queue redis://HOST:PORT --runs-dir DIR [--concurrency N]`: trains the runs of
 * sweeps created with --queue, on this machine, into the shared runs folder (sweep/worker.ts).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UserError } from '../../util/errors.ts';
import { startWorker } from '../../sweep/worker.ts';
import { makeOutput } from '../output.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Train sweep runs from a Redis queue into a shared runs folder (run one per machine)')
    .requiredOption('--queue <url>', 'redis://HOST:PORT')
    .requiredOption('--runs-dir <dir>', 'the shared runs folder (the same one on every machine: NFS, SMB)')
    .option('--concurrency <n>', 'runs trained at once (default: the number of cores)')
    .option('--lock-ms <ms>', 'how long a silent worker keeps its runs before another takes them over', '30000')
    .action(async (opts: { queue: string; runsDir: string; concurrency?: string; lockMs: string }) => {
      const out = makeOutput(false);
      const int = (flag: string, v: string | undefined, min: number) => {
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v) || Number(v) < min)
          throw new UserError({ field: flag, message: `'${v}' is not a whole number of at least ${min}` });
        return Number(v);
      };
      const concurrency = int('--concurrency', opts.concurrency, 1);
      const lockMs = int('--lock-ms', opts.lockMs, 1000)!;
      const worker = await startWorker({
        queue: opts.queue,
        runsDir: resolve(opts.runsDir),
        lockMs,
        ...(concurrency ? { concurrency } : {}),
        log: (line) => out.info(line),
        onEvent: (e) => {
          if (e.type === 'eval') out.info(`${e.runId} step ${e.step}: eval return ${e.evalReturn.toFixed(2)}`);
        },
      });
      out.info(`${worker.owner}: ${worker.concurrency} runs at once from ${opts.queue} into ${resolve(opts.runsDir)}`);
      const onSignal = () => {
        out.info('stopping: checkpointing the runs in training and handing them back to the queue');
        void worker.close();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await worker.closed;
    });
}
