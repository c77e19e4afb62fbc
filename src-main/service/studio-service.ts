import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestSchemas, type ErrorPayload, type Method, type Params, type Settings, type StudioInfo } from '../api/studio-api.ts';
import { UserError, isUserError, zodDetails } from '../util/errors.ts';
import { appRoot } from '../util/paths.ts';
import type { SettingsStore } from '../store/settings.ts';
import { EnvService } from './envs.ts';
import { RunService } from './runs.ts';
import { applyBackendSetting, backendInUse, checkBackendSetting } from './backend-status.ts';
import { SweepService } from './sweeps.ts';

export type EventListener = (event: string, data: unknown) => void;

export interface StudioServiceOptions {
  mode: StudioInfo['mode'];
  settings: SettingsStore;
  /** Runs training at once (default: the number of cores). */
  maxConcurrentRuns?: number;
}

type Handler<M extends Method> = (params: Params<M>) => Promise<unknown> | unknown;

/**
 * The engine side of StudioApi, shared by Electron IPC and the browser-mode WebSocket server:
 * validates every request against the zod schema, routes it to the engine, and fans events out.
 */
export class StudioService {
  private readonly listeners = new Set<EventListener>();
  private readonly handlers: { [M in Method]?: Handler<M> } = {};
  private readonly version: string;
  readonly envs = new EnvService();
  readonly runs: RunService;
  readonly sweeps: SweepService;

  private constructor(private readonly options: StudioServiceOptions) {
    this.version = (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    this.on('info', () => this.info());
    this.on('getSettings', () => this.options.settings.get());
    this.on('setSettings', ({ settings }) => this.setSettings(settings));

    this.on('listEnvs', () => this.envs.list());
    this.on('getEnv', ({ id }) => this.envs.preview(id));
    this.on('validateEnv', ({ files }) => this.envs.validate(files));
    this.on('addEnv', async ({ files, id }) => {
      const added = await this.envs.add(files, id);
      this.emit('envs', added);
      return added;
    });

    applyBackendSetting(options.settings.get().backend);
    this.runs = new RunService(options.settings.get().runsDir, (event, data) => this.emit(event, data), options.maxConcurrentRuns);
    this.on('removeEnv', ({ id }) => {
      const removed = this.envs.remove(id);
      this.emit('envs', removed);
      return removed;
    });
    this.on('listRuns', ({ includeArchived }) => this.runs.list(includeArchived));
    this.on('getRun', ({ id, metrics }) => this.runs.get(id, metrics));
    this.on('getMetrics', ({ id, sinceLine }) => this.runs.metrics(id, sinceLine));
    this.on('getMetricSeries', ({ id, ...opts }) => this.runs.metricSeries(id, opts));
    this.on('createRun', ({ config, seeds, start }) => this.runs.create(config, seeds, start));
    this.on('controlRun', ({ id, action }) => this.runs.control(id, action));
    this.on('updateRun', ({ id, ...patch }) => this.runs.update(id, patch));
    this.on('deleteRun', ({ id }) => this.runs.delete(id));
    this.on('getRunScene', ({ id }) => this.runs.scene(id));
    this.on('listEpisodes', ({ id }) => this.runs.episodes(id));
    this.on('getEpisode', ({ id, episode }) => this.runs.episode(id, episode));
    this.on('exportPolicy', ({ id, format, checkpoint }) => this.runs.exportPolicy(id, format, checkpoint));
    this.on('watchLive', ({ id, on }) => this.runs.watch(id, on));
    this.on('getReport', ({ ids }) => this.runs.report(ids));

    this.sweeps = new SweepService(
      () => this.runs.runManager,
      (event, data) => this.emit(event, data),
    );
    this.on('createSweep', ({ file, queue }) => this.sweeps.create(file, queue));
    this.on('listSweeps', () => this.sweeps.list());
    this.on('getSweep', ({ id }) => this.sweeps.get(id));
  }

  static async create(options: StudioServiceOptions): Promise<StudioService> {
    return new StudioService(options);
  }

  private on<M extends Method>(method: M, handler: Handler<M>): void {
    (this.handlers as Record<string, unknown>)[method] = handler;
  }

  /** Validates and handles one request; errors come back as data, never as a thrown stack. */
  async dispatch(method: unknown, rawParams: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: ErrorPayload }> {
    try {
      if (typeof method !== 'string' || !Object.hasOwn(RequestSchemas, method)) {
        throw new UserError({ field: 'method', message: `unknown method '${String(method)}'` });
      }
      const m = method as Method;
      const parsed = RequestSchemas[m].safeParse(rawParams ?? {});
      if (!parsed.success) throw new UserError(zodDetails(undefined, parsed.error.issues));
      const handler = this.handlers[m] as Handler<Method> | undefined;
      if (!handler) throw new UserError({ field: 'method', message: `'${m}' is not available in this studio` });
      return { ok: true, result: await handler(parsed.data as never) };
    } catch (e) {
      if (isUserError(e)) return { ok: false, error: { user: true, errors: e.details } };
      const message = e instanceof Error ? e.message : String(e);
      process.stderr.write(`rl-studio: ${String(method)} failed: ${e instanceof Error ? (e.stack ?? message) : message}\n`);
      return { ok: false, error: { user: false, errors: [{ message }] } };
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fans an event out; a listener that throws (a client's socket) costs that listener only, never the run that emitted. */
  protected emit(event: string, data: unknown): void {
    for (const l of this.listeners) {
      try {
        l(event, data);
      } catch (e) {
        process.stderr.write(`rl-studio: a listener of '${event}' failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  }

  private info(): StudioInfo {
    return {
      version: this.version,
      mode: this.options.mode,
      backend: backendInUse(this.options.settings.get().backend, this.runs.newestBackend()),
      backendSetting: this.options.settings.get().backend,
      runsDir: this.options.settings.get().runsDir,
      cores: availableParallelism(),
    };
  }

  private async setSettings(patch: Partial<Settings>): Promise<Settings> {
    if (patch.backend) checkBackendSetting(patch.backend);
    const next = this.options.settings.set(patch);
    applyBackendSetting(next.backend);
    await this.runs.setRunsDir(next.runsDir);
    this.emit('settings', next);
    return next;
  }

  /** Stops training runs (each checkpoints, resumable) and drops listeners. */
  async close(): Promise<void> {
    await this.runs.close();
    this.listeners.clear();
  }
}
