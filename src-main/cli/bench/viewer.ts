import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import type { BenchSuite } from './suite.ts';
import { allPresets } from '../../learn/algos/specs.ts';
import { VIEWER_CHROMIUM_ARGS, findChromium } from '../../render/headless.ts';
import { appRoot } from '../../util/paths.ts';
import { UserError } from '../../util/errors.ts';

/**
 * Frame rate of the studio's 3D viewer while a run trains: a real `rl-studio serve` (child process,
 * throw-away data folder) training a real DDPG run ('ddpg-quick' preset), the built studio in
 * headless Chromium (WebGL2 through SwiftShader where there is no GPU) at the e2e tests' window
 * size, and for each env two cases:
 * - live: the run view with "Watch the policy" on (the live view, 340 px wide, beside six curves);
 * - replay: a recorded evaluation episode playing at 4x (the large view; 80 to 400 new poses a
 *   second, more than the display's 60, so every page frame has something new to draw: this is
 *   the viewer's ceiling).
 * Per case, over a few seconds: `fps` frames the viewer drew per second, `page_fps` animation
 * frames the page ran (requestAnimationFrame callbacks: the most it could have drawn),
 * `new_poses_per_s` the rate new body poses reached it (live frames from the trainer, replay
 * frames), `draw_ms` main-thread ms per drawn frame, the drawing buffer's size (it shrinks while the
 * frame rate is low), and for the live case `curve_updates_per_s`, how often the six curves were
 * redrawn; `train_steps_per_s` over the same window and the load average say how busy the machine
 * was. A live view that draws every pose it gets has fps = new_poses_per_s. Last per env, the
 * replay again with the run stopped (`replay-ENV-not-training`): the viewer without a trainer.
 */

const VIEWPORT = { width: 1360, height: 860 };

interface Served {
  url: string;
  stop(): Promise<void>;
}

async function serve(home: string): Promise<Served> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(appRoot(), 'bin', 'rl-studio.mjs'), 'serve', '--port', '0', '--json', '--runs-dir', join(home, 'runs')],
    {
      cwd: appRoot(),
      env: { ...process.env, RL_STUDIO_HOME: home },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) resolve(msg.url);
      } catch {
        /* not a JSON line */
      }
    });
    child.once('exit', (code) => reject(new Error(`rl-studio serve exited with ${code}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One StudioApi call over the server's WebSocket. */
function rpc<T>(url: string, method: string, params: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws').replace(/\/$/, '')}/api`);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
    ws.on('message', (m: WebSocket.RawData) => {
      const msg = JSON.parse(m.toString()) as { id?: number; ok?: boolean; result?: unknown; error?: unknown };
      if (msg.id !== 1) return;
      ws.close();
      if (msg.ok) resolve(msg.result as T);
      else reject(new Error(`${method}: ${JSON.stringify(msg.error)}`));
    });
    ws.on('error', reject);
  });
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Page-side counters (a string: this file compiles without DOM types). Installs a
 * requestAnimationFrame counter and a curve-redraw counter once; returns a snapshot with the
 * viewer's own counters (SceneViewer exposes them on its canvas as `viewerStats`).
 */
const PROBE = (selector: string): string => `(() => {
  const w = window;
  if (!w.__benchProbe) {
    const p = (w.__benchProbe = { rafs: 0, curves: 0 });
    const loop = () => { p.rafs++; requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
    new MutationObserver((list) => { for (const m of list) if (m.attributeName === 'data-curves-updated') p.curves++; })
      .observe(document.body, { attributes: true, subtree: true, attributeFilter: ['data-curves-updated'] });
  }
  const c = document.querySelector(${JSON.stringify(selector)});
  const s = (c && c.viewerStats) || {};
  return { t: performance.now(), rafs: w.__benchProbe.rafs, curves: w.__benchProbe.curves, ticks: s.ticks ?? 0, draws: s.draws ?? 0, poses: s.poseChanges ?? 0, busyMs: s.busyMs ?? 0, width: c ? c.width : 0, height: c ? c.height : 0 };
})()`;

interface Snapshot {
  t: number;
  rafs: number;
  curves: number;
  ticks: number;
  draws: number;
  poses: number;
  busyMs: number;
  width: number;
  height: number;
}

const GL_RENDERER = `(() => {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'none';
  const i = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(i ? gl.getParameter(i.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
})()`;

async function measure(page: Page, url: string, runId: string, selector: string, seconds: number): Promise<Record<string, unknown>> {
  const step = async () => (await rpc<{ id: string; step: number }[]>(url, 'listRuns', {})).find((r) => r.id === runId)?.step ?? 0;
  await page.evaluate(PROBE(selector));
  const s0 = (await page.evaluate(PROBE(selector))) as Snapshot;
  const step0 = await step();
  await page.waitForTimeout(seconds * 1000);
  const s1 = (await page.evaluate(PROBE(selector))) as Snapshot;
  const step1 = await step();
  const dt = (s1.t - s0.t) / 1000;
  const draws = s1.draws - s0.draws;
  return {
    fps: +(draws / dt).toFixed(1),
    page_fps: +((s1.rafs - s0.rafs) / dt).toFixed(1),
    new_poses_per_s: +((s1.poses - s0.poses) / dt).toFixed(1),
    draw_ms: draws ? +((s1.busyMs - s0.busyMs) / draws).toFixed(2) : null,
    buffer: `${s1.width}x${s1.height}`,
    curve_updates_per_s: +((s1.curves - s0.curves) / dt).toFixed(2),
    train_steps_per_s: Math.round((step1 - step0) / dt),
    seconds: +dt.toFixed(1),
  };
}

export const run: BenchSuite = async function* ({ quick, log }) {
  if (!existsSync(join(appRoot(), 'out', 'renderer', 'index.html'))) {
    throw new UserError({ message: 'the studio is not built: run `npx electron-vite build` first' });
  }
  const executablePath = findChromium();
  const seconds = quick ? 3 : 6;
  const home = mkdtempSync(join(tmpdir(), 'rl-studio-bench-viewer-'));
  let served: Served | null = null;
  let browser: Browser | null = null;
  // Interrupted (Ctrl-C, a timeout): the server and its training run go too.
  const interrupted = (): void => {
    void Promise.all([browser?.close(), served?.stop()]).finally(() => {
      rmSync(home, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    served = await serve(home);
    const url = served.url;
    browser = await chromium.launch({ executablePath, args: [...VIEWER_CHROMIUM_ARGS] });
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const gl = (await page.evaluate(GL_RENDERER)) as string;
    log(`WebGL: ${gl}`);
    const hp = allPresets()['ddpg-quick']!.hyperparams;
    for (const env of ['pendulum', 'cheetah-run']) {
      const [created] = await rpc<{ id: string }[]>(url, 'createRun', {
        config: {
          env,
          algo: 'ddpg',
          name: `bench viewer ${env}`,
          steps: 1_000_000,
          evalEvery: 1000,
          evalEpisodes: 1,
          checkpointEvery: 100_000,
          hyperparams: { ...hp },
        },
      });
      const id = created.id;
      log(`${env}: run ${id} training; waiting for its first recorded episode`);
      await until(
        `a recorded episode of ${id}`,
        180_000,
        async () => (await rpc<{ episodes: unknown[] }>(url, 'listEpisodes', { id })).episodes.length > 0,
      );

      await page.goto(`${url}#/run/${encodeURIComponent(id)}`);
      await page.getByRole('button', { name: 'Watch the policy' }).click();
      const live = 'canvas[aria-label="Live view of the training env"]';
      await page.locator(live).waitFor();
      await page.waitForTimeout(2500);
      const liveRow = await measure(page, url, id, live, seconds);
      yield { case: `live-${env}`, view: 'live', env, ...liveRow, gl, load_avg: +loadavg()[0].toFixed(2) };

      await page.goto(`${url}#/replay/${encodeURIComponent(id)}`);
      const replay = 'canvas[aria-label="Replay of a recorded episode"]';
      await page.locator(replay).waitFor();
      await page.selectOption('select[aria-label=Speed]', '4');
      await page.getByRole('button', { name: 'Play' }).click();
      await page.waitForTimeout(2500);
      const replayRow = await measure(page, url, id, replay, seconds);
      delete replayRow.curve_updates_per_s;
      yield { case: `replay-${env}`, view: 'replay', env, ...replayRow, gl, load_avg: +loadavg()[0].toFixed(2) };

      // The same replay with the run stopped: what the viewer does without a trainer beside it.
      await rpc(url, 'controlRun', { id, action: 'stop' });
      await page.waitForTimeout(1500);
      const idleRow = await measure(page, url, id, replay, seconds);
      delete idleRow.curve_updates_per_s;
      delete idleRow.train_steps_per_s;
      yield { case: `replay-${env}-not-training`, view: 'replay', env, ...idleRow, gl, load_avg: +loadavg()[0].toFixed(2) };
    }
    if (errors.length) log(`page errors: ${errors.join('; ')}`);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await browser?.close();
    await served?.stop();
    rmSync(home, { recursive: true, force: true });
  }
};
