/**
 * `rl-studio train --obs pixels` end to end: the CLI trains pixel DDPG through the render host
 * (headless Chromium drawing the built page, out/renderer; `npm test` builds first), evaluates,
 * checkpoints with the pixel replay buffer, exports a policy that `eval --policy` runs on frames from
 * the render host, and `resume` continues from the checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listEpisodes, readEpisode } from '../../src-main/store/episodes.ts';

type Line = Record<string, unknown> & { event: string };

function cli(args: string[]): { code: number | null; lines: Line[]; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    timeout: 170_000,
    env: { ...process.env, RL_STUDIO_HOME: mkdtempSync(join(tmpdir(), 'rls-home-')) },
  });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  return { code: r.status, lines, stderr: r.stderr };
}

describe('train --obs pixels', () => {
  it("trains, evaluates and checkpoints from pixels with the paper's pixel preset, and resumes from the checkpoint", () => {
    const runs = mkdtempSync(join(tmpdir(), 'rls-pixels-'));
    const first = cli([
      'train',
      '--env',
      'cartpole-balance',
      '--preset',
      'ddpg-pixels-paper',
      '--steps',
      '200',
      '--eval-every',
      '200',
      '--eval-episodes',
      '1',
      '--checkpoint-every',
      '100',
      '--json',
      '--runs-dir',
      runs,
      '--set',
      'batchSize=16',
      '--set',
      'replayCapacity=2000',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const done = first.lines.find((l) => l.event === 'done');
    expect(done, first.stderr).toMatchObject({ status: 'done', step: 200 });
    expect(Number.isFinite(done!.eval_return)).toBe(true);
    const checkpoints = first.lines.filter((l) => l.event === 'checkpoint');
    expect(checkpoints.map((c) => c.step)).toEqual([100, 200]);
    for (const c of checkpoints) expect(existsSync(c.path as string)).toBe(true);

    // The run records the pixel hyperparameters and frames it trained with (user overrides over the preset's).
    const runDir = done!.run_dir as string;
    const stored = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as {
      config: { obs: string; hyperparams: Record<string, unknown>; pixels: Record<string, unknown> };
    };
    expect(stored.config.obs).toBe('pixels');
    expect(stored.config.hyperparams).toMatchObject({
      batchSize: 16,
      replayCapacity: 2000,
      actorHidden: [200, 200],
      criticHidden: [200, 200],
      finalLayerInit: 3e-4,
      tau: 0.001,
    });
    expect(stored.config.pixels).toMatchObject({ size: 64, actionRepeat: 3, stacking: 'repeats', trunk: 0, nStep: 1 });

    // The recorded episode keeps the state under the pixels (for replay's observation traces) and
    // the reward's terms, summed over the action repeats as the reward is.
    const { episodes } = listEpisodes(join(runDir, 'episodes'));
    const episode = readEpisode(join(runDir, 'episodes'), episodes[0].id);
    expect(episode.meta.observation!.parts.map((p) => p.name)).not.toContain('pixels');
    expect(episode.observations!.length).toBe(episode.meta.frames * episode.meta.observation!.size);
    expect(episode.meta.rewardTerms).toMatchObject({
      labels: ['upright pole_1', 'joint_pos slider', 'control', 'joint_vel hinge_1'],
      combine: 'product',
    });
    expect(episode.rewardTerms!.length).toBe((episode.meta.frames - 1) * 4);
    // Each factor is in [0, 1] per physics step, so at most 3 over the paper's 3 repeats.
    for (const x of episode.rewardTerms!) expect(x >= 0 && x <= 3).toBe(true);

    // `eval` rebuilds the pixel env and agent from the checkpoint and reproduces the recorded return.
    const evaluated = cli(['eval', runDir, '--episodes', String(1), '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.lines[0]).toMatchObject({ step: 200, episodes: 1 });
    expect(evaluated.lines[0].eval_return as number).toBeCloseTo(done!.eval_return as number, 6);

    // The trained pixel policy exports (conv torso included) as one ONNX file.
    const onnx = join(runs, 'policy.onnx');
    const exported = cli(['export', runDir, '--format', 'onnx', '--out', onnx, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.lines[0]).toMatchObject({ ok: true, format: 'onnx', step: 200 });
    expect(statSync(onnx).size).toBeGreaterThan(100_000);

    // `eval --policy` on the exported pixel policy draws its frames through the render host on the
    // run's evaluation seeds: the run's return, up to the export's float rounding.
    const fromFile = cli(['eval', '--policy', onnx, '--episodes', String(1), '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.lines[0]).toMatchObject({ episodes: 1, env: 'cartpole-balance' });
    const recorded = done!.eval_return as number;
    expect(
      Math.abs((fromFile.lines[0].eval_return as number) - recorded),
      `eval --policy ${String(fromFile.lines[0].eval_return)} vs run ${recorded}`,
    ).toBeLessThan(1e-3 * Math.abs(recorded) + 1e-3);

    const resumed = cli(['resume', runDir, '--steps', '240', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The checkpoint's replay buffer came back (no refill warning).
    expect(resumed.stderr + JSON.stringify(resumed.lines)).not.toMatch(/without a stored replay buffer/);
    const again = resumed.lines.find((l) => l.event === 'done');
    expect(again, resumed.stderr).toMatchObject({ status: 'done', step: 240 });
    expect(Number.isFinite(again!.eval_return)).toBe(true);
    expect(resumed.lines.some((l) => l.event === 'checkpoint' && l.step === 240)).toBe(true);
  });

  it('trains with its own pixel settings (size, action repeats, sliding stack, shift, LayerNorm trunk, n-step returns, anti-aliasing, conv torso), records them, and its exported policy sees the same frames', () => {
    const runs = mkdtempSync(join(tmpdir(), 'rls-pixels-'));
    const pixels = {
      size: 48,
      actionRepeat: 4,
      stacking: 'sliding',
      stack: 2,
      shift: 2,
      trunk: 16,
      trunkNorm: true,
      nStep: 2,
      antialias: true,
      // DrQ-v2's torso (4 conv layers, 17 x 17 x 32 features at 48): the export must rebuild it, not the default one.
      conv: 'drq',
    };
    const first = cli([
      'train',
      '--env',
      'cartpole-balance',
      '--obs',
      'pixels',
      '--steps',
      '150',
      '--eval-every',
      '150',
      '--eval-episodes',
      '1',
      '--checkpoint-every',
      '150',
      '--json',
      '--runs-dir',
      runs,
      '--set',
      'batchSize=16',
      '--set',
      'replayCapacity=1000',
      '--set',
      `pixels=${JSON.stringify(pixels)}`,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const done = first.lines.find((l) => l.event === 'done');
    expect(done, first.stderr).toMatchObject({ status: 'done', step: 150 });
    const runDir = done!.run_dir as string;
    const stored = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { config: { pixels: unknown } };
    expect(stored.config.pixels).toEqual(pixels);

    const onnx = join(runs, 'policy.onnx');
    const exported = cli(['export', runDir, '--format', 'onnx', '--out', onnx, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    // 48x48 anti-aliased frames, 2 stacked: the exported input is 48 x 48 x 6, and the trunk (with its LayerNorm) is part of the graph.
    const fromFile = cli(['eval', '--policy', onnx, '--episodes', String(1), '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const recorded = done!.eval_return as number;
    expect(
      Math.abs((fromFile.lines[0].eval_return as number) - recorded),
      `eval --policy ${String(fromFile.lines[0].eval_return)} vs run ${recorded}`,
    ).toBeLessThan(1e-3 * Math.abs(recorded) + 1e-3);

    const bad = cli([
      'train',
      '--env',
      'cartpole-balance',
      '--obs',
      'pixels',
      '--steps',
      '10',
      '--json',
      '--runs-dir',
      runs,
      '--set',
      'pixels={"size":8}',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr + JSON.stringify(bad.lines)).toMatch(/pixels\.size/);
  });
});
