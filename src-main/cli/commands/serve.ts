import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { startServer } from '../../serve/server.ts';
import { StudioService } from '../../service/studio-service.ts';
import { FileSettingsStore } from '../../store/settings.ts';
import { appRoot } from '../../util/paths.ts';
import { UserError } from '../../util/errors.ts';
import { makeOutput } from '../output.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the studio in a browser: serves the UI on http://127.0.0.1:PORT/ and StudioApi over WebSocket')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '5317')
    .option('--host <host>', 'address to bind; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'access token (generated when binding beyond loopback)')
    .option('--runs-dir <dir>', 'runs folder (default: the settings, or the user data folder)')
    .option('--json', 'print JSON lines only', false)
    .action(async (opts: { port: string; host: string; token?: string; runsDir?: string; json: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UserError({ field: '--port', message: `'${opts.port}' is not a port number` });
      if (opts.token !== undefined && !/^[A-Za-z0-9_-]{16,}$/.test(opts.token)) {
        throw new UserError({ field: '--token', message: 'use at least 16 letters, digits, - or _' });
      }
      const out = makeOutput(opts.json);
      const settings = new FileSettingsStore(undefined, opts.runsDir ? { runsDir: resolve(opts.runsDir) } : {});
      const service = await StudioService.create({ mode: 'browser', settings });
      const server = await startServer({
        service,
        staticDir: join(appRoot(), 'out', 'renderer'),
        host: opts.host,
        port,
        ...(opts.token ? { token: opts.token } : {}),
      });
      out.result({ event: 'listening', url: server.url, port: server.port }, `RL Studio is running at ${server.url}`);
      await new Promise<void>((done) => {
        const stop = () => {
          void server
            .close()
            .then(() => service.close())
            .then(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
