import type { Command } from 'commander';
import { makeOutput } from '../output.ts';
import { formatDetail } from '../../util/errors.ts';
import { addUserEnv, listEnvs, readEnvPath, resolveEnv, summarizeEnv, validateEnvFiles } from '../../sim/registry.ts';

export function registerEnvs(program: Command): void {
  const envs = program.command('envs').description('List, inspect, validate and add MuJoCo environments (MJCF + task spec)');

  envs
    .command('list')
    .description('List built-in and library envs')
    .option('--json', 'print JSON lines only', false)
    .action(async (opts: { json: boolean }) => {
      const out = makeOutput(opts.json);
      for (const e of await listEnvs()) {
        out.result(
          { ...e },
          e.error
            ? `${e.id.padEnd(20)} ${e.source.padEnd(8)} BROKEN: ${e.error}`
            : `${e.id.padEnd(20)} ${e.source.padEnd(8)} obs ${String(e.obsSize).padStart(3)}  act ${String(e.actionSize).padStart(2)}  ${String(e.episodeLength).padStart(5)} steps  ${e.name}`,
        );
      }
    });

  envs
    .command('show')
    .description('Show an env: observation parts, actions, timestep, episode length')
    .argument('<env>', 'env id (built-in or library) or path (MJCF beside <name>.task.json, or a folder)')
    .option('--json', 'print JSON only', false)
    .action(async (idOrPath: string, opts: { json: boolean }) => {
      const out = makeOutput(opts.json);
      const s = await summarizeEnv(resolveEnv(idOrPath));
      const text = [
        `${s.id} (${s.source}): ${s.name}`,
        s.description,
        `timestep ${s.timestep} s x frame skip ${s.frameSkip} = control timestep ${+s.controlTimestep.toFixed(6)} s; episode ${s.episodeLength} steps`,
        `observation (${s.obsSize}): ${s.obsParts.map((p) => `${p.name}[${p.size}]`).join(' ')}`,
        `action (${s.actionSize}, each in [-1, 1]): ${s.actuators.join(' ')}`,
        ...(s.camera ? [`camera for pixels: ${s.camera}`] : []),
      ].join('\n');
      out.result({ ...s }, text);
    });

  envs
    .command('validate')
    .description('Check an env (MJCF + task spec); exits 2 with the errors when it is broken')
    .argument('<path>', 'MJCF file beside <name>.task.json, or a folder with one of each')
    .option('--json', 'print JSON only', false)
    .action(async (path: string, opts: { json: boolean }) => {
      const out = makeOutput(opts.json);
      const { files, id } = readEnvPath(path);
      const v = await validateEnvFiles(files, id);
      if (!v.ok) {
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, errors: v.errors }) + '\n');
        process.stderr.write(`rl-studio: ${v.errors.map(formatDetail).join('\n  ')}\n`);
        process.exitCode = 2;
        return;
      }
      out.result({ ok: true, info: v.info }, `ok: ${v.info?.name} (obs ${v.info?.obsSize}, act ${v.info?.actionSize}, ${v.info?.episodeLength} steps)${v.info?.warnings.length ? `\nwarnings: ${v.info.warnings.join(', ')}` : ''}`);
    });

  envs
    .command('add')
    .description("Validate an env and copy it into the studio's env library")
    .argument('<path>', 'MJCF file beside <name>.task.json, or a folder with one of each')
    .option('--id <id>', 'id in the library (default: the file or folder name)')
    .option('--force', 'replace a library env with the same id', false)
    .option('--json', 'print JSON only', false)
    .action(async (path: string, opts: { id?: string; force: boolean; json: boolean }) => {
      const out = makeOutput(opts.json);
      const { files, id } = readEnvPath(path);
      const added = await addUserEnv(files, opts.id ?? id, { overwrite: opts.force });
      out.result({ ok: true, id: added.id, dir: added.dir }, `added '${added.id}' to ${added.dir}`);
    });
}
