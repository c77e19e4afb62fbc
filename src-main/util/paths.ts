import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/**
 * Where the studio keeps its data. RL_STUDIO_HOME overrides the per-user default
 * (XDG data dir on Linux), which tests and CI use to stay out of the user's home.
 */
export function dataDir(): string {
  if (process.env.RL_STUDIO_HOME) return resolve(process.env.RL_STUDIO_HOME);
  const xdg = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'rl-studio');
}

/** Default runs folder (the CLI's --runs-dir and the studio's setting override it). */
export function defaultRunsDir(): string {
  return join(dataDir(), 'runs');
}

/** Library of environments the user added (`envs add`, drag-in). */
export function userEnvsDir(): string {
  return join(dataDir(), 'envs');
}

/** The repository / app root: the folder holding package.json and resources/. */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'resources')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Built-in environments: resources/envs/<id>.xml + <id>.task.json. */
export function builtinEnvsDir(): string {
  return join(appRoot(), 'resources', 'envs');
}
