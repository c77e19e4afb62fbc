import type { LiveFrame, RunView } from '../../../src-main/api/studio-api.ts';
import type { ProgressEvent, TrainEvent } from '../../../src-main/api/events.ts';
import type { EpisodeMeta, MetricRecord } from '../../../src-main/api/runs.ts';
import type { SceneModel } from '../../../src-main/api/scene.ts';
import { decodeF32 } from '../../../src-main/api/studio-api.ts';
import { errorText } from '../api/client.ts';
import { appendRecords, SeriesSet } from '../lib/series.ts';
import type { Studio } from './studio.svelte.ts';

/** metrics.jsonl is re-read at most this often (ms) while a run reports. */
const METRICS_EVERY_MS = 500;
/** Curves are redrawn at most this often (ms): the issue asks for at least once a second. */
const REDRAW_EVERY_MS = 500;
/** Points per curve when a run opens (the engine downsamples longer curves, keeping their peaks). */
const OVERVIEW_POINTS = 4000;
/** Points per curve of a zoomed range. */
const RANGE_POINTS = 2000;
/** Live frames held for the view at most (~100 ms of the trainer's 30 a second). */
const LIVE_QUEUE = 3;

/**
 * One run: its stored detail, metric series (an overview the engine downsamples to a few thousand
 * points per curve when the run opens, then the new lines of metrics.jsonl as they come), controls,
 * episodes, and the live view's latest frame. Zooming into a downsampled curve asks the engine for
 * that range at full detail (range()).
 *
 * The trainer appends metric lines about once a second, but reports progress four times a second;
 * progress values are drawn as a provisional tail of the curves and replaced by the file's records
 * when they arrive, so curves move several times a second.
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
  /** Live frame on show (not reactive: the 3D view reads it every animation frame). */
  livePoses: Float32Array | null = null;
  /**
   * Live frames received and not shown yet. They arrive ~30 a second but in bursts (two within one
   * animation frame would show only the second): the view takes one per animation frame.
   */
  private liveQueue: Float32Array[] = [];
  /** The overview left points out: zoomed ranges come from the engine. */
  downsampled = false;

  readonly series = new SeriesSet();
  /** Per curve, the points that came from metrics.jsonl; beyond them is the provisional tail (plain: nothing renders from it). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private committed = new Map<string, number>();
  private lastRecord = { time: 0, wall: 0 };
  private lastEpisodes = -1;
  private lines = 0;
  /** The overview has arrived: new lines are read on from `lines`. */
  private ready = false;
  private fetching = false;
  private pending = false;
  private lastFetch = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private bumpTimer: ReturnType<typeof setTimeout> | null = null;
  private lastBump = 0;
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
    return this.view?.summary.status === 'running';
  }

  async load(): Promise<void> {
    try {
      const v = await this.studio.client.call('getRun', { id: this.id, metrics: 'none' });
      this.view = v;
      if (!this.ready) await this.loadOverview();
      this.error = null;
      await this.loadEpisodes();
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /** The whole run's curves, downsampled by the engine when long, as the committed part of the series. */
  private async loadOverview(): Promise<void> {
    // Every metric the run logs (no keys: all numeric fields), so new diagnostics chart themselves.
    const r = await this.studio.client.call('getMetricSeries', { id: this.id, points: OVERVIEW_POINTS });
    let lastTime = 0;
    for (const [, s] of this.series.entries()) s.length = 0;
    this.series.fill(r.series);
    for (const [key, src] of Object.entries(r.series)) {
      this.committed.set(key, src.value.length);
      if (src.time.length) lastTime = Math.max(lastTime, src.time[src.time.length - 1]);
    }
    this.downsampled = r.downsampled;
    this.lines = r.lines;
    this.lastRecord = { time: lastTime, wall: performance.now() };
    this.ready = true;
    this.bump();
    if (this.pending) {
      this.pending = false;
      this.scheduleMetrics();
    }
  }

  /**
   * One curve over [x0, x1] at full detail (at most RANGE_POINTS points) for a zoomed chart, or
   * null when the series already holds every point.
   */
  async range(key: string, axis: 'step' | 'time', x0: number, x1: number): Promise<{ x: number[]; y: number[] } | null> {
    if (!this.downsampled) return null;
    try {
      const r = await this.studio.client.call('getMetricSeries', {
        id: this.id,
        keys: [key],
        points: RANGE_POINTS,
        x: axis,
        from: x0,
        to: x1,
      });
      const s = r.series[key];
      return s ? { x: axis === 'step' ? s.step : s.time, y: s.value } : null;
    } catch (e) {
      this.error = errorText(e);
      return null;
    }
  }

  async loadEpisodes(): Promise<void> {
    this.episodes = (await this.studio.client.call('listEpisodes', { id: this.id })).episodes;
  }

  private onRunEvent(e: TrainEvent): void {
    if (e.runId !== this.id) return;
    if (e.type === 'progress') {
      if (this.view) this.view = { ...this.view, progress: e, summary: { ...this.view.summary, step: e.step } };
      this.provisional(e);
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
      // Keep the series; only the summary, config, checkpoints and backend are taken.
      this.view = await this.studio.client.call('getRun', { id: this.id, metrics: 'none' });
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
    if (this.fetching || !this.ready) {
      this.pending = true;
      return;
    }
    this.fetching = true;
    this.lastFetch = performance.now();
    try {
      const chunk = await this.studio.client.call('getMetrics', { id: this.id, sinceLine: this.lines });
      this.lines = chunk.lines;
      if (chunk.records.length) this.commit(chunk.records);
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

  /** Drops the provisional tails and appends the file's records in their place. */
  private commit(records: MetricRecord[]): void {
    for (const [key, s] of this.series.entries()) s.length = this.committed.get(key) ?? 0;
    appendRecords(this.series, records);
    for (const [key, s] of this.series.entries()) this.committed.set(key, s.length);
    const last = records.at(-1);
    if (last) this.lastRecord = { time: last.time, wall: performance.now() };
    this.bump();
  }

  /** Progress values as provisional points (time estimated from the last record's). */
  private provisional(e: ProgressEvent): void {
    const time = this.lastRecord.time + (performance.now() - this.lastRecord.wall) / 1000;
    const points: [string, number | null][] = [
      ['steps_per_s', e.stepsPerS > 0 ? e.stepsPerS : null],
      // The update metrics, whatever names the run's algorithm reports.
      ...Object.entries(e.metrics),
      ['episode_return', e.episodes !== this.lastEpisodes && this.lastEpisodes >= 0 ? e.episodeReturn : null],
    ];
    this.lastEpisodes = e.episodes;
    let any = false;
    for (const [key, v] of points) {
      const s = this.series.get(key);
      if (v === null || !Number.isFinite(v) || (s.length && s.step[s.length - 1] > e.step)) continue;
      s.push(e.step, time, v);
      any = true;
    }
    if (any) this.bump();
  }

  /** Redraws the curves, at most twice a second (six charts redrawn per bump cost frames in the 3D view). */
  private bump(): void {
    if (this.bumpTimer) return;
    const wait = Math.max(0, REDRAW_EVERY_MS - (performance.now() - this.lastBump));
    this.bumpTimer = setTimeout(() => {
      this.bumpTimer = null;
      this.lastBump = performance.now();
      this.version++;
      this.updatedAt = Date.now();
    }, wait);
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
      if (!on) {
        this.livePoses = null;
        this.liveQueue = [];
      }
    } catch (e) {
      this.liveOn = false;
      this.error = errorText(e);
    }
  }

  private onLive(f: LiveFrame): void {
    if (f.runId !== this.id || !this.liveOn) return;
    this.liveQueue.push(decodeF32(f.poses));
    // At most ~100 ms behind: a view drawing fewer frames than arrive skips the oldest.
    if (this.liveQueue.length > LIVE_QUEUE) this.liveQueue.splice(0, this.liveQueue.length - LIVE_QUEUE);
    this.liveStep = f.step;
  }

  /** The live frame to show in this animation frame: the oldest not shown yet, else the last one shown. */
  nextLivePoses(): Float32Array | null {
    const next = this.liveQueue.shift();
    if (next) this.livePoses = next;
    return this.livePoses;
  }

  dispose(): void {
    this.offEvents();
    if (this.poll) clearInterval(this.poll);
    if (this.timer) clearTimeout(this.timer);
    if (this.bumpTimer) clearTimeout(this.bumpTimer);
    if (this.liveOn) void this.studio.client.call('watchLive', { id: this.id, on: false }).catch(() => undefined);
  }
}
