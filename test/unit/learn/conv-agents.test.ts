import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/learn/exec/backend.ts';
import { createPixelAgent } from '../../../src-main/learn/algos/pixel-agent.ts';
import {
  DetachedEncoder,
  TensorConvEncoder,
  type ConvEncoder,
  PixelEncoder,
  pixelConvDims,
  PIXEL_CONV_DEFAULTS,
} from '../../../src-main/learn/nets/pixel-nets.ts';
import { PixelReplay } from '../../../src-main/learn/replay/pixel-replay.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import type { Agent } from '../../../src-main/learn/types.ts';

beforeAll(async () => {
  await selectBackend({ backend: 'wasm' });
});

const SHAPE = { height: 16, width: 16, channels: 9 };
const LAYERS = [
  { kernel: 4, stride: 2, filters: 8 },
  { kernel: 3, stride: 1, filters: 8 },
  { kernel: 3, stride: 1, filters: 8 },
];

function filledReplay(rng: Rng, actionSize: number): PixelReplay {
  const buf = new PixelReplay({ capacity: 64, height: 16, width: 16, stack: 3, newFramesPerStep: 3, actionSize });
  let id = 0;
  const obs = () => ({ ids: [id++, id++, id++], frames: Uint8Array.from({ length: 3 * 16 * 16 * 3 }, () => (rng.uniform() * 256) | 0) });
  let o = obs();
  for (let t = 0; t < 64; t++) {
    const n = obs();
    buf.add(
      o,
      Array.from({ length: actionSize }, () => rng.range(-1, 1)),
      rng.uniform(),
      n,
      false,
    );
    o = n;
  }
  return buf;
}

type AnyEncoder = ConvEncoder | DetachedEncoder;

/** The agent's encoders: NAF [net, target]; DDPG/TD3 [actor, actor target, critics..., critic targets...]. */
function encoders(agent: Agent): AnyEncoder[] {
  const a = agent as unknown as {
    enc: PixelEncoder | { actor: AnyEncoder; actorTarget: AnyEncoder; critics: PixelEncoder[]; criticTargets: PixelEncoder[] };
    encTarget?: PixelEncoder;
  };
  if (a.enc instanceof PixelEncoder) return [a.enc, a.encTarget!];
  return [a.enc.actor, a.enc.actorTarget, ...a.enc.critics, ...a.enc.criticTargets];
}

/** The torsos that train (and their targets): NAF [net, target], DDPG [critic, critic target]. */
function torsos(agent: Agent): PixelEncoder[] {
  const e = encoders(agent);
  return e.length === 2 ? (e as PixelEncoder[]) : [e[2] as PixelEncoder, e[3] as PixelEncoder];
}

describe('pixel networks', () => {
  it('default torso: 3 conv layers of 32 filters on 9 x 64 x 64 (and 84 x 84)', () => {
    const d64 = pixelConvDims({ height: 64, width: 64, channels: 9 }, PIXEL_CONV_DEFAULTS);
    expect(d64.map((d) => [d.outH, d.outC])).toEqual([
      [16, 32],
      [7, 32],
      [5, 32],
    ]);
    const d84 = pixelConvDims({ height: 84, width: 84, channels: 9 }, PIXEL_CONV_DEFAULTS);
    expect(d84[2].outH).toBe(8);
    expect(() => pixelConvDims({ height: 8, width: 8, channels: 9 }, PIXEL_CONV_DEFAULTS)).toThrow(/smaller than the kernel/);
  });

  for (const algo of ['ddpg', 'naf'] as const) {
    it(`${algo}: updates train the conv torsos on wasm, leak no tensors, and the state round-trips`, () => {
      const rng = new Rng(3);
      const A = 2;
      // DDPG with the paper's one critic and critic rate (the pixel defaults train twin critics at 3e-4).
      const hyperparams = { batchSize: 8, ...(algo === 'ddpg' ? { twinCritics: false, criticLr: 1e-3 } : {}) };
      const agent = createPixelAgent({ algo, shape: SHAPE, actionSize: A, seed: 4, layers: LAYERS, hyperparams });
      const again = createPixelAgent({ algo, shape: SHAPE, actionSize: A, seed: 4, layers: LAYERS, hyperparams });
      try {
        // The paper's heads: 2 x 200 fully connected after the convs, final layer init 3e-4.
        const hp = (agent as unknown as { hp: Record<string, unknown> }).hp;
        expect(algo === 'naf' ? hp.hidden : hp.actorHidden).toEqual([200, 200]);
        expect(hp.finalLayerInit).toBe(3e-4);
        // DDPG: the actor reads the critic's torso (and the actor target the critic target's),
        // detached; each torso trains at the rate of the network that owns it.
        const encs = encoders(agent);
        if (algo === 'ddpg') {
          const [actor, actorTarget, critic, criticTarget] = encs;
          expect(actor).toBeInstanceOf(DetachedEncoder);
          expect((actor as DetachedEncoder).source).toBe(critic);
          expect((actorTarget as DetachedEncoder).source).toBe(criticTarget);
          expect(actor.trainable).toBe(false);
        }
        // DDPG's critic rate 1e-3; NAF's one rate, 3e-4 by default.
        const lr = algo === 'naf' ? 3e-4 : 1e-3;
        expect(torsos(agent).map((e) => e.opt.lr)).toEqual([lr, lr]);
        const buf = filledReplay(rng, A);
        const batch = buf.makeBatch(8);
        const [trained, target] = torsos(agent);
        const w0 = trained.params.values.slice();
        const t0 = target.params.values.slice();
        expect(Array.from(w0)).toEqual(Array.from(t0));
        agent.update(buf.sample(rng, batch));
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) {
          const s = agent.update(buf.sample(rng, batch));
          expect(Number.isFinite(s.metrics.critic_loss)).toBe(true);
        }
        expect(tf.memory().numTensors).toBe(before);
        let moved = 0;
        for (let i = 0; i < w0.length; i++) if (trained.params.values[i] !== w0[i]) moved++;
        expect(moved).toBeGreaterThan(w0.length / 2);
        // Targets follow softly: they moved, by less than the trained torso.
        let dT = 0;
        let dW = 0;
        for (let i = 0; i < w0.length; i++) {
          dT += Math.abs(target.params.values[i] - t0[i]);
          dW += Math.abs(trained.params.values[i] - w0[i]);
        }
        expect(dT).toBeGreaterThan(0);
        expect(dT).toBeLessThan(dW);
        const obs = buf.sample(rng, buf.makeBatch(1)).obs;
        again.setState(agent.getState());
        expect(Array.from(again.act(obs, false))).toEqual(Array.from(agent.act(obs, false)));
      } finally {
        agent.dispose();
        again.dispose();
      }
    });
  }

  it("ddpg with TensorFlow.js's own conv kernels (the tensorflow backend's path, here on cpu): trains, leaks no tensors, acts as the arena torso with the same weights", async () => {
    await tf.setBackend('cpu');
    try {
      const rng = new Rng(5);
      const agent = createPixelAgent({
        algo: 'ddpg',
        shape: SHAPE,
        actionSize: 2,
        seed: 4,
        layers: LAYERS,
        hyperparams: { batchSize: 8 },
        trunk: 8,
        trunkNorm: true,
        kernels: 'native',
      });
      const arena = createPixelAgent({
        algo: 'ddpg',
        shape: SHAPE,
        actionSize: 2,
        seed: 4,
        layers: LAYERS,
        hyperparams: { batchSize: 8 },
        trunk: 8,
        trunkNorm: true,
        kernels: 'arena',
      });
      try {
        expect(torsos(agent)[0]).toBeInstanceOf(TensorConvEncoder);
        const buf = filledReplay(rng, 2);
        const batch = buf.makeBatch(8);
        agent.update(buf.sample(rng, batch));
        const before = tf.memory().numTensors;
        const w0 = torsos(agent)[0].readParams();
        for (let i = 0; i < 3; i++) expect(Number.isFinite(agent.update(buf.sample(rng, batch)).metrics.critic_loss)).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        expect(
          torsos(agent)[0]
            .readParams()
            .some((v, i) => v !== w0[i]),
        ).toBe(true);
        arena.setState(agent.getState());
        const obs = buf.sample(rng, buf.makeBatch(1)).obs;
        const a = agent.act(obs, false);
        const b = arena.act(obs, false);
        for (let j = 0; j < 2; j++) expect(Math.abs(a[j] - b[j])).toBeLessThan(1e-5);
      } finally {
        agent.dispose();
        arena.dispose();
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it("td3: the actor and the second critic read the first critic's torso, detached; only the first critic's TD loss trains it", () => {
    const agent = createPixelAgent({ algo: 'td3', shape: SHAPE, actionSize: 1, seed: 2, layers: LAYERS, hyperparams: { batchSize: 8 } });
    try {
      const [actor, actorTarget, c0, c1, t0, t1] = encoders(agent);
      expect(c0).toBeInstanceOf(PixelEncoder);
      expect(t0).toBeInstanceOf(PixelEncoder);
      expect([actor, c1].map((e) => (e as DetachedEncoder).source)).toEqual([c0, c0]);
      expect([actorTarget, t1].map((e) => (e as DetachedEncoder).source)).toEqual([t0, t0]);
      const rng = new Rng(9);
      const buf = filledReplay(rng, 1);
      const batch = buf.makeBatch(8);
      const w0 = (c0 as PixelEncoder).params.values.slice();
      for (let i = 0; i < 2; i++) expect(Number.isFinite(agent.update(buf.sample(rng, batch)).metrics.critic_loss)).toBe(true);
      expect(Array.from((c0 as PixelEncoder).params.values)).not.toEqual(Array.from(w0));
    } finally {
      agent.dispose();
    }
  });

  it("the detached actor reads the features its batch's critic step was computed from, and fresh ones for new observations", () => {
    const rng = new Rng(10);
    const critic = new PixelEncoder(SHAPE, LAYERS, new Rng(11), 1e-2);
    const actor = new DetachedEncoder(critic);
    const n = SHAPE.height * SHAPE.width * SHAPE.channels;
    const obs = Float32Array.from({ length: 4 * n }, () => rng.uniform());
    const other = Float32Array.from({ length: 4 * n }, () => rng.uniform());
    try {
      tf.tidy(() => {
        const before = critic
          .encode(tf.tensor2d(obs, [4, n]))
          .dataSync()
          .slice();
        critic.applyGradient(tf.tensor2d(obs, [4, n]), tf.ones([4, critic.outSize]) as tf.Tensor2D);
        // Same observations (a new tensor of equal values): the pre-step features, as DrQ-v2.
        expect(Array.from(actor.encode(tf.tensor2d(obs, [4, n])).dataSync())).toEqual(Array.from(before));
        // The owner itself recomputes with the stepped weights.
        const after = critic.encode(tf.tensor2d(obs, [4, n])).dataSync();
        expect(Array.from(after)).not.toEqual(Array.from(before));
        // Other observations: a forward with the current weights (equal to a fresh torso's).
        const fresh = new PixelEncoder(SHAPE, LAYERS, new Rng(1), 1e-3);
        fresh.copyFrom(critic);
        expect(Array.from(actor.encode(tf.tensor2d(other, [4, n])).dataSync())).toEqual(
          Array.from(fresh.encode(tf.tensor2d(other, [4, n])).dataSync()),
        );
        fresh.dispose();
      });
    } finally {
      critic.dispose();
    }
  });

  it("actorEncoder 'own' with learning rate 0: a frozen actor torso stays at its initialisation while the critic torso trains", () => {
    const rng = new Rng(8);
    const agent = createPixelAgent({
      algo: 'ddpg',
      shape: SHAPE,
      actionSize: 1,
      seed: 2,
      layers: LAYERS,
      hyperparams: { batchSize: 8 },
      actorEncoder: 'own',
      actorEncoderLr: 0,
    });
    try {
      const [actor, , critic] = encoders(agent) as PixelEncoder[];
      expect(actor.trainable).toBe(false);
      const a0 = actor.params.values.slice();
      const c0 = critic.params.values.slice();
      const buf = filledReplay(rng, 1);
      const batch = buf.makeBatch(8);
      for (let i = 0; i < 2; i++) agent.update(buf.sample(rng, batch));
      expect(Array.from(actor.params.values)).toEqual(Array.from(a0));
      expect(Array.from(critic.params.values)).not.toEqual(Array.from(c0));
    } finally {
      agent.dispose();
    }
  });

  it('refuses observations of another size', () => {
    expect(() =>
      createPixelAgent({
        algo: 'ddpg',
        shape: { height: 16, width: 16, channels: 9 },
        actionSize: 1,
        seed: 1,
        layers: [{ kernel: 32, stride: 1, filters: 4 }],
      }),
    ).toThrow(/smaller than the kernel/);
    const enc = new PixelEncoder(SHAPE, LAYERS, new Rng(1), 1e-3);
    expect(() => tf.tidy(() => enc.encode(tf.zeros([1, 10]) as tf.Tensor2D))).toThrow(/expects 16x16x9/);
    enc.dispose();
  });
});
