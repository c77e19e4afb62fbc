/**
 * Run methods of StudioApi over the RunManager of the current runs folder: the table, one run with
 * its metrics, create / control / tag / archive / delete, recorded episodes as replays (body poses
 * per frame computed here, so the renderer needs no physics), and the live view (frames of the
 * training env turned into body poses as they arrive).
 */
import type { TrainEvent } from '../api/events.ts';
import type {
  BackendInfo,
  EpisodeList,
  EpisodeReplay,
  LiveFrame,
  MetricSeriesSet,
  MetricsChunk,
  PolicyExport,
  RunRow,
  RunView,
} from '../api/studio-api.ts';
import { exportPolicy } from '../export/index.ts';
import { metricInfo, type RunDetail, type RunSummary } from '../api/runs.ts';
import type { SceneModel } from '../api/scene.ts';
import { RunManager } from '../train/run-manager.ts';
import { runEnvSource } from '../train/config.ts';
import { sceneFor, bodyPoses } from '../sim/scene.ts';
import { loadModel } from '../sim/mujoco.ts';
import { resolveEnvId } from '../sim/registry.ts';
import { loadMujocoModule, nameOf, OBJ, type MjModel, type Mujoco } from '../sim/mujoco.ts';
import { UserError } from '../util/errors.ts';
import { MetricColumns } from '../store/metrics.ts';
import { buildReport } from '../report/build.ts';
import type { Report } from '../api/scores.ts';
import { encodeF32 } from './encode.ts';

type Emit = (event: string, data: unknown) => void;

/** Runs whose metric columns stay in memory (a run of 10^6 update lines holds ~40 MB of columns). */
const COLUMNS_KEPT = 4;
/** Points per curve of getMetricSeries when the request names none. */
const DEFAULT_SERIES_POINTS = 2000;

interface Watch {
  /** Clients watching (each watchLive on/off pair counts once). */
  count: number;
  model: Promise<{ mj: Mujoco; model: MjModel }>;
}

export class RunService {
  private manager: RunManager;
  private unsubscribe: () => void;
  private readonly watches = new Map<string, Watch>();
  /** Parsed metrics per run, most recently used last. */
  private readonly columns = new Map<string, MetricColumns>();

  constructor(
    private runsDir: string,
    private readonly emit: Emit,
    private readonly maxConcurrent?: number,
  ) {
    this.manager = this.open(runsDir);
    this.unsubscribe = this.manager.subscribe((e) => this.forward(e));
  }

  private open(dir: string): RunManager {
    return new RunManager({ runsDir: dir, ...(this.maxConcurrent ? { maxConcurrent: this.maxConcurrent } : {}) });
  }

  get runManager(): RunManager {
    return this.manager;
  }

  /** Moves to another runs folder: runs training in the old one stop at a checkpoint (resumable). */
  async setRunsDir(dir: string): Promise<void> {
    if (dir === this.runsDir) return;
    const old = this.manager;
    this.manager = this.open(dir);
    this.runsDir = dir;
    this.unsubscribe();
    this.unsubscribe = this.manager.subscribe((e) => this.forward(e));
    this.dropWatches();
    this.columns.clear();
    await old.shutdown();
    this.emit('runs', { ids: [] });
  }

  private forward(e: TrainEvent): void {
    if (e.type !== 'frame') {
      this.emit('run', e);
      if (e.type === 'status' && ['done', 'failed', 'stopped', 'interrupted'].includes(e.status)) this.unwatch(e.runId, true);
      return;
    }
    const w = this.watches.get(e.runId);
    if (!w) return;
    void w.model
      .then(({ mj, model }) => {
        if (e.qpos.length !== model.nq) return;
        const frame: LiveFrame = { runId: e.runId, step: e.step, poses: encodeF32(bodyPoses(mj, model, [e.qpos])) };
        this.emit('live', frame);
      })
      .catch(() => undefined);
  }

  list(includeArchived = false): RunRow[] {
    const rows: RunRow[] = [];
    for (const s of this.manager.list({ includeArchived })) {
      let hyperparams: Record<string, unknown> = {};
      try {
        hyperparams = this.manager.store.open(s.id).readConfig().config.hyperparams as unknown as Record<string, unknown>;
      } catch {
        /* listed without its hyperparameters; getRun reports why */
      }
      rows.push({ ...s, hyperparams, ...this.startFlag(s) });
    }
    return rows;
  }

  /** The backend the most recently updated run recorded (of the newest few that started), for the studio's status. */
  newestBackend(): { id: string; backend: BackendInfo } | null {
    const newest = this.manager
      .list({ includeArchived: true })
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .slice(0, 20);
    for (const s of newest) {
      try {
        const config = this.manager.store.open(s.id).readConfig() as { backend?: BackendInfo | null };
        if (config.backend) return { id: s.id, backend: config.backend };
      } catch {
        // An unreadable config is reported where the run is opened; here it only has no backend to tell.
      }
    }
    return null;
  }

  /** One run; with metrics 'none' its metric records are left out (a long run's file is never sent whole). */
  get(id: string, metrics: 'records' | 'none' = 'records'): RunView {
    let detail: RunDetail;
    if (metrics === 'records') detail = this.manager.get(id);
    else {
      const run = this.manager.store.open(id);
      // Config first: an unreadable one is named here, as getRun with records names it.
      const config = run.readConfig();
      const cols = this.metricColumns(id);
      detail = {
        summary: this.summary(id),
        config,
        metrics: { records: [], lines: cols.lines, problems: cols.problems },
        checkpoints: run.checkCheckpoints(),
      };
    }
    const config = detail.config as { backend?: BackendInfo | null };
    return {
      ...detail,
      progress: this.manager.progress(id),
      backend: config.backend ?? null,
      metricInfo: metricInfo(detail.summary.algo),
      ...this.startFlag(detail.summary),
    };
  }

  /**
   * Runs created with start=false and not started since read 'queued' (on disk: queued with no
   * process), but nothing queues them: the studio offers Start, not Pause. The mark lives in the
   * run's status file, so it survives a restart of the studio.
   */
  private startFlag(s: RunSummary): { notStarted?: true } {
    return s.status === 'queued' && this.manager.notStarted(s.id) ? { notStarted: true } : {};
  }

  metrics(id: string, sinceLine = 0): MetricsChunk {
    return this.manager.store.open(id).readMetrics(sinceLine);
  }

  /**
   * Curves downsampled for drawing: each at most `points` points (min and max per x bucket, so
   * peaks survive) over [from, to]. The metrics file is parsed once per run and then read on from
   * where it ended, so zooming into a 10^6-line run is a scan of columns, not a parse.
   */
  metricSeries(id: string, opts: { keys?: string[]; points?: number; x?: 'step' | 'time'; from?: number; to?: number }): MetricSeriesSet {
    const cols = this.metricColumns(id);
    const points = opts.points ?? DEFAULT_SERIES_POINTS;
    const keys = opts.keys ?? [...cols.columns.keys()];
    const series: MetricSeriesSet['series'] = {};
    let downsampled = false;
    for (const key of keys) {
      const s = cols.downsample(key, {
        points,
        ...(opts.x ? { x: opts.x } : {}),
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
      });
      if (s.count > s.value.length) downsampled = true;
      series[key] = s;
    }
    return { series, lines: cols.lines, downsampled, problems: cols.problems };
  }

  /** The report table and curves of these runs (through the store: hostile ids are refused). */
  report(ids: string[]): Report {
    return buildReport(ids.map((id) => this.manager.store.open(id)));
  }

  /** The run's metric columns, brought up to date with its file (through the store: hostile ids are refused). */
  private metricColumns(id: string): MetricColumns {
    const run = this.manager.store.open(id);
    const file = run.inside(run.metricsFile);
    let cols = this.columns.get(id);
    if (!cols || cols.file !== file) cols = new MetricColumns(file);
    this.columns.delete(id);
    this.columns.set(id, cols);
    for (const old of this.columns.keys()) {
      if (this.columns.size <= COLUMNS_KEPT) break;
      this.columns.delete(old);
    }
    return cols.refresh();
  }

  create(config: unknown, seeds = 1, start = true): RunSummary[] {
    // Requests name envs by id (built-in or the library), never by path.
    const env = config !== null && typeof config === 'object' ? (config as { env?: unknown }).env : undefined;
    if (typeof env === 'string') resolveEnvId(env);
    const input = seeds > 1 ? { config: config as never, seeds } : (config as never);
    const runs = this.manager.create(input, { start });
    this.emit('runs', { ids: runs.map((r) => r.id) });
    return runs;
  }

  async control(id: string, action: 'start' | 'pause' | 'resume' | 'stop'): Promise<RunSummary> {
    if (this.manager.notStarted(id)) {
      if (action === 'pause') throw new UserError({ field: 'id', message: `run ${id} has not been started, so it cannot be paused` });
      // Nothing to stop; it stays ready to start.
      if (action === 'stop') return this.summary(id);
    }
    if (action === 'start') this.manager.start(id);
    else if (action === 'pause') this.manager.pause(id);
    else if (action === 'resume') this.manager.resume(id);
    else await this.manager.stop(id);
    return this.summary(id);
  }

  private summary(id: string): RunSummary {
    const s = this.manager.list({ includeArchived: true }).find((r) => r.id === id);
    if (!s) throw new UserError({ field: 'id', message: `no run '${id}'` });
    return s;
  }

  update(id: string, patch: { name?: string; tags?: string[]; archived?: boolean }): RunSummary {
    const s = this.manager.update(id, patch);
    this.emit('runs', { ids: [id] });
    return s;
  }

  async delete(id: string): Promise<{ id: string }> {
    this.unwatch(id, true);
    this.columns.delete(id);
    await this.manager.delete(id);
    this.emit('runs', { ids: [id] });
    return { id };
  }

  episodes(id: string): EpisodeList {
    return this.manager.listEpisodes(id);
  }

  async episode(id: string, episodeId: string): Promise<EpisodeReplay> {
    const data = this.manager.readEpisode(id, episodeId);
    const source = runEnvSource(this.manager.store.open(id));
    const { scene, poses } = await sceneFor(source, data.qpos);
    const { observation, rewardTerms } = data.meta;
    return {
      meta: data.meta,
      scene,
      poses: encodeF32(poses!),
      actions: encodeF32(data.actions),
      rewards: encodeF32(data.rewards),
      actuators: await actuatorNames(source),
      observations: observation && data.observations ? { ...observation, values: encodeF32(data.observations) } : null,
      rewardTerms: rewardTerms && data.rewardTerms ? { ...rewardTerms, values: encodeF32(data.rewardTerms) } : null,
    };
  }

  async exportPolicy(id: string, format: 'tfjs' | 'onnx' | 'json', checkpoint?: string): Promise<PolicyExport> {
    // Through the store: it refuses ids that are not runs here, including links out of the runs folder.
    const run = this.manager.store.open(id);
    const { files, meta } = await exportPolicy(run.dir, format, checkpoint);
    const file = files[0];
    return { name: file.name, base64: Buffer.from(file.bytes).toString('base64'), meta: meta as unknown as Record<string, unknown> };
  }

  async scene(id: string): Promise<SceneModel> {
    return (await sceneFor(runEnvSource(this.manager.store.open(id)))).scene;
  }

  /** Turns the live view of a training run on or off; frames arrive as `live` events. */
  watch(id: string, on: boolean): { id: string; on: boolean } {
    if (!on) {
      this.unwatch(id, false);
      return { id, on: false };
    }
    const w = this.watches.get(id);
    if (w) {
      w.count++;
      return { id, on: true };
    }
    this.manager.setLive(id, true);
    const model = (async () => {
      const mj = await loadMujocoModule();
      const source = runEnvSource(this.manager.store.open(id));
      return { mj, model: loadModel(mj, source.files, source.xml) };
    })();
    model.catch(() => this.unwatch(id, true));
    this.watches.set(id, { count: 1, model });
    return { id, on: true };
  }

  private unwatch(id: string, all: boolean): void {
    const w = this.watches.get(id);
    if (!w) return;
    if (!all && --w.count > 0) return;
    this.watches.delete(id);
    try {
      this.manager.setLive(id, false);
    } catch {
      /* the run already ended */
    }
    void w.model.then(({ model }) => model.delete()).catch(() => undefined);
  }

  private dropWatches(): void {
    for (const id of [...this.watches.keys()]) this.unwatch(id, true);
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.unsubscribe();
    await this.manager.shutdown();
  }
}

/** The env's actuator names in action order (unnamed ones as actuator_<i>), for the replay's action traces. */
async function actuatorNames(source: ReturnType<typeof runEnvSource>): Promise<string[]> {
  const mj = await loadMujocoModule();
  const model = loadModel(mj, source.files, source.xml);
  try {
    return Array.from({ length: model.nu }, (_, i) => nameOf(mj, model, OBJ.actuator, i) || `actuator_${i}`);
  } finally {
    model.delete();
  }
}
