/**
 * The render host in headless Chromium (Debian's chromium, driven by playwright-core), WebGL2
 * through SwiftShader. The built page is served from out/renderer through request interception on
 * a private origin: no port is opened and module scripts load as from any http origin.
 */
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { SceneModel } from '../api/scene.ts';
import { checkFrameSize, poseFrames, renderHostPageDir, type FrameSize, type PixelCamera, type RenderHost } from './host.ts';
import { RENDER_HOST_GLOBAL, type RenderHostPage, type RenderSetup } from './protocol.ts';

const ORIGIN = 'http://render-host.rl-studio.invalid';
/** The page's global object as seen from evaluate() callbacks (which run in the page, typed here without DOM types). */
declare const window: Record<string, unknown>;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.json': 'application/json' };

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

export function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error('Chromium not found for the render host: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
  return r.stdout.trim();
}

export class HeadlessRenderHost implements RenderHost {
  private scene: SceneModel | null = null;
  private size: FrameSize = { width: 0, height: 0 };

  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
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
      await page.route((url) => !url.href.startsWith(ORIGIN), (route) => route.abort());
      await page.goto(`${ORIGIN}/render-host.html`);
      await page.waitForFunction((name) => name in window, RENDER_HOST_GLOBAL, { timeout: 30_000 }).catch(() => {
        throw new Error(`the render-host page did not start${errors.length ? `: ${errors.join('; ')}` : ''}`);
      });
      return new HeadlessRenderHost(browser, page, opts.maxFrames ?? 64, opts.shadows ?? false);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  async setScene(scene: SceneModel, camera: PixelCamera, size: FrameSize): Promise<void> {
    checkFrameSize(size);
    const setup: RenderSetup = { scene, camera, width: size.width, height: size.height, maxFrames: this.maxFrames, shadows: this.shadows };
    await this.page.evaluate(([name, s]) => (window[name as string] as RenderHostPage).setScene(s as RenderSetup), [RENDER_HOST_GLOBAL, setup] as const);
    this.scene = scene;
    this.size = { ...size };
  }

  async render(poses: Float32Array): Promise<Uint8Array> {
    if (!this.scene) throw new Error('render() before setScene()');
    const frames = poseFrames(poses, this.scene);
    const frameBytes = this.size.width * this.size.height * 3;
    const out = new Uint8Array(frames * frameBytes);
    const per = this.scene.bodies.length * 7;
    for (let f0 = 0; f0 < frames; f0 += this.maxFrames) {
      const n = Math.min(this.maxFrames, frames - f0);
      const chunk = poses.subarray(f0 * per, (f0 + n) * per);
      const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64');
      const result = await this.page.evaluate(([name, p, k]) => (window[name as string] as RenderHostPage).render(p as string, k as number), [RENDER_HOST_GLOBAL, b64, n] as const);
      const bytes = Buffer.from(result, 'base64');
      if (bytes.length !== n * frameBytes) throw new Error(`render host returned ${bytes.length} bytes for ${n} frames of ${frameBytes}`);
      out.set(bytes, f0 * frameBytes);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
