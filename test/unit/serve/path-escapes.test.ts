// No path from a request reaches outside the runs and env folders: run and episode ids, symbolic
// links in the runs folder, a tampered config.json, env file names and ids, the runs folder itself
// when served beyond loopback, DNS rebinding on loopback, and uploads past the size limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import {
  isLoopbackHostHeader,
  LOCKED_BEYOND_LOOPBACK,
  MAX_MESSAGE_BYTES,
  startServer,
  type RunningServer,
} from '../../../src-main/serve/server.ts';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';
import { RunFiles } from '../../../src-main/store/run-store.ts';
import type { RunSummary } from '../../../src-main/api/runs.ts';
import type { InFile, RunRow } from '../../../src-main/api/studio-api.ts';

const TINY =
  '<mujoco><worldbody><body><joint name="j"/><geom size=".1"/></body></worldbody><actuator><motor joint="j"/></actuator></mujoco>';
const SPEC = JSON.stringify({ name: 'tiny', observations: [{ name: 'q', type: 'qpos' }], reward: { quantity: { type: 'alive' } } });
const tinyRun = { env: 'pendulum', algo: 'ddpg', steps: 400, hyperparams: { actorHidden: [8], criticHidden: [8, 8] } };

type Reply = { ok: boolean; result?: unknown; error?: { user: boolean; errors: { file?: string; field?: string; message: string }[] } };

function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One request over a fresh socket; resolves with the reply or with how the socket ended. */
function rpc(url: string, msg: unknown, headers: Record<string, string> = {}): Promise<Reply | { closed: number } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, maxPayload: 256 * 1024 * 1024 });
    ws.on('open', () => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)));
    ws.on('message', (m) => {
      const reply = JSON.parse(m.toString()) as Reply & { event?: string };
      if (reply.event !== undefined) return; // a pushed event, not the answer
      ws.close();
      resolve(reply);
    });
    ws.on('close', (code) => resolve({ closed: code }));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    setTimeout(() => reject(new Error('no answer')), 60_000).unref();
  });
}

describe('path escapes and hostile requests', () => {
  let home: string;
  let runsDir: string;
  let outside: string;
  let service: StudioService;
  let run: RunSummary;
  let server: RunningServer;
  const savedHome = process.env.RL_STUDIO_HOME;

  const call = (method: string, params: unknown) => service.dispatch(method, params) as Promise<Reply>;
  const refused = (r: Reply, field?: string) => {
    expect(r.ok, JSON.stringify(r)).toBe(false);
    expect(r.error!.user, JSON.stringify(r)).toBe(true);
    if (field) expect(r.error!.errors[0].field ?? r.error!.errors[0].file).toContain(field);
    expect(JSON.stringify(r)).not.toMatch(/\n\s+at /);
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'rls-escape-'));
    process.env.RL_STUDIO_HOME = home;
    runsDir = join(home, 'runs');
    outside = join(home, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    service = await StudioService.create({
      mode: 'browser',
      settings: new FileSettingsStore(join(home, 'settings.json'), { runsDir }),
      maxConcurrentRuns: 1,
    });
    const created = await call('createRun', { config: tinyRun, start: false });
    expect(created.ok, JSON.stringify(created)).toBe(true);
    run = (created.result as RunSummary[])[0];
    const staticDir = join(home, 'renderer');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>RL Studio</title>');
    server = await startServer({ service, staticDir, host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await service?.close();
    if (savedHome === undefined) delete process.env.RL_STUDIO_HOME;
    else process.env.RL_STUDIO_HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('run and episode ids cannot name anything but a run in the runs folder', async () => {
    for (const id of ['..', '.', '../outside', '/etc', 'a/b', '..\\..', '%2e%2e', '', 'x'.repeat(200), `${run.id}/../..`]) {
      for (const method of ['getRun', 'getMetrics', 'getRunScene', 'listEpisodes', 'deleteRun', 'watchLive', 'controlRun']) {
        const r = await call(method, { id, on: true, action: 'start' });
        refused(r, 'id');
      }
    }
    for (const episode of ['..', '../config', '../../outside/secret', '/etc/passwd', 'config', '.']) {
      refused(await call('getEpisode', { id: run.id, episode }), 'episode');
    }
    for (const id of ['..', '.', '../outside', '/etc', 'a/b']) refused(await call('exportPolicy', { id, format: 'json' }), 'id');
    for (const checkpoint of ['../../outside/secret.txt', '/etc/passwd', '../config.json']) {
      refused(await call('exportPolicy', { id: run.id, format: 'json', checkpoint }));
    }
    expect((await call('getRun', { id: run.id })).ok).toBe(true);
  });

  it('a run folder that is a link to elsewhere is neither listed, read nor deleted', async () => {
    const target = join(outside, 'linked-run');
    cpSync(join(runsDir, run.id), target, { recursive: true });
    symlinkSync(target, join(runsDir, 'evil'));
    const rows = (await call('listRuns', { includeArchived: true })).result as RunRow[];
    expect(rows.map((r) => r.id)).toEqual([run.id]);
    for (const method of ['getRun', 'getMetrics', 'getRunScene', 'listEpisodes', 'deleteRun', 'controlRun', 'exportPolicy']) {
      const r = await call(method, { id: 'evil', action: 'start', format: 'json' });
      refused(r, 'id');
      expect(r.error!.errors[0].message).toMatch(/outside the runs folder/);
    }
    expect(existsSync(join(target, 'config.json'))).toBe(true);
    rmSync(join(runsDir, 'evil'));
  });

  it('files inside a run folder that link outside it are neither read nor written through', async () => {
    const dir = join(runsDir, run.id);
    const secretLine = JSON.stringify({ step: 1, time: 0, kind: 'update', critic_loss: 1, secret: 'top secret' }) + '\n';
    writeFileSync(join(outside, 'metrics.jsonl'), secretLine);
    writeFileSync(join(outside, 'ep.json'), JSON.stringify({ secret: 'top secret' }));
    writeFileSync(join(outside, 'ckpt.bin'), 'top secret');
    const metrics = join(dir, 'metrics.jsonl');
    const original = readFileSync(metrics);
    const links = [
      join(dir, 'episodes', '0000000100-0.json'),
      join(dir, 'episodes', '0000000100-0.bin'),
      join(dir, 'checkpoints', 'ckpt-0000000100.bin'),
    ];
    try {
      rmSync(metrics);
      symlinkSync(join(outside, 'metrics.jsonl'), metrics);
      symlinkSync(join(outside, 'ep.json'), links[0]);
      symlinkSync(join(outside, 'ckpt.bin'), links[1]);
      symlinkSync(join(outside, 'ckpt.bin'), links[2]);
      const asked = [
        await call('getMetrics', { id: run.id }),
        await call('getMetricSeries', { id: run.id }),
        await call('getRun', { id: run.id }),
        await call('getEpisode', { id: run.id, episode: '0000000100-0' }),
        await call('exportPolicy', { id: run.id, format: 'json', checkpoint: 'latest' }),
      ];
      for (const r of asked) {
        refused(r);
        expect(JSON.stringify(r)).toMatch(/outside the run folder/);
      }
      // Listings name the bad file as a problem instead of its content.
      const episodes = await call('listEpisodes', { id: run.id });
      expect(episodes).toMatchObject({
        ok: true,
        result: {
          episodes: [],
          problems: [{ file: 'episodes/0000000100-0.json', message: expect.stringMatching(/outside the run folder/) }],
        },
      });
      const view = await call('getRun', { id: run.id, metrics: 'none' });
      expect(JSON.stringify(view)).toMatch(/outside the run folder/);
      for (const r of [...asked, episodes, view]) expect(JSON.stringify(r)).not.toContain('top secret');
      // A dangling link is not written through either: the trainer's writes would create the file where it points.
      const files = new RunFiles(dir);
      rmSync(metrics);
      symlinkSync(join(outside, 'created-by-the-studio.jsonl'), metrics);
      expect(() => files.metricsWriter()).toThrow(/outside the run folder/);
      rmSync(join(dir, 'episodes'), { recursive: true });
      symlinkSync(outside, join(dir, 'episodes'));
      expect(() => files.listEpisodes()).toThrow(/outside the run folder/);
      expect(existsSync(join(outside, 'created-by-the-studio.jsonl'))).toBe(false);
    } finally {
      rmSync(metrics, { force: true });
      writeFileSync(metrics, original);
      rmSync(join(dir, 'episodes'), { recursive: true, force: true });
      mkdirSync(join(dir, 'episodes'));
      rmSync(links[2], { force: true });
    }
    expect(await call('getMetrics', { id: run.id })).toMatchObject({ ok: true });
    expect(await call('listEpisodes', { id: run.id })).toMatchObject({ ok: true, result: { problems: [] } });
  });

  it('a tampered config.json cannot make a run read files outside its env folder', async () => {
    const cfgFile = join(runsDir, run.id, 'config.json');
    const original = readFileSync(cfgFile, 'utf8');
    try {
      for (const bad of ['../../../outside/secret.txt', join(outside, 'secret.txt'), 'common/../../config.json']) {
        const cfg = JSON.parse(original) as { env: { files: string[] } };
        cfg.env.files = [...cfg.env.files, bad];
        writeFileSync(cfgFile, JSON.stringify(cfg));
        const r = await call('getRunScene', { id: run.id });
        refused(r, 'env.files');
        expect(r.error!.errors[0].file).toBe(cfgFile);
      }
      // A link inside env/ pointing outside.
      symlinkSync(join(outside, 'secret.txt'), join(runsDir, run.id, 'env', 'linked.xml'));
      const cfg = JSON.parse(original) as { env: { files: string[] } };
      cfg.env.files = [...cfg.env.files, 'linked.xml'];
      writeFileSync(cfgFile, JSON.stringify(cfg));
      const r = await call('getRunScene', { id: run.id });
      refused(r, 'env.files');
      expect(r.error!.errors[0].message).toMatch(/links to a file outside/);
    } finally {
      writeFileSync(cfgFile, original);
      rmSync(join(runsDir, run.id, 'env', 'linked.xml'), { force: true });
    }
    expect((await call('getRunScene', { id: run.id })).ok).toBe(true);
  });

  it('dropped env files and ids stay inside the env library', async () => {
    const files = (xmlName: string): InFile[] => [
      { name: xmlName, encoding: 'utf8', content: TINY },
      { name: 'tiny.task.json', encoding: 'utf8', content: SPEC },
    ];
    for (const name of [
      '../tiny.xml',
      '/tmp/tiny.xml',
      'a/../../tiny.xml',
      'a//tiny.xml',
      'C:\\tiny.xml',
      'sub\\..\\..\\tiny.xml',
      'ti\0ny.xml',
    ]) {
      for (const method of ['validateEnv', 'addEnv']) {
        const r = await call(method, { files: files(name) });
        if (method === 'validateEnv') {
          expect(r.ok).toBe(true);
          expect((r.result as { ok: boolean }).ok, name).toBe(false);
        } else refused(r);
      }
    }
    // A bare MJCF (no spec: the starter is written for it) is held to the same names before anything reads it.
    for (const name of ['/tmp/tiny.xml', 'C:\\tiny.xml', 'ti\0ny.xml']) {
      const r = await call('validateEnv', { files: [{ name, encoding: 'utf8', content: TINY }] });
      expect(r.ok).toBe(true);
      expect((r.result as { ok: boolean; errors: { message: string }[] }).errors[0].message, name).toMatch(/relative paths inside/);
    }
    for (const id of ['../escaped', '..', '.hidden', 'a/b', '/abs']) refused(await call('addEnv', { files: files('tiny.xml'), id }), 'id');
    // Nothing landed beside the library, and a good env still goes in.
    expect(readdirSync(home).sort()).toEqual(
      ['outside', 'renderer', 'runs', 'settings.json'].filter((n) => existsSync(join(home, n))).sort(),
    );
    const good = await call('addEnv', { files: files('tiny.xml'), id: 'tiny-ok' });
    expect(good).toMatchObject({ ok: true, result: { id: 'tiny-ok' } });
    expect(readdirSync(join(home, 'envs'))).toEqual(['tiny-ok']);
  });

  it('getEnv takes ids only: a path anywhere on disk is refused, and the answer is the same whether it exists or not', async () => {
    const answers = new Set<string>();
    for (const path of [
      '/etc/passwd',
      '/no/such/file.xml',
      join(outside, 'secret.txt'),
      resolve('resources/envs/pendulum.xml'),
      resolve('resources/envs'),
      '../resources/envs/pendulum',
      'test/fixtures/envs/blowup',
    ]) {
      const r = await call('getEnv', { id: path });
      refused(r, 'env');
      answers.add(r.error!.errors[0].message.replace(path, 'PATH'));
    }
    expect([...answers]).toHaveLength(1);
    expect((await call('getEnv', { id: 'pendulum' })).ok).toBe(true);
  });

  it('DNS rebinding: on loopback, a request naming another host is refused (HTTP and WebSocket)', async () => {
    expect(isLoopbackHostHeader('127.0.0.1:5317')).toBe(true);
    expect(isLoopbackHostHeader('localhost:8080')).toBe(true);
    expect(isLoopbackHostHeader('[::1]:5317')).toBe(true);
    for (const h of ['evil.example:5317', 'localhost.evil.example', '127.0.0.1.evil.example', '0.0.0.0', '', undefined])
      expect(isLoopbackHostHeader(h), String(h)).toBe(false);
    expect((await httpGet(server.port, '/')).status).toBe(200);
    expect((await httpGet(server.port, '/', { host: `rebind.evil.example:${server.port}` })).status).toBe(403);
    const rebound = await rpc(
      `ws://127.0.0.1:${server.port}/api`,
      { id: 1, method: 'listRuns', params: {} },
      { host: `rebind.evil.example:${server.port}`, origin: `http://rebind.evil.example:${server.port}` },
    );
    expect(rebound).toEqual({ refused: 403 });
    expect(await rpc(`ws://127.0.0.1:${server.port}/api`, { id: 1, method: 'info', params: {} })).toMatchObject({ ok: true });
  });

  it('uploads: a message over the limit closes that socket only; a file over 20 MB is a clear error', async () => {
    const huge = JSON.stringify({
      id: 1,
      method: 'validateEnv',
      params: { files: [{ name: 'big.xml', encoding: 'utf8', content: 'x'.repeat(MAX_MESSAGE_BYTES) }] },
    });
    expect(await rpc(`ws://127.0.0.1:${server.port}/api`, huge)).toEqual({ closed: 1009 });
    const big = {
      id: 2,
      method: 'validateEnv',
      params: {
        files: [
          { name: 'big.xml', encoding: 'base64', content: Buffer.alloc(20 * 1024 * 1024 + 1, 32).toString('base64') },
          { name: 'big.task.json', encoding: 'utf8', content: SPEC },
        ],
      },
    };
    const r = (await rpc(`ws://127.0.0.1:${server.port}/api`, big)) as Reply;
    expect(r.ok).toBe(true);
    expect(r.result).toMatchObject({ ok: false, errors: [{ file: 'big.xml', message: expect.stringMatching(/limit is 20 MB/) }] });
    for (const junk of ['not json', '{"id":"x"}', 'null', '[]']) {
      expect(await rpc(`ws://127.0.0.1:${server.port}/api`, junk)).toMatchObject({ ok: false, error: { user: true } });
    }
    // The server and the run are unaffected.
    expect(await rpc(`ws://127.0.0.1:${server.port}/api`, { id: 3, method: 'getRun', params: { id: run.id } })).toMatchObject({ ok: true });
  });

  it('served beyond loopback, the runs folder cannot be moved from the browser', async () => {
    const wide = await startServer({ service, staticDir: join(home, 'renderer'), host: '0.0.0.0', port: 0 });
    try {
      const url = `ws://127.0.0.1:${wide.port}/api?token=${wide.token}`;
      const r = (await rpc(url, { id: 1, method: 'setSettings', params: { settings: { runsDir: '/' } } })) as Reply;
      expect(r).toMatchObject({
        ok: false,
        error: { user: true, errors: [{ field: 'settings.runsDir', message: LOCKED_BEYOND_LOOPBACK }] },
      });
      expect(await rpc(url, { id: 2, method: 'setSettings', params: { settings: { theme: 'light' } } })).toMatchObject({
        ok: true,
        result: { runsDir },
      });
      // Without the token nothing is answered at all.
      expect(await rpc(`ws://127.0.0.1:${wide.port}/api`, { id: 3, method: 'info', params: {} })).toEqual({ refused: 403 });
    } finally {
      await wide.close();
    }
  });
});
