import { pixelSettings } from '../api/run-config.ts';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { EnvInfo } from '../sim/types.ts';
import { RunFiles, type CheckpointInfo } from '../store/run-store.ts';
import { decodeTensorFile } from '../store/tensor-file.ts';
import { decodeCheckpoint } from '../train/checkpoint.ts';
import { runEnvSource, versions } from '../train/config.ts';
import { setUpRun } from '../train/run-setup.ts';
import { refreshHostViews } from '../learn/agent-reads.ts';
import { CONV_TORSOS } from '../learn/nets/conv-torsos.ts';
import { PixelEnv } from '../render/pixel-env.ts';
import { UserError } from '../util/errors.ts';
import { policyGraphFromAgent } from './from-agent.ts';
import { ACTION_SCALING_TEXT, type PolicyMeta } from './meta.ts';
import type { NormalizeLayer, PolicyGraph } from './policy-graph.ts';

export interface RunPolicy {
  graph: PolicyGraph;
  meta: PolicyMeta;
}

/**
 * The policy of one checkpoint of a run, ready to write: its graph (rebuilt through the agent
 * itself, so it is what the run computes) and its metadata.
 *
 * `checkpoint`: 'best' (default: of the checkpoints still on disk, the one with the highest
 * recorded eval return; the latest when none was evaluated), 'latest', a step number, or a
 * checkpoint file name (ckpt-0000004000.bin).
 */
export async function loadRunPolicy(runDir: string, checkpoint = 'best'): Promise<RunPolicy> {
  const run = RunFiles.open(runDir);
  const stored = run.readConfig();
  const config = stored.config;
  const evals = evalReturns(run);
  const chosen = pickCheckpoint(run, checkpoint, evals);

  let decoded;
  try {
    const { meta, arrays } = decodeTensorFile(readFileSync(run.inside(chosen.file)));
    decoded = decodeCheckpoint(meta, arrays);
  } catch (e) {
    throw new UserError({ file: chosen.file, message: `cannot read the checkpoint: ${(e as Error).message}` });
  }

  // The same envs and agent as training builds (a pixel run starts its render host for the shapes).
  const setup = await setUpRun(config, runEnvSource(run), 1);
  const info: EnvInfo = setup.envs[0].info;
  let graph: PolicyGraph;
  try {
    setup.agent.setState(decoded.agent);
    // On an executor that reads only asynchronously (webgpu) the policy's host views are read now.
    await refreshHostViews(setup.agent);
    // Pixel runs train the run's conv torso and trunk (run-setup: createPixelAgent).
    const env = setup.envs[0];
    const { conv, trunk, trunkNorm } = pixelSettings(config);
    const torso = env instanceof PixelEnv ? { shape: env.shape, layers: CONV_TORSOS[conv], trunk, trunkNorm } : undefined;
    graph = policyGraphFromAgent(setup.agent, info.action, torso, decoded.agent);
  } finally {
    await setup.close();
  }

  const norm = graph.layers.find((l): l is NormalizeLayer => l.kind === 'normalize');
  const meta: PolicyMeta = {
    format: 'rl-studio-policy',
    version: 1,
    algo: config.algo,
    env: { id: info.id, spec: info },
    observation: {
      kind: config.obs,
      shape: graph.inputShape,
      layout: info.obs.parts,
      normalization: norm ? { mean: Array.from(norm.mean), std: Array.from(norm.std), clip: norm.clip } : null,
    },
    action: {
      size: info.action.size,
      names: info.action.names,
      low: info.action.low,
      high: info.action.high,
      scaling: ACTION_SCALING_TEXT,
    },
    checkpoint: { name: basename(chosen.file), step: chosen.step },
    evalReturn: evals.get(chosen.step) ?? null,
    run: { id: run.id, seed: config.seed },
    trainingConfig: stored,
    exportedAt: new Date().toISOString(),
    producer: `rl-studio ${versions().rlStudio}`,
  };
  return { graph, meta };
}

/** Mean eval return per step from metrics.jsonl (a later record for a step replaces an earlier one). */
function evalReturns(run: RunFiles): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of run.readMetrics().records) {
    if (r.kind === 'eval' && typeof r.eval_return === 'number') out.set(r.step, r.eval_return);
  }
  return out;
}

function pickCheckpoint(run: RunFiles, which: string, evals: Map<number, number>): CheckpointInfo {
  const all = run.listCheckpoints(); // newest first
  if (all.length === 0) {
    throw new UserError({
      file: run.dir,
      message: 'the run has no checkpoint to export yet (train it for at least --checkpoint-every steps)',
    });
  }
  const have = () => all.map((c) => c.step).join(', ');
  if (which === 'latest') return all[0];
  if (which === 'best') {
    let best: CheckpointInfo | null = null;
    for (const c of all) {
      const r = evals.get(c.step);
      if (r !== undefined && (best === null || r > evals.get(best.step)!)) best = c;
    }
    return best ?? all[0];
  }
  if (/^\d+$/.test(which)) {
    const c = all.find((x) => x.step === Number(which));
    if (!c) throw new UserError({ field: '--checkpoint', message: `no checkpoint at step ${which} (the run has steps ${have()})` });
    return c;
  }
  const c = all.find((x) => basename(x.file) === basename(which) && (basename(which) === which || resolve(which) === x.file));
  if (!c)
    throw new UserError({ field: '--checkpoint', message: `no checkpoint '${which}' (use best, latest, or one of the steps ${have()})` });
  return c;
}
