import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SettingsSchema, type Settings } from '../api/studio-api.ts';
import { dataDir, defaultRunsDir } from '../util/paths.ts';
import { writeFileAtomicSync } from './atomic.ts';

/** Where the studio's settings live; Electron uses electron-store, browser mode a JSON file. */
export interface SettingsStore {
  get(): Settings;
  set(patch: Partial<Settings>): Settings;
}

export function defaultSettings(): Settings {
  return { runsDir: defaultRunsDir(), backend: 'auto', theme: 'dark' };
}

/** Browser-mode settings: `<data dir>/settings.json`, written atomically; a broken file falls back to defaults. */
export class FileSettingsStore implements SettingsStore {
  constructor(
    private readonly file = join(dataDir(), 'settings.json'),
    private readonly overrides: Partial<Settings> = {},
  ) {}

  get(): Settings {
    let stored: unknown = {};
    try {
      stored = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      stored = {};
    }
    const parsed = SettingsSchema.partial().safeParse(stored);
    return { ...defaultSettings(), ...(parsed.success ? parsed.data : {}), ...this.overrides };
  }

  set(patch: Partial<Settings>): Settings {
    const next = SettingsSchema.parse({ ...this.get(), ...patch });
    for (const k of Object.keys(patch) as (keyof Settings)[]) delete this.overrides[k];
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileAtomicSync(this.file, JSON.stringify(next, null, 2) + '\n');
    return next;
  }
}
