import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';

// Main and preload live in src-main/app (the only code importing 'electron'); the engine is bundled
// into main, its worker threads as separate entries next to it. The renderer bundle is the same one
// `rl-studio serve` hands to a browser.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve('src-main/app/main.ts'),
          // Worker threads load these by name next to index.js (see src-main/util/worker.ts).
          'train-worker': resolve('src-main/train/train-worker.ts'),
          'vector-worker': resolve('src-main/sim/vector-worker.ts'),
          'host-worker': resolve('src-main/render/host-worker.ts'),
          'gemm-worker': resolve('src-main/learn/nets/gemm-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve('src-main/app/preload.ts') },
        // A sandboxed preload is loaded as a classic script: one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte({ configFile: false })],
    build: {
      outDir: 'out/renderer',
      // render-host.html: the pixel-observation page (src-main/render), built next to the studio.
      rollupOptions: { input: { index: resolve('src-renderer/index.html'), 'render-host': resolve('src-renderer/render-host.html') } },
    },
  },
});
