import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/backend.ts';
import { FlatParams } from '../../../src-main/learn/params.ts';
import { Rng } from '../../../src-main/learn/rng.ts';
import { actorBackward, actorForward, actorSpecs, criticActionGrad, criticBackward, criticForward, criticSpecs } from '../../../src-main/learn/ddpg.ts';

// Finite differences in float64 would need another backend; float32 central differences with a
// moderate step and smooth-enough inputs keep the relative error well under 1e-2.
beforeAll(async () => {
  await selectBackend({ backend: 'cpu' });
});

const B = 4;
const OBS = 3;
const ACT = 2;

function data(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.range(-1, 1));
}

/** Central-difference gradient of f w.r.t. p.values at a few indices of every slot. */
function checkAgainstFd(p: FlatParams, f: () => number, analytic: Float32Array, rng: Rng): void {
  const h = 1e-2;
  for (const s of p.slots) {
    for (let n = 0; n < 4; n++) {
      const i = s.offset + rng.int(s.size);
      const v = p.values[i];
      p.values[i] = v + h;
      p.touch();
      const up = f();
      p.values[i] = v - h;
      p.touch();
      const down = f();
      p.values[i] = v;
      p.touch();
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - analytic[i]), `${s.name}[${i - s.offset}] fd ${fd} analytic ${analytic[i]}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
  }
}

describe('hand-written gradients match finite differences', () => {
  for (const k of [0, 1]) {
    it(`critic weights (action enters layer ${k})`, () => {
      const rng = new Rng(1);
      const p = new FlatParams(criticSpecs(OBS, [5, 4], ACT, k, null));
      p.init(rng);
      const x = data(rng, B * OBS);
      const a = data(rng, B * ACT);
      const y = data(rng, B);
      const loss = () =>
        tf.tidy(() => {
          const q = criticForward(p, tf.tensor2d(x, [B, OBS]), tf.tensor2d(a, [B, ACT]), 2, k).q.dataSync();
          let l = 0;
          for (let i = 0; i < B; i++) l += (q[i] - y[i]) ** 2 / B;
          return l;
        });
      const g = new Float32Array(p.size);
      tf.tidy(() => {
        const at = tf.tensor2d(a, [B, ACT]);
        const f = criticForward(p, tf.tensor2d(x, [B, OBS]), at, 2, k);
        const q = f.q.dataSync();
        const dq = Float32Array.from(q, (v, i) => (2 * (v - y[i])) / B);
        p.gather(criticBackward(p, f, at, tf.tensor2d(dq, [B, 1]), 2, k, false).grads, g);
      });
      checkAgainstFd(p, loss, g, rng);
    });

    it(`actor through the critic, -mean Q(s, mu(s)) (action layer ${k})`, () => {
      const rng = new Rng(2);
      const actor = new FlatParams(actorSpecs(OBS, [6, 5], ACT, null));
      actor.init(rng);
      const critic = new FlatParams(criticSpecs(OBS, [5, 4], ACT, k, null));
      critic.init(rng);
      const x = data(rng, B * OBS);
      const loss = () =>
        tf.tidy(() => {
          const s = tf.tensor2d(x, [B, OBS]);
          const mu = actorForward(actor, s, 2)[3];
          return -tf.mean(criticForward(critic, s, mu, 2, k).q).dataSync()[0];
        });
      const g = new Float32Array(actor.size);
      tf.tidy(() => {
        const s = tf.tensor2d(x, [B, OBS]);
        const acts = actorForward(actor, s, 2);
        // The shared obs-part comes from a critic forward on any action (here zeros).
        const f = criticForward(critic, s, tf.zeros([B, ACT]), 2, k);
        const { dAction } = criticActionGrad(critic, f, acts[3], 2, k, B);
        actor.gather(actorBackward(actor, acts, dAction, 2, false).grads, g);
      });
      checkAgainstFd(actor, loss, g, rng);
    });
  }
});
