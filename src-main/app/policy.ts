/**
 * The Electron security decisions, as pure functions with no 'electron' import, so they are
 * unit-tested where Electron cannot run (test/unit/hardening/electron-policy.test.ts). main.ts and
 * render-host-electron.ts only wire them to Electron's hooks.
 *
 *   - which frame may call the engine over IPC (only our own renderer page, top frame);
 *   - the webPreferences every window must have (context isolation, sandbox, no Node);
 *   - what window.open / navigation / redirects / webviews / permission requests get (no);
 *   - which links leave for the system browser (https only, from a click);
 *   - the shape of the save-file request, the one IPC payload not covered by the StudioApi schemas;
 *   - what a page's Content-Security-Policy must say.
 */
import { z } from 'zod';

/** The facts of an IPC sender frame that the decision needs (Electron's WebFrameMain, or null). */
export interface SenderFrame {
  url: string;
  /** The frame's parent; null for a top-level frame. */
  parent: unknown;
}

/** The file:// URL of the built renderer page, as Electron reports it in senderFrame.url. */
export function rendererUrlOf(indexHtmlPath: string): string {
  return new URL(`file://${indexHtmlPath}`).href;
}

/**
 * Only our own renderer page, in its top frame, may talk to the engine: not an iframe, not a page
 * it navigated to (navigation is blocked anyway), not another window, not a destroyed frame.
 */
export function isTrustedSender(frame: SenderFrame | null | undefined, rendererUrl: string): boolean {
  if (!frame || typeof frame.url !== 'string') return false;
  if (frame.parent !== null && frame.parent !== undefined) return false;
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return false;
  }
  if (url.protocol !== 'file:' || url.host !== '') return false;
  url.hash = '';
  url.search = '';
  return url.href === rendererUrl;
}

/**
 * webPreferences every studio window must have: the renderer is a web page with no Node and no door
 * but the preload. main.ts and render-host-electron.ts write them out literally (Electronegativity
 * reads the literal); the unit test holds each literal to this list.
 */
export const REQUIRED_WEB_PREFERENCES = {
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
  // Middle-click would open links in new windows outside the window-open handler.
  disableBlinkFeatures: 'Auxclick',
} as const;

/** What is missing or weakened in a window's webPreferences (empty when hardened). */
export function webPreferencesProblems(prefs: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(REQUIRED_WEB_PREFERENCES)) {
    if (prefs[k] !== v) problems.push(`${k} must be ${JSON.stringify(v)} (is ${JSON.stringify(prefs[k])})`);
  }
  for (const k of ['enableBlinkFeatures', 'additionalArguments']) if (prefs[k] !== undefined) problems.push(`${k} must not be set`);
  return problems;
}

/**
 * window.open and target=_blank: the studio never opens windows of its own content. A plain https
 * link goes to the system browser; everything else (file:, javascript:, data:, http:, custom
 * schemes that could start local programs, URLs with credentials) is dropped.
 */
export function windowOpenDecision(url: string): { action: 'deny'; openExternal: string | null } {
  return { action: 'deny', openExternal: isSafeExternalUrl(url) ? new URL(url).href : null };
}

export function isSafeExternalUrl(url: string): boolean {
  if (typeof url !== 'string' || url.length > 2048) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.username === '' && u.password === '' && u.hostname !== '';
}

/** The page never navigates away from itself (a dropped file, a link, a redirect): refused. */
export function navigationAllowed(_url: string): boolean {
  return false;
}

/** <webview> is refused outright (webviewTag is off as well). */
export function webviewAllowed(): boolean {
  return false;
}

/** Camera, microphone, notifications, geolocation, HID, serial, clipboard reads…: the studio needs none. */
export function permissionGranted(_permission: string): boolean {
  return false;
}

/** Largest file the renderer may ask main to save (a WebM replay, an exported policy). */
export const MAX_SAVE_BYTES = 1024 * 1024 * 1024;

const SaveRequestSchema = z.tuple([
  z.string().min(1).max(255),
  z.instanceof(Uint8Array).refine((b) => b.byteLength <= MAX_SAVE_BYTES, `at most ${MAX_SAVE_BYTES} bytes`),
]);

/**
 * Checks a `studio:save` request (suggested name, bytes). The name only seeds the native dialog,
 * where the user picks the real path; it is reduced to a plain file name (no folders, no '..', no
 * control characters) so it cannot point the dialog anywhere.
 */
export function parseSaveRequest(
  suggestedName: unknown,
  bytes: unknown,
): { ok: true; name: string; bytes: Uint8Array } | { ok: false; message: string } {
  const r = SaveRequestSchema.safeParse([suggestedName, bytes]);
  if (!r.success)
    return {
      ok: false,
      message: `refused: bad save request (${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`,
    };
  const [name, data] = r.data;
  return { ok: true, name: safeFileName(name), bytes: data };
}

export function safeFileName(name: string): string {
  const base =
    name
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .split(/[/\\]/)
      .pop() ?? '';
  const cleaned = base
    .replace(/[:*?"<>|]/g, '_')
    .replace(/^\.+/, '')
    .trim();
  return cleaned.length ? cleaned.slice(0, 200) : 'download';
}

/**
 * What a page's Content-Security-Policy must say: everything from the app itself, no inline or
 * eval'd script (WebAssembly compilation only), no plugins, no <base>, no form posts, no framing by
 * others. Returns the problems (empty when the policy is strict).
 */
export function cspProblems(csp: string): string[] {
  const directives = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  const problems: string[] = [];
  const def = directives.get('default-src');
  if (!def) problems.push('no default-src (everything would be allowed)');
  else if (def.some((v) => v !== "'self'" && v !== "'none'")) problems.push(`default-src allows ${def.join(' ')}`);
  const script = directives.get('script-src') ?? def ?? [];
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'data:', 'blob:', 'http:', 'https:']) {
    if (script.includes(bad)) problems.push(`script-src allows ${bad}`);
  }
  if (script.some((v) => /^https?:\/\//.test(v))) problems.push('script-src allows a remote origin');
  if (directives.get('object-src')?.join(' ') !== "'none'") problems.push("object-src is not 'none'");
  if (
    directives.has('base-uri') &&
    directives.get('base-uri')!.join(' ') !== "'none'" &&
    directives.get('base-uri')!.join(' ') !== "'self'"
  )
    problems.push('base-uri is open');
  const connect = directives.get('connect-src') ?? def ?? [];
  if (connect.some((v) => v === '*' || v === 'http:' || v === 'https:' || /^https?:\/\//.test(v)))
    problems.push('connect-src reaches other origins');
  return problems;
}
