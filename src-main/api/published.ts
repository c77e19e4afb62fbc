/**
 * Published numbers for the suite's tasks, shown beside the studio's own in reports.
 *
 * - DDPG, Lillicrap et al. 2015 (ICLR 2016), Table 1: normalised scores (random 0, their iLQG
 *   planner 1), R_av and R_best over 5 runs of at most 2.5M steps, from state (lowd) and pixels
 *   (pix). Their tasks are their own MuJoCo models, not dm_control's: the task each row maps to is
 *   named (`task`), so a reader sees the comparison is by kind of task, not by identical env.
 * - CURL, Srinivas, Laskin et al. 2020, Table 1: the "State SAC" column, raw dm_control returns
 *   (mean ± std) at 100k and 500k env steps.
 *
 * No Node imports here: the renderer imports this file.
 */

export interface DdpgTable1Entry {
  /** The row's name in the DDPG paper's Table 1. */
  task: string;
  lowd: { rAv: number; rBest: number };
  pix: { rAv: number; rBest: number };
}

export const DDPG_TABLE1: Readonly<Record<string, DdpgTable1Entry>> = {
  'cartpole-balance': { task: 'cartpoleBalance', lowd: { rAv: 0.951, rBest: 1.0 }, pix: { rAv: 0.335, rBest: 0.996 } },
  'cartpole-swingup': { task: 'cartpole', lowd: { rAv: 0.844, rBest: 1.115 }, pix: { rAv: 0.482, rBest: 1.138 } },
  'pendulum-swingup': { task: 'pendulum', lowd: { rAv: 0.946, rBest: 1.021 }, pix: { rAv: 0.663, rBest: 1.055 } },
  'cheetah-run': { task: 'cheetah', lowd: { rAv: 0.903, rBest: 1.206 }, pix: { rAv: 0.457, rBest: 0.792 } },
  'reacher-easy': { task: 'reacher', lowd: { rAv: 0.72, rBest: 0.987 }, pix: { rAv: 0.194, rBest: 0.878 } },
  'hopper-stand': { task: 'hopper', lowd: { rAv: 0.676, rBest: 0.936 }, pix: { rAv: 0.112, rBest: 0.924 } },
  'walker-walk': { task: 'walker2d', lowd: { rAv: 0.705, rBest: 1.573 }, pix: { rAv: 0.944, rBest: 1.476 } },
};

export interface CurlStateSacEntry {
  at100k: string;
  at500k: string;
}

export const CURL_STATE_SAC: Readonly<Record<string, CurlStateSacEntry>> = {
  'finger-spin': { at100k: '811±46', at500k: '923±21' },
  'cartpole-swingup': { at100k: '835±22', at500k: '848±15' },
  'reacher-easy': { at100k: '746±25', at500k: '923±24' },
  'cheetah-run': { at100k: '616±18', at500k: '795±30' },
  'walker-walk': { at100k: '891±82', at500k: '948±54' },
};

/** The published numbers for one table row, as short labelled strings. */
export function publishedFor(env: string, obs: string): { source: string; value: string }[] {
  const out: { source: string; value: string }[] = [];
  const ddpg = DDPG_TABLE1[env];
  if (ddpg) {
    const s = obs === 'pixels' ? ddpg.pix : ddpg.lowd;
    out.push({
      source: `DDPG Table 1 (${ddpg.task}, ${obs === 'pixels' ? 'pix' : 'lowd'})`,
      value: `R_av ${s.rAv.toFixed(3)} / R_best ${s.rBest.toFixed(3)}`,
    });
  }
  const curl = CURL_STATE_SAC[env];
  if (curl && obs !== 'pixels') out.push({ source: 'CURL Table 1, State SAC', value: `${curl.at100k} @100k, ${curl.at500k} @500k` });
  return out;
}
