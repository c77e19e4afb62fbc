/**
 * A sweep from the studio's New-run form, trained by the studio's own pool on real runs: the sweep
 * page shows its runs finishing, the parallel-coordinates plot of tau against final and best eval
 * return, the importance and the best configuration, and "New run from this" opens the form with the
 * best point's values. A screenshot at 1440x900 lands in test-results/screenshots/sweep.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, serveStudio, watchErrors, type ServedStudio } from './studio.ts';

declare const document: { querySelectorAll(s: string): { length: number } };

describe('a sweep in the studio', () => {
  let studio: ServedStudio;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await serveStudio();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
  });

  it('creates a sweep from the New-run form and shows it with its parallel-coordinates plot', async () => {
    await page.goto(`${studio.url}#/new`);
    await page.locator('summary', { hasText: 'Sweep' }).click();
    await page.locator('#search').waitFor();
    await page.locator('#name').fill('tau');
    await page.locator('#steps').fill('1200');
    await page.locator('#evalEvery').fill('400');
    await page.locator('#evalEpisodes').fill('1');
    await page.locator('#checkpointEvery').fill('400');
    await page.locator('#seeds').fill('2');
    // A bad search is refused inline, on its field, before anything is created.
    await page.locator('#search').fill('{ "grid": { "tau": [0.01, 7] } }');
    await page.getByText('grid.tau: 7').waitFor();
    await page.locator('#search').fill('{ "grid": { "tau": [0.01, 0.02] } }');
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.waitForURL(/#\/sweep\/sweep-/);

    await page.locator('[data-testid=parallel-coordinates]').waitFor();
    await page.locator('[data-sweep-state=finished]').waitFor({ timeout: 150_000 });
    await page.waitForTimeout(300);
    const lines = await page.locator('[data-testid=parallel-coordinates] polyline').count();
    expect(lines).toBe(4);
    for (const axis of ['tau', 'final', 'best'])
      expect(await page.locator(`[data-testid=parallel-coordinates] [data-axis=${axis}]`).count()).toBe(1);
    // Every run crosses all three axes once it has an eval return.
    const points = await page
      .locator('[data-testid=parallel-coordinates] polyline')
      .evaluateAll((els) => els.map((e) => (e.getAttribute('points') ?? '').split(' ').length));
    expect(points).toEqual([3, 3, 3, 3]);
    expect(await page.locator('[data-testid=sweep-runs] [data-status=done]').count()).toBe(4);
    expect(await page.locator('[data-testid=sweep-points] tbody tr').count()).toBe(2);
    await page.locator('[data-testid=importance]').getByText('tau').waitFor();
    const best = (await page.locator('[data-testid=best-config] .mono').first().textContent()) ?? '';
    expect(best).toMatch(/^tau = 0\.0[12]$/);
    await screenshot(page, 'sweep');
    expect(errors).toEqual([]);

    await page.getByRole('button', { name: 'New run from this' }).first().click();
    await page.waitForURL(/#\/new/);
    await page
      .locator('#hp-tau')
      .waitFor({ timeout: 10_000 })
      .catch(async (e: unknown) => {
        await screenshot(page, 'sweep-new-run-from');
        throw new Error(`${String(e)}\npage errors: ${errors.join('\n')}`);
      });
    await page.waitForFunction(() => document.querySelectorAll('#search').length === 1);
    // The form is filled once the run's config has come back (getRun), after it first renders.
    await expect.poll(() => page.locator('#hp-tau').inputValue(), { timeout: 10_000 }).toBe(best.replace('tau = ', ''));
    expect(await page.locator('#steps').inputValue()).toBe('1200');

    await page.click('[data-nav=runs]');
    await page.locator('[data-sweep]').first().waitFor();
    expect(errors).toEqual([]);
  });
});
