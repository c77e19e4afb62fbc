/**
 * The runs table's filter language: space-separated terms, all of which must hold.
 *   free text        matches name, id, env, algorithm, status, tags, experiment
 *   field=value      equality (text: case-insensitive; numbers: numeric); != negates
 *   field<v  <=  >  >=   numeric comparisons (1e-3 works)
 *   field~text       contains
 * Fields: name env algo obs status seed step steps eval best tag experiment, or any hyperparameter;
 * a short name matches every hyperparameter ending in it (lr: actorLr, criticLr, lr).
 */
import type { RunRow } from '../../../src-main/api/studio-api.ts';

export interface Term {
  field: string | null;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | '~' | null;
  value: string;
}

export interface ParsedQuery {
  terms: Term[];
  errors: string[];
}

const TERM_RE = /^([A-Za-z_][\w.]*)(!=|<=|>=|=|<|>|~|:)(.*)$/;

export function parseQuery(q: string): ParsedQuery {
  const terms: Term[] = [];
  const errors: string[] = [];
  for (const raw of q.trim().split(/\s+/).filter(Boolean)) {
    const m = TERM_RE.exec(raw);
    if (!m) {
      terms.push({ field: null, op: null, value: raw.toLowerCase() });
      continue;
    }
    const op = (m[2] === ':' ? '=' : m[2]) as Term['op'];
    if (!m[3]) errors.push(`'${raw}' has no value`);
    else terms.push({ field: m[1], op, value: m[3] });
  }
  return { terms, errors };
}

/** Values of a field for one run (several when a short name matches more than one hyperparameter). */
export function fieldValues(run: RunRow, field: string): unknown[] {
  const f = field.toLowerCase();
  switch (f) {
    case 'name':
    case 'env':
    case 'algo':
    case 'obs':
    case 'status':
    case 'seed':
    case 'step':
    case 'steps':
    case 'id':
    case 'experiment':
      return [run[f as keyof RunRow]];
    case 'algorithm':
      return [run.algo];
    case 'eval':
    case 'latest':
      return [run.latestEval?.evalReturn ?? null];
    case 'best':
      return [run.bestEval?.evalReturn ?? null];
    case 'tag':
    case 'tags':
      return run.tags;
  }
  const hp = run.hyperparams;
  const exact = Object.keys(hp).find((k) => k.toLowerCase() === f);
  if (exact) return [hp[exact]];
  return Object.keys(hp)
    .filter((k) => k.toLowerCase().endsWith(f))
    .map((k) => hp[k]);
}

function test(v: unknown, op: NonNullable<Term['op']>, want: string): boolean {
  if (v === null || v === undefined) return op === '!=';
  const num = Number(want);
  const isNum = typeof v === 'number' && want.trim() !== '' && Number.isFinite(num);
  const text = (Array.isArray(v) ? v.join(',') : String(v)).toLowerCase();
  const w = want.toLowerCase();
  switch (op) {
    case '=':
      return isNum ? v === num : text === w;
    case '!=':
      return isNum ? v !== num : text !== w;
    case '~':
      return text.includes(w);
    default:
      if (!isNum) return false;
      return op === '<'
        ? (v as number) < num
        : op === '<='
          ? (v as number) <= num
          : op === '>'
            ? (v as number) > num
            : (v as number) >= num;
  }
}

export function matches(run: RunRow, q: ParsedQuery): boolean {
  return q.terms.every((t) => {
    if (!t.field || !t.op) {
      const hay = [run.name, run.id, run.env, run.algo, run.obs, run.status, run.experiment ?? '', ...run.tags].join(' ').toLowerCase();
      return hay.includes(t.value);
    }
    const values = fieldValues(run, t.field);
    // `!=` must hold for every matching field; the others for any.
    return t.op === '!=' ? values.every((v) => test(v, '!=', t.value)) : values.some((v) => test(v, t.op!, t.value));
  });
}
