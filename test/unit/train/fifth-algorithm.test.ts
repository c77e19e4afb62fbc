/**
 * The "one folder" proof: an algorithm the code has never heard of, registered here the way a
 * learn/algos/<id>/ module is (a spec with its schema and metric, a constructor, its policy), trains
 * through the same run config, trainer, run store and StudioApi as the shipped ones: its own
 * metric lands in metrics.jsonl, in the progress events and in getRun's metric descriptions, and
 * its policy exports. Nothing outside this file names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudioService } from '../../../src-main/service/studio-service.ts';
import { z } from 'zod';
import type { TrainEvent } from '../../../src-main/api/events.ts';
import type { MetricSeriesSet, PolicyExport, RunView } from '../../../src-main/api/studio-api.ts';
import type { RunSummary } from '../../../src-main/api/runs.ts';
import { registerAlgorithm } from '../../../src-main/learn/algos/index.ts';
import { common, num, withDefaults, type AlgorithmSpec } from '../../../src-main/learn/algos/spec.ts';
import type { Algorithm } from '../../../src-main/learn/algos/algorithm.ts';
import { FlatParams } from '../../../src-main/learn/nets/params.ts';
import type { Agent, AgentState, Batch, UpdateStats } from '../../../src-main/learn/types.ts';
import { Rng } from '../../../src-main/util/rng.ts';
import { ControlState, runSession } from '../../../src-main/train/session.ts';
import { callOk, closeTempService, openTempService, type TempService } from '../service/temp-service.ts';

const LinearFields = z.strictObject({
  lr: num(1e-6, 1, 'SGD learning rate of the policy'),
  gamma: common.gamma,
  tau: common.tau,
  batchSize: common.batchSize,
  replayCapacity: common.replayCapacity,
  finalLayerInit: common.finalLayerInit,
  updatesPerStep: common.updatesPerStep,
  learningStarts: common.learningStarts,
  randomSteps: common.randomSteps,
  prioritizedReplay: common.prioritizedReplay,
  priorityAlpha: common.priorityAlpha,
  priorityBeta: common.priorityBeta,
  obsNormalization: common.obsNormalization,
});
type LinearHyperparams = z.output<typeof LinearFields>;
const LINEAR_DEFAULTS: LinearHyperparams = {
  lr: 0.05,
  gamma: 0.99,
  tau: 0.005,
  batchSize: 32,
  replayCapacity: 10_000,
  finalLayerInit: 0.1,
  updatesPerStep: 1,
  learningStarts: 100,
  randomSteps: 100,
  prioritizedReplay: false,
  priorityAlpha: 0.6,
  priorityBeta: 0.4,
  obsNormalization: false,
};

/**
 * Reward-weighted regression (Peters & Schaal 2007) of a linear tanh policy a = tanh(s W + b): the
 * replayed actions are imitated with weights softmax(r) over the batch. One metric: rwr_loss.
 */
class LinearRwrAgent implements Agent {
  readonly algo = 'linear-rwr';
  readonly obsNorm = null;
  readonly policy: FlatParams;
  private updates = 0;
  constructor(
    readonly obsSize: number,
    readonly actionSize: number,
    readonly hp: LinearHyperparams,
    seed: number,
  ) {
    this.policy = new FlatParams([
      { name: 'out.W', shape: [obsSize, actionSize], bound: hp.finalLayerInit ?? 0.1, decay: true },
      { name: 'out.b', shape: [actionSize], bound: 0, decay: false },
    ]);
    this.policy.init(new Rng(seed));
  }
  act(obs: Float32Array): Float32Array {
    const W = this.policy.view('out.W');
    const b = this.policy.view('out.b');
    const a = new Float32Array(this.actionSize);
    for (let j = 0; j < this.actionSize; j++) {
      let z = b[j];
      for (let i = 0; i < this.obsSize; i++) z += obs[i] * W[i * this.actionSize + j];
      a[j] = Math.tanh(z);
    }
    return a;
  }
  resetEpisode(): void {}
  update(batch: Batch): UpdateStats {
    const { obsSize: O, actionSize: A } = this;
    const W = this.policy.view('out.W');
    const b = this.policy.view('out.b');
    const maxR = Math.max(...batch.rewards.subarray(0, batch.size));
    const w = Array.from(batch.rewards.subarray(0, batch.size), (r) => Math.exp(r - maxR));
    const sumW = w.reduce((x, y) => x + y, 0);
    const gW = new Float32Array(W.length);
    const gb = new Float32Array(A);
    let loss = 0;
    for (let r = 0; r < batch.size; r++) {
      const s = batch.obs.subarray(r * O, (r + 1) * O);
      const a = this.act(s);
      for (let j = 0; j < A; j++) {
        const err = a[j] - batch.actions[r * A + j];
        loss += (w[r] / sumW) * err * err;
        const dz = (w[r] / sumW) * 2 * err * (1 - a[j] * a[j]);
        gb[j] += dz;
        for (let i = 0; i < O; i++) gW[i * A + j] += dz * s[i];
      }
    }
    for (let k = 0; k < W.length; k++) W[k] -= this.hp.lr * gW[k];
    for (let j = 0; j < A; j++) b[j] -= this.hp.lr * gb[j];
    this.updates++;
    return { metrics: { rwr_loss: loss } };
  }
  getState(): AgentState {
    return {
      algo: this.algo,
      tensors: { policy: { shape: [this.policy.size], data: this.policy.values.slice() } },
      meta: { updates: this.updates },
    };
  }
  setState(state: AgentState): void {
    this.policy.values.set(state.tensors.policy.data);
    this.updates = state.meta.updates as number;
  }
  dispose(): void {
    this.policy.dispose();
  }
}

const RWR_LOSS = 'reward-weighted squared error between the policy and the replayed actions';
const linearSpec: AlgorithmSpec<LinearHyperparams> = {
  id: 'linear-rwr',
  label: 'Linear RWR',
  paper: { cite: 'Peters & Schaal 2007', title: 'Reinforcement learning by reward-weighted regression' },
  schema: withDefaults(LinearFields, LINEAR_DEFAULTS),
  paperDefaults: LINEAR_DEFAULTS,
  defaults: LINEAR_DEFAULTS,
  presets: { 'linear-rwr-paper': { hyperparams: LINEAR_DEFAULTS, obs: 'lowdim', description: 'the test values' } },
  pixelDefaults: null,
  metrics: { rwr_loss: { label: 'RWR loss', description: RWR_LOSS } },
};
const linear: Algorithm<LinearHyperparams, LinearRwrAgent> = {
  ...linearSpec,
  create: (o) => new LinearRwrAgent(o.obsSize, o.actionSize, o.hp, o.seed),
  policy: (agent) => ({ params: agent.policy, hidden: [], out: { prefix: 'out' }, encoderPrefix: 'encoder.policy.' }),
};

describe('an algorithm registered from outside the shipped ones', () => {
  let temp: TempService | undefined;
  let service: StudioService;

  beforeAll(async () => {
    registerAlgorithm(linear);
    temp = await openTempService('algos-17a-fifth-');
    ({ service } = temp);
  });

  afterAll(() => closeTempService(temp));

  const call = <T>(method: string, params: unknown): Promise<T> => callOk<T>(service, method, params);

  it('trains through the run config, trainer and run store; its metric reaches metrics.jsonl, the events and getRun', async () => {
    // Its own schema checks its hyperparameters, as for the shipped algorithms.
    const bad = await service.dispatch('createRun', {
      config: { env: 'pendulum', algo: 'linear-rwr', hyperparams: { lr: 5 } },
      start: false,
    });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain('hyperparams.lr');

    const [run] = await call<(RunSummary & { dir: string })[]>('createRun', {
      config: {
        env: 'pendulum',
        algo: 'linear-rwr',
        steps: 600,
        evalEvery: 600,
        evalEpisodes: 1,
        checkpointEvery: 600,
        hyperparams: { batchSize: 16 },
      },
      start: false,
    });
    const events: TrainEvent[] = [];
    const end = await runSession({ runDir: run.dir }, new ControlState(), (e) => events.push(e));
    expect(end.status).toBe('done');

    const records = readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const updates = records.filter((r) => r.kind === 'update');
    // 500 learning steps (after the 100 warm-up steps) in windows of 200 steps.
    expect(updates.length).toBeGreaterThanOrEqual(2);
    for (const u of updates) {
      expect(u.rwr_loss).toEqual(expect.any(Number));
      expect(Number.isFinite(u.rwr_loss)).toBe(true);
      // No fixed metric of the shipped algorithms is made up for it.
      expect(u).not.toHaveProperty('critic_loss');
      expect(u).not.toHaveProperty('q');
    }
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)!.metrics.rwr_loss).toEqual(expect.any(Number));

    const view = await call<RunView>('getRun', { id: run.id, metrics: 'none' });
    expect(view.summary.algo).toBe('linear-rwr');
    expect(view.metricInfo.rwr_loss).toEqual({ label: 'RWR loss', description: RWR_LOSS });
    const series = await call<MetricSeriesSet>('getMetricSeries', { id: run.id, keys: ['rwr_loss'] });
    expect(series.series.rwr_loss.value).toHaveLength(updates.length);
  });

  it('exports its policy through its own description of the policy network', async () => {
    const [summary] = await call<RunSummary[]>('listRuns', {});
    const exported = await call<PolicyExport>('exportPolicy', { id: summary.id, format: 'json' });
    const doc = JSON.parse(Buffer.from(exported.base64, 'base64').toString('utf8')) as {
      layers: { type: string; inSize?: number; outSize?: number }[];
    };
    expect(exported.meta).toMatchObject({ algo: 'linear-rwr' });
    expect(doc.layers.map((l) => l.type)).toEqual(['dense', 'tanh', 'actionScale']);
    expect(doc.layers[0]).toMatchObject({ inSize: 3, outSize: 1 });
  });
});
