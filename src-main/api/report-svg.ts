/**
 * A report row's learning curve as a standalone SVG: the eval return's mean over seeds with its
 * min..max band, and the random-policy and planner references as dashed lines. The CLI writes it
 * (and a PNG of it) next to report.md; the studio's Report view shows the same SVG.
 *
 * No Node imports here: the renderer imports this file.
 */
import type { ReportRow } from './scores.ts';

const W = 640;
const H = 360;
const PAD = { left: 64, right: 16, top: 36, bottom: 44 };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(1)}`;
}

/** The figure's title: what the row is. */
export function figureTitle(row: Pick<ReportRow, 'env' | 'algo' | 'obs' | 'seeds'>): string {
  return `${row.env} · ${row.algo} · ${row.obs} · ${row.seeds.length} seed${row.seeds.length === 1 ? '' : 's'}`;
}

/** File name stem for a row's figures (safe on every file system). */
export function figureName(row: Pick<ReportRow, 'env' | 'algo' | 'obs'>): string {
  return `${row.env}-${row.algo}-${row.obs}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function curveSvg(row: ReportRow): string {
  const { curve, reference } = row;
  const xs = curve.steps;
  const yValues = [...curve.low, ...curve.high];
  if (reference) yValues.push(reference.random_return, reference.planner_return);
  let yLo = Math.min(...yValues);
  let yHi = Math.max(...yValues);
  if (!(yHi > yLo)) {
    yLo -= 1;
    yHi += 1;
  }
  const margin = (yHi - yLo) * 0.05;
  yLo -= margin;
  yHi += margin;
  const xLo = 0;
  const xHi = Math.max(1, ...xs);
  const px = (x: number) => PAD.left + ((x - xLo) / (xHi - xLo)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - yLo) / (yHi - yLo)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${PAD.left}" y="20" font-size="14" fill="#222">${escapeXml(figureTitle(row))}</text>`);
  for (const t of niceTicks(yLo, yHi, 5)) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(xLo, xHi, 5)) {
    parts.push(`<text x="${px(t).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" fill="#555">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 8}" text-anchor="middle" fill="#333">env steps</text>`);
  parts.push(
    `<text x="14" y="${(PAD.top + H - PAD.bottom) / 2}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})">eval return</text>`,
  );
  if (xs.length > 0) {
    const upper = xs.map((x, i) => `${px(x).toFixed(1)},${py(curve.high[i]).toFixed(1)}`);
    const lower = xs.map((x, i) => `${px(x).toFixed(1)},${py(curve.low[i]).toFixed(1)}`).reverse();
    parts.push(`<polygon data-series="band" points="${[...upper, ...lower].join(' ')}" fill="#3b82f6" fill-opacity="0.2" stroke="none"/>`);
    parts.push(
      `<polyline data-series="mean" points="${xs.map((x, i) => `${px(x).toFixed(1)},${py(curve.mean[i]).toFixed(1)}`).join(' ')}" fill="none" stroke="#1d4ed8" stroke-width="2"/>`,
    );
    if (xs.length === 1)
      parts.push(`<circle data-series="mean" cx="${px(xs[0]).toFixed(1)}" cy="${py(curve.mean[0]).toFixed(1)}" r="3" fill="#1d4ed8"/>`);
  }
  if (reference) {
    for (const [name, value, colour] of [
      ['planner', reference.planner_return, '#15803d'],
      ['random', reference.random_return, '#b91c1c'],
    ] as const) {
      const y = py(value).toFixed(1);
      parts.push(
        `<line data-series="${name}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="${colour}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      );
      parts.push(
        `<text x="${W - PAD.right - 4}" y="${(Number(y) + (name === 'random' ? 14 : -4)).toFixed(1)}" text-anchor="end" fill="${colour}">${name} ${fmt(value)}</text>`,
      );
    }
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#888"/>`);
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#888"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}
