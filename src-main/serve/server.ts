/**
 * Browser mode's server: the renderer bundle over HTTP and StudioApi over WebSocket at /api, with
 * the checks that keep other sites, other hosts and tokenless clients out. Exception-safe by
 * construction: every HTTP request, upgrade, socket and WebSocket message is handled inside a
 * guard that answers a failure with 400 (the client's mistake) or 500 (ours) and logs it, so no
 * request can end the process and the runs it trains.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { RequestEnvelopeSchema, type EventEnvelope } from '../api/studio-api.ts';
import type { StudioService } from '../service/studio-service.ts';
import { UserError } from '../util/errors.ts';
import { BadRequest, decodedPath, describeRequest, requestUrl, sameToken, tokenOf } from './request.ts';

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
  /** Where failed requests are logged, one line each (default: stderr). */
  log?: (line: string) => void;
}

/** What a client may not change over the network: the runs folder is the server owner's choice. */
export const LOCKED_BEYOND_LOOPBACK =
  'the runs folder of a studio served beyond loopback is chosen where it runs (`rl-studio serve --runs-dir`), not from the browser';

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

/**
 * Browser mode: serves the renderer bundle over HTTP and StudioApi over WebSocket at /api.
 * Loopback by default; any other address needs a token on every request and socket.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const loopback = isLoopback(opts.host);
  const token = loopback ? opts.token : (opts.token ?? randomBytes(18).toString('base64url'));
  const log = opts.log ?? ((line: string) => void process.stderr.write(`rl-studio serve: ${line}\n`));
  /** Refuses a request by its Host header (loopback only: beyond it the token decides). */
  const badHost = (req: IncomingMessage) => loopback && !token && !isLoopbackHostHeader(req.headers.host);
  try {
    await stat(join(opts.staticDir, 'index.html'));
  } catch {
    throw new UserError({ file: opts.staticDir, message: 'the studio UI is not built: run `npm run build` first' });
  }
  const root = normalize(opts.staticDir + sep);

  /** Logs a failed request and says which status answers it: 400 for the client's mistakes, 500 for ours. */
  function failure(req: IncomingMessage, e: unknown): 400 | 500 {
    if (e instanceof BadRequest) {
      log(`400 ${describeRequest(req)}: ${e.message}`);
      return 400;
    }
    log(`500 ${describeRequest(req)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 500;
  }

  const server = createServer((req, res) => {
    // handleHttp is async: whatever it throws, synchronously or not, arrives here as a rejection.
    handleHttp(req, res).catch((e: unknown) => {
      const status = failure(req, e);
      try {
        if (res.headersSent) res.destroy();
        else
          res
            .writeHead(status, { 'content-type': 'text/plain' })
            .end(status === 400 ? `bad request: ${(e as Error).message}` : 'internal error');
      } catch {
        res.destroy();
      }
    });
  });
  // Requests Node's parser rejects (bad request line, bad headers) and connections reset mid-request.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code !== 'ECONNRESET') log(`400 unparsable request: ${err.code ?? err.message}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (badHost(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('unexpected Host header');
      return;
    }
    const url = requestUrl(req);
    if (token && !sameToken(tokenOf(req, url), token)) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('token required');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    let rel = decodedPath(url);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    // No request reaches outside the renderer bundle.
    if (!file.startsWith(root) || rel.includes('\0')) {
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
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // After the upgrade event the socket is ours: a reset by the client must not be an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch (e) {
      const status = failure(req, e);
      refuse(socket, status === 400 ? '400 Bad Request' : '500 Internal Server Error');
    }
  });

  function refuse(socket: Duplex, status: string): void {
    if (socket.writable) socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = requestUrl(req);
    const origin = req.headers.origin;
    const hostHeader = req.headers.host;
    // Refuse other sites' pages (cross-site WebSocket hijacking) and missing tokens.
    const originOk = !origin || (hostHeader !== undefined && (origin === `http://${hostHeader}` || origin === `https://${hostHeader}`));
    if (url.pathname !== '/api' || !originOk || badHost(req) || (token && !sameToken(tokenOf(req, url), token))) {
      refuse(socket, '403 Forbidden');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        attach(ws);
      } catch (e) {
        log(`500 attaching a WebSocket: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        ws.terminate();
      }
    });
  }

  /** Sends one envelope if the socket is still open; a send that fails ends this socket only. */
  function send(ws: WebSocket, envelope: unknown): void {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(JSON.stringify(envelope));
    } catch (e) {
      log(`500 sending on a WebSocket: ${e instanceof Error ? e.message : String(e)}`);
      ws.terminate();
    }
  }

  const userError = (message: string, field?: string) => ({ user: true, errors: [{ ...(field ? { field } : {}), message }] });

  function attach(ws: WebSocket): void {
    // Listeners run inside the service's (and the trainers') event fan-out: this one never throws.
    const unsubscribe = opts.service.subscribe((event, data) => send(ws, { event, data } satisfies EventEnvelope));
    ws.on('close', unsubscribe);
    // A frame over maxPayload (or any protocol error) ends this socket with 1009/1002; without a
    // listener the 'error' event would be thrown and take the whole server down.
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw) => {
      try {
        onMessage(ws, raw);
      } catch (e) {
        log(`500 WebSocket message: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        send(ws, { id: -1, ok: false, error: { user: false, errors: [{ message: 'internal error' }] } });
      }
    });
  }

  function onMessage(ws: WebSocket, raw: RawData): void {
    let msg: unknown;
    try {
      msg = JSON.parse(raw.toString());
    } catch {
      send(ws, { id: -1, ok: false, error: userError('message is not JSON') });
      return;
    }
    const env = RequestEnvelopeSchema.safeParse(msg);
    if (!env.success) {
      send(ws, { id: -1, ok: false, error: userError('malformed request envelope') });
      return;
    }
    const { id, method } = env.data;
    const params = env.data.params as { settings?: { runsDir?: unknown } } | null | undefined;
    if (!loopback && method === 'setSettings' && params?.settings?.runsDir !== undefined) {
      send(ws, { id, ok: false, error: userError(LOCKED_BEYOND_LOOPBACK, 'settings.runsDir') });
      return;
    }
    opts.service.dispatch(method, env.data.params).then(
      (res) => send(ws, { id, ...res }),
      (e: unknown) => {
        log(`500 ${JSON.stringify(method.slice(0, 64))}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        send(ws, { id, ok: false, error: { user: false, errors: [{ message: 'internal error' }] } });
      },
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError({ field: '--port', message: `port ${opts.port} is already in use` }) : e),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  // After listening, an accept that fails (too many open files) is logged, not thrown.
  server.on('error', (e) => log(`server error: ${e.message}`));
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
