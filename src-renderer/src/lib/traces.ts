/**
 * Replay traces from an episode's row-major per-step arrays (actions, reward terms, observations):
 * one named column per trace, as TraceChart draws them.
 */
export interface Trace {
  label: string;
  values: Float32Array;
}

/** Columns [from, from + labels.length) of a rows x width array, one trace per label. */
export function traceColumns(flat: Float32Array, width: number, labels: string[], from = 0): Trace[] {
  const rows = width > 0 ? Math.floor(flat.length / width) : 0;
  return labels.map((label, j) => ({ label, values: Float32Array.from({ length: rows }, (_, i) => flat[i * width + from + j]) }));
}

/** Labels of one observation part's entries: its name alone when it has one entry, else name[k]. */
export function partLabels(part: { name: string; size: number }): string[] {
  return part.size === 1 ? [part.name] : Array.from({ length: part.size }, (_, k) => `${part.name}[${k}]`);
}
