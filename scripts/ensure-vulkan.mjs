#!/usr/bin/env node
// The webgpu tests run TF.js's webgpu backend on Dawn (the `webgpu` package) without a GPU: Dawn
// loads the Vulkan loader (libvulkan1), and the tests point it at the SwiftShader Vulkan driver
// that Debian's chromium ships (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, a
// CPU-emulated adapter). Installs libvulkan1 with apt-get when it is missing and we are allowed to,
// as ensure-chromium.mjs and ensure-redis.mjs do.
import { execSync, spawnSync } from 'node:child_process';

const has = () => spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libvulkan.so.1 "']).status === 0;

if (has()) process.exit(0);
if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
  console.error('The webgpu tests need the Vulkan loader: install it (Debian: sudo apt-get install libvulkan1).');
  process.exit(1);
}
console.error('Installing Debian libvulkan1 for the webgpu tests…');
execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1', {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (!has()) {
  console.error('libvulkan1 is still missing after apt-get install');
  process.exit(1);
}
