import type { Command } from 'commander';
import { UserError } from '../../util/errors.ts';

// Placeholder registration until the 'envs' command lands (the engine behind it is being built).
export function registerEnvs(program: Command): void {
  program
    .command('envs')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UserError("'envs' is not built yet");
    });
}
