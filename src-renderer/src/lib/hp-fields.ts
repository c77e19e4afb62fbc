/**
 * The New-run form's hyperparameter fields, read from the algorithm's zod schema (learn/algos/<id>/spec.ts):
 * kind, bounds, the one-line description, the default a new run gets and the paper's value. Values are edited as text and
 * parsed back here; the schema itself (through parseRunConfig) decides what is valid.
 */
import { z } from 'zod';
import { findAlgorithmSpec } from '../../../src-main/learn/algos/specs.ts';
import { PIXEL_SETTINGS_DEFAULTS, PIXEL_SETTINGS_PAPER, PixelSettingsSchema } from '../../../src-main/api/run-config.ts';

export type FieldKind = 'number' | 'int' | 'layers' | 'bool' | 'enum';

export interface HpField {
  /** The form's name for it: the hyperparameter's, or 'pixels.<setting>' for a pixel setting. */
  key: string;
  /** Where it sits in the run config (as issues name it): 'hyperparams.<key>' or 'pixels.<setting>'. */
  field: string;
  kind: FieldKind;
  description: string;
  nullable: boolean;
  min?: number;
  max?: number;
  options?: string[];
  /** The default a new run gets, as the form shows it. */
  defaultText: string;
  /** The paper's value where it differs from the default (the spec's paperDefaults). */
  paperText?: string;
}

/**
 * The algorithm's hyperparameters with the defaults a run of this observation type gets (pixel runs:
 * its pixel defaults), and for pixel runs the frame settings after them; each with the paper's value
 * where it differs.
 */
export function hpFields(algo: string, obs: 'lowdim' | 'pixels' = 'lowdim'): HpField[] {
  const spec = findAlgorithmSpec(algo);
  if (!spec) return [];
  const pixels = obs === 'pixels';
  const pixelDefaults = pixels ? (spec.pixelDefaults ?? {}) : {};
  const defaults = { ...spec.defaults, ...pixelDefaults } as Record<string, unknown>;
  const paper = { ...spec.paperDefaults, ...(pixels ? (spec.pixelPaper ?? pixelDefaults) : {}) } as Record<string, unknown>;
  const fields = schemaFields(spec.schema.shape, defaults, paper, 'hyperparams.', '');
  if (!pixels) return fields;
  const frames = schemaFields(
    PixelSettingsSchema.shape as Record<string, z.ZodType>,
    PIXEL_SETTINGS_DEFAULTS,
    PIXEL_SETTINGS_PAPER,
    'pixels.',
    'pixels.',
  );
  return [...fields, ...frames];
}

function schemaFields(
  shape: Record<string, z.ZodType>,
  defaults: Readonly<Record<string, unknown>>,
  paper: Readonly<Record<string, unknown>>,
  fieldPrefix: string,
  keyPrefix: string,
): HpField[] {
  return Object.entries(shape).map(([name, outer]) => {
    const key = keyPrefix + name;
    let inner: z.ZodType = outer instanceof z.ZodDefault ? (outer.unwrap() as z.ZodType) : outer;
    const nullable = inner instanceof z.ZodNullable;
    if (inner instanceof z.ZodNullable) inner = inner.unwrap() as z.ZodType;
    const f: HpField = {
      key,
      field: fieldPrefix + name,
      kind: 'number',
      description: outer.description ?? '',
      nullable,
      defaultText: toText(defaults[name]),
    };
    const paperText = toText(paper[name]);
    if (paperText !== f.defaultText) f.paperText = paperText;
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
