import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: '/tmp/rls-report-test' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('rl-studio report', () => {
  it('writes the table and the learning-curve figures of two short real runs', () => {
    const root = mkdtempSync(join(tmpdir(), 'rls-report-'));
    try {
      const runDirs: string[] = [];
      for (const seed of [0, 1]) {
        const r = cli([
          'train',
          '--env',
          'pendulum',
          '--preset',
          'ddpg-quick',
          '--steps',
          '400',
          '--eval-every',
          '200',
          '--eval-episodes',
          '1',
          '--seed',
          String(seed),
          '--runs-dir',
          join(root, 'runs'),
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        runDirs.push(jsonLines(r.stdout).find((e) => e.event === 'done')!.run_dir as string);
      }
      const out = join(root, 'report');
      const r = cli(['report', ...runDirs, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const result = jsonLines(r.stdout)[0] as {
        ok: boolean;
        figures: { svg: string; png: string }[];
        rows: { seeds: number[]; runs: string[]; rAv: number | null; rAvRaw: number }[];
      };
      expect(result.ok).toBe(true);
      expect(result.rows).toHaveLength(1);
      const row = result.rows[0];
      expect(row.seeds).toEqual([0, 1]);
      // The dense pendulum has stored references, so the scores are normalised.
      const refs = JSON.parse(readFileSync('resources/envs/references.json', 'utf8')) as {
        envs: Record<string, { random_return: number; planner_return: number }>;
      };
      const ref = refs.envs.pendulum;
      expect(row.rAv).toBeCloseTo((row.rAvRaw - ref.random_return) / (ref.planner_return - ref.random_return), 9);

      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toMatch(/\| pendulum \| ddpg \| lowdim \| 0, 1 \| 400 \|/);
      for (const dir of runDirs) expect(md).toContain(dir.split('/').pop()!);
      expect(result.figures).toHaveLength(1);
      const svg = readFileSync(result.figures[0].svg, 'utf8');
      // Both runs evaluated at steps 200 and 400: the mean curve holds those two points.
      expect(
        svg
          .match(/data-series="mean" points="([^"]*)"/)![1]
          .trim()
          .split(' '),
      ).toHaveLength(2);
      expect(svg).toContain('data-series="random"');
      expect(svg).toContain('data-series="planner"');
      const png = readFileSync(result.figures[0].png);
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(1280); // 640 px wide at device scale 2
      expect(existsSync(join(out, 'report.json'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not a run, and no runs at all, with exit code 2', () => {
    const none = cli(['report', '--out', '/tmp/rls-report-none']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give at least one run folder');
    const notRun = cli(['report', '/tmp', '--out', '/tmp/rls-report-none', '--json']);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toContain('not a run folder');
  });
});
