// Electron cannot run here: its security decisions live in src-main/app/policy.ts (no 'electron'
// import) and are tested as pure functions; main.ts and the render host are held to them by reading
// their source (the same literals Electronegativity reads in the bundle).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  REQUIRED_WEB_PREFERENCES,
  cspProblems,
  isSafeExternalUrl,
  isTrustedSender,
  navigationAllowed,
  parseSaveRequest,
  permissionGranted,
  rendererUrlOf,
  safeFileName,
  webPreferencesProblems,
  webviewAllowed,
  windowOpenDecision,
} from '../../../src-main/app/policy.ts';
import { CSP as SERVER_CSP } from '../../../src-main/serve/server.ts';

const ROOT = resolve(__dirname, '../../..');
const src = (p: string) => readFileSync(resolve(ROOT, p), 'utf8');

/** The `webPreferences: { … }` literals of a source file, as plain objects (literal values only). */
function webPreferenceLiterals(code: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const re = /webPreferences:\s*\{/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth; i++) depth += code[i] === '{' ? 1 : code[i] === '}' ? -1 : 0;
    const body = code.slice(m.index + m[0].length, i - 1);
    const obj: Record<string, unknown> = {};
    for (const line of body.split('\n')) {
      const kv = /^\s*(\w+):\s*(true|false|'[^']*')\s*,?\s*$/.exec(line);
      if (kv) obj[kv[1]] = kv[2] === 'true' ? true : kv[2] === 'false' ? false : kv[2].slice(1, -1);
      else if (/^\s*\.\.\./.test(line)) obj['...spread'] = true;
    }
    out.push(obj);
  }
  return out;
}

describe('Electron policy (pure decisions)', () => {
  const index = '/opt/RL Studio/resources/app/out/renderer/index.html';
  const rendererUrl = rendererUrlOf(index);

  it('IPC: only our renderer page, in its top frame, is a trusted sender', () => {
    expect(rendererUrl).toBe('file:///opt/RL%20Studio/resources/app/out/renderer/index.html');
    const ok = (url: string, parent: unknown = null) => isTrustedSender({ url, parent }, rendererUrl);
    expect(ok(rendererUrl)).toBe(true);
    expect(ok(`${rendererUrl}#/runs/abc`)).toBe(true);
    expect(ok(`${rendererUrl}?view=compare`)).toBe(true);
    for (const bad of [
      'file:///opt/RL%20Studio/resources/app/out/renderer/other.html',
      'file:///tmp/evil/index.html',
      'file:///opt/RL%20Studio/resources/app/out/renderer/../renderer/index.html/..',
      'file://evil.host/opt/RL%20Studio/resources/app/out/renderer/index.html',
      'https://example.com/index.html',
      'http://127.0.0.1:5317/',
      'about:blank',
      'data:text/html,<script>1</script>',
      'devtools://devtools/bundled/inspector.html',
      '',
      'not a url',
    ]) {
      expect(ok(bad), bad).toBe(false);
    }
    // An iframe inside our own page (it has a parent), a destroyed frame, or no frame at all.
    expect(ok(rendererUrl, { url: rendererUrl })).toBe(false);
    expect(isTrustedSender(null, rendererUrl)).toBe(false);
    expect(isTrustedSender(undefined, rendererUrl)).toBe(false);
    expect(isTrustedSender({ url: undefined as unknown as string, parent: null }, rendererUrl)).toBe(false);
  });

  it('windows: never opened; only plain https links leave for the system browser', () => {
    expect(windowOpenDecision('https://mujoco.org/docs')).toEqual({ action: 'deny', openExternal: 'https://mujoco.org/docs' });
    for (const url of [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'smb://server/share/x.exe',
      'ms-msdt:/id PCWDiagnostic',
      'vscode://file/etc/passwd',
      'https://user:pass@example.com/',
      'https://',
      `https://example.com/${'a'.repeat(3000)}`,
      '',
    ]) {
      expect(windowOpenDecision(url), url).toEqual({ action: 'deny', openExternal: null });
      expect(isSafeExternalUrl(url), url).toBe(false);
    }
  });

  it('navigation, redirects, webviews and every permission request are refused', () => {
    for (const url of ['https://example.com/', 'file:///etc/passwd', rendererUrl]) expect(navigationAllowed(url)).toBe(false);
    expect(webviewAllowed()).toBe(false);
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'hid',
      'serial',
      'usb',
      'openExternal',
      'fullscreen',
      'unknown',
    ]) {
      expect(permissionGranted(p), p).toBe(false);
    }
  });

  it('webPreferences: the required set, and what breaks it', () => {
    expect(webPreferencesProblems({ ...REQUIRED_WEB_PREFERENCES })).toEqual([]);
    expect(webPreferencesProblems({ ...REQUIRED_WEB_PREFERENCES, contextIsolation: false })).toEqual([
      expect.stringContaining('contextIsolation must be true'),
    ]);
    expect(webPreferencesProblems({ ...REQUIRED_WEB_PREFERENCES, nodeIntegration: true })).toEqual([
      expect.stringContaining('nodeIntegration must be false'),
    ]);
    const { sandbox: _s, ...noSandbox } = REQUIRED_WEB_PREFERENCES;
    expect(webPreferencesProblems(noSandbox)).toEqual([expect.stringContaining('sandbox must be true')]);
    expect(webPreferencesProblems({ ...REQUIRED_WEB_PREFERENCES, enableBlinkFeatures: 'x' })).toEqual([
      'enableBlinkFeatures must not be set',
    ]);
  });

  it('every BrowserWindow in src-main/app is created with the required webPreferences, and no other door exists', () => {
    const files = ['src-main/app/main.ts', 'src-main/app/render-host-electron.ts'];
    let windows = 0;
    for (const f of files) {
      const code = src(f);
      const prefs = webPreferenceLiterals(code);
      expect(prefs.length, `${f}: one webPreferences literal per BrowserWindow`).toBe((code.match(/new BrowserWindow\(/g) ?? []).length);
      for (const p of prefs) {
        expect(p['...spread'], `${f}: no spread in webPreferences`).toBeUndefined();
        expect(webPreferencesProblems(p), f).toEqual([]);
      }
      windows += prefs.length;
      // Navigation and window opening are handled wherever a window is made.
      expect(code, f).toMatch(/will-navigate/);
      expect(code, f).toMatch(/setWindowOpenHandler/);
    }
    expect(windows).toBe(2);

    const main = src('src-main/app/main.ts');
    // Every IPC handler checks its sender first; no fire-and-forget channels; every window hardened.
    const handlers = main.split('ipcMain.handle(').slice(1);
    expect(handlers.length).toBe(2);
    for (const h of handlers) expect(h.slice(0, 200)).toMatch(/^'studio:\w+', async \(e[^)]*\) => \{\s*if \(!trustedSender\(e\)\) throw/);
    expect(main).not.toMatch(/ipcMain\.on\(/);
    expect(main).toMatch(/service\.dispatch\(method, params\)/);
    expect(main).toMatch(/parseSaveRequest\(/);
    expect(main).toMatch(/app\.enableSandbox\(\)/);
    expect(main).toMatch(/app\.on\('web-contents-created', \(_e, contents\) => harden\(contents\)\)/);
    expect(main).toMatch(/setPermissionRequestHandler\([^)]*\) => callback\(permissionGranted\(/);
    expect(main).toMatch(/setPermissionCheckHandler\(/);
    // The preload hands the page three functions, never ipcRenderer itself.
    const preload = src('src-main/app/preload.ts');
    expect(preload).toMatch(/contextBridge\.exposeInMainWorld\('studioBridge', api\)/);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
    // Only app/ imports electron (the house rule), and policy.ts does not.
    expect(src('src-main/app/policy.ts')).not.toMatch(/from 'electron'/);
  });

  it('save requests: type- and size-checked; the suggested name is reduced to a plain file name', () => {
    const ok = parseSaveRequest('replay.webm', new Uint8Array([1, 2, 3]));
    expect(ok).toMatchObject({ ok: true, name: 'replay.webm' });
    for (const [name, bytes] of [
      [42, new Uint8Array(1)],
      ['x', 'not bytes'],
      ['x', [1, 2, 3]],
      ['', new Uint8Array(1)],
      ['a'.repeat(300), new Uint8Array(1)],
      [undefined, undefined],
    ] as [unknown, unknown][]) {
      const r = parseSaveRequest(name, bytes);
      expect(r.ok, String(name)).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/^refused: bad save request/);
    }
    expect(safeFileName('../../.ssh/authorized_keys')).toBe('authorized_keys');
    expect(safeFileName('C:\\Windows\\system32\\evil.dll')).toBe('evil.dll');
    expect(safeFileName('/etc/passwd')).toBe('passwd');
    expect(safeFileName('..')).toBe('download');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('a\u0000b\nc:d.onnx')).toBe('abc_d.onnx');
  });

  it('CSP: the renderer pages and the browser-mode server send a strict policy', () => {
    const metaCsp = (html: string) => /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    for (const page of ['src-renderer/index.html', 'src-renderer/render-host.html']) {
      const csp = metaCsp(src(page));
      expect(csp, page).not.toBe('');
      expect(cspProblems(csp), page).toEqual([]);
    }
    expect(cspProblems(SERVER_CSP)).toEqual([]);
    // The checker itself catches the usual weakenings.
    expect(cspProblems("default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'")).toEqual([
      "script-src allows 'unsafe-inline'",
    ]);
    expect(cspProblems("default-src *; object-src 'none'")).toEqual(
      expect.arrayContaining(['default-src allows *', 'script-src allows *']),
    );
    expect(cspProblems("default-src 'self'; script-src 'self' https://cdn.example; connect-src https:")).toEqual(
      expect.arrayContaining(['script-src allows a remote origin', "object-src is not 'none'", 'connect-src reaches other origins']),
    );
    expect(cspProblems('')).toEqual(expect.arrayContaining(['no default-src (everything would be allowed)']));
  });
});
