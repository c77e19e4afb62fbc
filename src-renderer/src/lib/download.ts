/** Files made in the page offered as downloads: any blob, and a drawn chart as PNG. */

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
  return new Promise((resolve, reject) =>
    out.toBlob((b) => (b ? resolve(b) : reject(new Error('the chart could not be drawn as PNG'))), 'image/png'),
  );
}
