/**
 * The studio as a tracker, end to end against a real `rl-studio serve`: charts that keep following
 * a training run after a drag-zoom and a double-click reset; a delete that names exactly the runs
 * it removes and cannot reach runs the filter hides; any metric a run logs charted; a one-point
 * curve drawn; the eval spread; the Config panel's nested settings; runs differing only by seed
 * grouped into a band in Compare with the config fields that differ. Runs other than the training
 * one are created unstarted and given metric lines directly (the same file the trainer appends).
 * Screenshots at 1440×900 and 1024×700 land in test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, rpc, screenshot, serveStudio, watchErrors, type ServedStudio } from './studio.ts';
import { validMeshEnv } from './envs-fixture.ts';
import { decodeF32, type EpisodeReplay } from '../../src-main/api/studio-api.ts';
import { fmtNum } from '../../src-renderer/src/lib/format.ts';

// Browser globals used inside page.evaluate callbacks (this file compiles against Node's lib).
interface El {
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> };

interface Created {
  id: string;
  dir: string;
  name: string;
}

async function create(url: string, config: Record<string, unknown>, start = false): Promise<Created> {
  const [run] = (await rpc(url, 'createRun', { config, start })) as Created[];
  return run;
}

/** Metric lines as the trainer writes them. */
function writeMetrics(run: Created, records: Record<string, unknown>[]): void {
  appendFileSync(join(run.dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
}

const attr = async (page: Page, sel: string, name: string): Promise<string | null> => page.locator(sel).getAttribute(name);

describe('the studio as a tracker', () => {
  let studio: ServedStudio;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await serveStudio();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    errors = watchErrors(page);
    await page.goto(studio.url);
    await page.getByText('connected', { exact: true }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
  });

  it('keeps every chart following a training run after a drag-zoom and a double-click reset', async () => {
    const run = await create(
      studio.url,
      {
        env: 'pendulum',
        name: 'zoom follows',
        steps: 60_000,
        evalEvery: 400,
        evalEpisodes: 1,
        warmupSteps: 200,
        hyperparams: { actorHidden: [16], criticHidden: [16, 16], batchSize: 16 },
      },
      true,
    );
    await page.goto(`${studio.url}#/run/${encodeURIComponent(run.id)}`);
    await page.locator('header [data-status=running]').waitFor({ timeout: 60_000 });
    const charts = ['Episode return', 'Eval return', 'Critic loss', 'Actor loss', 'Q'];
    for (const c of charts)
      await page.waitForFunction((t) => Number(document.querySelector(`[data-chart="${t}"]`)?.getAttribute('data-points')) >= 2, c, {
        timeout: 90_000,
      });

    // Drag across the first half of one chart: every chart of the run zooms with it.
    const over = page.locator('[data-chart="Episode return"] .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.05, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    for (const c of charts) await expect.poll(() => attr(page, `[data-chart="${c}"]`, 'data-zoomed')).toBe('yes');
    await page.waitForTimeout(1500);

    // Double-click another chart: every chart resets, and then follows the points that come after.
    await page.locator('[data-chart="Critic loss"] .u-over').dblclick();
    for (const c of charts) await expect.poll(() => attr(page, `[data-chart="${c}"]`, 'data-zoomed')).toBe('no');
    const resetAt = Number(await attr(page, '[data-steps]', 'data-steps'));
    for (const c of charts) {
      await page.waitForFunction(
        ([t, s]) => Number(document.querySelector(`[data-chart="${t}"]`)?.getAttribute('data-last-x')) > Number(s),
        [c, resetAt] as const,
        { timeout: 90_000 },
      );
    }
    await screenshot(page, 'tracker-run-1440');
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.waitForTimeout(500);
    await screenshot(page, 'tracker-run-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
    // Keyboard: p pauses, s stops.
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('p');
    await page.locator('header [data-status=paused]').waitFor({ timeout: 60_000 });
    await page.keyboard.press('s');
    await page.locator('header [data-status=stopped]').waitFor({ timeout: 60_000 });
  });

  it('saves a replay video as long as the episode and 1280×720, whatever the playback speed and window', async () => {
    const rows = (await rpc(studio.url, 'listRuns', {})) as { id: string; name: string }[];
    const run = rows.find((r) => r.name === 'zoom follows')!;
    const { episodes } = (await rpc(studio.url, 'listEpisodes', { id: run.id })) as {
      episodes: { id: string; frames: number; dt: number }[];
    };
    const episode = episodes[0];
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(`${studio.url}#/replay/${encodeURIComponent(run.id)}/${encodeURIComponent(episode.id)}`);
    await page.locator('canvas[aria-label="Replay of a recorded episode"]').waitFor();
    // The action traces carry the actuator's name from the MJCF.
    await page.getByText('torque', { exact: false }).first().waitFor();
    await page.selectOption('select[aria-label=Speed]', '4');
    const download = page.waitForEvent('download', { timeout: 120_000 });
    await page.getByRole('button', { name: 'Save video' }).click();
    const file = await download;
    const b64 = (await import('node:fs')).readFileSync(await file.path()).toString('base64');
    const video = (await page.evaluate(`(async () => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0));
      const v = document.createElement('video');
      v.muted = true;
      v.src = URL.createObjectURL(new Blob([bytes], { type: 'video/webm' }));
      await new Promise((r) => (v.onloadedmetadata = r));
      // MediaRecorder's WebM has no duration in its header: seeking to the end makes the browser find it.
      if (!Number.isFinite(v.duration)) {
        v.currentTime = 1e9;
        await new Promise((r) => (v.ondurationchange = r));
      }
      return { width: v.videoWidth, height: v.videoHeight, duration: v.duration };
    })()`)) as { width: number; height: number; duration: number };
    await page.setViewportSize({ width: 1440, height: 900 });
    expect({ width: video.width, height: video.height }).toEqual({ width: 1280, height: 720 });
    const seconds = (episode.frames - 1) * episode.dt;
    // Real time: the episode's length (not a quarter of it), give or take the capture's start and end.
    expect(video.duration).toBeGreaterThan(seconds * 0.8);
    expect(video.duration).toBeLessThan(seconds * 1.5);
  });

  it('breaks the reward into the task spec terms and draws the observations, synced with the reward and action traces', async () => {
    const rows = (await rpc(studio.url, 'listRuns', {})) as { id: string; name: string }[];
    const run = rows.find((r) => r.name === 'zoom follows')!;
    const { episodes } = (await rpc(studio.url, 'listEpisodes', { id: run.id })) as { episodes: { id: string; frames: number }[] };
    const episode = episodes[0];
    const rep = (await rpc(studio.url, 'getEpisode', { id: run.id, episode: episode.id })) as EpisodeReplay;
    await page.goto(`${studio.url}#/replay/${encodeURIComponent(run.id)}/${encodeURIComponent(episode.id)}`);
    const labels = (chart: string): Promise<(string | null)[]> =>
      page.locator(`[data-trace="${chart}"] [data-trace-label]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-label')));
    await page.locator('[data-trace="Reward terms"] [data-trace-label]').first().waitFor();
    // The dense pendulum's spec sums an angle cost, a velocity cost and a control cost.
    expect(await labels('Reward terms')).toEqual(['joint_pos hinge', 'joint_vel hinge', 'control']);
    expect(await page.locator('[data-trace="Reward terms"] figcaption').textContent()).toContain('they add up to the reward');
    expect(await labels('Actions')).toEqual(['torque']);
    expect(await labels('Observation')).toEqual(['orientation[0]', 'orientation[1]']);
    await page.selectOption('select[aria-label="Observation part"]', 'velocity');
    await expect.poll(() => labels('Observation')).toEqual(['velocity']);

    // Seek: every legend shows the recorded values at that step, and every playhead stands at its time.
    const at = 40;
    await page.locator('input[aria-label=Timeline]').fill(String(at));
    await page.locator(`[data-frame="${at}"]`).waitFor();
    const value = (chart: string, label: string): Promise<string | null> =>
      page.locator(`[data-trace="${chart}"] [data-trace-label="${label}"] .value`).textContent();
    const terms = decodeF32(rep.rewardTerms!.values);
    const obs = decodeF32(rep.observations!.values);
    const velocity = rep.observations!.parts.find((p) => p.name === 'velocity')!;
    expect(await value('Reward', 'reward')).toBe(fmtNum(decodeF32(rep.rewards)[at]));
    expect(await value('Reward terms', 'joint_vel hinge')).toBe(fmtNum(terms[at * 3 + 1]));
    expect(await value('Actions', 'torque')).toBe(fmtNum(decodeF32(rep.actions)[at]));
    expect(await value('Observation', 'velocity')).toBe(fmtNum(obs[at * rep.observations!.size + velocity.offset]));
    for (const [chart, points] of [
      ['Reward', episode.frames - 1],
      ['Reward terms', episode.frames - 1],
      ['Actions', episode.frames - 1],
      ['Observation', episode.frames],
    ] as const) {
      const over = (await page.locator(`[data-trace="${chart}"] .u-over`).boundingBox())!;
      const head = (await page.locator(`[data-trace="${chart}"] .playhead`).boundingBox())!;
      expect(Math.abs(head.x - (over.x + (over.width * at) / (points - 1)))).toBeLessThan(3);
    }
    await screenshot(page, 'tracker-replay-1440');
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.waitForTimeout(500);
    await screenshot(page, 'tracker-replay-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('deletes exactly the selected runs it shows, names them, and forgets the selection on leaving the table', async () => {
    for (const name of ['keep alpha', 'keep beta', 'doomed gamma']) await create(studio.url, { env: 'pendulum', name });
    await page.click('[data-nav=runs]');
    await page.locator('[data-run]').nth(3).waitFor();
    const total = await page.locator('[data-run]').count();

    // A selection left behind is gone when the table is opened again.
    await page.locator('input[aria-label="Select all runs"]').check();
    await page.click('[data-nav=envs]');
    await page.click('[data-nav=runs]');
    await page.locator('[data-run]').nth(3).waitFor();
    await expect(page.locator('[data-selected-count]').count()).resolves.toBe(0);

    // Everything ticked, then a filter hides all but one: the toolbar counts and acts on that one.
    await page.locator('input[aria-label="Select all runs"]').check();
    await expect(attr(page, '[data-selected-count]', 'data-selected-count')).resolves.toBe(String(total));
    await page.fill('input[aria-label="Filter runs"]', 'name~doomed');
    await page.waitForFunction(() => document.querySelectorAll('[data-run]').length === 1);
    await expect(attr(page, '[data-selected-count]', 'data-selected-count')).resolves.toBe('1');
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.locator('h3').textContent()).resolves.toBe('Delete this run?');
    const named = await dialog.locator('[data-confirm-items] li').allTextContents();
    expect(named).toHaveLength(1);
    expect(named[0]).toContain('doomed gamma');
    await page.setViewportSize({ width: 1024, height: 700 });
    await screenshot(page, 'tracker-delete-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
    await dialog.getByRole('button', { name: 'Delete' }).click();

    await page.fill('input[aria-label="Filter runs"]', '');
    await page.waitForFunction((n) => document.querySelectorAll('[data-run]').length === n, total - 1);
    const names = await page.locator('[data-run] td.name button').allTextContents();
    expect(names).toContain('keep alpha');
    expect(names).toContain('keep beta');
    expect(names).toContain('zoom follows');
    expect(names).not.toContain('doomed gamma');
  });

  it('charts every metric a run logs, draws a one-point curve, the eval spread, and nested config fields', async () => {
    const run = await create(studio.url, {
      env: 'pendulum',
      name: 'diagnostics',
      tags: ['alpha', 'beta'],
      obs: 'pixels',
      pixels: { size: 48 },
    });
    const lines: Record<string, unknown>[] = [];
    for (let i = 1; i <= 50; i++)
      lines.push({
        step: i * 100,
        time: i,
        kind: 'update',
        critic_loss: 1 / i,
        actor_loss: -i,
        q: i,
        actor_saturation: i / 50,
        q_scale: 10 + i,
        updates: i,
      });
    lines.push({
      step: 5000,
      time: 50,
      kind: 'eval',
      eval_return: -400,
      eval_return_min: -600,
      eval_return_max: -200,
      eval_return_std: 100,
      eval_returns: [-600, -200],
      episodes: [],
    });
    writeMetrics(run, lines);
    await page.goto(`${studio.url}#/run/${encodeURIComponent(run.id)}`);
    await page.locator('[data-chart="actor_saturation"]').waitFor();
    await page.locator('[data-chart="q_scale"]').waitFor();
    // Running counters are no curves.
    await expect(page.locator('[data-chart="updates"]').count()).resolves.toBe(0);

    // The one evaluation: one point, drawn in the eval colour, with its min-max band.
    await expect(attr(page, '[data-chart="Eval return"]', 'data-points')).resolves.toBe('1');
    await expect(attr(page, '[data-chart="Eval return"]', 'data-bands')).resolves.toBe('1');
    const evalPixels = await page.evaluate(() => {
      const canvas = document.querySelector('[data-chart="Eval return"] canvas') as unknown as {
        width: number;
        height: number;
        getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      // #f28e2b, the eval curve's colour.
      for (let i = 0; i < data.length; i += 4)
        if (Math.abs(data[i] - 0xf2) < 24 && Math.abs(data[i + 1] - 0x8e) < 24 && Math.abs(data[i + 2] - 0x2b) < 24 && data[i + 3] > 200)
          n++;
      return n;
    });
    expect(evalPixels).toBeGreaterThan(10);

    // Nested settings as their own rows, lists of words with commas.
    await expect(page.locator('[data-config-field="pixels.size"]').textContent()).resolves.toBe('48');
    await expect(page.locator('[data-config-field="tags"]').textContent()).resolves.toBe('alpha, beta');
    await expect(page.locator('.config').textContent()).resolves.not.toContain('[object Object]');

    // A log axis is kept across a reload.
    await page.getByRole('button', { name: 'Log scale for q_scale' }).click();
    await page.reload();
    await page.locator('[data-chart="q_scale"]').waitFor();
    await expect(page.getByRole('button', { name: 'Log scale for q_scale' }).getAttribute('aria-pressed')).resolves.toBe('true');

    const csv = page.waitForEvent('download');
    await page.getByRole('button', { name: 'CSV of actor_saturation' }).click();
    const file = await csv;
    expect(file.suggestedFilename()).toBe('diagnostics-actor_saturation.csv');
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(await file.path(), 'utf8')
      .trim()
      .split('\n');
    expect(text[0]).toBe('curve,step,value');
    expect(text).toHaveLength(51);
    expect(text[50]).toBe('actor_saturation,5000,1');
    await screenshot(page, 'tracker-metrics-1440');
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.waitForTimeout(300);
    await screenshot(page, 'tracker-metrics-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('groups runs that differ only by seed into a band, started separately, and shows what differs', async () => {
    const base = { env: 'pendulum', hyperparams: { actorLr: 0.001 } };
    const a = await create(studio.url, { ...base, name: 'lr 1e-3 seed 1', seed: 1 });
    const b = await create(studio.url, { ...base, name: 'lr 1e-3 seed 2', seed: 2 });
    const c = await create(studio.url, { env: 'pendulum', name: 'lr 3e-4', seed: 1, hyperparams: { actorLr: 0.0003 } });
    for (const [run, off] of [
      [a, 0],
      [b, 50],
      [c, -100],
    ] as const) {
      const lines: Record<string, unknown>[] = [];
      for (let i = 1; i <= 10; i++)
        lines.push(
          { step: i * 500, time: i, kind: 'eval', eval_return: -1000 + i * 80 + off },
          { step: i * 500, time: i, kind: 'episode', episode_return: -1100 + i * 70 + off },
        );
      writeMetrics(run, lines);
    }
    await page.goto(`${studio.url}#/compare/${[a.id, b.id, c.id].join(',')}`);
    await page.getByText('lr 1e-3 seed 1 (mean of 2 seeds)').first().waitFor();
    await page.getByText('lr 3e-4').first().waitFor();
    // Two metrics at once (eval and episode return by default).
    await page.locator('[data-chart="Eval return"]').waitFor();
    await page.locator('[data-chart="Episode return"]').waitFor();
    const diff = await page.locator('[data-diff-field]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-diff-field')));
    expect(diff).toEqual(['hyperparams.actorLr', 'seed']);
    await screenshot(page, 'tracker-compare-1440');
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.waitForTimeout(300);
    await screenshot(page, 'tracker-compare-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('refuses the tensorflow backend in Settings while its packages are missing, and says which backend is in use', async () => {
    await page.click('[data-nav=settings]');
    await page.selectOption('#backend', 'tensorflow');
    await page.getByRole('button', { name: 'Save' }).click();
    // This machine has no native TensorFlow packages (npm cannot download libtensorflow here).
    await expect.poll(() => page.locator('[role=status]').textContent()).toContain('@tensorflow/tfjs-node');
    // The training run of the first test recorded its backend: the sidebar and Settings name it.
    await expect(page.locator('[data-sidebar-backend]').textContent()).resolves.toMatch(/backend: (wasm|cpu) \(auto\)/);
    await expect(page.locator('[data-backend-in-use]').textContent()).resolves.toContain('used by the newest run');
    await screenshot(page, 'tracker-settings-1440');
  });

  it('fits 1024×700, reaches envs by keyboard, adds one with the file picker, removes it, and starts a run from another', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.click('[data-nav=envs]');
    await page.locator('[data-env=cheetah-run]').waitFor();
    // Keyboard: Tab to an env's name, Enter shows its preview.
    await page.locator('[data-env=cartpole-swingup] button.name').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-env-preview=cartpole-swingup] canvas').waitFor();
    const list = (await page.locator('table.list').boundingBox())!;
    const preview = (await page.locator('section.preview').boundingBox())!;
    // The list and the preview do not overlap.
    expect(list.y + list.height <= preview.y || list.x + list.width <= preview.x).toBe(true);
    await screenshot(page, 'tracker-envs-1024');

    await page
      .locator('input[aria-label="Choose env files"]')
      .setInputFiles(
        validMeshEnv().map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.b64, 'base64') })),
      );
    await page.locator('[data-drop-result=valid] [data-env-preview] canvas').waitFor();
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.locator('[data-env=mesh-pendulum]').waitFor();
    await page.locator('[data-env=mesh-pendulum] button.name').click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.locator('[data-env=mesh-pendulum]').waitFor({ state: 'detached' });
    // Built-in envs offer no Remove.
    await page.locator('[data-env=pendulum] button.name').click();
    await page.locator('[data-env-preview=pendulum] canvas').waitFor();
    await expect(page.getByRole('button', { name: 'Remove' }).count()).resolves.toBe(0);

    // New run from the diagnostics run: its pixel settings and tags come along; the table fits.
    const rows = (await rpc(studio.url, 'listRuns', {})) as { id: string; name: string }[];
    const source = rows.find((r) => r.name === 'diagnostics')!;
    await page.goto(`${studio.url}#/run/${encodeURIComponent(source.id)}`);
    await page.getByRole('button', { name: 'New run from this one' }).click();
    await page.locator('[data-copied-from="diagnostics"]').waitFor();
    await expect(page.locator('[id="hp-pixels.size"]').inputValue()).resolves.toBe('48');
    await expect(page.locator('#obs').inputValue()).resolves.toBe('pixels');
    await expect(page.locator('#tags').inputValue()).resolves.toBe('alpha, beta');
    const hp = (await page.locator('#hp-actorLr').boundingBox())!;
    expect(hp.x + hp.width).toBeLessThanOrEqual(1024);
    await screenshot(page, 'tracker-new-run-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('shows the runs table, a run, a replay and the envs at 1440×900 and 1024×700 (screenshots to look at)', async () => {
    const rows = (await rpc(studio.url, 'listRuns', {})) as { id: string; name: string }[];
    const run = rows.find((r) => r.name === 'zoom follows')!;
    const views: [string, string, string][] = [
      ['runs', '#/runs', 'tr:has-text("zoom follows")'],
      ['run', `#/run/${encodeURIComponent(run.id)}`, '[data-chart="Eval return"]'],
      ['replay', `#/replay/${encodeURIComponent(run.id)}`, '[data-trace="Reward terms"] [data-trace-label]'],
      ['envs', '#/envs', '[data-env-preview] canvas'],
    ];
    for (const [width, height] of [
      [1440, 900],
      [1024, 700],
    ]) {
      await page.setViewportSize({ width, height });
      for (const [name, hash, ready] of views) {
        await page.goto(`${studio.url}${hash}`);
        await page.locator(ready).first().waitFor();
        await page.waitForTimeout(400);
        // Nothing wider than the window: no sideways scrolling of the whole page.
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await screenshot(page, `views-${name}-${width}`);
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('runs without page errors', () => {
    expect(errors).toEqual([]);
  });
});
