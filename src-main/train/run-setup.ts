import { pixelSettings, type PixelSettings, type RunConfig } from '../api/run-config.ts';
import { createAgent, resolveHyperparams } from '../learn/algos/factory.ts';
import { selectBackend, type BackendChoice } from '../learn/exec/backend.ts';
import { createPixelAgent } from '../learn/algos/pixel-agent.ts';
import { CONV_TORSOS } from '../learn/nets/conv-torsos.ts';
import type { Agent } from '../learn/types.ts';
import { PixelEnv, type PixelEnvOptions } from '../render/pixel-env.ts';
import { SyncRenderHost } from '../render/sync-host.ts';
import { createEnv, type EnvSource } from '../sim/env.ts';
import type { Env } from '../sim/types.ts';

/** The envs and the agent of a run, built the way its config says (state or pixel observations). */
export interface RunSetup {
  envs: Env[];
  agent: Agent;
  /** Releases the agent, the envs and the render host. */
  close(): Promise<void>;
}

/** The PixelEnv options of a run's pixel settings on a task with this spec camera. */
export function pixelEnvOptions(p: PixelSettings, specCamera: string | undefined): PixelEnvOptions {
  return {
    specCamera,
    width: p.size,
    height: p.size,
    actionRepeat: p.actionRepeat,
    stacking: p.stacking,
    stack: p.stack,
    antialias: p.antialias,
  };
}

/**
 * Selects the backend for a run (learn/exec/backend.ts). Every run, pixel runs included (their conv
 * torso runs as TF.js tensors beside the dense networks, nets/pixel-nets.ts TensorConvEncoder),
 * may take webgpu; what its agent cannot run there stays on the arena with its reason (exec/select.ts).
 */
export function selectRunBackend(): Promise<BackendChoice> {
  return selectBackend({});
}

/**
 * The hyperparameters a run trains with: its config's, which hold every value at the run's creation
 * (pixel defaults included); one added to the algorithm later takes its schema default, the value
 * older versions trained with (0 for the action penalties), not the pixel defaults of today.
 */
export function runHyperparams(config: Pick<RunConfig, 'algo' | 'hyperparams'>): Record<string, unknown> {
  return resolveHyperparams(config.algo, { ...config.hyperparams });
}

/**
 * Builds `envCount` envs of the run's task and its agent. Pixel runs share one render host
 * (headless Chromium in a worker thread) between their envs. Used by training, resume and eval,
 * so all three see the same observations and networks.
 */
export async function setUpRun(config: RunConfig, source: EnvSource, envCount: number): Promise<RunSetup> {
  const envs: Env[] = [];
  let host: SyncRenderHost | null = null;
  let agent: Agent | null = null;
  const close = async () => {
    agent?.dispose();
    for (const e of envs) e.dispose();
    await host?.close().catch(() => {});
  };
  try {
    if (config.obs === 'pixels') {
      host = await SyncRenderHost.start();
      const p = pixelSettings(config);
      const opts = pixelEnvOptions(p, source.spec.camera);
      for (let i = 0; i < envCount; i++) envs.push(await PixelEnv.create(await createEnv(source, { seed: config.seed }), host, opts));
      const shape = (envs[0] as PixelEnv).shape;
      agent = createPixelAgent({
        algo: config.algo,
        shape,
        actionSize: envs[0].info.action.size,
        seed: config.seed,
        hyperparams: runHyperparams(config),
        layers: CONV_TORSOS[p.conv],
        trunk: p.trunk,
        trunkNorm: p.trunkNorm,
      });
    } else {
      for (let i = 0; i < envCount; i++) envs.push(await createEnv(source, { seed: config.seed }));
      agent = createAgent(config.algo, envs[0].info.obs.size, envs[0].info.action, { ...config.hyperparams }, config.seed);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { envs, agent, close };
}
