import { FlatParams } from '../nets/params.ts';
import { ArenaExecutor } from './arena-exec.ts';
import type { Executor, Params } from './executor.ts';

/**
 * Networks as FlatParams for the code that reads weights on the host (diagnostics, parameter noise,
 * export, tests): on the arena its own live views, on a TF.js executor a host copy per network,
 * refreshed from the device on every call. One place for both agents written over the executor.
 */
export class HostParams {
  private readonly mirrors = new Map<Params, FlatParams>();

  constructor(private readonly exec: Executor) {}

  of(p: Params): FlatParams {
    if (this.exec instanceof ArenaExecutor) return this.exec.flat(p);
    let m = this.mirrors.get(p);
    if (!m) {
      m = new FlatParams([...p.specs]);
      this.mirrors.set(p, m);
    }
    m.values.set(this.exec.readParams(p));
    return m;
  }

  dispose(): void {
    for (const m of this.mirrors.values()) m.dispose();
    this.mirrors.clear();
  }
}
