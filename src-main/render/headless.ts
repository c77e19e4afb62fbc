/**
 * The render host in headless Chromium (Debian's chromium, driven by playwright-core), WebGL2
 * through SwiftShader. The built page is served from out/renderer through request interception on
 * a private origin: no port is opened and module scripts load as from any http origin.
 *
 * Frames come back run-length encoded (see installRunLength): everything between the page and
 * Node is JSON text over the DevTools protocol, which moved ~30 MB/s here (35 ms for the 1 MB of
 * base64 a batch of 64 frames of 64 x 64 is), while observation frames are mostly flat colour
 * (~30x smaller as runs). Calls go straight to a CDP session (Runtime.evaluate): ~0.8 ms a round
 * trip against ~1.9 ms through page.evaluate, which counts at 3 frames per env step.
 */
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import type { SceneModel } from '../api/scene.ts';
import { checkFrameSize, poseFrames, renderHostPageDir, type FrameSize, type PixelCamera, type RenderHost } from './host.ts';
import { RENDER_HOST_GLOBAL, type RenderHostPage, type RenderSetup } from './protocol.ts';

const ORIGIN = 'http://render-host.rl-studio.invalid';
/** The page's global object as seen from evaluate() callbacks (which run in the page, typed here without DOM types). */
declare const window: Record<string, unknown>;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

export interface HeadlessOptions {
  /** Chromium binary; default $CHROMIUM_PATH, else `chromium` / `chromium-browser` on PATH. */
  executablePath?: string;
  /** Most frames drawn per round trip (the tiled canvas); default 64. */
  maxFrames?: number;
  /** Folder with render-host.html (default out/renderer). */
  pageDir?: string;
  /** Shadow maps in observations (default off). */
  shadows?: boolean;
}

/**
 * Headless Chromium on a machine with no network and perhaps no GPU: no background traffic (the
 * closed network refuses it), and WebGL2 through SwiftShader when no GPU is there.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * Chromium showing the studio (the viewer benchmark, the browser tests): as CHROMIUM_ARGS, with
 * the page composited in software. Forcing WebGL onto SwiftShader also put compositing on it, which
 * is what Chrome itself does not do on a machine without a usable GPU (it composites in software
 * and keeps SwiftShader for WebGL). Measured with `rl-studio bench viewer --quick` on the 2-core
 * machine while a run trained: replay 17.5 -> 33.6 frames/s (pendulum), 12.6 -> 34.1 (cheetah).
 */
export const VIEWER_CHROMIUM_ARGS: readonly string[] = [...CHROMIUM_ARGS, '--disable-gpu-compositing'];

export function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim())
    throw new Error("Chromium not found for the render host: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH");
  return r.stdout.trim();
}

export class HeadlessRenderHost implements RenderHost {
  private scene: SceneModel | null = null;
  private size: FrameSize = { width: 0, height: 0 };

  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    private readonly cdp: CDPSession,
    readonly maxFrames: number,
    private readonly shadows: boolean,
  ) {}

  static async start(opts: HeadlessOptions = {}): Promise<HeadlessRenderHost> {
    const dir = opts.pageDir ?? renderHostPageDir();
    const browser = await chromium.launch({
      executablePath: opts.executablePath ?? findChromium(),
      args: [
        ...CHROMIUM_ARGS,
        // Frames are drawn on demand from a page nobody looks at: never throttle it.
        '--disable-renderer-backgrounding',
        '--disable-background-timer-throttling',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route(`${ORIGIN}/**`, async (route) => {
        const rel = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/+/, '');
        const file = normalize(join(dir, rel));
        if (!file.startsWith(normalize(dir) + sep)) return route.fulfill({ status: 404 });
        try {
          await route.fulfill({ status: 200, body: await readFile(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
        } catch {
          await route.fulfill({ status: 404 });
        }
      });
      // Anything not on the private origin (there should be nothing) is refused.
      await page.route(
        (url) => !url.href.startsWith(ORIGIN),
        (route) => route.abort(),
      );
      await page.goto(`${ORIGIN}/render-host.html`);
      await page
        .waitForFunction((name) => name in window, RENDER_HOST_GLOBAL, { timeout: 30_000 })
        .catch(() => {
          throw new Error(`the render-host page did not start${errors.length ? `: ${errors.join('; ')}` : ''}`);
        });
      await page.evaluate(installRunLength, [RENDER_HOST_GLOBAL, RUN_LENGTH_GLOBAL] as const);
      const cdp = await page.context().newCDPSession(page);
      return new HeadlessRenderHost(browser, page, cdp, opts.maxFrames ?? 64, opts.shadows ?? false);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  async setScene(scene: SceneModel, camera: PixelCamera, size: FrameSize): Promise<void> {
    checkFrameSize(size);
    const setup: RenderSetup = {
      scene,
      camera,
      width: size.width,
      height: size.height,
      maxFrames: this.maxFrames,
      shadows: this.shadows,
      antialias: size.antialias ?? false,
    };
    await this.page.evaluate(([name, s]) => (window[name as string] as RenderHostPage).setScene(s as RenderSetup), [
      RENDER_HOST_GLOBAL,
      setup,
    ] as const);
    this.scene = scene;
    this.size = { ...size };
  }

  async render(poses: Float32Array): Promise<Uint8Array> {
    if (!this.scene) throw new Error('render() before setScene()');
    const frames = poseFrames(poses, this.scene);
    const frameBytes = this.size.width * this.size.height * 3;
    const out = new Uint8Array(frames * frameBytes);
    const per = this.scene.bodies.length * 7;
    // Every pass is asked for at once: the page draws them in order while earlier ones travel.
    const passes: Promise<void>[] = [];
    for (let f0 = 0; f0 < frames; f0 += this.maxFrames) {
      const n = Math.min(this.maxFrames, frames - f0);
      const chunk = poses.subarray(f0 * per, (f0 + n) * per);
      const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64');
      passes.push(
        this.call(`window[${JSON.stringify(RUN_LENGTH_GLOBAL)}](${JSON.stringify(b64)}, ${n})`).then((encoded) => {
          decodeFrames(encoded, out.subarray(f0 * frameBytes, (f0 + n) * frameBytes));
        }),
      );
    }
    await Promise.all(passes);
    return out;
  }

  private async call(expression: string): Promise<string> {
    const r = (await this.cdp.send('Runtime.evaluate', { expression, returnByValue: true })) as {
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`render host page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    if (typeof r.result.value !== 'string') throw new Error('render host page returned no frames');
    return r.result.value;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** The page global installRunLength defines. */
const RUN_LENGTH_GLOBAL = 'rlRenderRunLength';

/**
 * Runs in the page (serialised by page.evaluate; no outer references): defines
 * window[fnName](posesBase64, frames), which draws through the page's render() and returns its RGB
 * bytes as base64 of either 'R' + runs of (count 1..255, r, g, b), or 'B' + the raw bytes when
 * runs would not be shorter (textured scenes).
 */
function installRunLength([hostName, fnName]: readonly [string, string]): void {
  type B64 = Uint8Array & { toBase64(): string };
  const U8 = Uint8Array as unknown as { fromBase64(s: string): Uint8Array };
  let buf = new Uint8Array(0);
  window[fnName] = (posesBase64: string, frames: number): string => {
    const rgb = U8.fromBase64((window[hostName] as RenderHostPage).render(posesBase64, frames));
    const n = rgb.length;
    if (buf.length < n + 1) buf = new Uint8Array(n + 1);
    let o = 1;
    let i = 0;
    while (i < n) {
      const r = rgb[i];
      const g = rgb[i + 1];
      const b = rgb[i + 2];
      let j = i + 3;
      let c = 1;
      while (c < 255 && j < n && rgb[j] === r && rgb[j + 1] === g && rgb[j + 2] === b) {
        j += 3;
        c++;
      }
      if (o + 4 > n) break;
      buf[o] = c;
      buf[o + 1] = r;
      buf[o + 2] = g;
      buf[o + 3] = b;
      o += 4;
      i = j;
    }
    if (i < n) {
      buf[0] = 66; // 'B'
      buf.set(rgb, 1);
      return (buf.subarray(0, n + 1) as B64).toBase64();
    }
    buf[0] = 82; // 'R'
    return (buf.subarray(0, o) as B64).toBase64();
  };
}

/** Decodes installRunLength's answer into `out` (exactly its length, else an error). */
export function decodeFrames(encoded: string, out: Uint8Array): void {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes[0] === 66) {
    if (bytes.length - 1 !== out.length) throw new Error(`render host returned ${bytes.length - 1} bytes for ${out.length}`);
    out.set(bytes.subarray(1));
    return;
  }
  if (bytes[0] !== 82 || (bytes.length - 1) % 4 !== 0) throw new Error('render host returned frames in an unknown encoding');
  let o = 0;
  for (let i = 1; i < bytes.length; i += 4) {
    const c = bytes[i];
    if (o + 3 * c > out.length) throw new Error(`render host returned more than the ${out.length} bytes asked for`);
    const r = bytes[i + 1];
    const g = bytes[i + 2];
    const b = bytes[i + 3];
    for (let k = 0; k < c; k++, o += 3) {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  if (o !== out.length) throw new Error(`render host returned ${o} bytes for ${out.length}`);
}
