import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';

/**
 * Backend selection at start: native TensorFlow (tfjs-node-gpu, then tfjs-node) where those
 * optional packages load, then WebGPU (Dawn through the `webgpu` package; only when asked, with
 * RL_STUDIO_BACKEND=webgpu or the option), then WebAssembly, then plain JS. The chosen backend and
 * the reason for every fallback are returned so the UI, the CLI and a run's config can show them.
 *
 * The name decides where the agents' dense networks run (exec/select.ts): `wasm` is the
 * hand-written WebAssembly SIMD arena (with TF.js's wasm backend for the TF.js-only parts: export,
 * the pixel torso); `tensorflow`, `webgpu` and `cpu` run them as TF.js ops on that backend (`cpu`
 * is TF.js's plain-JS backend: correct, slow).
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

let active: BackendName | null = null;

/** The backend selectBackend settled on in this process (thread), or null before one. */
export function activeBackend(): BackendName | null {
  return active;
}

export interface BackendAttempt {
  /** Backend or package tried (`tensorflow:@tensorflow/tfjs-node-gpu`, `wasm`, `cpu`). */
  name: string;
  ok: boolean;
  /** Why it was not used (load error, skipped by override). */
  error?: string;
}

export interface BackendChoice {
  name: BackendName;
  /** One line saying why this backend is active (first choice, override, or the fallbacks). */
  reason: string;
  tried: BackendAttempt[];
  /** Where the choice came from. */
  source: 'default' | 'option' | 'env';
}

export interface BackendOptions {
  /** Forced backend (setting or --backend flag); wins over RL_STUDIO_BACKEND. */
  backend?: BackendName;
  /** Environment to read RL_STUDIO_BACKEND from (default process.env). */
  env?: Record<string, string | undefined>;
}

let pending: Promise<BackendChoice> | null = null;
let pendingKey = '';

/**
 * Selects and initialises the backend once per process (later calls with the same request return
 * the same answer). A forced backend that cannot load falls back along the default order, and the
 * reason says so rather than failing the run.
 */
export function selectBackend(opts: BackendOptions = {}): Promise<BackendChoice> {
  const env = opts.env ?? process.env;
  const fromEnv = env.RL_STUDIO_BACKEND?.trim().toLowerCase();
  if (fromEnv && !opts.backend && !BACKEND_NAMES.includes(fromEnv as BackendName)) {
    throw new Error(`RL_STUDIO_BACKEND='${fromEnv}' is not one of ${BACKEND_NAMES.join(', ')}`);
  }
  const forced: BackendName | undefined = opts.backend ?? (fromEnv as BackendName | undefined) ?? undefined;
  const source = opts.backend ? 'option' : fromEnv ? 'env' : 'default';
  const key = forced ?? '';
  if (!pending || key !== pendingKey) {
    pendingKey = key;
    pending = choose(forced, source);
  }
  return pending;
}

async function choose(forced: BackendName | undefined, source: BackendChoice['source']): Promise<BackendChoice> {
  const tried: BackendAttempt[] = [];
  const order: BackendName[] = forced ? [forced, ...BACKEND_NAMES.filter((b) => b !== forced)] : [...BACKEND_NAMES];
  for (const name of order) {
    const error = await tryBackend(name, tried, forced === name);
    if (error === null) {
      const failed = tried.filter((t) => !t.ok);
      const why = failed.length ? `; fell back from ${failed.map((t) => `${t.name} (${t.error})`).join(', ')}` : '';
      const head =
        forced && forced === name
          ? `${name}: requested by ${source === 'env' ? 'RL_STUDIO_BACKEND' : 'option'}`
          : `${name}: first available in ${BACKEND_NAMES.join(' > ')}`;
      active = name;
      return { name, reason: head + why, tried, source };
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}

/** Returns null when the backend is active, else the error text (also recorded in `tried`). */
async function tryBackend(name: BackendName, tried: BackendAttempt[], asked: boolean): Promise<string | null> {
  if (name === 'tensorflow') {
    // Native TensorFlow ships only through tfjs-node(-gpu), optional packages whose install
    // downloads libtensorflow; importing them registers the 'tensorflow' backend on our tfjs-core.
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ pkg);
        if (await tf.setBackend('tensorflow')) {
          await tf.ready();
          tried.push({ name: `tensorflow:${pkg}`, ok: true });
          return null;
        }
        tried.push({ name: `tensorflow:${pkg}`, ok: false, error: 'loaded but the backend did not initialise' });
      } catch (e) {
        tried.push({ name: `tensorflow:${pkg}`, ok: false, error: firstLine(e) });
      }
    }
    return 'not installed';
  }
  if (name === 'webgpu') {
    // Runs train on webgpu (their agents' reads are awaited, learn/agent-reads.ts), but only when
    // asked: on an NVIDIA H200 the updates ran 1.1x to 13x slower than the wasm arena on the same
    // host's CPU (each op's dispatch costs ~0.2 ms; README, WebGPU), and the only adapter on a
    // machine without a GPU is CPU-emulated and far slower still.
    const why = asked
      ? null
      : 'chosen only when asked (RL_STUDIO_BACKEND=webgpu): slower than the wasm arena for these networks, also on a GPU';
    if (why) {
      tried.push({ name: 'webgpu', ok: false, error: why });
      return why;
    }
    try {
      tried.push({ name: `webgpu (${await startWebgpu()})`, ok: true });
      return null;
    } catch (e) {
      const msg = firstLine(e);
      tried.push({ name: 'webgpu', ok: false, error: msg });
      return msg;
    }
  }
  if (name === 'wasm') {
    try {
      // The wasm binaries sit next to the package's main file; Node reads them from disk.
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + sep;
      setWasmPaths(dir);
      // The threaded-SIMD build creates its pthread workers from blob: URLs, which Node's
      // worker_threads refuse (ERR_WORKER_PATH); with the workers written to files the threaded
      // module loads but XNNPACK still reported one thread and no speed-up, so the single-threaded
      // SIMD build is used.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await tf.setBackend('wasm'))) throw new Error('initialisation failed');
      await tf.ready();
      tried.push({ name: 'wasm', ok: true });
      return null;
    } catch (e) {
      const msg = firstLine(e);
      tried.push({ name: 'wasm', ok: false, error: msg });
      return msg;
    }
  }
  try {
    if (!(await tf.setBackend('cpu'))) throw new Error('initialisation failed');
    await tf.ready();
    tried.push({ name: 'cpu', ok: true });
    return null;
  } catch (e) {
    const msg = firstLine(e);
    tried.push({ name: 'cpu', ok: false, error: msg });
    return msg;
  }
}

/**
 * Gives Node `navigator.gpu` from Dawn (the `webgpu` package's prebuilt dawn.node) and starts
 * TF.js's webgpu backend on it; returns the adapter's description. Dawn needs the system's Vulkan
 * (Linux), Metal or D3D12; without a GPU driver there is no adapter. A software adapter
 * (SwiftShader: Vulkan on the CPU) works, far slower than the wasm arena, and is named as such.
 */
async function startWebgpu(): Promise<string> {
  const { create, globals } = (await import('webgpu')) as unknown as {
    create: (flags: string[]) => GpuLike;
    globals: Record<string, unknown>;
  };
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    const gpu = create([]);
    for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  if (!adapter)
    throw new Error('no WebGPU adapter (needs a GPU with its Vulkan/Metal/D3D12 driver; on Linux libvulkan1 and the vendor driver)');
  const info = adapter.info ?? {};
  const software =
    info.isFallbackAdapter === true || /swiftshader|llvmpipe/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
  await tf.ready();
  const name = info.description || info.architecture || info.vendor || 'unnamed adapter';
  return software ? `${name}, CPU-emulated` : name;
}

interface GpuLike {
  requestAdapter(): Promise<{
    info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  } | null>;
}

function firstLine(e: unknown): string {
  const text =
    e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return text.split('\n')[0].slice(0, 200);
}
