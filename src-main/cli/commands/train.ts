import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';

// Placeholder registration until the 'train' command lands (the engine behind it is being built).
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError("'train' is not built yet");
    });
}
