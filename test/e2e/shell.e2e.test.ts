import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, serveStudio, watchErrors, type ServedStudio } from './studio.ts';

describe('studio shell in browser mode', () => {
  let studio: ServedStudio;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await serveStudio();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
  });

  it('loads, connects over WebSocket and shows the backend', async () => {
    await page.goto(studio.url);
    await page.getByText('connected', { exact: true }).waitFor();
    await page.getByText(/^backend: /).waitFor();
    await expect(page.title()).resolves.toBe('RL Studio');
    await screenshot(page, 'shell-runs');
  });

  it('navigates between Runs, Environments and Settings', async () => {
    await page.click('[data-nav=envs]');
    await page.getByRole('heading', { name: 'Environments' }).waitFor();
    expect(page.url()).toContain('#/envs');
    await screenshot(page, 'shell-envs');
    await page.click('[data-nav=settings]');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.click('[data-nav=runs]');
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
  });

  it('saves a setting through StudioApi and keeps it after a reload', async () => {
    await page.click('[data-nav=settings]');
    await page.selectOption('#theme', 'light');
    await page.click('button[type=submit]');
    await page.getByText('Saved.').waitFor();
    await page.reload();
    await page.getByText('connected', { exact: true }).waitFor();
    // The form fills in once the settings arrive over the new connection.
    await page.waitForFunction("document.querySelector('#theme')?.value === 'light'", undefined, { timeout: 10_000 });
    expect(await page.locator('#theme').inputValue()).toBe('light');
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await screenshot(page, 'shell-settings');
  });

  it('runs without page errors', () => {
    expect(errors).toEqual([]);
  });
});
