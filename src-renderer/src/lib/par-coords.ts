/**
 * Axes of a parallel-coordinates plot: each searched parameter and the results, as a map from a
 * value to [0, 1] (0 at the bottom). Numbers are linear, or logarithmic when they are all positive and
 * span more than a factor of 20 (learning rates); anything else (env ids, layer lists, booleans) is
 * spread evenly in the order first seen.
 */
export interface Axis {
  key: string;
  label: string;
  scale: 'linear' | 'log' | 'category';
  /** Position in [0, 1] of a value, or null when the run has none. */
  position: (v: unknown) => number | null;
  /** Tick labels with their positions. */
  ticks: { at: number; text: string }[];
}

const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(1) : String(Number(x.toPrecision(3))));

export function makeAxis(key: string, label: string, values: unknown[]): Axis {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const nums = present as number[];
    let lo = Math.min(...nums);
    let hi = Math.max(...nums);
    const log = lo > 0 && hi / lo > 20;
    const f = log ? Math.log10 : (x: number) => x;
    if (lo === hi) {
      lo -= Math.abs(lo) * 0.1 || 1;
      hi += Math.abs(hi) * 0.1 || 1;
    }
    const [a, b] = [f(lo), f(hi)];
    const position = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? (f(v) - a) / (b - a) : null);
    const ticks = [0, 0.5, 1].map((t) => ({ at: t, text: fmt(log ? 10 ** (a + t * (b - a)) : a + t * (b - a)) }));
    return { key, label, scale: log ? 'log' : 'linear', position, ticks };
  }
  const cats: string[] = [];
  for (const v of present) if (!cats.includes(JSON.stringify(v))) cats.push(JSON.stringify(v));
  const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  return {
    key,
    label,
    scale: 'category',
    position: (v) => (v === null || v === undefined ? null : at(cats.indexOf(JSON.stringify(v)))),
    ticks: cats.map((c, i) => ({ at: at(i), text: c.replace(/^"|"$/g, '') })),
  };
}

/** Colour of a result between the worst (t = 0) and the best (t = 1): a blue-to-amber ramp readable on both themes. */
export function resultColor(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  const from = [78, 121, 167];
  const to = [242, 142, 43];
  return `rgb(${from.map((f, i) => Math.round(f + (to[i]! - f) * c)).join(',')})`;
}
