import { Worker, type WorkerOptions } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starts a worker thread from a module next to the caller, e.g.
 * `spawnWorker(new URL('./env-worker.ts', import.meta.url))`.
 *
 * From sources (CLI, tests) the `.ts` file is loaded through tsx's loader, which worker threads do
 * not inherit; in a bundle (Electron main) the worker is an entry `.js` file in out/main, next to
 * the caller or, when the caller was split into out/main/chunks, one folder up.
 */
export function spawnWorker(url: URL, options: WorkerOptions = {}): Worker {
  const path = fileURLToPath(url);
  if (path.endsWith('.ts') && !existsSync(path)) {
    const name = basename(path).replace(/\.ts$/, '.js');
    for (const js of [join(dirname(path), name), join(dirname(path), '..', name)]) if (existsSync(js)) return new Worker(js, options);
  }
  if (!path.endsWith('.ts')) return new Worker(path, options);
  const boot = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(boot, { ...options, eval: true });
}
