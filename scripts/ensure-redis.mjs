#!/usr/bin/env node
// The sweep tests run a real Redis (Debian's redis-server) on a loopback port of their own; BullMQ
// workers pull runs from it. Installs it with apt-get when it is missing and we are allowed to, as
// ensure-chromium.mjs does for the browser tests.
import { execSync, spawnSync } from 'node:child_process';

const has = () => spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

if (process.env.REDIS_SERVER || has()) process.exit(0);
if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
  console.error(
    'The sweep tests need redis-server: install it (Debian: sudo apt-get install redis-server) or set REDIS_SERVER to its path.',
  );
  process.exit(1);
}
console.error('Installing Debian redis-server for the sweep tests…');
// Only the binary is wanted: the package's own service is not started in containers without systemd.
execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server', {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (!has()) {
  console.error('redis-server is still missing after apt-get install');
  process.exit(1);
}
