// A real `rl-studio serve` (its own process, as a user starts it) under a seeded stream of
// malformed request-targets, headers, WebSocket upgrades and messages, while it trains a run.
// After every batch it must still serve the page and answer StudioApi, and at the end the run it
// trains must have kept training. Needs the built renderer (`npm run build`, as `npm test` does).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { Rng } from '../../../src-main/util/rng.ts';

const ROOT = resolve(__dirname, '../../..');
const home = mkdtempSync(join(tmpdir(), 'issue-15-fuzz-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    process.kill(-child.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
  rmSync(home, { recursive: true, force: true });
});

const TARGETS = [
  '/',
  '//',
  '///',
  '//%/',
  '//:99999/',
  '/api',
  '//api',
  '/%',
  '/%zz',
  '/%E0%A4%A',
  '/%C0%AF',
  '/..%2f..%2fetc/passwd',
  '/../../etc/passwd',
  '/api?token=%',
  '/?token=' + 'é'.repeat(24),
  '*',
  'http://[x',
  '/\u00e9',
  '//[::1]:80/',
  '/%00',
  '/' + 'a'.repeat(9000),
  '/api#x',
  '/?a=%%',
  '',
];
const PIECES = [
  '/',
  '//',
  '%',
  '%2',
  '%zz',
  '%ff',
  ':',
  '[',
  ']',
  '@',
  '?',
  '#',
  '..',
  '\\',
  'é',
  '\u0000',
  '\u202e',
  ' ',
  'api',
  '%2e%2e',
  ':99999',
  '~',
];
const HEADERS = [
  'Host: 127.0.0.1',
  'Host: evil.example',
  'Host:',
  'Host: [::1',
  'Origin: http://evil.example',
  'Origin: null',
  'Cookie: rls_token=%%%',
  'Cookie: ' + 'x'.repeat(10000),
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip, chunked',
  'X-\u0001: y',
  'Bad Header',
  ': empty',
  'Sec-WebSocket-Version: 99',
  'Sec-WebSocket-Key: x',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Expect: 100-continue',
];
const METHODS = [
  'info',
  'getSettings',
  'listEnvs',
  'getEnv',
  'validateEnv',
  'listRuns',
  'getRun',
  'getMetrics',
  'getMetricSeries',
  'controlRun',
  'updateRun',
  'deleteRun',
  'getRunScene',
  'listEpisodes',
  'getEpisode',
  'exportPolicy',
  'watchLive',
  'constructor',
  '__proto__',
  'toString',
  '',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function target(r: () => number): string {
  if (r() < 0.5) return pick(r, TARGETS);
  let t = r() < 0.8 ? '/' : '';
  for (let i = 0, n = 1 + Math.floor(r() * 6); i < n; i++) t += pick(r, PIECES);
  return t;
}

/** Odd values for params: wrong types, paths, deep nesting, huge numbers, prototype keys. */
function value(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 12);
  if (k === 0) return null;
  if (k === 1) return pick(r, [-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5]);
  if (k === 2)
    return pick(r, ['..', '/etc/passwd', '../../outside', '%2e%2e', 'é'.repeat(300), '', 'x'.repeat(5000), 'pendulum', 'latest', 'best']);
  if (k === 3) return r() < 0.5;
  if (k === 4 && depth < 40) return [value(r, depth + 1)];
  if (k === 5 && depth < 40)
    return {
      [pick(r, [
        'id',
        'episode',
        'files',
        'checkpoint',
        'format',
        '__proto__',
        'constructor',
        'settings',
        'action',
        'on',
        'keys',
        'points',
      ])]: value(r, depth + 1),
    };
  if (k === 6)
    return [
      {
        name: pick(r, ['../x.xml', 'a.xml', '/abs.xml', 'm.task.json']),
        encoding: pick(r, ['utf8', 'base64', 'hex']),
        content: pick(r, ['<mujoco>', '<!DOCTYPE x [<!ENTITY a "b">]><mujoco/>', '{}', '%%%']),
      },
    ];
  return pick(r, ['start', 'pause', 'stop', 'json', 'onnx', 'tfjs', 'time', 'step']);
}

function message(r: () => number): string | Buffer {
  const k = Math.floor(r() * 8);
  if (k === 0)
    return pick(r, ['not json', '{', '[]', 'null', '1', '"x"', '{"id":1}', '{"id":"1","method":"info"}', '{"id":1.5,"method":"info"}']);
  if (k === 1) return Buffer.from([0xff, 0xfe, 0x00, 0x80]);
  if (k === 2) return '['.repeat(5000) + ']'.repeat(5000);
  const params =
    r() < 0.2
      ? value(r)
      : {
          id: value(r),
          episode: value(r),
          format: value(r),
          checkpoint: value(r),
          action: value(r),
          on: value(r),
          files: value(r),
          keys: value(r),
          points: value(r),
          metrics: value(r),
        };
  return JSON.stringify({ id: Math.floor(r() * 1e6), method: pick(r, METHODS), params });
}

/**
 * Sends raw bytes on a fresh TCP connection; resolves when the server answers or closes (or after
 * `waitMs`: a fuzz case that gets no answer is fine, but the health check between batches waits
 * longer, since a server that answers slowly on a loaded 2-core machine has not crashed).
 */
function raw(port: number, text: string, waitMs = 3000): Promise<string> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => done(got.split('\r\n')[0]));
    setTimeout(() => s.destroy(), waitMs).unref();
  });
}

function httpCase(r: () => number, port: number): Promise<string> {
  const method = pick(r, ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'GE T', 'G\u00e9T', 'CONNECT']);
  const headers = Array.from({ length: Math.floor(r() * 5) }, () => pick(r, HEADERS));
  if (r() < 0.7) headers.unshift('Host: 127.0.0.1');
  const upgrade =
    r() < 0.5
      ? ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']
      : [];
  return raw(port, `${method} ${target(r)} HTTP/1.1\r\n${[...headers, ...upgrade].join('\r\n')}\r\n\r\n`);
}

type Envelope = { id?: number; ok?: boolean; result?: unknown; event?: string; data?: unknown };

function open(port: number): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`);
    ws.once('open', () => done(ws));
    ws.once('error', fail);
  });
}

/** One StudioApi call on an open socket. */
function call(ws: WebSocket, id: number, method: string, params: unknown): Promise<Envelope> {
  return new Promise((done, fail) => {
    const onMessage = (m: WebSocket.RawData) => {
      const e = JSON.parse(m.toString()) as Envelope;
      if (e.id !== id) return;
      ws.off('message', onMessage);
      done(e);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, method, params }));
    setTimeout(() => fail(new Error(`no answer to ${method}`)), 60_000).unref();
  });
}

describe('serve under fuzzing', () => {
  it('answers after every batch of malformed requests, upgrades and messages, and the run it trains keeps training', async () => {
    expect(existsSync(join(ROOT, 'out/renderer/index.html')), 'build the renderer first (npm run build)').toBe(true);
    child = spawn(process.execPath, [join(ROOT, 'bin/rl-studio.mjs'), 'serve', '--port', '0', '--runs-dir', join(home, 'runs'), '--json'], {
      cwd: ROOT,
      env: { ...process.env, RL_STUDIO_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    while (!stdout.includes('"listening"')) {
      if (child.exitCode !== null) throw new Error(`serve exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = (JSON.parse(stdout.split('\n').find((l) => l.includes('"listening"'))!) as { port: number }).port;

    const ws = await open(port);
    let trainedTo = 0;
    ws.on('message', (m) => {
      const e = JSON.parse(m.toString()) as Envelope;
      if (e.event === 'run' && (e.data as { type: string }).type === 'progress')
        trainedTo = Math.max(trainedTo, (e.data as { step: number }).step);
    });
    const created = await call(ws, 1, 'createRun', {
      config: {
        env: 'pendulum',
        steps: 1_000_000,
        evalEpisodes: 0,
        checkpointEvery: 500,
        hyperparams: { actorHidden: [8], criticHidden: [8, 8] },
      },
      start: true,
    });
    expect(created.ok, JSON.stringify(created)).toBe(true);
    const runId = (created.result as { id: string }[])[0].id;
    while (trainedTo === 0) await new Promise((r) => setTimeout(r, 100));

    // Seeded (the project's Rng): the same cases on every run, so a failure can be replayed.
    const seeded = new Rng(15);
    const r = () => seeded.uniform();
    const statuses = new Set<string>();
    let id = 100;
    for (let batch = 0; batch < 12; batch++) {
      // Raw HTTP and upgrade requests, a few at a time.
      const answers = await Promise.all(Array.from({ length: 12 }, () => httpCase(r, port)));
      for (const a of answers) statuses.add(a.slice(0, 12));
      // Messages on one socket, then a socket that sends junk and leaves.
      const fuzzed = await open(port);
      fuzzed.on('error', () => undefined);
      for (let i = 0; i < 15; i++) fuzzed.send(message(r));
      await call(fuzzed, id++, 'info', {}).catch(() => undefined);
      fuzzed.terminate();

      // Still answering: the page over HTTP and StudioApi over the long-lived socket.
      expect(await raw(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 20_000), `batch ${batch}`).toBe('HTTP/1.1 200 OK');
      expect(await call(ws, id++, 'info', {}), `batch ${batch}`).toMatchObject({ ok: true });
      expect(child.exitCode, stderr.slice(-3000)).toBeNull();
    }
    // The fuzzing met refusals of each kind, not only one.
    expect([...statuses].some((s) => s.startsWith('HTTP/1.1 400'))).toBe(true);
    expect([...statuses].some((s) => s.startsWith('HTTP/1.1 403'))).toBe(true);
    expect(stderr).toMatch(/rl-studio serve: 400 /);

    // The run trained on through all of it.
    const before = trainedTo;
    while (trainedTo <= before) await new Promise((r) => setTimeout(r, 100));
    const view = await call(ws, id++, 'getRun', { id: runId, metrics: 'none' });
    expect(view).toMatchObject({ ok: true, result: { summary: { status: 'running' } } });
    ws.terminate();
    expect(stderr).not.toMatch(/Uncaught|TypeError: Invalid URL|ERR_INVALID_URL/);
  }, 600_000);
});
