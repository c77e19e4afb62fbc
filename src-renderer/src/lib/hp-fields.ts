/**
 * The New-run form's hyperparameter fields, read from the algorithm's zod schema (api/hyperparams.ts):
 * kind, bounds, the one-line description and the paper default. Values are edited as text and
 * parsed back here; the schema itself (through parseRunConfig) decides what is valid.
 */
import { z } from 'zod';
import { HYPERPARAM_SCHEMAS, PAPER_DEFAULTS, type Algo } from '../../../src-main/api/hyperparams.ts';

export type FieldKind = 'number' | 'int' | 'layers' | 'bool' | 'enum';

export interface HpField {
  key: string;
  kind: FieldKind;
  description: string;
  nullable: boolean;
  min?: number;
  max?: number;
  options?: string[];
  /** The paper default as the form shows it. */
  defaultText: string;
}

export function hpFields(algo: Algo): HpField[] {
  const shape = HYPERPARAM_SCHEMAS[algo].shape as Record<string, z.ZodType>;
  const defaults = PAPER_DEFAULTS[algo] as unknown as Record<string, unknown>;
  return Object.entries(shape).map(([key, outer]) => {
    let inner: z.ZodType = outer instanceof z.ZodDefault ? (outer.unwrap() as z.ZodType) : outer;
    const nullable = inner instanceof z.ZodNullable;
    if (inner instanceof z.ZodNullable) inner = inner.unwrap() as z.ZodType;
    const f: HpField = { key, kind: 'number', description: outer.description ?? '', nullable, defaultText: toText(defaults[key]) };
    if (inner instanceof z.ZodNumber) {
      f.kind = inner.isInt ? 'int' : 'number';
      if (inner.minValue !== null && Number.isFinite(inner.minValue)) f.min = inner.minValue;
      if (inner.maxValue !== null && Number.isFinite(inner.maxValue)) f.max = inner.maxValue;
    } else if (inner instanceof z.ZodArray) f.kind = 'layers';
    else if (inner instanceof z.ZodBoolean) f.kind = 'bool';
    else if (inner instanceof z.ZodEnum) {
      f.kind = 'enum';
      f.options = inner.options.map(String);
    }
    return f;
  });
}

export function toText(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ');
  if (v === null || v === undefined) return '';
  return String(v);
}

/** Text back to a value for the schema; text that is not a number stays text so the schema names the problem. */
export function fromText(f: HpField, text: string): unknown {
  const t = text.trim();
  if (f.kind === 'bool') return t === 'true';
  if (f.kind === 'enum') return t;
  if (f.kind === 'layers') {
    const parts = t.split(/[\s,×x]+/).filter(Boolean);
    return parts.map((p) => (Number.isFinite(Number(p)) ? Number(p) : p));
  }
  if (t === '' && f.nullable) return null;
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? n : t;
}

export function boundsText(f: HpField): string {
  if (f.min === undefined && f.max === undefined) return '';
  return `${f.min ?? '−∞'} … ${f.max ?? '∞'}`;
}
