import { Command, CommanderError } from 'commander';
import { formatDetail, isUserError } from '../util/errors.ts';
import { registerEnvs } from './commands/envs.ts';
import { registerTrain } from './commands/train.ts';
import { registerRuns } from './commands/runs.ts';
import { registerEval } from './commands/eval.ts';
import { registerExport } from './commands/export.ts';
import { registerServe } from './commands/serve.ts';
import { registerBench } from './commands/bench.ts';
import { registerBaseline } from './commands/baseline.ts';
import { registerReport } from './commands/report.ts';
import { registerSweep } from './commands/sweep.ts';
import { registerWorker } from './commands/worker.ts';

/** Exit code for user mistakes (bad arguments, bad files); 1 is kept for studio bugs. */
export const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('rl-studio')
    .description('RL Studio: train continuous-control agents (DDPG, TD3, NAF) on MuJoCo tasks, from state or pixels.')
    .exitOverride()
    // Commander's own errors (unknown command or flag, missing argument) are printed by main() as
    // the one line every user mistake gets, not as commander's message plus a hint line.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => undefined });
  registerEnvs(program);
  registerTrain(program);
  registerRuns(program);
  registerEval(program);
  registerExport(program);
  registerServe(program);
  registerSweep(program);
  registerWorker(program);
  registerBench(program);
  registerBaseline(program);
  registerReport(program);
  for (const cmd of program.commands) propagateExitOverride(cmd);
  return program;
}

function propagateExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) propagateExitOverride(sub);
}

/** Runs the CLI; returns the process exit code. User mistakes never print a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (e.exitCode === 0) return 0;
      const message = e.message.replace(/^error: /, '').split('\n')[0];
      process.stderr.write(`rl-studio: ${message} (run with --help for usage)\n`);
      if (json) process.stdout.write(JSON.stringify({ ok: false, errors: [{ message }] }) + '\n');
      return EXIT_USAGE;
    }
    if (isUserError(e)) {
      process.stderr.write(`rl-studio: ${e.details.map(formatDetail).join('\n  ')}\n`);
      if (json) process.stdout.write(JSON.stringify({ ok: false, errors: e.details }) + '\n');
      return EXIT_USAGE;
    }
    throw e;
  }
}
