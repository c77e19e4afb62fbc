import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, pixelSettings, PIXEL_SETTINGS_DEFAULTS, PIXEL_SETTINGS_PAPER } from '../../../src-main/api/run-config.ts';
import { allPresets } from '../../../src-main/learn/algos/specs.ts';
import { DDPG_PAPER_DEFAULTS, DDPG_PIXEL_DEFAULTS, DDPG_PIXEL_PAPER } from '../../../src-main/learn/algos/ddpg/spec.ts';
import { withPreset } from '../../../src-main/api/preset.ts';
import { runHyperparams } from '../../../src-main/train/run-setup.ts';
import { NAF_PIXEL_DEFAULTS } from '../../../src-main/learn/algos/naf/spec.ts';

const PRESETS = allPresets();
import { pixelHyperparamDefaults, resolveRunConfig } from '../../../src-main/train/config.ts';
import { UserError } from '../../../src-main/util/errors.ts';

function fieldsOf(raw: unknown): string[] {
  try {
    resolveRunConfig(raw);
  } catch (e) {
    if (e instanceof UserError) return e.details.map((d) => d.field ?? '');
    throw e;
  }
  return [];
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: mkdtempSync(join(tmpdir(), 'rls-home-')) },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('run config', () => {
  it('fills in the defaults: DDPG on the dense pendulum with the defaults a new run gets', () => {
    const r = parseRunConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({ env: 'pendulum', algo: 'ddpg', obs: 'lowdim', seed: 0, saveReplay: true, warmupSteps: 5000 });
    expect(r.config.hyperparams).toMatchObject({
      actorLr: 1e-3,
      criticLr: 1e-3,
      criticL2: 0,
      tau: 0.005,
      batchSize: 100,
      obsNormalization: true,
    });
    // The paper's values are the preset, as data.
    expect(PRESETS['ddpg-paper']!.hyperparams).toMatchObject({
      actorLr: 1e-4,
      criticLr: 1e-3,
      criticL2: 1e-2,
      tau: 0.001,
      batchSize: 64,
      criticActionLayer: 1,
    });
    // TD3's warm-up comes from its own defaults; an explicit one wins.
    const td3 = parseRunConfig({ algo: 'td3' });
    expect(td3.ok && td3.config.warmupSteps).toBe(5000);
    const td3Paper = parseRunConfig({ algo: 'td3', hyperparams: structuredClone(PRESETS['td3-paper']!.hyperparams) });
    expect(td3Paper.ok && td3Paper.config.warmupSteps).toBe(10_000);
    const short = parseRunConfig({ algo: 'td3', warmupSteps: 100 });
    expect(short.ok && short.config.warmupSteps).toBe(100);
  });

  it('refuses invalid configs before anything starts, naming the field', () => {
    expect(fieldsOf({ hyperparams: { actorLr: -0.001 } })).toEqual(['hyperparams.actorLr']);
    expect(fieldsOf({ hyperparams: { batchSize: 512, replayCapacity: 256 } })).toEqual(['hyperparams.batchSize']);
    expect(fieldsOf({ env: 'no-such-env' })).toEqual(['env']);
    expect(fieldsOf({ steps: 0 })).toEqual(['steps']);
    expect(fieldsOf({ algo: 'ppo' })).toEqual(['algo']);
    expect(fieldsOf({ algo: 'naf', hyperparams: { actorLr: 1e-3 } })).toEqual(['hyperparams']);
    expect(fieldsOf({ hyperparams: { criticHidden: [64], criticActionLayer: 1 } })).toEqual(['hyperparams.criticActionLayer']);
    expect(fieldsOf({ obs: 'pixels', hyperparams: { prioritizedReplay: true } })).toEqual(['hyperparams.prioritizedReplay']);
    expect(fieldsOf({ obs: 'pixels', algo: 'naf', hyperparams: { modelBased: true } })).toEqual(['hyperparams.modelBased']);
    expect(fieldsOf({ obs: 'pixels', algo: 'sac' })).toEqual(['algo']);
  });

  it("pixels: the pixel networks' defaults under the user's values, recorded in the config", () => {
    const { config } = resolveRunConfig({ obs: 'pixels', env: 'cartpole-balance', hyperparams: { batchSize: 32 } });
    expect(config.hyperparams).toMatchObject({ ...DDPG_PIXEL_DEFAULTS, batchSize: 32 });
    expect(resolveRunConfig({ obs: 'pixels', env: 'cartpole-balance', algo: 'naf' }).config.hyperparams).toMatchObject(NAF_PIXEL_DEFAULTS);
    // Each algorithm's spec declares its pixel defaults (TD3: DDPG's); one without (SAC) has none.
    expect(pixelHyperparamDefaults('ddpg')).toEqual(DDPG_PIXEL_DEFAULTS);
    expect(pixelHyperparamDefaults('td3')).toEqual(DDPG_PIXEL_DEFAULTS);
    expect(pixelHyperparamDefaults('naf')).toEqual(NAF_PIXEL_DEFAULTS);
    expect(pixelHyperparamDefaults('sac')).toBeNull();
  });

  it("pixel settings added later read as the paper's in older runs' configs; a new run gets the defaults", () => {
    // A config written before trunkNorm, nStep, antialias and conv existed (and one before any pixel settings).
    const old = { pixels: { size: 48, actionRepeat: 4, stacking: 'sliding' as const, stack: 2, shift: 2, trunk: 16 } };
    expect(pixelSettings(old as never)).toEqual({ ...old.pixels, trunkNorm: false, nStep: 1, antialias: false, conv: 'fast' });
    expect(pixelSettings({} as never)).toEqual(PIXEL_SETTINGS_PAPER);
    expect(resolveRunConfig({ obs: 'pixels', env: 'cartpole-balance' }).config.pixels).toEqual(PIXEL_SETTINGS_DEFAULTS);
    expect(PIXEL_SETTINGS_DEFAULTS).toMatchObject({ size: 84, actionRepeat: 8, stacking: 'sliding', shift: 4, trunk: 50, nStep: 3 });
    const { config } = resolveRunConfig({
      obs: 'pixels',
      env: 'cartpole-balance',
      pixels: { trunk: 50, trunkNorm: true, nStep: 3, antialias: true },
    });
    expect(pixelSettings(config)).toMatchObject({ trunk: 50, trunkNorm: true, nStep: 3, antialias: true, size: 84 });
    const bad = parseRunConfig({ obs: 'pixels', pixels: { nStep: 0 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0].field).toBe('pixels.nStep');
    const badTorso = parseRunConfig({ obs: 'pixels', pixels: { conv: 'resnet' } });
    expect(badTorso.ok).toBe(false);
    if (!badTorso.ok) {
      expect(badTorso.issues[0].field).toBe('pixels.conv');
      expect(badTorso.issues[0].message).toMatch(/fast.*drq/);
    }
  });

  it("a pixel preset brings pixel observations, the paper's frames and networks, each under the user's values", () => {
    const given = { env: 'cartpole-balance', hyperparams: { batchSize: 8 }, pixels: { size: 48 } };
    const { config, issues } = withPreset(given, 'ddpg-pixels-paper', '--preset');
    expect(issues).toEqual([]);
    const resolved = resolveRunConfig(config).config;
    expect(resolved.obs).toBe('pixels');
    expect(resolved.pixels).toEqual({ ...PIXEL_SETTINGS_PAPER, size: 48 });
    expect(resolved.hyperparams).toMatchObject({ ...DDPG_PAPER_DEFAULTS, ...DDPG_PIXEL_PAPER, batchSize: 8 });
    expect(resolved.hyperparams).toMatchObject({ tau: 0.001, criticL2: 0.01, preTanhPenalty: 0, actorHidden: [200, 200] });
    // The pixel defaults depart from it (learn/algos/ddpg/spec.ts DDPG_PIXEL_DEFAULTS).
    expect(resolveRunConfig({ env: 'cartpole-balance', obs: 'pixels' }).config.hyperparams).toMatchObject({
      batchSize: 64,
      twinCritics: true,
      preTanhPenalty: 0.01,
    });
    expect(withPreset({ obs: 'lowdim' }, 'ddpg-pixels-paper', 'base.preset').issues).toEqual([
      { field: 'base.preset', message: "preset 'ddpg-pixels-paper' is for pixel observations, not lowdim" },
    ]);
    expect(withPreset({}, 7, '--preset').issues[0]!.message).toMatch(/^unknown preset '7'; presets: ddpg-quick/);
    // A value that is not an object stays for the schema to name.
    expect(withPreset({ pixels: 'big' }, 'ddpg-pixels-paper', '--preset').config.pixels).toBe('big');
  });

  it("a pixel run trains with its config's values; one added later is the algorithm's old default, not today's pixel default", () => {
    const { config } = resolveRunConfig({ obs: 'pixels', env: 'cartpole-balance' });
    expect(runHyperparams(config)).toEqual(config.hyperparams);
    // A pixel run created before the pre-tanh penalty existed trained without it.
    const { preTanhPenalty: _added, ...older } = config.hyperparams as Record<string, unknown>;
    expect(runHyperparams({ algo: 'ddpg', hyperparams: older as never })).toMatchObject({ preTanhPenalty: 0, batchSize: 64 });
  });

  it('pixels are refused only when the render host cannot start: no built page or no Chromium', () => {
    const saved = process.env.CHROMIUM_PATH;
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = mkdtempSync(join(tmpdir(), 'rls-nopath-'));
      delete process.env.CHROMIUM_PATH;
      let message = '';
      try {
        resolveRunConfig({ obs: 'pixels' });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        message = e.message;
        expect(e.details.map((d) => d.field)).toContain('obs');
      }
      expect(message).toMatch(/Chromium not found/);
    } finally {
      process.env.PATH = savedPath;
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });
});

describe('train CLI refusals', () => {
  it('exits 2 with one line on stderr and no stack trace for invalid values', () => {
    const runs = mkdtempSync(join(tmpdir(), 'rls-runs-'));
    for (const [args, pattern] of [
      [['--set', 'actorLr=-1'], /hyperparams\.actorLr/],
      [['--env', 'no-such-env'], /env: no env 'no-such-env'/],
      [['--steps', 'many'], /--steps: 'many' is not a whole number/],
      [
        ['--obs', 'pixels', '--set', 'prioritizedReplay=true'],
        /hyperparams\.prioritizedReplay: prioritized replay is not available with pixel observations/,
      ],
      [
        ['--set', 'batchSize=500', '--set', 'replayCapacity=200'],
        /hyperparams\.batchSize: batch size 500 is larger than the replay buffer/,
      ],
    ] as [string[], RegExp][]) {
      const r = cli(['train', '--runs-dir', runs, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--json puts the errors on stdout as JSON', () => {
    const r = cli(['train', '--set', 'tau=7', '--json', '--runs-dir', mkdtempSync(join(tmpdir(), 'rls-runs-'))]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: false, errors: [{ field: 'hyperparams.tau' }] });
  });

  it('an unusable runs folder (a path under a regular file) is a clear error, and nothing is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rls-ro-'));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = cli(['train', '--runs-dir', join(file, 'runs')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/runsDir: runs folder .* is not usable: .*not a folder/);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('resume refuses a folder that is not a run', () => {
    const r = cli(['resume', mkdtempSync(join(tmpdir(), 'rls-empty-'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a run folder/);
  });
});
