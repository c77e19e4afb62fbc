/**
 * A StudioService in browser mode on a fresh temporary home (runs under home/runs), for the tests
 * that drive the StudioApi the way the studio does, and the call that must succeed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioService } from '../../../src-main/service/studio-service.ts';
import { FileSettingsStore } from '../../../src-main/store/settings.ts';

export interface TempService {
  home: string;
  service: StudioService;
}

/** `prepare` runs on the new home before the service opens it (e.g. to copy a run in). */
export async function openTempService(prefix: string, prepare?: (home: string) => void): Promise<TempService> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.env.RL_STUDIO_HOME = home;
  prepare?.(home);
  const service = await StudioService.create({
    mode: 'browser',
    settings: new FileSettingsStore(join(home, 'settings.json'), { runsDir: join(home, 'runs') }),
    maxConcurrentRuns: 1,
  });
  return { home, service };
}

export async function closeTempService(t: TempService | undefined): Promise<void> {
  if (!t) return;
  await t.service.close();
  rmSync(t.home, { recursive: true, force: true });
}

/** A StudioApi call that must succeed: its result, or a throw naming the method and the error. */
export async function callOk<T>(service: StudioService, method: string, params: unknown): Promise<T> {
  const r = await service.dispatch(method, params);
  if (!r.ok) throw new Error(`${method}: ${JSON.stringify(r.error)}`);
  return r.result as T;
}
