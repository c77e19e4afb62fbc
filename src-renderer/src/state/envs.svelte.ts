import type { EnvCheck, EnvListEntry, EnvPreview, InFile } from '../../../src-main/api/studio-api.ts';
import { errorText, StudioError } from '../api/client.ts';
import type { Studio } from './studio.svelte.ts';

/** The environments view: the list, the selected env's preview, and a dropped env being checked. */
export class EnvsState {
  list = $state.raw<EnvListEntry[]>([]);
  error = $state<string | null>(null);
  selected = $state<string | null>(null);
  preview = $state.raw<EnvPreview | null>(null);
  loadingPreview = $state(false);
  /** The last drop: its files, the validation (errors or a preview) and the add step. */
  dropped = $state.raw<InFile[] | null>(null);
  check = $state.raw<EnvCheck | null>(null);
  checking = $state(false);
  addId = $state('');
  addError = $state<string | null>(null);

  constructor(private readonly studio: Studio) {
    studio.client.onEvent((event) => {
      if (event === 'envs') void this.load();
    });
  }

  async load(): Promise<void> {
    try {
      this.list = await this.studio.client.call('listEnvs', {});
      this.error = null;
      if (!this.selected && this.list.length) await this.select(this.list[0].id);
    } catch (e) {
      this.error = errorText(e);
    }
  }

  async select(id: string): Promise<void> {
    this.selected = id;
    this.loadingPreview = true;
    try {
      const p = await this.studio.client.call('getEnv', { id });
      if (this.selected === id) this.preview = p;
    } catch (e) {
      if (this.selected === id) this.preview = null;
      this.error = errorText(e);
    } finally {
      this.loadingPreview = false;
    }
  }

  async validate(files: InFile[]): Promise<void> {
    this.dropped = files;
    this.check = null;
    this.addError = null;
    this.checking = true;
    try {
      this.check = await this.studio.client.call('validateEnv', { files });
      // A bare MJCF came back with a starter spec: it is added with the model, as `envs init` writes it beside it.
      const starter = this.check.starter;
      const withSpec: InFile[] = starter ? [...files, { name: starter.specFile, encoding: 'utf8', content: starter.specText }] : files;
      this.dropped = withSpec;
      const spec = withSpec.find((f) => f.name.endsWith('.task.json') && !f.name.includes('/'));
      this.addId = this.check.info?.id ?? spec?.name.replace(/\.task\.json$/, '') ?? '';
    } catch (e) {
      const errors = e instanceof StudioError ? e.payload.errors : [{ message: errorText(e) }];
      this.check = { ok: false, errors };
    } finally {
      this.checking = false;
    }
  }

  async add(): Promise<string | null> {
    if (!this.dropped || !this.check?.ok) return null;
    try {
      const { id } = await this.studio.client.call('addEnv', { files: this.dropped, id: this.addId });
      this.dropped = null;
      this.check = null;
      await this.load();
      await this.select(id);
      return id;
    } catch (e) {
      this.addError = errorText(e);
      return null;
    }
  }

  /** Removes a library env; the selection moves to the first env left. */
  async remove(id: string): Promise<void> {
    try {
      await this.studio.client.call('removeEnv', { id });
      if (this.selected === id) {
        this.selected = null;
        this.preview = null;
      }
      await this.load();
    } catch (e) {
      this.error = errorText(e);
    }
  }

  dismissDrop(): void {
    this.dropped = null;
    this.check = null;
    this.addError = null;
  }
}
