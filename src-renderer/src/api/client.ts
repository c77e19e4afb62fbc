/**
 * The renderer's StudioApi client. In Electron it goes through the preload bridge (IPC); in browser
 * mode over a WebSocket to `rl-studio serve`. Views only see `StudioClient`.
 */
import type { ErrorPayload, Method, Params, Results } from '../../../src-main/api/studio-api.ts';

export type EventHandler = (event: string, data: unknown) => void;

/** A failed call: `user` errors name file/field and are shown inline; others are studio faults. */
export class StudioError extends Error {
  constructor(readonly payload: ErrorPayload) {
    super(payload.errors.map((e) => [e.file, e.field, e.message].filter(Boolean).join(': ')).join('; '));
    this.name = 'StudioError';
  }
}

export interface StudioClient {
  readonly transport: 'ipc' | 'websocket';
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  onEvent(handler: EventHandler): () => void;
  /** Connection state for the status bar (a WebSocket can drop and come back). */
  onConnection(handler: (connected: boolean) => void): () => void;
}

interface Bridge {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: string, data: unknown) => void): () => void;
  saveFile(name: string, bytes: Uint8Array): Promise<string | null>;
}

declare global {
  interface Window {
    studioBridge?: Bridge;
  }
}

function unwrap(res: unknown): unknown {
  const r = res as { ok: boolean; result?: unknown; error?: ErrorPayload };
  if (r.ok) return r.result;
  throw new StudioError(r.error ?? { user: false, errors: [{ message: 'no answer' }] });
}

function ipcClient(bridge: Bridge): StudioClient {
  return {
    transport: 'ipc',
    call: async <M extends Method>(method: M, params: Params<M>) => unwrap(await bridge.call(method, params)) as Results[M],
    onEvent: (h) => bridge.onEvent(h),
    onConnection: (h) => {
      h(true);
      return () => undefined;
    },
  };
}

function wsClient(url: string): StudioClient {
  let ws: WebSocket | null = null;
  let nextId = 1;
  let connected = false;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const handlers = new Set<EventHandler>();
  const connHandlers = new Set<(c: boolean) => void>();
  let opening: Promise<WebSocket> | null = null;

  function setConnected(c: boolean): void {
    connected = c;
    for (const h of connHandlers) h(c);
  }

  function open(): Promise<WebSocket> {
    if (ws && ws.readyState === WebSocket.OPEN) return Promise.resolve(ws);
    if (opening) return opening;
    opening = new Promise<WebSocket>((resolve, reject) => {
      const sock = new WebSocket(url);
      sock.onopen = () => {
        ws = sock;
        opening = null;
        setConnected(true);
        resolve(sock);
      };
      sock.onerror = () => {
        opening = null;
        reject(new StudioError({ user: false, errors: [{ message: `cannot reach the studio at ${url}` }] }));
      };
      sock.onclose = () => {
        if (ws === sock) ws = null;
        for (const p of pending.values())
          p.reject(new StudioError({ user: false, errors: [{ message: 'connection to the studio closed' }] }));
        pending.clear();
        if (connected) setConnected(false);
        // Reconnect so a restarted `rl-studio serve` is picked up again.
        setTimeout(() => void open().catch(() => undefined), 1000);
      };
      sock.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data)) as { id?: number; event?: string; data?: unknown };
        if (typeof msg.event === 'string') {
          for (const h of handlers) h(msg.event, msg.data);
          return;
        }
        const p = pending.get(msg.id ?? -1);
        if (!p) return;
        pending.delete(msg.id!);
        try {
          p.resolve(unwrap(msg));
        } catch (e) {
          p.reject(e);
        }
      };
    });
    return opening;
  }

  return {
    transport: 'websocket',
    async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
      const sock = await open();
      const id = nextId++;
      return new Promise<Results[M]>((resolve, reject) => {
        pending.set(id, { resolve: (v) => resolve(v as Results[M]), reject });
        sock.send(JSON.stringify({ id, method, params }));
      });
    },
    onEvent(h) {
      handlers.add(h);
      void open().catch(() => undefined);
      return () => handlers.delete(h);
    },
    onConnection(h) {
      connHandlers.add(h);
      h(connected);
      return () => connHandlers.delete(h);
    },
  };
}

/** The message of any thrown value, for the UI. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function connect(): StudioClient {
  if (window.studioBridge) return ipcClient(window.studioBridge);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return wsClient(`${proto}//${location.host}/api`);
}

/** Saves bytes: a native dialog in Electron, a download in the browser. */
export async function saveBytes(name: string, bytes: Uint8Array, mime = 'application/octet-stream'): Promise<void> {
  if (window.studioBridge) {
    await window.studioBridge.saveFile(name, bytes);
    return;
  }
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
