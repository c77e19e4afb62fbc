#!/usr/bin/env node
// `npm start`: builds the app when the sources are newer than the bundles, then opens the desktop
// app — or, where no Electron binary or no display exists, says so in one line and starts browser
// mode (`rl-studio serve`), printing its URL.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const bundle = join(root, 'out/renderer/index.html');
if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(newest(join(root, 'src-renderer')), newest(join(root, 'src-main')))) {
  console.error('Building the studio…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function electronBinary() {
  const dir = join(root, 'node_modules/electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

const args = process.argv.slice(2);
const bin = electronBinary();
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
if (bin && !headless && !args.includes('--browser')) {
  const child = spawn(bin, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = !bin ? 'no Electron binary is installed' : headless ? 'no display is available' : '--browser was given';
  console.error(`RL Studio: ${why}; starting browser mode instead.`);
  const serveArgs = args.filter((a) => a !== '--browser');
  const child = spawn(process.execPath, [join(root, 'bin/rl-studio.mjs'), 'serve', ...serveArgs], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
