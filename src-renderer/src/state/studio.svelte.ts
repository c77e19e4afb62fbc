import type { Settings, StudioInfo } from '../../../src-main/api/studio-api.ts';
import { errorText, type StudioClient } from '../api/client.ts';

export type ViewName = 'runs' | 'new' | 'run' | 'replay' | 'compare' | 'report' | 'sweep' | 'envs' | 'settings';
const VIEWS: ViewName[] = ['runs', 'new', 'run', 'replay', 'compare', 'report', 'sweep', 'envs', 'settings'];

/** Where the user is: `#/<view>/<arg>/<arg2>` (run id, episode id, compared ids). */
export interface Route {
  view: ViewName;
  args: string[];
}

/** App-wide state: the route, the engine's info, settings and the connection. */
export class Studio {
  route = $state<Route>({ view: 'runs', args: [] });
  info = $state<StudioInfo | null>(null);
  settings = $state<Settings | null>(null);
  connected = $state(false);
  /** Last studio fault, shown in the banner until dismissed. */
  fault = $state<string | null>(null);

  constructor(readonly client: StudioClient) {
    client.onEvent((event, data) => {
      if (event === 'settings') {
        this.settings = data as Settings;
        this.applyTheme();
        void this.refreshInfo();
      } else if (event === 'run' && (data as { type?: string }).type === 'status') {
        // A run that starts records the backend it got: the status line follows it.
        void this.refreshInfo();
      }
    });
    client.onConnection((c) => {
      this.connected = c;
      if (c) void this.refresh();
    });
    if (client.transport === 'ipc') void this.refresh();
    this.route = routeFromHash();
    window.addEventListener('hashchange', () => (this.route = routeFromHash()));
  }

  get view(): ViewName {
    return this.route.view;
  }

  async refresh(): Promise<void> {
    try {
      this.info = await this.client.call('info', {});
      this.settings = await this.client.call('getSettings', {});
      this.applyTheme();
    } catch (e) {
      this.fault = errorText(e);
    }
  }

  private async refreshInfo(): Promise<void> {
    try {
      this.info = await this.client.call('info', {});
    } catch {
      // The connection is gone: refresh() runs again when it is back.
    }
  }

  go(view: ViewName, ...args: string[]): void {
    const hash = `#/${[view, ...args.map(encodeURIComponent)].join('/')}`;
    if (location.hash !== hash) location.hash = hash;
    this.route = { view, args };
  }

  async saveSettings(patch: Partial<Settings>): Promise<void> {
    this.settings = await this.client.call('setSettings', { settings: patch });
    this.applyTheme();
  }

  private applyTheme(): void {
    const theme = this.settings?.theme ?? 'dark';
    const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }
}

function routeFromHash(): Route {
  const [v, ...args] = location.hash.replace(/^#\//, '').split('/');
  const view = VIEWS.includes(v as ViewName) ? (v as ViewName) : 'runs';
  return { view, args: args.filter(Boolean).map(decodeURIComponent) };
}
