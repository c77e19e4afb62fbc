#!/usr/bin/env node
// Browser tests drive Debian's Chromium through playwright-core (Playwright's own browser download
// cannot run offline). Installs it with apt-get when it is missing and we are allowed to.
import { execSync, spawnSync } from 'node:child_process';

function chromiumPath() {
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

if (process.env.CHROMIUM_PATH || chromiumPath()) process.exit(0);
if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
  console.error('Browser tests need Chromium: install it (Debian: sudo apt-get install chromium) or set CHROMIUM_PATH.');
  process.exit(1);
}
console.error('Installing Debian chromium for the browser tests…');
execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (!chromiumPath()) {
  console.error('chromium is still missing after apt-get install');
  process.exit(1);
}
