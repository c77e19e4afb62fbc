/**
 * Helpers for browser tests: a real `rl-studio serve` child process in a throw-away data folder,
 * and Debian's Chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { VIEWER_CHROMIUM_ARGS, findChromium } from '../../src-main/render/headless.ts';

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

export interface ServedStudio {
  url: string;
  home: string;
  runsDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function serveStudio(extraArgs: string[] = []): Promise<ServedStudio> {
  const home = mkdtempSync(join(tmpdir(), 'rls-e2e-'));
  const runsDir = join(home, 'runs');
  const child = spawn(process.execPath, ['bin/rl-studio.mjs', 'serve', '--port', '0', '--json', '--runs-dir', runsDir, ...extraArgs], {
    env: { ...process.env, RL_STUDIO_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as { event?: string; url?: string };
      if (msg.event === 'listening' && msg.url) resolve(msg.url);
    });
    child.once('exit', (code) => reject(new Error(`rl-studio serve exited with ${code}`)));
  });
  return {
    url,
    home,
    runsDir,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: [...VIEWER_CHROMIUM_ARGS, '--disable-quic'] });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Collects page errors so a test can assert the UI ran without exceptions. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

/** One StudioApi call over the server's WebSocket, as the renderer makes it. */
export function rpc(url: string, method: string, params: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws').replace(/\/$/, '')}/api`);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, params })));
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString()) as { id?: number; ok?: boolean; result?: unknown; error?: unknown };
      if (msg.id !== 1) return;
      ws.close();
      if (msg.ok) resolve(msg.result);
      else reject(new Error(JSON.stringify(msg.error)));
    });
    ws.on('error', reject);
  });
}

// Browser globals used inside page.evaluate callbacks (this file compiles against Node's lib).
declare class DataTransfer {
  items: { add(f: File): void };
}
declare class DragEvent {
  constructor(type: string, init: { dataTransfer: DataTransfer; bubbles: boolean; cancelable: boolean });
}
declare class File {
  constructor(parts: Uint8Array[], name: string);
}
declare const document: { body: { dispatchEvent(e: DragEvent): boolean } };

/** Drops files (name + base64 bytes) on the page as a user's drag from the file manager does. */
export async function dropFiles(page: Page, files: { name: string; b64: string }[]): Promise<void> {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
}
