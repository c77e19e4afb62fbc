import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';

// Placeholder registration until the 'runs' command lands (the engine behind it is being built).
export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError("'runs' is not built yet");
    });
}
