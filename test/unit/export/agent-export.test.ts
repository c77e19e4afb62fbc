import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createAgent } from '../../../src-main/learn/algos/factory.ts';
import type { Agent } from '../../../src-main/learn/types.ts';
import { createPixelAgent } from '../../../src-main/learn/algos/pixel-agent.ts';
import { PixelEncoder } from '../../../src-main/learn/nets/pixel-nets.ts';
import { CONV_TORSOS } from '../../../src-main/learn/nets/conv-torsos.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { policyGraphFromAgent } from '../../../src-main/export/from-agent.ts';
import { renderExport, EXPORT_FORMATS } from '../../../src-main/export/files.ts';
import { loadExportedPolicy } from '../../../src-main/export/load.ts';
import { fakeMeta } from './helpers.ts';

/**
 * For each algorithm and format: 1000 random observations through the exported file give the
 * in-app policy's action (agent.act(obs, false) mapped to actuator units) within 1e-5.
 * Output layers are initialised wide (finalLayerInit 0.5) so actions cover the whole range rather
 * than the paper's near-zero start, and DDPG runs with observation normalisation on.
 */
const TOL = 1e-5;
const OBS = 9;
// Actuator ranges of the size MuJoCo tasks use; float32 differences scale with the range.
const LOW = [-2, -0.5, -1];
const HIGH = [2, 1.5, 3];
let dir = '';

beforeAll(async () => {
  await selectBackend();
  dir = mkdtempSync(join(tmpdir(), 'rls-export-agent-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomObs(rng: Rng, scale: number): Float32Array {
  const o = new Float32Array(OBS);
  for (let i = 0; i < OBS; i++) o[i] = rng.normal() * scale + (i % 3) - 1;
  return o;
}

function randomBatch(rng: Rng, size: number, act: number) {
  const rows = (n: number, f: () => number) => Float32Array.from({ length: size * n }, f);
  const obs = Array.from({ length: size }, () => randomObs(rng, 3));
  return {
    size,
    obs: Float32Array.from(obs.flatMap((o) => Array.from(o))),
    nextObs: Float32Array.from(obs.flatMap((o) => Array.from(o, (v) => v + 0.1 * rng.normal()))),
    actions: rows(act, () => rng.range(-1, 1)),
    rewards: rows(1, () => rng.normal()),
    dones: rows(1, () => 0),
  };
}

/** What the env applies for an agent action in [-1, 1] (sim: low + (a + 1) / 2 (high - low)). */
function toActuator(a: Float32Array): Float32Array {
  return Float32Array.from(a, (v, i) => LOW[i] + ((v + 1) / 2) * (HIGH[i] - LOW[i]));
}

const cases: { algo: 'ddpg' | 'td3' | 'naf'; hp: Record<string, unknown> }[] = [
  { algo: 'ddpg', hp: { finalLayerInit: 0.5, obsNormalization: true } },
  { algo: 'td3', hp: { finalLayerInit: 0.5, actorHidden: [64, 48, 32] } },
  // Batch norm in inference form is folded into the dense layers of the export.
  { algo: 'ddpg', hp: { finalLayerInit: 0.5, batchNorm: true, batchSize: 32 } },
  { algo: 'naf', hp: { finalLayerInit: 0.5 } },
];

describe.each(cases)('$algo policy export', ({ algo, hp }) => {
  it('matches agent.act on 1000 observations in every format', async () => {
    const agent: Agent = createAgent(algo, OBS, LOW.length, hp, 3);
    const rng = new Rng(99);
    // Exploring steps feed the running normalisation (when on) so mean/std are not trivial.
    for (let i = 0; i < 200; i++) agent.act(randomObs(rng, 3), true);
    // Updates move batch norm's running statistics (when on) away from their initial 0 and 1.
    if (hp.batchNorm) for (let u = 0; u < 30; u++) agent.update(randomBatch(rng, 32, LOW.length));
    const graph = policyGraphFromAgent(agent, { low: LOW, high: HIGH });
    const meta = fakeMeta(graph, LOW.length);
    const obs = Array.from({ length: 1000 }, () => randomObs(rng, 4));
    const want = obs.map((o) => toActuator(agent.act(o, false)));
    // The policy must actually vary, or the comparison proves nothing.
    const spread = Math.max(...want.map((a) => a[0])) - Math.min(...want.map((a) => a[0]));
    console.log(`${algo}: first action spans ${spread.toFixed(2)} of ${HIGH[0] - LOW[0]}`);
    expect(spread).toBeGreaterThan(1);
    for (const format of EXPORT_FORMATS) {
      const out = join(dir, `${algo}-${format}`);
      mkdirSync(out, { recursive: true });
      for (const f of await renderExport(graph, meta, format, 'folder')) writeFileSync(join(out, f.name), f.bytes);
      const policy = await loadExportedPolicy(out);
      let worst = 0;
      for (let k = 0; k < obs.length; k++) {
        const got = await policy(obs[k]);
        for (let j = 0; j < LOW.length; j++) worst = Math.max(worst, Math.abs(got[j] - want[k][j]));
      }
      await policy.dispose();
      console.log(`${algo} ${format}: max |exported - in-app| = ${worst.toExponential(2)} over 1000 observations`);
      expect(worst).toBeLessThan(TOL);
    }
    agent.dispose();
  });
});

describe.each([
  { algo: 'ddpg' as const, trunk: 0, trunkNorm: false, conv: 'fast' as const },
  { algo: 'naf' as const, trunk: 0, trunkNorm: false, conv: 'fast' as const },
  { algo: 'ddpg' as const, trunk: 12, trunkNorm: false, conv: 'fast' as const },
  { algo: 'ddpg' as const, trunk: 12, trunkNorm: true, conv: 'fast' as const },
  { algo: 'ddpg' as const, trunk: 12, trunkNorm: true, conv: 'drq' as const },
])('$algo pixel policy export ($conv conv torso, trunk $trunk, LayerNorm $trunkNorm)', ({ algo, trunk, trunkNorm, conv }) => {
  it('matches agent.act on 200 images in every format', async () => {
    // A named torso (conv-torsos.ts: 'fast' 3 layers to 1x1x32 at 32x32, 'drq' 4 layers to 9x9x32) on 32x32 RGB x 2 frames.
    const shape = { height: 32, width: 32, channels: 6 };
    const layers = CONV_TORSOS[conv];
    const features = conv === 'fast' ? 32 : 9 * 9 * 32;
    const agent = createPixelAgent({ algo, shape, actionSize: 2, hyperparams: { finalLayerInit: 0.5 }, seed: 8, layers, trunk, trunkNorm });
    if (trunkNorm) {
      // LayerNorm scales and shifts away from their initial 1 and 0, so the export must carry them.
      const state = agent.getState();
      const layout = new PixelEncoder(shape, layers, new Rng(0), 0, 0, trunk, true);
      const rng = new Rng(4);
      for (const [name, t] of Object.entries(state.tensors)) {
        if (!name.startsWith('encoder.') || !name.endsWith('.params')) continue;
        for (const [slot, lo, hi] of [
          ['ln.g', 0.5, 1.5],
          ['ln.b', -0.5, 0.5],
        ] as const) {
          const { offset, size } = layout.params.slot(slot);
          for (let i = offset; i < offset + size; i++) t.data[i] = rng.range(lo, hi);
        }
      }
      layout.dispose();
      agent.setState(state);
    }
    const low = [-1, -3];
    const high = [1, 2];
    const graph = policyGraphFromAgent(agent, { low, high }, { shape, layers, trunk, trunkNorm });
    expect(graph.layers.filter((l) => l.kind === 'layernorm')).toHaveLength(trunkNorm ? 1 : 0);
    expect(graph.layers.filter((l) => l.kind === 'conv2d')).toHaveLength(layers.length);
    expect(graph.layers.filter((l) => l.kind === 'dense' && l.inSize === features && l.outSize === trunk)).toHaveLength(trunk > 0 ? 1 : 0);
    const meta = fakeMeta(graph, 2);
    const rng = new Rng(21);
    // Noise at a random brightness per image, so the features (and actions) vary between images.
    const images = Array.from({ length: 200 }, () => {
      const brightness = rng.uniform();
      return Float32Array.from({ length: 32 * 32 * 6 }, () => brightness * rng.uniform());
    });
    const want = images.map((o) => Float32Array.from(agent.act(o, false), (v, i) => low[i] + ((v + 1) / 2) * (high[i] - low[i])));
    const spread = Math.max(...want.map((a) => a[1])) - Math.min(...want.map((a) => a[1]));
    expect(spread).toBeGreaterThan(0.05);
    for (const format of EXPORT_FORMATS) {
      const out = join(dir, `pixels-${algo}-${format}`);
      mkdirSync(out, { recursive: true });
      for (const f of await renderExport(graph, meta, format, 'folder')) writeFileSync(join(out, f.name), f.bytes);
      const policy = await loadExportedPolicy(out);
      let worst = 0;
      for (let k = 0; k < images.length; k++) {
        const got = await policy(images[k]);
        for (let j = 0; j < 2; j++) worst = Math.max(worst, Math.abs(got[j] - want[k][j]));
      }
      await policy.dispose();
      console.log(
        `pixels ${algo} ${format}: max |exported - in-app| = ${worst.toExponential(2)} over 200 images (spread ${spread.toFixed(2)})`,
      );
      expect(worst).toBeLessThan(TOL);
    }
    agent.dispose();
  });
});

describe('single-file forms', () => {
  it('load back to the same policy as the folder forms', async () => {
    const agent = createAgent('ddpg', OBS, LOW.length, { finalLayerInit: 1, actorHidden: [32, 32] }, 5);
    const graph = policyGraphFromAgent(agent, { low: LOW, high: HIGH });
    const meta = fakeMeta(graph, LOW.length);
    const rng = new Rng(1);
    const obs = Array.from({ length: 50 }, () => randomObs(rng, 2));
    for (const format of EXPORT_FORMATS) {
      const files = await renderExport(graph, meta, format, 'single');
      expect(files).toHaveLength(1);
      const path = join(dir, `single-${format}-${files[0].name}`);
      writeFileSync(path, files[0].bytes);
      const policy = await loadExportedPolicy(path);
      for (const o of obs) {
        const got = await policy(o);
        const want = toActuator(agent.act(o, false));
        for (let j = 0; j < LOW.length; j++) expect(Math.abs(got[j] - want[j])).toBeLessThan(TOL);
      }
      await policy.dispose();
    }
    agent.dispose();
  });
});
