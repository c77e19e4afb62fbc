/**
 * View choices a researcher sets once and expects to find again after a reload: smoothing, the x
 * axis, which charts use a log scale, the metrics Compare shows. Kept in localStorage (per studio
 * origin); an unreadable entry falls back to the defaults.
 */
const KEY = 'rl-studio.view';

interface Stored {
  smoothing: number;
  axis: 'step' | 'time';
  logMetrics: string[];
  compareMetrics: string[];
}

const DEFAULTS: Stored = { smoothing: 0.6, axis: 'step', logMetrics: [], compareMetrics: ['eval_return', 'episode_return'] };

function read(): Stored {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Stored>;
    return {
      smoothing: typeof v.smoothing === 'number' && v.smoothing >= 0 && v.smoothing < 1 ? v.smoothing : DEFAULTS.smoothing,
      axis: v.axis === 'time' ? 'time' : 'step',
      logMetrics: Array.isArray(v.logMetrics) ? v.logMetrics.filter((k) => typeof k === 'string') : [],
      compareMetrics:
        Array.isArray(v.compareMetrics) && v.compareMetrics.length
          ? v.compareMetrics.filter((k) => typeof k === 'string')
          : DEFAULTS.compareMetrics,
    };
  } catch {
    return { ...DEFAULTS };
  }
}

export class ViewPrefs {
  smoothing = $state(DEFAULTS.smoothing);
  axis = $state<'step' | 'time'>(DEFAULTS.axis);
  logMetrics = $state<string[]>([]);
  compareMetrics = $state<string[]>(DEFAULTS.compareMetrics);

  constructor() {
    Object.assign(this, read());
    $effect.root(() => {
      $effect(() => {
        const v: Stored = {
          smoothing: this.smoothing,
          axis: this.axis,
          logMetrics: [...this.logMetrics],
          compareMetrics: [...this.compareMetrics],
        };
        try {
          localStorage.setItem(KEY, JSON.stringify(v));
        } catch {
          /* storage full or disabled: the choices last for this page only */
        }
      });
    });
  }

  isLog(key: string): boolean {
    return this.logMetrics.includes(key);
  }

  setLog(key: string, on: boolean): void {
    this.logMetrics = on ? [...this.logMetrics.filter((k) => k !== key), key] : this.logMetrics.filter((k) => k !== key);
  }
}

/** The one set of view choices of this page. */
export const viewPrefs = new ViewPrefs();
