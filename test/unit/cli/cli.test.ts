import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], { encoding: 'utf8', env: { ...process.env, RL_STUDIO_HOME: '/tmp/rls-cli-test' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('rl-studio CLI contract', () => {
  it('prints help listing every command of the contract', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['envs', 'train', 'resume', 'eval', 'export', 'runs', 'serve', 'bench']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('has --help on each command', () => {
    for (const c of ['envs', 'train', 'resume', 'eval', 'export', 'runs', 'serve', 'bench']) {
      const r = cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`rl-studio ${c}`);
    }
  });

  it('exits 2 with one line and no stack trace for an unknown command', () => {
    const r = cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('frobnicate');
    expect(r.stderr).not.toMatch(/\n\s+at /);
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
});
