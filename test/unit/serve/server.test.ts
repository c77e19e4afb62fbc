import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
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

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
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
    const info = (await rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} })) as { id: number; ok: boolean; result: { mode: string } };
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
    await expect(rpc(`ws://127.0.0.1:${s.port}/api`, { id: 1, method: 'info', params: {} }, { origin: 'http://evil.example' })).rejects.toThrow('403');
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
    await expect(rpc(`ws://127.0.0.1:${s.port}/api?token=${s.token}`, { id: 1, method: 'info', params: {} })).resolves.toMatchObject({ ok: true });
  });
});
