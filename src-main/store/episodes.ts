import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EpisodeMetaSchema, type EpisodeData, type EpisodeMeta, type StoreProblem } from '../api/runs.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomicSync } from './atomic.ts';

/**
 * Recorded episodes: `episodes/<step>-<k>.bin` holds qpos per frame (Float64, frames x nq), then the
 * actions (Float32) and rewards (Float32); `<step>-<k>.json` describes it. The .bin is written first,
 * so a meta file always points at complete frames; replay asks sim's bodyPoses for the poses.
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
  const byteLength = rewardsOffset + rec.rewards.byteLength;
  const bin = new Uint8Array(byteLength);
  bin.set(new Uint8Array(rec.qpos.buffer, rec.qpos.byteOffset, rec.qpos.byteLength), qposOffset);
  bin.set(new Uint8Array(rec.actions.buffer, rec.actions.byteOffset, rec.actions.byteLength), actionsOffset);
  bin.set(new Uint8Array(rec.rewards.buffer, rec.rewards.byteOffset, rec.rewards.byteLength), rewardsOffset);
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
    layout: { qposOffset, actionsOffset, rewardsOffset, byteLength },
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
    throw new UserError({ file: `episodes/${id}.bin`, message: `frames are missing or truncated (${bin?.length ?? 0} of ${meta.layout.byteLength} bytes)` });
  }
  const copy = new Uint8Array(bin.length);
  copy.set(bin);
  const { qposOffset, actionsOffset, rewardsOffset, byteLength } = meta.layout;
  return {
    meta,
    qpos: new Float64Array(copy.buffer, qposOffset, (actionsOffset - qposOffset) / 8),
    actions: new Float32Array(copy.buffer, actionsOffset, (rewardsOffset - actionsOffset) / 4),
    rewards: new Float32Array(copy.buffer, rewardsOffset, (byteLength - rewardsOffset) / 4),
  };
}
