import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';

// Placeholder registration until the 'eval' command lands (the engine behind it is being built).
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError("'eval' is not built yet");
    });
}
