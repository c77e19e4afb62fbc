import { app, BrowserWindow, dialog, ipcMain, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { StudioService } from '../service/studio-service.ts';
import { ElectronSettingsStore } from './settings-electron.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const rendererIndex = join(here, '../renderer/index.html');
const rendererUrl = new URL(`file://${rendererIndex}`).href;

/** Only our own renderer page may talk to the engine. */
function trustedSender(e: IpcMainInvokeEvent): boolean {
  const url = e.senderFrame?.url ?? '';
  return url.startsWith('file://') && url.split('#')[0].split('?')[0] === rendererUrl;
}

function harden(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    // External links open in the system browser; the app never opens windows of its own content.
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

async function createWindow(service: StudioService): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'RL Studio',
    backgroundColor: '#111418',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
      // Middle-click would open links in new windows outside the window-open handler.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  harden(win.webContents);
  const unsubscribe = service.subscribe((event, data) => {
    if (!win.isDestroyed()) win.webContents.send('studio:event', event, data);
  });
  win.on('closed', unsubscribe);
  await win.loadFile(rendererIndex);
}

app.on('web-contents-created', (_e, contents) => harden(contents));

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const service = await StudioService.create({ mode: 'electron', settings: new ElectronSettingsStore() });

  ipcMain.handle('studio:call', async (e, method: unknown, params: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    return service.dispatch(method, params);
  });
  ipcMain.handle('studio:save', async (e, suggestedName: unknown, bytes: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    if (typeof suggestedName !== 'string' || !(bytes instanceof Uint8Array)) throw new Error('refused: bad save request');
    const res = await dialog.showSaveDialog({ defaultPath: suggestedName.replace(/[/\\]/g, '_') });
    if (res.canceled || !res.filePath) return null;
    await writeFile(res.filePath, bytes);
    return res.filePath;
  });

  await createWindow(service);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(service);
  });
  app.on('before-quit', () => void service.close());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
