import { app, BrowserWindow, dialog, ipcMain, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { StudioService } from '../service/studio-service.ts';
import { ElectronSettingsStore } from './settings-electron.ts';
import {
  isTrustedSender,
  navigationAllowed,
  parseSaveRequest,
  permissionGranted,
  rendererUrlOf,
  webviewAllowed,
  windowOpenDecision,
} from './policy.ts';

// The decisions live in policy.ts (pure, unit-tested); this file only wires them to Electron.
const here = fileURLToPath(new URL('.', import.meta.url));
const rendererIndex = join(here, '../renderer/index.html');
const rendererUrl = rendererUrlOf(rendererIndex);

function trustedSender(e: IpcMainInvokeEvent): boolean {
  return isTrustedSender(e.senderFrame, rendererUrl);
}

function harden(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    const d = windowOpenDecision(url);
    if (d.openExternal) void shell.openExternal(d.openExternal);
    return { action: d.action };
  });
  contents.on('will-navigate', (e, url) => {
    if (!navigationAllowed(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!navigationAllowed(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => {
    if (!webviewAllowed()) e.preventDefault();
  });
}

async function createWindow(service: StudioService): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'RL Studio',
    backgroundColor: '#111418',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
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
    },
  });
  harden(win.webContents);
  const unsubscribe = service.subscribe((event, data) => {
    if (!win.isDestroyed()) win.webContents.send('studio:event', event, data);
  });
  win.on('closed', unsubscribe);
  await win.loadFile(rendererIndex);
}

// Every renderer is sandboxed, whatever a window's own options say.
app.enableSandbox();
app.on('web-contents-created', (_e, contents) => harden(contents));

app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionGranted(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => permissionGranted(permission));

  const service = await StudioService.create({ mode: 'electron', settings: new ElectronSettingsStore() });

  ipcMain.handle('studio:call', async (e, method: unknown, params: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    return service.dispatch(method, params);
  });
  ipcMain.handle('studio:save', async (e, suggestedName: unknown, bytes: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    const req = parseSaveRequest(suggestedName, bytes);
    if (!req.ok) throw new Error(req.message);
    const res = await dialog.showSaveDialog({ defaultPath: req.name });
    if (res.canceled || !res.filePath) return null;
    await writeFile(res.filePath, req.bytes);
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
