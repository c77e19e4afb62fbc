import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EpisodeMetaSchema, type EpisodeData, type EpisodeMeta, type StoreProblem } from '../api/runs.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomicSync } from './atomic.ts';
import type { ObsSpec } from '../sim/types.ts';
import type { TermsCombine } from '../sim/reward-terms.ts';

/**
 * Recorded episodes: `episodes/<step>-<k>.bin` holds qpos per frame (Float64, frames x nq), then the
 * actions (Float32) and rewards (Float32), then the observations and the reward's terms (Float32,
 * both optional: older episodes have neither); `<step>-<k>.json` describes it. The .bin is written
 * first, so a meta file always points at complete frames; replay asks sim's bodyPoses for the poses.
 */
export interface EpisodeRecording {
  step: number;
  index: number;
  env: string;
  nq: number;
  actionSize: number;
  dt: number;
  /** frames x nq. */
  qpos: Float64Array;
  actions: Float32Array;
  rewards: Float32Array;
  /** frames x observation.size: what the agent observed (the low-dimensional state for pixel runs). */
  observations?: { spec: ObsSpec; values: Float32Array };
  /** (frames - 1) x labels.length: the reward's top-level terms per step. */
  rewardTerms?: { labels: string[]; combine: TermsCombine; values: Float32Array };
  episodeReturn: number;
  diverged: boolean;
}

const ID_RE = /^\d+-\d+$/;

export function episodeId(step: number, index: number): string {
  return `${String(step).padStart(10, '0')}-${index}`;
}

/**
 * `inside` (RunFiles.inside) vets each episode file's path: a file that links outside the run
 * folder is refused, not read or written through.
 */
type Inside = (path: string) => string;
const anywhere: Inside = (p) => p;

export function writeEpisode(dir: string, rec: EpisodeRecording, inside: Inside = anywhere): EpisodeMeta {
  const id = episodeId(rec.step, rec.index);
  const frames = rec.nq > 0 ? rec.qpos.length / rec.nq : rec.rewards.length + 1;
  const qposOffset = 0;
  const actionsOffset = rec.qpos.byteLength;
  const rewardsOffset = actionsOffset + rec.actions.byteLength;
  const observationsOffset = rewardsOffset + rec.rewards.byteLength;
  const termsOffset = observationsOffset + (rec.observations?.values.byteLength ?? 0);
  const byteLength = termsOffset + (rec.rewardTerms?.values.byteLength ?? 0);
  const bin = new Uint8Array(byteLength);
  const put = (a: Float64Array | Float32Array, at: number): void => bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
  put(rec.qpos, qposOffset);
  put(rec.actions, actionsOffset);
  put(rec.rewards, rewardsOffset);
  if (rec.observations) put(rec.observations.values, observationsOffset);
  if (rec.rewardTerms) put(rec.rewardTerms.values, termsOffset);
  const meta: EpisodeMeta = {
    id,
    step: rec.step,
    index: rec.index,
    env: rec.env,
    nq: rec.nq,
    actionSize: rec.actionSize,
    frames,
    dt: rec.dt,
    episodeReturn: rec.episodeReturn,
    diverged: rec.diverged,
    ...(rec.observations ? { observation: { size: rec.observations.spec.size, parts: rec.observations.spec.parts } } : {}),
    ...(rec.rewardTerms ? { rewardTerms: { labels: rec.rewardTerms.labels, combine: rec.rewardTerms.combine } } : {}),
    layout: {
      qposOffset,
      actionsOffset,
      rewardsOffset,
      ...(rec.observations ? { observationsOffset } : {}),
      ...(rec.rewardTerms ? { termsOffset } : {}),
      byteLength,
    },
  };
  writeFileAtomicSync(inside(join(dir, `${id}.bin`)), bin);
  writeFileAtomicSync(inside(join(dir, `${id}.json`)), JSON.stringify(meta) + '\n');
  return meta;
}

/** Every readable episode's meta, oldest first; unreadable ones are reported, not fatal. */
export function listEpisodes(dir: string, inside: Inside = anywhere): { episodes: EpisodeMeta[]; problems: StoreProblem[] } {
  const episodes: EpisodeMeta[] = [];
  const problems: StoreProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    if (existsSync(dir)) problems.push({ file: 'episodes', message: `unreadable: ${(e as Error).message}` });
    return { episodes, problems };
  }
  for (const f of names) {
    if (!f.endsWith('.json') || !ID_RE.test(f.slice(0, -5))) continue;
    try {
      episodes.push(readMeta(dir, f.slice(0, -5), inside));
    } catch (e) {
      problems.push({ file: `episodes/${f}`, message: (e as Error).message });
    }
  }
  return { episodes, problems };
}

function readMeta(dir: string, id: string, inside: Inside): EpisodeMeta {
  const r = EpisodeMetaSchema.safeParse(JSON.parse(readFileSync(inside(join(dir, `${id}.json`)), 'utf8')));
  if (!r.success) throw new Error('not a valid episode description');
  return r.data;
}

export function readEpisode(dir: string, id: string, inside: Inside = anywhere): EpisodeData {
  if (!ID_RE.test(id)) throw new UserError({ field: 'episode', message: `'${id}' is not an episode id` });
  if (!existsSync(join(dir, `${id}.json`))) throw new UserError({ field: 'episode', message: `no episode '${id}' in this run` });
  let meta: EpisodeMeta;
  try {
    meta = readMeta(dir, id, inside);
  } catch (e) {
    throw new UserError({ file: `episodes/${id}.json`, message: `unreadable: ${(e as Error).message}` });
  }
  const bin = existsSync(join(dir, `${id}.bin`)) ? readFileSync(inside(join(dir, `${id}.bin`))) : null;
  if (!bin || bin.length !== meta.layout.byteLength) {
    throw new UserError({
      file: `episodes/${id}.bin`,
      message: `frames are missing or truncated (${bin?.length ?? 0} of ${meta.layout.byteLength} bytes)`,
    });
  }
  const copy = new Uint8Array(bin.length);
  copy.set(bin);
  const { qposOffset, actionsOffset, rewardsOffset, observationsOffset, termsOffset, byteLength } = meta.layout;
  const rewardsEnd = observationsOffset ?? termsOffset ?? byteLength;
  const f32 = (from: number, to: number): Float32Array => new Float32Array(copy.buffer, from, (to - from) / 4);
  return {
    meta,
    qpos: new Float64Array(copy.buffer, qposOffset, (actionsOffset - qposOffset) / 8),
    actions: f32(actionsOffset, rewardsOffset),
    rewards: f32(rewardsOffset, rewardsEnd),
    ...(observationsOffset !== undefined && meta.observation ? { observations: f32(observationsOffset, termsOffset ?? byteLength) } : {}),
    ...(termsOffset !== undefined && meta.rewardTerms ? { rewardTerms: f32(termsOffset, byteLength) } : {}),
  };
}
