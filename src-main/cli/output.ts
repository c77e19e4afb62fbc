/**
 * CLI output contract (see README): with --json, stdout carries only JSON lines; human text and
 * progress go to stderr. Without --json, results are printed as text on stdout.
 */
export interface Output {
  readonly json: boolean;
  /** One result object: a JSON line with --json, otherwise `text` (or a readable dump) on stdout. */
  result(obj: Record<string, unknown>, text?: string): void;
  /** Human progress / status; always stderr so stdout stays parseable. */
  info(text: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    result(obj, text) {
      if (json) process.stdout.write(JSON.stringify(obj) + '\n');
      else process.stdout.write((text ?? formatPlain(obj)) + '\n');
    },
    info(text) {
      process.stderr.write(text + '\n');
    },
  };
}

function formatPlain(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}
