import { FlatParams } from '../nets/params.ts';
import { ArenaExecutor } from './arena-exec.ts';
import type { Executor, Params } from './executor.ts';

/**
 * Networks as FlatParams for the code that reads weights on the host (diagnostics, parameter noise,
 * export, tests): on the arena its own live views, on a TF.js executor a host copy per network.
 * An executor that reads synchronously refreshes the copy on every call; one that reads only
 * asynchronously (webgpu) hands out the copy of the last `refresh()` (the exporter awaits it
 * first). One place for every agent written over the executor.
 */
export class HostParams {
  private readonly mirrors = new Map<Params, FlatParams>();
  /** Networks a refresh() has read at least once (async executors only). */
  private readonly fresh = new Set<Params>();

  constructor(private readonly exec: Executor) {}

  of(p: Params): FlatParams {
    if (this.exec instanceof ArenaExecutor) return this.exec.flat(p);
    const m = this.mirror(p);
    if (this.exec.syncRead) m.values.set(this.exec.readParams(p));
    else if (!this.fresh.has(p))
      throw new Error(`the ${this.exec.name} executor reads networks only asynchronously: await the agent's refreshHostViews() first`);
    return m;
  }

  /** Reads the networks from the device into their host copies (a no-op on the arena). */
  async refresh(ps: readonly Params[]): Promise<void> {
    if (this.exec instanceof ArenaExecutor) return;
    const values = await Promise.all(ps.map((p) => this.exec.readParamsAsync(p)));
    ps.forEach((p, i) => {
      this.mirror(p).values.set(values[i]);
      this.fresh.add(p);
    });
  }

  private mirror(p: Params): FlatParams {
    let m = this.mirrors.get(p);
    if (!m) {
      m = new FlatParams([...p.specs]);
      this.mirrors.set(p, m);
    }
    return m;
  }

  dispose(): void {
    for (const m of this.mirrors.values()) m.dispose();
    this.mirrors.clear();
    this.fresh.clear();
  }
}
