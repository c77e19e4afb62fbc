/** Number and time formatting shared by the tables and charts. */

export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumSignificantDigits: digits + 1 });
}

export function fmtSteps(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(v);
}

/** `2026-12-03 13:37`; with `short`, dates of the current year drop the year (`12-03 13:37`) to fit narrow tables. */
export function fmtDate(iso: string, short = false): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return short && d.getFullYear() === new Date().getFullYear() ? day : `${d.getFullYear()}-${day}`;
}

/**
 * A config value in one line: layer sizes as `400×300`, other lists (tags) comma-separated,
 * objects as `key: value` pairs (a nested setting shown whole, never `[object Object]`).
 */
export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return fmtNum(v);
  if (Array.isArray(v)) return v.length && v.every((x) => typeof x === 'number') ? v.join('×') : v.map(fmtValue).join(', ');
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') {
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${fmtValue(x)}`)
      .join(', ');
  }
  return String(v);
}
