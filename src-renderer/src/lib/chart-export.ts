/**
 * A chart's curves as files a researcher takes elsewhere: CSV of the points the chart holds (every
 * curve, long format, so curves with different x need no alignment) and a PNG of the drawn chart.
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

/** Offers a blob as a download (works in Electron and in a browser). */
export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The chart's canvas on the panel colour with its title above (uPlot's canvas is transparent, its legend HTML). */
export async function chartPng(canvas: HTMLCanvasElement, title: string): Promise<Blob> {
  const css = getComputedStyle(document.documentElement);
  const pad = Math.round(28 * (canvas.width / Math.max(1, canvas.clientWidth || canvas.width)));
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height + pad;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = css.getPropertyValue('--panel').trim() || '#181c22';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = css.getPropertyValue('--text').trim() || '#e4e8ee';
  ctx.font = `600 ${Math.round(pad * 0.5)}px system-ui, sans-serif`;
  ctx.fillText(title, pad * 0.4, pad * 0.7);
  ctx.drawImage(canvas, 0, pad);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('the chart could not be drawn as PNG'))), 'image/png'));
}
