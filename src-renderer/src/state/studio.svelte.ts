import type { Settings, StudioInfo } from '../../../src-main/api/studio-api.ts';
import type { StudioClient } from '../api/client.ts';

export type ViewName = 'runs' | 'envs' | 'settings';

/** App-wide state: which view is open, the engine's info, settings and the connection. */
export class Studio {
  view = $state<ViewName>('runs');
  info = $state<StudioInfo | null>(null);
  settings = $state<Settings | null>(null);
  connected = $state(false);
  /** Last studio fault, shown in the status bar until dismissed. */
  fault = $state<string | null>(null);

  constructor(readonly client: StudioClient) {
    client.onEvent((event, data) => {
      if (event === 'settings') {
        this.settings = data as Settings;
        this.applyTheme();
      }
    });
    client.onConnection((c) => {
      this.connected = c;
      if (c) void this.refresh();
    });
    if (client.transport === 'ipc') void this.refresh();
    this.view = viewFromHash();
    window.addEventListener('hashchange', () => (this.view = viewFromHash()));
  }

  async refresh(): Promise<void> {
    try {
      this.info = (await this.client.call('info', {})) as StudioInfo;
      this.settings = (await this.client.call('getSettings', {})) as Settings;
      this.applyTheme();
    } catch (e) {
      this.fault = e instanceof Error ? e.message : String(e);
    }
  }

  go(view: ViewName): void {
    location.hash = `#/${view}`;
    this.view = view;
  }

  async saveSettings(patch: Partial<Settings>): Promise<void> {
    this.settings = (await this.client.call('setSettings', { settings: patch })) as Settings;
    this.applyTheme();
  }

  private applyTheme(): void {
    const theme = this.settings?.theme ?? 'dark';
    const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }
}

function viewFromHash(): ViewName {
  const v = location.hash.replace(/^#\//, '').split('/')[0];
  return v === 'envs' || v === 'settings' ? v : 'runs';
}
