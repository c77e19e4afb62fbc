/**
 * The pixel-observation render host inside Electron: a hidden window (the GPU's WebGL, not
 * SwiftShader) loading the same built page as headless Chromium (out/renderer/render-host.html,
 * drawing with the studio's MujocoScene). The page has no preload and no IPC: the main process
 * calls its global API with executeJavaScript, poses in and frames out as base64 strings, and
 * checks every answer's size. Same RenderHost interface as src-main/render/headless.ts.
 */
import { BrowserWindow } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SceneModel } from '../api/scene.ts';
import { checkFrameSize, poseFrames, type FrameSize, type PixelCamera, type RenderHost } from '../render/host.ts';
import { RENDER_HOST_GLOBAL, type RenderSetup } from '../render/protocol.ts';
import { navigationAllowed } from './policy.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const pagePath = join(here, '../renderer/render-host.html');

export interface ElectronRenderHostOptions {
  /** Most frames drawn per round trip (the tiled canvas); default 64. */
  maxFrames?: number;
  shadows?: boolean;
}

export class ElectronRenderHost implements RenderHost {
  private scene: SceneModel | null = null;
  private frameBytes = 0;

  private constructor(
    private readonly win: BrowserWindow,
    readonly maxFrames: number,
    private readonly shadows: boolean,
  ) {}

  static async start(opts: ElectronRenderHostOptions = {}): Promise<ElectronRenderHost> {
    const win = new BrowserWindow({
      show: false,
      width: 256,
      height: 256,
      webPreferences: {
        // REQUIRED_WEB_PREFERENCES in policy.ts, written out for the scanner; the unit test compares.
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        disableBlinkFeatures: 'Auxclick',
        spellcheck: false,
        // Frames are drawn on demand in a window nobody sees: never throttle it.
        backgroundThrottling: false,
      },
    });
    win.webContents.on('will-navigate', (e, url) => {
      if (!navigationAllowed(url)) e.preventDefault();
    });
    win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    try {
      await win.loadFile(pagePath);
      const ready = await win.webContents.executeJavaScript(`typeof window.${RENDER_HOST_GLOBAL} === 'object'`);
      if (ready !== true) throw new Error('the render-host page did not start');
    } catch (e) {
      win.destroy();
      throw e;
    }
    return new ElectronRenderHost(win, opts.maxFrames ?? 64, opts.shadows ?? false);
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
    await this.win.webContents.executeJavaScript(`window.${RENDER_HOST_GLOBAL}.setScene(${JSON.stringify(setup)}), true`);
    this.scene = scene;
    this.frameBytes = size.width * size.height * 3;
  }

  async render(poses: Float32Array): Promise<Uint8Array> {
    if (!this.scene) throw new Error('render() before setScene()');
    const frames = poseFrames(poses, this.scene);
    const per = this.scene.bodies.length * 7;
    const out = new Uint8Array(frames * this.frameBytes);
    for (let f0 = 0; f0 < frames; f0 += this.maxFrames) {
      const n = Math.min(this.maxFrames, frames - f0);
      const chunk = poses.subarray(f0 * per, (f0 + n) * per);
      const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64');
      const result: unknown = await this.win.webContents.executeJavaScript(
        `window.${RENDER_HOST_GLOBAL}.render(${JSON.stringify(b64)}, ${n})`,
      );
      if (typeof result !== 'string') throw new Error('render host page answered with something other than base64 frames');
      const bytes = Buffer.from(result, 'base64');
      if (bytes.length !== n * this.frameBytes)
        throw new Error(`render host returned ${bytes.length} bytes for ${n} frames of ${this.frameBytes}`);
      out.set(bytes, f0 * this.frameBytes);
    }
    return out;
  }

  async close(): Promise<void> {
    if (!this.win.isDestroyed()) this.win.destroy();
  }
}
