import Store from 'electron-store';
import { SettingsSchema, type Settings } from '../api/studio-api.ts';
import { defaultSettings, type SettingsStore } from '../store/settings.ts';

/** Desktop settings live in electron-store (the user's app data folder), validated on every read. */
export class ElectronSettingsStore implements SettingsStore {
  private readonly store = new Store<{ settings: Settings }>({ name: 'settings', defaults: { settings: defaultSettings() } });

  get(): Settings {
    const parsed = SettingsSchema.safeParse(this.store.get('settings'));
    return parsed.success ? parsed.data : defaultSettings();
  }

  set(patch: Partial<Settings>): Settings {
    const next = SettingsSchema.parse({ ...this.get(), ...patch });
    this.store.set('settings', next);
    return next;
  }
}
