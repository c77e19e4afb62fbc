import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: '/tmp/rls-cli-test' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('rl-studio CLI contract', () => {
  it('prints help listing every command of the contract', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['envs', 'train', 'resume', 'eval', 'export', 'runs', 'serve', 'bench'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('has --help on each command', () => {
    for (const c of ['envs', 'train', 'resume', 'eval', 'export', 'runs', 'serve', 'bench']) {
      const r = cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`rl-studio ${c}`);
    }
  });

  it('exits 2 with one line and no stack trace for an unknown command, flag or a missing argument', () => {
    for (const [args, says] of [
      [['frobnicate'], "unknown command 'frobnicate'"],
      [['train', '--bogus'], "unknown option '--bogus'"],
      [['resume'], "missing required argument 'run-dir'"],
    ] as const) {
      const r = cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toEqual([`rl-studio: ${says} (run with --help for usage)`]);
    }
    const json = cli(['train', '--bogus', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, errors: [{ message: "unknown option '--bogus'" }] });
  });

  it('exits 2 with JSON errors on stdout for a bad argument under --json', () => {
    const r = cli(['serve', '--port', 'eighty', '--json']);
    expect(r.code).toBe(2);
    const line = JSON.parse(r.stdout.trim()) as { ok: boolean; errors: { field: string; message: string }[] };
    expect(line.ok).toBe(false);
    expect(line.errors[0].field).toBe('--port');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown benchmark suite', () => {
    const r = cli(['bench', 'everything']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown benchmark 'everything'");
  });

  it('trains with a named preset under --set overrides, and refuses unknown or mismatched presets', () => {
    const runs = mkdtempSync(join(tmpdir(), 'rls-cli-preset-'));
    try {
      const r = cli([
        'train',
        '--preset',
        'ddpg-quick',
        '--set',
        'batchSize=32',
        '--steps',
        '200',
        '--eval-episodes',
        '0',
        '--runs-dir',
        runs,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const done = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event?: string; run_dir?: string })
        .find((e) => e.event === 'done')!;
      const { config } = JSON.parse(readFileSync(join(done.run_dir!, 'config.json'), 'utf8')) as {
        config: { algo: string; hyperparams: { actorHidden: number[]; batchSize: number; tau: number } };
      };
      expect(config.algo).toBe('ddpg');
      expect(config.hyperparams.actorHidden).toEqual([64, 64]);
      expect(config.hyperparams.tau).toBe(0.005);
      expect(config.hyperparams.batchSize).toBe(32);
    } finally {
      rmSync(runs, { recursive: true, force: true });
    }
    const unknown = cli(['train', '--preset', 'fastest']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown preset 'fastest'; presets: ddpg-quick");
    const mismatch = cli(['train', '--preset', 'ddpg-quick', '--algo', 'naf']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain("preset 'ddpg-quick' is for ddpg, not naf");
    const stateRun = cli(['train', '--preset', 'ddpg-pixels-paper', '--obs', 'lowdim']);
    expect(stateRun.code).toBe(2);
    expect(stateRun.stderr).toContain("preset 'ddpg-pixels-paper' is for pixel observations, not lowdim");
  });
});
