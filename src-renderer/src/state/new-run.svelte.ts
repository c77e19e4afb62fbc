import { parseRunConfig, QUICK_RUN, RUN_DEFAULTS, type ConfigIssue } from '../../../src-main/api/run-config.ts';
import { parseSweep } from '../../../src-main/api/sweep.ts';
import { allPresets, findAlgorithmSpec } from '../../../src-main/learn/algos/specs.ts';
import type { EnvListEntry, EnvPreview } from '../../../src-main/api/studio-api.ts';
import { errorText, StudioError } from '../api/client.ts';
import { fromText, hpFields, toText, type HpField } from '../lib/hp-fields.ts';
import type { Studio } from './studio.svelte.ts';

/** Every algorithm's presets (learn/algos/<id>/spec.ts), by name. */
const PRESETS = allPresets();

/** A preset's name, or 'defaults'. */
export type HpBase = string;

/**
 * The preset a new run starts from, unless the user picks another: the quick run's preset for its
 * algorithm on its env from the state (api/run-config.ts QUICK_RUN: it learns the dense pendulum
 * in ~10k steps, a minute), the algorithm's defaults everywhere else. The papers' exact values are
 * the '<algo>-paper' presets.
 */
export function suggestedBase(env: string, algo: string, obs: string): HpBase {
  return env === QUICK_RUN.env && PRESETS[QUICK_RUN.preset]?.algo === algo && obs === 'lowdim' ? QUICK_RUN.preset : 'defaults';
}

/** The New-run form: every value as the user typed it, checked against the run-config schema on each change. */
export class NewRunForm {
  envs = $state.raw<EnvListEntry[]>([]);
  env = $state<string>(RUN_DEFAULTS.env);
  preview = $state.raw<EnvPreview | null>(null);
  algo = $state<string>(RUN_DEFAULTS.algo);
  obs = $state<'lowdim' | 'pixels'>(RUN_DEFAULTS.obs);
  name = $state('');
  tags = $state('');
  seed = $state(String(RUN_DEFAULTS.seed));
  seeds = $state('1');
  steps = $state(String(RUN_DEFAULTS.steps));
  evalEvery = $state(String(RUN_DEFAULTS.evalEvery));
  evalEpisodes = $state(String(RUN_DEFAULTS.evalEpisodes));
  checkpointEvery = $state(String(RUN_DEFAULTS.checkpointEvery));
  /** Hyperparameter text per algorithm as the user edited it; only values that differ from the defaults are sent. */
  hp = $state<Record<string, string>>({});
  /** The base the user picked (null: the suggested one for the env and algorithm). */
  baseChoice = $state<HpBase | null>(null);
  /**
   * The search of a sweep, as the sweep file writes it (JSON with grid, random, earlyStop); empty: a
   * run (or a seed sweep). The form's config is the sweep's base, Seeds its seeds per point.
   */
  search = $state('');
  /** redis://HOST:PORT to run the sweep on workers; empty: this studio's pool. */
  queue = $state('');
  serverIssues = $state.raw<ConfigIssue[]>([]);
  submitting = $state(false);
  /** The run the form was filled from ("New run from this one"), for the heading. */
  copiedFrom = $state<string | null>(null);
  error = $state<string | null>(null);

  readonly fields = $derived<HpField[]>(hpFields(this.algo, this.obs));
  /** Where unedited hyperparameters come from: a preset of this algorithm or its defaults. */
  readonly base = $derived.by<HpBase>(() => {
    const b = this.baseChoice ?? suggestedBase(this.env, this.algo, this.obs);
    const p = PRESETS[b];
    return b !== 'defaults' && (p?.algo !== this.algo || p.obs !== this.obs) ? 'defaults' : b;
  });
  /** Whether `base` is the suggestion rather than the user's pick. */
  readonly baseSuggested = $derived(this.baseChoice === null || this.baseChoice === suggestedBase(this.env, this.algo, this.obs));
  /** Presets of the chosen algorithm. */
  readonly presets = $derived(Object.keys(PRESETS).filter((k) => PRESETS[k]!.algo === this.algo && PRESETS[k]!.obs === this.obs));
  readonly config = $derived.by(() => this.build());
  readonly issues = $derived.by<ConfigIssue[]>(() => {
    const r = parseRunConfig(this.config);
    const local: ConfigIssue[] = r.ok ? [] : [...r.issues];
    // parseRunConfig stops at the first failing stage; the form shows every field's problem at once.
    const hp = findAlgorithmSpec(this.algo)?.schema.safeParse(this.config.hyperparams);
    if (hp && !hp.success) {
      for (const i of hp.error.issues) {
        const field = 'hyperparams' + i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        if (!local.some((x) => x.field === field)) local.push({ field, message: i.message });
      }
    }
    const n = Number(this.seeds);
    if (!Number.isInteger(n) || n < 1 || n > 32) local.push({ field: 'seeds', message: 'a whole number from 1 to 32' });
    if (this.isSweep && !local.length) {
      const sweep = this.sweepFile();
      if (!sweep.ok) local.push({ field: 'search', message: sweep.message });
      else {
        const parsed = parseSweep(sweep.file);
        if (!parsed.ok) for (const i of parsed.issues) local.push({ field: 'search', message: `${i.field}: ${i.message}` });
      }
    }
    if (this.queue.trim() && !/^redis:\/\/[^\s/]+(:\d+)?(\/\d+)?$/.test(this.queue.trim()))
      local.push({ field: 'queue', message: 'redis://HOST:PORT, or empty for this machine' });
    return [...local, ...this.serverIssues];
  });
  readonly isSweep = $derived(this.search.trim() !== '');

  constructor(private readonly studio: Studio) {}

  /** Loads the env list; `envId` preselects an env, `fromRun` fills the whole form from that run's config. */
  async load(envId?: string, fromRun?: string): Promise<void> {
    try {
      this.envs = await this.studio.client.call('listEnvs', {});
      if (envId && this.envs.some((e) => e.id === envId)) this.env = envId;
      if (fromRun) await this.copyRun(fromRun);
      await this.loadPreview();
    } catch (e) {
      this.error = errorText(e);
    }
  }

  /**
   * "New run from this one": every field as the run trained with (its resolved config, so every
   * hyperparameter is explicit and later changes of the defaults do not change the copy).
   */
  private async copyRun(id: string): Promise<void> {
    const view = await this.studio.client.call('getRun', { id, metrics: 'none' });
    const config = (view.config as { config?: Record<string, unknown> } | null)?.config;
    if (!config) throw new Error(`run ${id} has no readable config to start from`);
    const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
    if (typeof config.env === 'string') this.env = config.env;
    if (typeof config.algo === 'string' && findAlgorithmSpec(config.algo)) this.algo = config.algo;
    if (config.obs === 'lowdim' || config.obs === 'pixels') this.obs = config.obs;
    this.seed = text(config.seed);
    this.steps = text(config.steps);
    this.evalEvery = text(config.evalEvery);
    this.evalEpisodes = text(config.evalEpisodes);
    this.checkpointEvery = text(config.checkpointEvery);
    this.tags = Array.isArray(config.tags) ? config.tags.join(', ') : '';
    this.name = view.summary.name ? `${view.summary.name.replace(/ \(seed \d+\)$/, '')} (again)` : '';
    this.baseChoice = 'defaults';
    const hyperparams = (config.hyperparams ?? {}) as Record<string, unknown>;
    const pixels = (config.pixels ?? {}) as Record<string, unknown>;
    const hp: Record<string, string> = {};
    for (const f of hpFields(this.algo, this.obs)) {
      const value = f.field.startsWith('pixels.') ? pixels[f.field.slice('pixels.'.length)] : hyperparams[f.key];
      if (value !== undefined) hp[`${this.algo}.${f.key}`] = toText(value);
    }
    this.hp = hp;
    this.copiedFrom = view.summary.name || id;
  }

  async loadPreview(): Promise<void> {
    const id = this.env;
    this.preview = null;
    try {
      const p = await this.studio.client.call('getEnv', { id });
      if (this.env === id) this.preview = p;
    } catch (e) {
      this.error = errorText(e);
    }
  }

  issueFor(field: string): string | null {
    return this.issues.find((i) => i.field === field || i.field.startsWith(`${field}[`))?.message ?? null;
  }

  setHp(key: string, text: string): void {
    this.hp = { ...this.hp, [`${this.algo}.${key}`]: text };
    this.serverIssues = [];
  }

  hpText(f: HpField): string {
    return this.hp[`${this.algo}.${f.key}`] ?? this.baseText(f);
  }

  /** The field's value in the current base (a preset, its frame settings for a pixel preset, or the defaults). */
  baseText(f: HpField): string {
    if (this.base === 'defaults') return f.defaultText;
    const preset = PRESETS[this.base]!;
    if (!f.field.startsWith('pixels.')) return toText((preset.hyperparams as Record<string, unknown>)[f.key]);
    const setting = f.field.slice('pixels.'.length);
    return preset.pixels && setting in preset.pixels ? toText(preset.pixels[setting]) : f.defaultText;
  }

  /** Starts the algorithm's hyperparameters over from a preset or the algorithm's defaults. */
  chooseBase(b: HpBase): void {
    this.baseChoice = b;
    const prefix = `${this.algo}.`;
    this.hp = Object.fromEntries(Object.entries(this.hp).filter(([k]) => !k.startsWith(prefix)));
    this.serverIssues = [];
  }

  private build(): Record<string, unknown> {
    const num = (s: string): unknown => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
    const hyperparams: Record<string, unknown> = {};
    const pixels: Record<string, unknown> = {};
    for (const f of this.fields) {
      const text = this.hpText(f);
      if (text === f.defaultText) continue;
      if (f.field.startsWith('pixels.')) pixels[f.field.slice('pixels.'.length)] = fromText(f, text);
      else hyperparams[f.key] = fromText(f, text);
    }
    const tags = this.tags.split(/[,\s]+/).filter(Boolean);
    return {
      env: this.env,
      algo: this.algo,
      obs: this.obs,
      seed: num(this.seed),
      steps: num(this.steps),
      evalEvery: num(this.evalEvery),
      evalEpisodes: num(this.evalEpisodes),
      checkpointEvery: num(this.checkpointEvery),
      hyperparams,
      ...(Object.keys(pixels).length ? { pixels } : {}),
      ...(this.name.trim() ? { name: this.name.trim() } : {}),
      ...(tags.length ? { tags } : {}),
    };
  }

  /** The sweep file the form describes: its name, the config as base, Seeds per point and the search. */
  sweepFile(): { ok: true; file: Record<string, unknown> } | { ok: false; message: string } {
    let search: unknown;
    try {
      search = JSON.parse(this.search);
    } catch (e) {
      return { ok: false, message: `not JSON: ${(e as Error).message}` };
    }
    if (typeof search !== 'object' || search === null || Array.isArray(search))
      return { ok: false, message: 'an object with grid, random and/or earlyStop' };
    const { name, tags: _tags, ...base } = this.config;
    return {
      ok: true,
      file: { name: (name as string | undefined) ?? 'sweep', base, seeds: Number(this.seeds), ...(search as Record<string, unknown>) },
    };
  }

  /** Creates and starts the sweep; returns its id, or null when refused (issues shown inline). */
  async submitSweep(): Promise<string | null> {
    const sweep = this.sweepFile();
    if (this.issues.length || !sweep.ok) return null;
    return this.send(
      async () =>
        (await this.studio.client.call('createSweep', { file: sweep.file, ...(this.queue.trim() ? { queue: this.queue.trim() } : {}) })).id,
    );
  }

  private async send(call: () => Promise<string | null>): Promise<string | null> {
    this.submitting = true;
    this.error = null;
    try {
      return await call();
    } catch (e) {
      if (e instanceof StudioError && e.payload.user) {
        this.serverIssues = e.payload.errors.map((x) => ({
          field: this.isSweep ? 'search' : (x.field ?? ''),
          message: this.isSweep && x.field ? `${x.field}: ${x.message}` : x.message,
        }));
        if (this.serverIssues.some((i) => !i.field)) this.error = e.message;
      } else this.error = errorText(e);
      return null;
    } finally {
      this.submitting = false;
    }
  }

  /** Creates and queues the run(s); returns the first run's id, or null when refused (issues shown inline). */
  async submit(): Promise<string | null> {
    if (this.issues.length) return null;
    return this.send(
      async () => (await this.studio.client.call('createRun', { config: this.config, seeds: Number(this.seeds) }))[0]?.id ?? null,
    );
  }
}
