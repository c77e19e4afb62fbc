import type { RunSummary } from '../../../src-main/api/runs.ts';
import { errorText } from '../api/client.ts';
import { chartedMetrics, meanBand, metricLabel, SeriesSet, type MetricInfos } from '../lib/series.ts';
import { colorAt } from '../lib/colors.ts';
import { differingFields, flattenConfig, groupByExperiment } from '../lib/run-groups.ts';
import type { ChartSeries } from '../components/Chart.svelte';
import type { Studio } from './studio.svelte.ts';

/** Points per curve and run (the engine keeps each bucket's lowest and highest value). */
const COMPARE_POINTS = 2000;

export interface ComparedRun {
  summary: RunSummary;
  /** The run's resolved config (config.json's `config`). */
  config: Record<string, unknown>;
  series: SeriesSet;
  /** How its metrics are titled and explained (getRun's metricInfo). */
  metricInfo: MetricInfos;
}

/**
 * Compare: the selected runs' curves overlaid, several metrics at once; runs whose configs differ
 * only by seed as a mean with a ±1 std band; the config fields that differ between them.
 */
export class CompareState {
  runs = $state.raw<ComparedRun[]>([]);
  error = $state<string | null>(null);
  groupSeeds = $state(true);

  /** Titles and descriptions of the compared runs' metrics (runs of several algorithms: all of theirs). */
  readonly metricInfo = $derived(Object.assign({}, ...this.runs.map((r) => r.metricInfo)) as MetricInfos);
  /** Every metric some compared run logs, in chart order. */
  readonly metrics = $derived(
    chartedMetrics(
      this.runs.flatMap((r) => r.series.keys()).filter((k, i, all) => all.indexOf(k) === i),
      this.metricInfo,
    ),
  );
  /** Experiments (groups of runs differing only by seed), or one group per run when not grouping. */
  readonly groups = $derived(this.groupSeeds ? groupByExperiment(this.runs, (r) => r.config) : this.runs.map((r) => [r]));
  /** Config paths (`hyperparams.actorLr`) whose values differ among the runs; the seed among them. */
  readonly diff = $derived(differingFields(this.runs.map((r) => r.config)));

  constructor(private readonly studio: Studio) {}

  /** One metric's curves: a line per run, or per experiment a mean over its seeds with a band. */
  curves(metric: string, axis: 'step' | 'time'): ChartSeries[] {
    const out: ChartSeries[] = [];
    this.groups.forEach((members, i) => {
      const color = colorAt(i);
      if (members.length === 1) {
        const m = members[0];
        const s = m.series.get(metric);
        out.push({ label: m.summary.name || m.summary.id, color, x: s.x(axis), y: s.y(), points: metric === 'eval_return' });
        return;
      }
      const band = meanBand(members.map((m) => ({ x: m.series.get(metric).x(axis), y: m.series.get(metric).y() })));
      const name = members[0].summary.name.replace(/ \(seed \d+\)$/, '') || members[0].summary.id;
      out.push({ label: `${name} (mean of ${members.length} seeds)`, color, x: band.x, y: band.mean, band: { lo: band.lo, hi: band.hi } });
    });
    return out;
  }

  label(metric: string): string {
    return metricLabel(metric, this.metricInfo);
  }

  /** A run's value of a config path, for the diff table. */
  value(run: ComparedRun, path: string): unknown {
    return flattenConfig(run.config)[path];
  }

  async load(ids: string[]): Promise<void> {
    try {
      const loaded = await Promise.all(
        ids.map(async (id) => {
          // The curves downsampled by the engine: a long run's metrics file never crosses whole.
          const [v, r] = await Promise.all([
            this.studio.client.call('getRun', { id, metrics: 'none' }),
            this.studio.client.call('getMetricSeries', { id, points: COMPARE_POINTS }),
          ]);
          const series = new SeriesSet();
          series.fill(r.series);
          const stored = v.config as { config?: Record<string, unknown> } | null;
          return { summary: v.summary, config: stored?.config ?? {}, series, metricInfo: v.metricInfo };
        }),
      );
      this.runs = loaded;
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    }
  }
}
