import type { RunSummary } from '../../../src-main/api/runs.ts';
import { configKey } from '../../../src-main/api/sweeps.ts';
import { errorText } from '../api/client.ts';
import { emptySeries, meanBand, METRICS, type MetricKey, type SeriesSet } from '../lib/series.ts';
import { colorAt } from '../lib/colors.ts';
import type { ChartSeries } from '../components/Chart.svelte';
import type { Studio } from './studio.svelte.ts';

/** Points per curve and run (the engine keeps each bucket's lowest and highest value). */
const COMPARE_POINTS = 2000;

interface Loaded {
  summary: RunSummary;
  series: SeriesSet;
  /** Same for runs that differ only by seed (configKey): one sweep point, or separate runs of one config. */
  group: string;
}

/** Compare: the selected runs' curves overlaid; runs differing only by seed as a mean with a ±1 std band. */
export class CompareState {
  runs = $state.raw<Loaded[]>([]);
  error = $state<string | null>(null);
  metric = $state<MetricKey>('eval_return');
  axis = $state<'step' | 'time'>('step');
  groupSeeds = $state(true);
  smoothing = $state(0);

  readonly curves = $derived.by<ChartSeries[]>(() => {
    const out: ChartSeries[] = [];
    const groups: Record<string, Loaded[]> = {};
    for (const r of this.runs) {
      const key = this.groupSeeds ? r.group : `run:${r.summary.id}`;
      (groups[key] ??= []).push(r);
    }
    let i = 0;
    for (const [key, members] of Object.entries(groups)) {
      const color = colorAt(i++);
      if (members.length === 1) {
        for (const m of members) {
          const s = m.series[this.metric];
          out.push({ label: m.summary.name || m.summary.id, color, x: s.x(this.axis), y: s.y() });
        }
        continue;
      }
      const band = meanBand(members.map((m) => ({ x: m.series[this.metric].x(this.axis), y: m.series[this.metric].y() })));
      const name = members[0].summary.name.replace(/ \(seed \d+\)$/, '') || key;
      out.push({ label: `${name} (mean of ${members.length} seeds)`, color, x: band.x, y: band.mean, band: { lo: band.lo, hi: band.hi } });
    }
    return out;
  });

  constructor(private readonly studio: Studio) {}

  async load(ids: string[]): Promise<void> {
    try {
      const loaded = await Promise.all(
        ids.map(async (id) => {
          // The curves downsampled by the engine: a long run's metrics file never crosses whole.
          const [v, r] = await Promise.all([this.studio.client.call('getRun', { id, metrics: 'none' }), this.studio.client.call('getMetricSeries', { id, keys: METRICS.map((m) => m.key), points: COMPARE_POINTS })]);
          const series = emptySeries();
          for (const m of METRICS) {
            const src = r.series[m.key];
            if (src) for (let i = 0; i < src.value.length; i++) series[m.key].push(src.step[i], src.time[i], src.value[i]);
          }
          const config = (v.config as { config?: Record<string, unknown> } | null)?.config;
          return { summary: v.summary, series, group: config ? `config:${configKey(config)}` : `run:${id}` };
        }),
      );
      this.runs = loaded;
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    }
  }
}
