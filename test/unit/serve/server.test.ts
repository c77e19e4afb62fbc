import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../src-main/serve/server.ts';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';

function fixture() {
  const home = mkdtempSync(join(tmpdir(), 'rls-serve-'));
  const staticDir = join(home, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>RL Studio</title>');
  writeFileSync(join(home, 'secret.txt'), 'not for the web');
  return { home, staticDir };
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rpc(url: string, msg: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send(JSON.stringify(msg)));
    ws.on('message', (m) => {
      ws.close();
      resolve(JSON.parse(m.toString()));
    });
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('browser-mode server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(host = '127.0.0.1', token?: string) {
    const { home, staticDir } = fixture();
    const service = await StudioService.create({ mode: 'browser', settings: new FileSettingsStore(join(home, 'settings.json')) });
    server = await startServer({ service, staticDir, host, port: 0, ...(token ? { token } : {}) });
    return server;
  }

  it('serves the renderer with a strict CSP on loopback', async () => {
    const s = await start();
    const r = await get(`http://127.0.0.1:${s.port}/`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('RL Studio');
    expect(String(r.headers['content-security-policy'])).toContain("default-src 'self'");
  });

  it('never serves files outside the renderer folder', async () => {
    const s = await start();
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const r = await get(`http://127.0.0.1:${s.port}${p}`);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('not for the web');
    }
  });

  it('answers StudioApi calls over WebSocket and validates params', async () => {
    const s = await start();
    const info = (await rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} })) as {
      id: number;
      ok: boolean;
      result: { mode: string };
    };
    expect(info).toMatchObject({ id: 1, ok: true, result: { mode: 'browser' } });
    const bad = (await rpc(`ws://127.0.0.1:${s.port}/api`, { id: 2, method: 'setSettings', params: { settings: { theme: 'neon' } } })) as {
      ok: boolean;
      error: { user: boolean; errors: { field: string }[] };
    };
    expect(bad.ok).toBe(false);
    expect(bad.error.user).toBe(true);
    expect(bad.error.errors[0].field).toBe('settings.theme');
    const unknown = (await rpc(`ws://127.0.0.1:${s.port}/api`, { id: 3, method: 'rm -rf', params: {} })) as { ok: boolean };
    expect(unknown.ok).toBe(false);
  });

  it('refuses WebSockets opened by another site', async () => {
    const s = await start();
    await expect(
      rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} }, { origin: 'http://evil.example' }),
    ).rejects.toThrow('403');
  });

  it('requires a token on every request when bound beyond loopback', async () => {
    const s = await start('0.0.0.0');
    expect(s.token).toBeTruthy();
    expect(s.url).toContain(`token=${s.token}`);
    expect((await get(`http://127.0.0.1:${s.port}/`)).status).toBe(401);
    expect((await get(`http://127.0.0.1:${s.port}/?token=wrong-token-wrong-token`)).status).toBe(401);
    const ok = await get(`http://127.0.0.1:${s.port}/?token=${s.token}`);
    expect(ok.status).toBe(200);
    expect(String(ok.headers['set-cookie'])).toContain('HttpOnly');
    await expect(rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} })).rejects.toThrow('403');
    await expect(rpc(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { id: 1, method: 'info', params: {} })).resolves.toMatchObject({
      ok: true,
    });
  });
});

/** One raw request over TCP (what no well-behaved client would send); resolves with the status line, or '' when the socket just closed. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(got.split('\r\n')[0]));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

const upgradeTo = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('browser-mode server: malformed requests are answered, never fatal', () => {
  let server: RunningServer | undefined;
  const logged: string[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    logged.length = 0;
  });

  async function start(host = '127.0.0.1', token?: string) {
    const { home, staticDir } = fixture();
    const service = await StudioService.create({ mode: 'browser', settings: new FileSettingsStore(join(home, 'settings.json')) });
    server = await startServer({ service, staticDir, host, port: 0, log: (l) => logged.push(l), ...(token ? { token } : {}) });
    return server;
  }

  it('WebSocket upgrades whose request-target the URL parser rejects get 400 and the server answers on', async () => {
    const s = await start();
    for (const target of ['//', '///', '//%/', '//:99999/', '//[/api', 'http://[x/api', '*']) {
      expect(await raw(s.port, upgradeTo(target)), target).toMatch(/^HTTP\/1\.1 (400|403)/);
    }
    // The cross-origin page's `new WebSocket('ws://127.0.0.1:5317//')` ends the same way.
    expect(await raw(s.port, upgradeTo('//', 'Origin: http://evil.example\r\n'))).toMatch(/^HTTP\/1\.1 (400|403)/);
    // A target that is not a path at all is the client's mistake, logged as such.
    expect(logged.some((l) => l.startsWith('400 GET "*"'))).toBe(true);
    await expect(rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} })).resolves.toMatchObject({ ok: true });
  });

  it('malformed percent-encoding is a 400 over HTTP, not a 500', async () => {
    const s = await start();
    for (const p of ['/%', '/%zz', '/%E0%A4%A', '/%C0%AF', '//%/']) {
      const r = await raw(s.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(r, p).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(logged.filter((l) => l.startsWith('400 GET')).length).toBe(5);
    expect((await get(`http://127.0.0.1:${s.port}/`)).status).toBe(200);
  });

  it('a wrong token of multibyte characters (same length, other byte length) is a 401/403, not a crash', async () => {
    const s = await start('0.0.0.0');
    const wrong = encodeURIComponent('é'.repeat(s.token!.length));
    expect((await get(`http://127.0.0.1:${s.port}/?token=${wrong}`)).status).toBe(401);
    expect(await raw(s.port, upgradeTo(`/api?token=${wrong}`))).toBe('HTTP/1.1 403 Forbidden');
    expect(logged.filter((l) => l.startsWith('500'))).toEqual([]);
    await expect(rpc(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { id: 1, method: 'info', params: {} })).resolves.toMatchObject({
      ok: true,
    });
  });
});
