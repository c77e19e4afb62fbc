import type { BackendName } from '../../learn/exec/backend.ts';
import { readsAsync, updateAwaited } from '../../learn/agent-reads.ts';
import type { Batch } from '../../learn/types.ts';
import { PIXEL_CONV_DEFAULTS, type ConvLayerSpec } from '../../learn/nets/pixel-nets.ts';
import { createPixelAgent } from '../../learn/algos/pixel-agent.ts';
import { PixelReplay, type PixelObservation } from '../../learn/replay/pixel-replay.ts';
import { Rng } from '../../util/rng.ts';

/**
 * Pixel DDPG updates per second (appended to `rl-studio bench updates`): the paper's pixel
 * networks (3 conv x 32, 2 FC x 200) on 9 x 64 x 64 observations (3 stacked RGB frames), sampled
 * from a PixelReplay of random frames, so the uint8 -> float conversion is part of the figure.
 * One update = critic (its conv torso forward and backward, its target's forward) + actor (reading
 * the critic's torso, detached) + soft target updates. On the backend selected before (updates.ts):
 * on tensorflow and webgpu the torso runs as TF.js tensors with the dense networks on the TF.js
 * executor; elsewhere both run on the wasm arena.
 */
export interface PixelUpdatesOptions {
  /** The backend selectBackend chose (reported in each line). */
  backend: BackendName;
  quick: boolean;
  log: (text: string) => void;
  /** Minibatch sizes, one case each (default 16, the paper's, and 64). */
  batches?: number[];
  size?: number;
  layers?: readonly ConvLayerSpec[];
}

export async function* runPixelUpdates(opts: PixelUpdatesOptions): AsyncIterable<Record<string, unknown>> {
  const size = opts.size ?? 64;
  const stack = 3;
  const actionSize = 1;
  const rng = new Rng(7);
  const transitions = 1000;
  const replay = new PixelReplay({ capacity: transitions, height: size, width: size, stack, newFramesPerStep: stack, actionSize });
  const frameBytes = size * size * 3;
  let id = 0;
  const observation = (): PixelObservation => {
    const frames = new Uint8Array(stack * frameBytes);
    for (let i = 0; i < frames.length; i++) frames[i] = (rng.uniform() * 256) | 0;
    return { ids: [id++, id++, id++], frames };
  };
  let obs = observation();
  for (let t = 0; t < transitions; t++) {
    const next = observation();
    replay.add(obs, [rng.range(-1, 1)], rng.uniform(), next, false);
    obs = next;
  }
  for (const batchSize of opts.batches ?? [16, 64]) {
    const agent = createPixelAgent({
      algo: 'ddpg',
      shape: { height: size, width: size, channels: 3 * stack },
      actionSize,
      seed: 1,
      hyperparams: { batchSize },
      layers: opts.layers ?? PIXEL_CONV_DEFAULTS,
    });
    try {
      const batch = replay.makeBatch(batchSize);
      const update = readsAsync(agent) ? (b: Batch) => updateAwaited(agent, b) : (b: Batch) => agent.update(b);
      for (let i = 0; i < 3; i++) await update(replay.sample(rng, batch));
      const seconds = opts.quick ? 3 : 10;
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000 || n < 3) {
        await update(replay.sample(rng, batch));
        n++;
      }
      const dt = (performance.now() - t0) / 1000;
      const executor = (agent as { exec?: { name: string } }).exec?.name ?? 'wasm';
      opts.log(`ddpg pixels b${batchSize}: ${n} updates in ${dt.toFixed(1)} s (${agent.executorNote ?? executor})`);
      yield {
        case: `ddpg-pixels-b${batchSize}`,
        backend: opts.backend,
        executor,
        batch: batchSize,
        updates_per_s: +(n / dt).toFixed(n / dt < 10 ? 3 : 2),
      };
    } finally {
      agent.dispose();
    }
  }
}
