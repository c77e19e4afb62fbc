// A small real sweep on the local pool through the CLI, as a researcher runs it: `sweep create`
// returns at once with the sweep's runs, `sweep wait` returns 0 when all four have trained, and
// `sweep show` names the best configuration. Bad files and folders are one clear line, exit 2.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepView } from '../../../src-main/api/sweeps.ts';

const root = mkdtempSync('/tmp/issue-18-local-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl-studio.mjs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, RL_STUDIO_HOME: join(root, 'home') },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Four short runs: two values of tau, two seeds each, the quick preset on the dense pendulum. */
export const SMALL_SWEEP = {
  name: 'tau',
  base: { env: 'pendulum', preset: 'ddpg-quick', steps: 600, evalEvery: 300, evalEpisodes: 1, checkpointEvery: 300, warmupSteps: 100 },
  grid: { tau: [0.005, 0.02] },
  seeds: 2,
};

describe('sweep on the local pool', () => {
  it('trains every run of a 4-run sweep and shows the best configuration', () => {
    const runsDir = join(root, 'runs');
    const file = join(root, 'tau.json');
    writeFileSync(file, JSON.stringify(SMALL_SWEEP));
    const created = cli(['sweep', 'create', file, '--runs-dir', runsDir, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const line = JSON.parse(created.stdout.trim()) as { id: string; runs: { id: string; params: { tau: number }; seed: number }[] };
    expect(line.runs).toHaveLength(4);
    expect(line.runs.map((r) => `${r.params.tau}/${r.seed}`).sort()).toEqual(['0.005/0', '0.005/1', '0.02/0', '0.02/1']);

    const waited = cli(['sweep', 'wait', line.id, '--runs-dir', runsDir, '--timeout', '240', '--json']);
    expect(waited.code, waited.stderr + readFileSync(join(runsDir, 'sweeps', line.id, 'pool.log'), 'utf8')).toBe(0);
    const view = JSON.parse(waited.stdout.trim()) as SweepView;
    expect(view.state).toBe('finished');
    expect(view.runs.every((r) => r.status === 'done' && r.step === 600 && r.finalReturn !== null)).toBe(true);
    expect(view.points).toHaveLength(2);
    expect(view.best!.runs).toHaveLength(2);
    expect(view.importance).toEqual([{ key: 'tau', correlation: expect.any(Number) }]);

    for (const r of line.runs) {
      const config = JSON.parse(readFileSync(join(runsDir, r.id, 'config.json'), 'utf8')) as {
        config: { hyperparams: { tau: number; actorHidden: number[] }; seed: number };
        experiment: string;
      };
      expect(config.config.hyperparams.tau).toBe(r.params.tau);
      expect(config.config.hyperparams.actorHidden).toEqual([64, 64]);
      expect(config.experiment).toBe(line.id);
      const evals = readFileSync(join(runsDir, r.id, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; step: number })
        .filter((m) => m.kind === 'eval');
      expect(evals.map((e) => e.step)).toEqual([300, 600]);
    }

    const listed = cli(['sweep', 'list', '--runs-dir', runsDir]);
    expect(listed.stdout).toContain(line.id);
    const shown = cli(['sweep', 'show', line.id, '--runs-dir', runsDir]);
    expect(shown.stdout).toMatch(/best: \{"tau":0\.0(05|2)\}/);
  });

  it('refuses bad values, an unwritable runs folder and an unreachable Redis with one line, exit 2', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...SMALL_SWEEP, grid: { tau: [0.01, 7] } }));
    const r = cli(['sweep', 'create', bad, '--runs-dir', join(root, 'runs2')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('grid.tau');
    expect(r.stderr).toContain('7');

    const file = join(root, 'ok.json');
    writeFileSync(file, JSON.stringify(SMALL_SWEEP));
    const locked = join(root, 'locked');
    rmSync(locked, { recursive: true, force: true });
    writeFileSync(locked, 'a file, not a folder');
    const w = cli(['sweep', 'create', file, '--runs-dir', join(locked, 'runs')]);
    expect(w.code).toBe(2);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.stderr).toMatch(/runs folder .* is not usable/);

    const q = cli(['sweep', 'create', file, '--runs-dir', join(root, 'runs3'), '--queue', 'redis://127.0.0.1:18381']);
    expect(q.code).toBe(2);
    expect(q.stderr.trim()).toMatch(/^rl-studio: --queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:18381: ECONNREFUSED$/);
  });
});
