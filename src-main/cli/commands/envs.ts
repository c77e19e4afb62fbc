import type { Command } from 'commander';
import { makeOutput } from '../output.ts';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatDetail as formatDetail, UserError } from '../../util/errors.ts';
import { addUserEnv, listEnvs, readEnvPath, readModelFiles, resolveEnv, summarizeEnv, validateEnvFiles } from '../../sim/registry.ts';
import { scaffoldEnv } from '../../sim/scaffold.ts';

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
      out.result(
        { ok: true, info: v.info },
        `ok: ${v.info?.name} (obs ${v.info?.obsSize}, act ${v.info?.actionSize}, ${v.info?.episodeLength} steps)${v.info?.warnings.length ? `\nwarnings: ${v.info.warnings.join(', ')}` : ''}`,
      );
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

  envs
    .command('init')
    .description('Compile a bare MJCF, list its joints, bodies, sites, sensors and actuators, and write a starter task spec that validates')
    .argument('<model>', 'MJCF file')
    .option('--out <path>', 'where to write the task spec (default: <model>.task.json beside the MJCF)')
    .option('--force', 'replace an existing task spec', false)
    .option('--json', 'print JSON only', false)
    .action(async (model: string, opts: { out?: string; force: boolean; json: boolean }) => {
      const out = makeOutput(opts.json);
      const xmlPath = resolve(model);
      if (!existsSync(xmlPath) || !statSync(xmlPath).isFile()) throw new UserError({ file: model, message: 'no such file' });
      const specPath = resolve(opts.out ?? `${xmlPath.replace(/\.xml$/i, '')}.task.json`);
      if (!specPath.endsWith('.task.json')) throw new UserError({ field: '--out', message: `'${opts.out}' must end in .task.json` });
      if (dirname(specPath) !== dirname(xmlPath))
        throw new UserError({ field: '--out', message: "the task spec must sit in the MJCF's folder" });
      if (existsSync(specPath) && !opts.force)
        throw new UserError({ file: basename(specPath), message: 'already exists; pass --force to replace it' });
      const xml = basename(xmlPath);
      const { inventory, spec } = await scaffoldEnv(readModelFiles(xmlPath), xml);
      const text = JSON.stringify(spec, null, 2) + '\n';
      // The starter must validate as written: checked before it is saved.
      const files = [...readModelFiles(xmlPath).filter((f) => f.name !== basename(specPath)), { name: basename(specPath), content: text }];
      const v = await validateEnvFiles(files, basename(specPath).slice(0, -'.task.json'.length));
      if (!v.ok) throw new UserError(v.errors);
      writeFileSync(specPath, text);
      const list = (label: string, names: string[]): string => `${label} (${names.length}): ${names.join(' ') || '-'}`;
      out.result(
        { ok: true, spec: specPath, inventory, obsSize: v.info?.obsSize, actionSize: v.info?.actionSize },
        [
          `${xml}: timestep ${inventory.timestep} s`,
          list(
            'joints',
            inventory.joints.map((j) => `${j.name}(${j.type})`),
          ),
          list('bodies', inventory.bodies),
          list('sites', inventory.sites),
          list('sensors', inventory.sensors),
          list('actuators', inventory.actuators),
          list('cameras', inventory.cameras),
          list('keyframes', inventory.keyframes),
          `wrote ${join(dirname(specPath), basename(specPath))} (obs ${v.info?.obsSize}, act ${v.info?.actionSize}); it validates as written — edit its reward, then \`rl-studio envs validate ${xml}\``,
        ].join('\n'),
      );
    });
}
