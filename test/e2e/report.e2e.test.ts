/**
 * The Report view in the browser, against a real `rl-studio serve`: two short real runs (two seeds
 * of DDPG on the dense pendulum) selected in the runs table and reported on: one table row holding
 * both seeds with normalised scores, and the learning-curve figure with its mean, band and the
 * random / planner lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, serveStudio, watchErrors, type ServedStudio } from './studio.ts';

let studio: ServedStudio;
let browser: Browser;
let page: Page;
let errors: string[];
const runIds: string[] = [];

beforeAll(async () => {
  studio = await serveStudio();
  for (const seed of [0, 1]) {
    const r = spawnSync(
      process.execPath,
      [
        'bin/rl-studio.mjs',
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
        studio.runsDir,
        '--json',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, RL_STUDIO_HOME: studio.home },
      },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    const done = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; run_id?: string })
      .find((e) => e.event === 'done')!;
    runIds.push(done.run_id!);
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await studio?.stop();
});

describe('Report view', () => {
  it('shows the normalised table and the curves of the selected runs', async () => {
    await page.goto(studio.url);
    for (const id of runIds) await page.locator(`tr:has-text("${id}") input[type=checkbox]`).first().check();
    await page.getByRole('button', { name: 'Report', exact: true }).click();
    await page.waitForURL(/#\/report\//);
    const row = page.locator('tr[data-row="pendulum-ddpg-lowdim"]');
    await row.waitFor();
    expect(await row.locator('[data-col="seeds"]').textContent()).toBe('0, 1');
    // pendulum has references (resources/envs/references.json), so R_av is a number.
    expect(await row.locator('[data-col="r-av"]').textContent()).toMatch(/^-?\d+\.\d{3}$/);
    const figure = page.locator('figure[data-figure="pendulum-ddpg-lowdim"] svg');
    await figure.waitFor();
    const points = await figure.locator('polyline[data-series="mean"]').getAttribute('points');
    expect(points!.trim().split(' ')).toHaveLength(2); // evaluations at steps 200 and 400
    expect(await figure.locator('[data-series="band"]').count()).toBe(1);
    expect(await figure.locator('[data-series="random"]').count()).toBe(1);
    expect(await figure.locator('[data-series="planner"]').count()).toBe(1);
    await screenshot(page, 'report');
    expect(errors).toEqual([]);
  });
});
