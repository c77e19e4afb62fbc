import type { LiveFrame, RunView } from '../../../src-main/api/studio-api.ts';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import type { EpisodeMeta } from '../../../src-main/api/runs.ts';
import type { SceneModel } from '../../../src-main/api/scene.ts';
import { decodeF32 } from '../../../src-main/api/studio-api.ts';
import { errorText } from '../api/client.ts';
import { appendRecords, emptySeries, type SeriesSet } from '../lib/series.ts';
import type { Studio } from './studio.svelte.ts';

/** Curves refresh at most this often (ms) while a run reports; the issue asks for at least once a second. */
const METRICS_EVERY_MS = 500;

/**
 * One run: its stored detail, metric series read incrementally from metrics.jsonl (only the new
 * lines each time), controls, episodes, and the live view's latest frame.
 */
export class RunState {
  view = $state.raw<RunView | null>(null);
  error = $state<string | null>(null);
  episodes = $state.raw<EpisodeMeta[]>([]);
  /** Bumped whenever the series grew (the arrays grow in place). */
  version = $state(0);
  /** Wall-clock ms of the last curve update, for the status line (and the browser test). */
  updatedAt = $state(0);
  busy = $state(false);
  scene = $state.raw<SceneModel | null>(null);
  liveOn = $state(false);
  liveStep = $state(0);
  /** Latest live frame (not reactive: the 3D view reads it every animation frame). */
  livePoses: Float32Array | null = null;

  readonly series: SeriesSet = emptySeries();
  private lines = 0;
  private fetching = false;
  private pending = false;
  private lastFetch = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private readonly offEvents: () => void;

  constructor(
    private readonly studio: Studio,
    readonly id: string,
  ) {
    this.offEvents = studio.client.onEvent((event, data) => {
      if (event === 'run') this.onRunEvent(data as TrainEvent);
      else if (event === 'live') this.onLive(data as LiveFrame);
    });
    // Events drive the curves; the poll covers a dropped connection or a run trained by the CLI.
    this.poll = setInterval(() => {
      if (this.running) this.scheduleMetrics();
    }, 1000);
  }

  get running(): boolean {
    const s = this.view?.summary.status;
    return s === 'running' || s === 'queued';
  }

  async load(): Promise<void> {
    try {
      const v = await this.studio.client.call('getRun', { id: this.id });
      if (this.lines === 0) {
        appendRecords(this.series, v.metrics.records);
        this.lines = v.metrics.lines;
        this.bump();
      }
      this.view = v;
      this.error = null;
      await this.loadEpisodes();
    } catch (e) {
      this.error = errorText(e);
    }
  }

  async loadEpisodes(): Promise<void> {
    this.episodes = (await this.studio.client.call('listEpisodes', { id: this.id })).episodes;
  }

  private onRunEvent(e: TrainEvent): void {
    if (e.runId !== this.id) return;
    if (e.type === 'progress') {
      if (this.view) this.view = { ...this.view, progress: e, summary: { ...this.view.summary, step: e.step } };
      this.scheduleMetrics();
    } else if (e.type === 'eval') {
      this.scheduleMetrics();
      void this.loadEpisodes();
      void this.refreshSummary();
    } else if (e.type === 'status') {
      void this.refreshSummary();
      this.scheduleMetrics();
      if (e.status !== 'running' && this.liveOn) void this.setLive(false);
    }
  }

  private async refreshSummary(): Promise<void> {
    try {
      const v = await this.studio.client.call('getRun', { id: this.id });
      // Keep the series; only the summary, config, checkpoints and backend are taken.
      this.view = { ...v, metrics: { records: [], lines: v.metrics.lines, problems: v.metrics.problems } };
    } catch (e) {
      this.error = errorText(e);
    }
  }

  private scheduleMetrics(): void {
    if (this.timer) return;
    const wait = Math.max(0, METRICS_EVERY_MS - (performance.now() - this.lastFetch));
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fetchMetrics();
    }, wait);
  }

  private async fetchMetrics(): Promise<void> {
    if (this.fetching) {
      this.pending = true;
      return;
    }
    this.fetching = true;
    this.lastFetch = performance.now();
    try {
      const chunk = await this.studio.client.call('getMetrics', { id: this.id, sinceLine: this.lines });
      this.lines = chunk.lines;
      if (appendRecords(this.series, chunk.records)) this.bump();
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.fetching = false;
      if (this.pending) {
        this.pending = false;
        this.scheduleMetrics();
      }
    }
  }

  private bump(): void {
    this.version++;
    this.updatedAt = Date.now();
  }

  async control(action: 'start' | 'pause' | 'resume' | 'stop'): Promise<void> {
    this.busy = true;
    try {
      await this.studio.client.call('controlRun', { id: this.id, action });
      await this.refreshSummary();
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }

  async setLive(on: boolean): Promise<void> {
    try {
      if (on && !this.scene) this.scene = await this.studio.client.call('getRunScene', { id: this.id });
      await this.studio.client.call('watchLive', { id: this.id, on });
      this.liveOn = on;
      if (!on) this.livePoses = null;
    } catch (e) {
      this.liveOn = false;
      this.error = errorText(e);
    }
  }

  private onLive(f: LiveFrame): void {
    if (f.runId !== this.id || !this.liveOn) return;
    this.livePoses = decodeF32(f.poses);
    this.liveStep = f.step;
  }

  dispose(): void {
    this.offEvents();
    if (this.poll) clearInterval(this.poll);
    if (this.timer) clearTimeout(this.timer);
    if (this.liveOn) void this.studio.client.call('watchLive', { id: this.id, on: false }).catch(() => undefined);
  }
}
