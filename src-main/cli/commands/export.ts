import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';

// Placeholder registration until the 'export' command lands (the engine behind it is being built).
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError("'export' is not built yet");
    });
}
