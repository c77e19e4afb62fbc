/**
 * A chart's curves as a file a researcher takes elsewhere: CSV of the points the chart holds (every
 * curve, long format, so curves with different x need no alignment), named after the chart.
 */

export interface ExportCurve {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** `curve,<x name>,value` rows; labels quoted when they hold a comma or a quote. */
export function curvesCsv(curves: ExportCurve[], xName: string): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = [`curve,${quote(xName)},value`];
  for (const c of curves) {
    const label = quote(c.label);
    for (let i = 0; i < c.x.length; i++) rows.push(`${label},${c.x[i]},${c.y[i]}`);
  }
  return rows.join('\n') + '\n';
}

/** A file name from a chart title: `cheetah-1 Eval return` -> `cheetah-1-eval-return`. */
export function fileStem(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'chart'
  );
}
