import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { RequestEnvelopeSchema, type EventEnvelope } from '../api/studio-api.ts';
import type { StudioService } from '../service/studio-service.ts';
import { UserError } from '../util/errors.ts';

/** Largest WebSocket message accepted (drag-in uploads of MJCF + meshes travel this way). */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface ServeOptions {
  service: StudioService;
  /** Folder of the built renderer (out/renderer). */
  staticDir: string;
  host: string;
  port: number;
  /** Required when binding beyond loopback; generated when absent there. */
  token?: string;
}

/** What a client may not change over the network: the runs folder is the server owner's choice. */
export const LOCKED_BEYOND_LOOPBACK = "the runs folder of a studio served beyond loopback is chosen where it runs (`rl-studio serve --runs-dir`), not from the browser";

export interface RunningServer {
  url: string;
  port: number;
  token: string | undefined;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * On loopback without a token, the Host header must name the loopback address itself: a page on
 * another site whose name the attacker re-points at 127.0.0.1 (DNS rebinding) sends its own name
 * and is refused, over HTTP and WebSocket alike.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  // Any port: an SSH tunnel (ssh -L 8080:127.0.0.1:5317) arrives as localhost:8080.
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(host);
  if (!m) return false;
  const name = m[1].toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function tokenOf(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = /(?:^|;\s*)rls_token=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return cookie?.[1];
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Browser mode: serves the renderer bundle over HTTP and StudioApi over WebSocket at /api.
 * Loopback by default; any other address needs a token on every request and socket.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const loopback = isLoopback(opts.host);
  const token = loopback ? opts.token : (opts.token ?? randomBytes(18).toString('base64url'));
  /** Refuses a request by its Host header (loopback only: beyond it the token decides). */
  const badHost = (req: IncomingMessage) => loopback && !token && !isLoopbackHostHeader(req.headers.host);
  try {
    await stat(join(opts.staticDir, 'index.html'));
  } catch {
    throw new UserError({ file: opts.staticDir, message: 'the studio UI is not built: run `npm run build` first' });
  }
  const root = normalize(opts.staticDir + sep);

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (badHost(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('unexpected Host header');
      return;
    }
    if (token && !sameToken(tokenOf(req), token)) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('token required');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    // No request reaches outside the renderer bundle.
    if (!file.startsWith(root)) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    };
    if (token && url.searchParams.get('token')) headers['set-cookie'] = `rls_token=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const hostHeader = req.headers.host;
    // Refuse other sites' pages (cross-site WebSocket hijacking) and missing tokens.
    const originOk = !origin || (hostHeader !== undefined && (origin === `http://${hostHeader}` || origin === `https://${hostHeader}`));
    if (url.pathname !== '/api' || !originOk || badHost(req) || (token && !sameToken(tokenOf(req), token))) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const unsubscribe = opts.service.subscribe((event, data) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, data } satisfies EventEnvelope));
    });
    ws.on('close', unsubscribe);
    // A frame over maxPayload (or any protocol error) ends this socket with 1009/1002; without a
    // listener the 'error' event would be thrown and take the whole server down.
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw) => {
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        ws.send(JSON.stringify({ id: -1, ok: false, error: { user: true, errors: [{ message: 'message is not JSON' }] } }));
        return;
      }
      const env = RequestEnvelopeSchema.safeParse(msg);
      if (!env.success) {
        ws.send(JSON.stringify({ id: -1, ok: false, error: { user: true, errors: [{ message: 'malformed request envelope' }] } }));
        return;
      }
      const params = env.data.params as { settings?: { runsDir?: unknown } } | null | undefined;
      if (!loopback && env.data.method === 'setSettings' && params?.settings?.runsDir !== undefined) {
        ws.send(JSON.stringify({ id: env.data.id, ok: false, error: { user: true, errors: [{ field: 'settings.runsDir', message: LOCKED_BEYOND_LOOPBACK }] } }));
        return;
      }
      void opts.service.dispatch(env.data.method, env.data.params).then((res) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: env.data.id, ...res }));
      });
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError({ field: '--port', message: `port ${opts.port} is already in use` }) : e),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${hostPart}:${port}/${token ? `?token=${token}` : ''}`;
  return {
    url,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
