/**
 * The Report view's state: the DDPG paper's Table 1 for the selected runs, computed by the engine
 * (getReport: the same rows `rl-studio report` writes) and held until the selection changes.
 */
import type { Report } from '../../../src-main/api/scores.ts';
import { errorText } from '../api/client.ts';
import type { Studio } from './studio.svelte.ts';

export class ReportState {
  report = $state.raw<Report | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);

  constructor(private readonly studio: Studio) {}

  async load(ids: string[]): Promise<void> {
    if (!ids.length) {
      this.error = 'Select runs in the runs table to report on.';
      return;
    }
    this.loading = true;
    try {
      this.report = await this.studio.client.call('getReport', { ids });
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.loading = false;
    }
  }
}
