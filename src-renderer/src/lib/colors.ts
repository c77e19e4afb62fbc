/** Curve colours: distinguishable on dark and light backgrounds (Tableau 10). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function colorAt(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** `#rrggbb` with an alpha, for faded raw curves and bands. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0');
  return `${hex}${a}`;
}
