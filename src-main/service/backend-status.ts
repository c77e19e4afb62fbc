import { createRequire } from 'node:module';
import type { BackendInfo, Settings } from '../api/studio-api.ts';
import { UserError } from '../util/errors.ts';

/**
 * What the studio tells about TensorFlow.js backends without starting one in its own process (the
 * choice is made per run, in the run's worker, by learn/exec/backend.ts): whether the native TensorFlow
 * packages are installed, which backend the newest run actually trained on, and the setting that
 * new runs follow (handed to their workers as RL_STUDIO_BACKEND, which learn/exec/backend.ts reads).
 */

/** The optional packages that bring the native `tensorflow` backend, in learn/exec/backend.ts's order. */
const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** The native TensorFlow packages that are installed (resolvable from here). */
export function installedTensorflowPackages(): string[] {
  const require = createRequire(import.meta.url);
  return TENSORFLOW_PACKAGES.filter((pkg) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}

/** Refuses a backend setting that cannot work here, with the reason and the fix. */
export function checkBackendSetting(backend: Settings['backend']): void {
  if (backend !== 'tensorflow' || installedTensorflowPackages().length) return;
  throw new UserError({
    field: 'backend',
    message: `the tensorflow backend needs ${TENSORFLOW_PACKAGES.join(' or ')}, and neither is installed (npm install @tensorflow/tfjs-node, which downloads libtensorflow); choose auto, webgpu, wasm or cpu`,
  });
}

/** The environment's own RL_STUDIO_BACKEND, before the setting replaced it. */
const envBackend = process.env.RL_STUDIO_BACKEND;

/**
 * Makes new runs follow the setting: run workers are threads of this process and take its
 * environment when they start. `auto` leaves whatever the environment said.
 */
export function applyBackendSetting(backend: Settings['backend']): void {
  if (backend !== 'auto') process.env.RL_STUDIO_BACKEND = backend;
  else if (envBackend === undefined) delete process.env.RL_STUDIO_BACKEND;
  else process.env.RL_STUDIO_BACKEND = envBackend;
}

/**
 * The backend in use: the one the newest started run recorded, or, before any run has started,
 * the one the setting will give (auto: tensorflow when installed, else wasm).
 */
export function backendInUse(setting: Settings['backend'], newestRun: { id: string; backend: BackendInfo } | null): BackendInfo {
  if (newestRun) return { name: newestRun.backend.name, reason: `used by the newest run (${newestRun.id}): ${newestRun.backend.reason}` };
  if (setting !== 'auto') return { name: setting, reason: `set in Settings; confirmed when a run starts` };
  const native = installedTensorflowPackages();
  return native.length
    ? { name: 'tensorflow', reason: `auto: ${native[0]} is installed; confirmed when a run starts` }
    : {
        name: 'wasm',
        reason:
          'auto: the native TensorFlow packages are not installed, so runs use the WebAssembly SIMD arena (webgpu only when chosen: DDPG, TD3 and SAC state runs train on it)',
      };
}
