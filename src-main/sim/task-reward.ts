/**
 * Reward expressions and termination conditions of a task spec, compiled into small closures over
 * rows of the element table (a reward has a handful of nodes; the values they read are the table's).
 */
import type { Condition, RewardNode, Termination, Tolerance } from '../api/task-spec.ts';
import { reduce, scaledTolerance, sigmoidScale } from './rewards.ts';
import type { SimViews } from './views.ts';
import type { QuantityCompiler } from './task-quantities.ts';

export type Scalar = (v: SimViews) => number;
export type Test = (v: SimViews) => boolean;

function bound(b: number | 'inf' | '-inf'): number {
  return b === 'inf' ? Infinity : b === '-inf' ? -Infinity : b;
}

/** A condition: holds when the reduced quantity is below `below` or above `above`. */
export function condition(qc: QuantityCompiler, c: Condition, field: string): Test {
  const q = qc.quantity(c.quantity, `${field}.quantity`);
  const n = q.to - q.from;
  const buf = new Float64Array(Math.max(1, n));
  const below = c.below ?? -Infinity;
  const above = c.above ?? Infinity;
  const how = c.reduce;
  const el = qc.el;
  return (v) => {
    el.evaluate(q.from, q.to, v, buf, 0);
    const x = reduce(buf, n, how);
    return x < below || x > above;
  };
}

/** A termination: a condition, or any qpos / qvel entry not finite. */
export function termination(qc: QuantityCompiler, t: Termination, field: string): Test {
  if ('state_not_finite' in t) {
    return (v) => {
      for (let k = 0; k < v.qpos.length; k++) if (!Number.isFinite(v.qpos[k])) return true;
      for (let k = 0; k < v.qvel.length; k++) if (!Number.isFinite(v.qvel[k])) return true;
      return false;
    };
  }
  return condition(qc, t, field);
}

/**
 * Compiles a reward node; `terminated` is the spec's termination test (for `gate ... unless: "terminated"`).
 * With `keep`, a sum / product / min / max node also writes each of its terms there as it combines
 * them (a sum's weighted), in the same arithmetic: the task keeps its reward's top-level terms for
 * replay's breakdown at no extra cost.
 */
export function rewardNode(qc: QuantityCompiler, node: RewardNode, field: string, terminated: Test, keep?: Float64Array): Scalar {
  const many = (nodes: RewardNode[], key: string): Scalar[] => nodes.map((n, k) => rewardNode(qc, n, `${field}.${key}[${k}]`, terminated));
  const one = (n: RewardNode, key: string): Scalar => rewardNode(qc, n, `${field}.${key}`, terminated);
  const out = keep ?? new Float64Array(0);
  const kept = keep !== undefined;
  if ('product' in node) {
    const parts = many(node.product, 'product');
    return (v) => {
      let r = 1;
      for (let k = 0; k < parts.length; k++) {
        const t = parts[k](v);
        if (kept) out[k] = t;
        r *= t;
      }
      return r;
    };
  }
  if ('sum' in node) {
    const parts = many(node.sum, 'sum');
    const w = node.weights ?? parts.map(() => 1);
    return (v) => {
      let r = 0;
      for (let k = 0; k < parts.length; k++) {
        const t = w[k] * parts[k](v);
        if (kept) out[k] = t;
        r += t;
      }
      return r;
    };
  }
  if ('min' in node || 'max' in node) {
    const isMin = 'min' in node;
    const parts = isMin ? many(node.min, 'min') : many(node.max, 'max');
    return (v) => {
      let r = isMin ? Infinity : -Infinity;
      for (let k = 0; k < parts.length; k++) {
        const t = parts[k](v);
        if (kept) out[k] = t;
        r = isMin ? Math.min(r, t) : Math.max(r, t);
      }
      return r;
    };
  }
  if (kept) {
    // A reward that is one term: the term is the reward.
    const f = rewardNode(qc, node, field, terminated);
    return (v) => (out[0] = f(v));
  }
  if ('abs' in node) {
    const f = one(node.abs, 'abs');
    return (v) => Math.abs(f(v));
  }
  if ('square' in node) {
    const f = one(node.square, 'square');
    return (v) => f(v) ** 2;
  }
  if ('exp' in node) {
    const f = one(node.exp, 'exp');
    return (v) => Math.exp(f(v));
  }
  if ('clip' in node) {
    const f = one(node.clip, 'clip');
    const lo = bound(node.range[0]);
    const hi = bound(node.range[1]);
    if (lo > hi) qc.ix.add(`${field}.range`, 'lower bound is above the upper bound');
    return (v) => Math.min(hi, Math.max(lo, f(v)));
  }
  if ('gate' in node) {
    const f = one(node.gate, 'gate');
    const unless = node.unless === 'terminated' ? [terminated] : node.unless.map((c, k) => condition(qc, c, `${field}.unless[${k}]`));
    return (v) => {
      for (const t of unless) if (t(v)) return 0;
      return f(v);
    };
  }
  const q = qc.quantity(node.quantity, `${field}.quantity`);
  const n = q.to - q.from;
  const buf = new Float64Array(Math.max(1, n));
  const perEntry = <T>(x: T | T[] | undefined, key: string, what: string): T[] | undefined => {
    if (x === undefined || !Array.isArray(x)) return x === undefined ? undefined : Array.from({ length: n }, () => x);
    if (x.length !== n) qc.ix.add(`${field}.${key}`, `lists ${x.length} ${what}; the quantity has ${n} value${n === 1 ? '' : 's'}`);
    return Array.from({ length: n }, (_, k) => x[Math.min(k, x.length - 1)]);
  };
  const minus = perEntry(node.minus, 'minus', 'numbers');
  const tols = perEntry<Tolerance>(node.tolerance, 'tolerance', 'tolerances');
  const lo = tols?.map((t) => bound(t.bounds[0])) ?? [];
  const hi = tols?.map((t) => bound(t.bounds[1])) ?? [];
  const scales = tols?.map((t) => sigmoidScale(t.value_at_margin, t.sigmoid)) ?? [];
  const clipLo = node.clip_each ? bound(node.clip_each[0]) : -Infinity;
  const clipHi = node.clip_each ? bound(node.clip_each[1]) : Infinity;
  if (clipLo > clipHi) qc.ix.add(`${field}.clip_each`, 'lower bound is above the upper bound');
  const how = node.reduce;
  const { scale, offset } = node;
  const el = qc.el;
  return (v) => {
    el.evaluate(q.from, q.to, v, buf, 0);
    if (minus) for (let k = 0; k < n; k++) buf[k] -= minus[k];
    if (node.clip_each) for (let k = 0; k < n; k++) buf[k] = Math.min(clipHi, Math.max(clipLo, buf[k]));
    if (tols) for (let k = 0; k < n; k++) buf[k] = scaledTolerance(buf[k], lo[k], hi[k], tols[k].margin, tols[k].sigmoid, scales[k]);
    return offset + scale * reduce(buf, n, how);
  };
}
