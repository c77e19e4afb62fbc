import type { SweepView } from '../../../src-main/api/sweeps.ts';
import { errorText } from '../api/client.ts';
import type { Studio } from './studio.svelte.ts';

/** How often a running sweep is read again while its runs report (its files are the truth, also for remote workers). */
const REFRESH_MS = 2000;

/** One sweep's page: its view (runs, points, best, importance), kept fresh while it runs. */
export class SweepState {
  view = $state.raw<SweepView | null>(null);
  error = $state<string | null>(null);
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly studio: Studio,
    readonly id: string,
  ) {}

  async load(): Promise<void> {
    try {
      this.view = await this.studio.client.call('getSweep', { id: this.id });
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /** Polls while the sweep runs (its runs may train on other machines: the shared store is read, not events). */
  follow(): () => void {
    this.timer = setInterval(() => {
      if (this.view?.state === 'running') void this.load();
    }, REFRESH_MS);
    return () => {
      if (this.timer) clearInterval(this.timer);
    };
  }
}
