import type { Layer } from '../nets/mlp.ts';
import type { NormMode } from '../nets/batch-norm.ts';
import type { Buf, Executor, Params } from './executor.ts';

/**
 * The dense networks of DDPG and TD3 over an executor (executor.ts): a chain of layers (the actor)
 * and the critic with the action entering at a hidden layer, each with its hand-written backward
 * pass. Buffers are named under the network's `name`, so a second pass under another name keeps
 * the first one's activations (the update's backward passes read them). Gradients of the arena
 * executor are checked against finite differences in test/unit/learn/gradients.test.ts; the other
 * executors against the arena in test/unit/learn/executors.test.ts.
 */
export class ExecChain {
  constructor(
    readonly exec: Executor,
    readonly layers: Layer[],
    readonly name: string,
  ) {}

  private buf(what: string, i: number, n: number): Buf {
    return this.exec.buffer(`${this.name}.${what}${i}`, n);
  }

  /** Output of layer i from the last forward (rows x out). */
  output(i: number, rows: number): Buf {
    return this.buf('y', i, rows * this.layers[i].out);
  }

  /** Runs the chain on x [rows x in]; returns the last layer's output. */
  forward(p: Params, x: Buf, rows: number, mode: NormMode = 'infer'): Buf {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const L = this.layers[i];
      if (L.bnIn) h = this.exec.normalizeInput(p, L, h, rows, { mode, scratch: `${this.name}.in` });
      const y = this.output(i, rows);
      this.exec.denseForward(p, L, h, rows, y, undefined, undefined, { mode, scratch: `${this.name}.bn${i}` });
      h = y;
    }
    return h;
  }

  /**
   * Gradients into g given dL/d(output) (row-major), after forward() on the same x; returns
   * dL/dx [rows x in] when wantInput, else null. `logCosh` (a tanh output layer only) adds
   * logCosh * sum log cosh(u) over the output's pre-activations u to the loss: its gradient
   * logCosh * tanh(u) is the output itself, and unlike any penalty on the output it does not vanish
   * where the tanh saturates.
   */
  backward(p: Params, g: Params, x: Buf, dOut: Buf, rows: number, wantInput: boolean, logCosh = 0): Buf | null {
    const { exec, layers: ls } = this;
    const top = ls.length - 1;
    if (ls[top].bn) throw new Error('the output layer of a chain is not batch-normalised');
    if (logCosh !== 0 && ls[top].act !== 'tanh') throw new Error('the log-cosh penalty is for a tanh output layer');
    // Layer i needs dL/d(its input) when a layer or a normalisation lies below it.
    const needIn = (i: number) => i > 0 || wantInput || !!ls[i].bnIn;
    let dpre = this.buf('dpre', top, rows * ls[top].out);
    const y = this.output(top, rows);
    exec.activationBackward(dOut, y, rows, ls[top].out, ls[top].act, dpre, needIn(top) && logCosh === 0);
    if (logCosh !== 0) exec.axpy(dpre, y, logCosh, rows * ls[top].out);
    for (let i = top; i >= 0; i--) {
      const L = ls[i];
      const input = i > 0 ? this.output(i - 1, rows) : L.bnIn ? exec.buffer(`${this.name}.in.x`, rows * L.in) : x;
      const dIn = needIn(i) ? this.buf('dh', i, rows * L.in) : null;
      exec.denseBackward(p, g, L, input, null, rows, dpre, { dIn, dExtra: null });
      if (i > 0) {
        dpre = this.buf('dpre', i - 1, rows * L.in);
        exec.backToPre(p, g, ls[i - 1], dIn!, input, rows, dpre, needIn(i - 1), `${this.name}.bn${i - 1}`);
      } else if (dIn) {
        return exec.backToInput(p, g, L, dIn, rows, wantInput ? this.buf('dIn', 0, rows * L.in) : null, `${this.name}.in`);
      }
    }
    return null;
  }
}

/**
 * Critic forward Q(x, a) for `rows` rows; layer outputs stay under `name` (for criticBackward), and
 * the obs-only pre-activation of the action layer (x W + b) under `${name}.base` (for
 * criticActionGrad). Returns Q [rows].
 */
export function criticForward(
  exec: Executor,
  p: Params,
  layers: Layer[],
  x: Buf,
  a: Buf,
  rows: number,
  name: string,
  mode: NormMode = 'infer',
): Buf {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const L = layers[i];
    if (L.bnIn) h = exec.normalizeInput(p, L, h, rows, { mode, scratch: `${name}.in` });
    const y = exec.buffer(`${name}.y${i}`, rows * L.out);
    if (L.A) exec.denseForward(p, L, h, rows, y, a, exec.buffer(`${name}.base`, rows * L.out));
    else exec.denseForward(p, L, h, rows, y, undefined, undefined, { mode, scratch: `${name}.bn${i}` });
    h = y;
  }
  return h;
}

/**
 * Critic parameter gradients into g for dL/dQ = dq [rows], after criticForward(name) on the same
 * x, a; returns dL/dx [rows x in] when wantInput (a trainable encoder), else null.
 */
export function criticBackward(
  exec: Executor,
  p: Params,
  g: Params,
  layers: Layer[],
  x: Buf,
  a: Buf,
  dq: Buf,
  rows: number,
  wantInput: boolean,
  name: string,
): Buf | null {
  const top = layers.length - 1;
  const needIn = (i: number) => i > 0 || wantInput || !!layers[i].bnIn;
  // The output layer is linear with one unit: dpre = dq.
  let dpre = dq;
  for (let i = top; i >= 0; i--) {
    const L = layers[i];
    const input = i > 0 ? exec.buffer(`${name}.y${i - 1}`, rows * L.in) : L.bnIn ? exec.buffer(`${name}.in.x`, rows * L.in) : x;
    const dIn = needIn(i) ? exec.buffer(`${name}.dh${i}`, rows * L.in) : null;
    exec.denseBackward(p, g, L, input, L.A ? a : null, rows, dpre, { dIn, dExtra: null });
    if (i > 0) {
      dpre = exec.buffer(`${name}.dpre${i - 1}`, rows * L.in);
      exec.backToPre(p, g, layers[i - 1], dIn!, input, rows, dpre, needIn(i - 1), `${name}.bn${i - 1}`);
    } else if (dIn) {
      return exec.backToInput(p, g, L, dIn, rows, wantInput ? exec.buffer(`${name}.dIn`, rows * L.in) : null, `${name}.in`);
    }
  }
  return null;
}

/**
 * dQ/da at a = mu for the loss -mean Q(s, mu(s)), reusing the obs-only part of the critic forward
 * `name` on the same states (no critic weight gradients). Returns dL/d(mu) [rows x act] and
 * Q(s, mu) [rows].
 */
export function criticActionGrad(
  exec: Executor,
  p: Params,
  layers: Layer[],
  mu: Buf,
  rows: number,
  name: string,
): { dAction: Buf; q: Buf } {
  const k = layers.findIndex((L) => L.A);
  const top = layers.length - 1;
  const pre = exec.buffer(`${name}.base`, rows * layers[k].out);
  const mn = `${name}.mu`;
  let h = exec.buffer(`${mn}.y${k}`, rows * layers[k].out);
  exec.denseFromPre(p, layers[k], pre, mu, rows, h);
  for (let i = k + 1; i <= top; i++) {
    const y = exec.buffer(`${mn}.y${i}`, rows * layers[i].out);
    exec.denseForward(p, layers[i], h, rows, y);
    h = y;
  }
  const q = h;
  let dpre = exec.buffer(`${mn}.dq`, rows);
  exec.fill(dpre, -1 / rows);
  for (let i = top; i > k; i--) {
    const L = layers[i];
    const dIn = exec.buffer(`${mn}.dh${i}`, rows * L.in);
    exec.denseBackward(p, null, L, exec.buffer(`${mn}.y${i - 1}`, rows * L.in), null, rows, dpre, { dIn, dExtra: null });
    dpre = exec.buffer(`${mn}.dpre${i - 1}`, rows * L.in);
    exec.activationBackward(dIn, exec.buffer(`${mn}.y${i - 1}`, rows * L.in), rows, L.in, layers[i - 1].act, dpre, true);
  }
  const dAction = exec.buffer(`${mn}.dAction`, rows * layers[k].extra!);
  exec.denseBackward(p, null, layers[k], h, null, rows, dpre, { dIn: null, dExtra: dAction });
  return { dAction, q };
}
