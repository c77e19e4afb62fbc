/** A benchmark suite yields one result object per case (one JSON line each with --json). */
export type BenchSuite = (opts: { quick: boolean; log: (text: string) => void }) => AsyncIterable<Record<string, unknown>>;
