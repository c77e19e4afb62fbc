/**
 * Compiles a task spec against a compiled MuJoCo model: every name is resolved to an index once,
 * here, and all naming mistakes are reported together. Observations, reward and terminations read
 * one element table (task-elements.ts); quantities and observation parts are compiled in
 * task-quantities.ts, reward expressions and terminations in task-reward.ts, the initial state in
 * task-init.ts.
 */
import type { TaskSpec } from '../api/task-spec.ts';
import type { ErrorDetail } from '../util/errors.ts';
import type { ObsPart } from './types.ts';
import { OBJ, type Mujoco, type MjData, type MjModel } from './mujoco.ts';
import type { Rng } from '../util/rng.ts';
import type { SimViews } from './views.ts';
import { MAX_GOALS } from './views.ts';
import { Elements } from './task-elements.ts';
import { ModelIndex } from './task-model.ts';
import { QuantityCompiler, type Needs } from './task-quantities.ts';
import { rewardNode, termination, type Test } from './task-reward.ts';
import { drawGoals, initStep } from './task-init.ts';
import { rewardTerms, type TermsCombine } from './reward-terms.ts';

export interface CompiledTask {
  obsSize: number;
  obsParts: ObsPart[];
  /** MuJoCo computations the env must run for this task beyond stepping. */
  needs: Needs;
  /** Whether the reward is computed before the physics steps (Gymnasium Reacher) rather than after. */
  rewardBeforeStep: boolean;
  /** Writes the observation into out[at, at + obsSize). */
  observe(v: SimViews, out: Float32Array, at?: number): void;
  /** The reward; also leaves its top-level terms in `terms` (replay's breakdown). */
  reward(v: SimViews): number;
  /** Labels of the reward's top-level terms and how they combine into it (sim/reward-terms.ts). */
  rewardTerms: { labels: string[]; combine: TermsCombine };
  /** The terms of the last reward() call, one per label (a sum's terms weighted: they add up to the reward). */
  terms: Float64Array;
  terminated(v: SimViews): boolean;
  /** Called before the physics steps of an agent step (displacements compare against this state). */
  beforeStep(v: SimViews): void;
  /** Applies the initial-state randomisation (after mj_resetData), ending with mj_forward. */
  initialise(v: SimViews, rng: Rng): void;
}

export function compileTask(
  mj: Mujoco,
  model: MjModel,
  data: MjData,
  spec: TaskSpec,
  file: string,
): { task?: CompiledTask; errors: ErrorDetail[] } {
  const ix = new ModelIndex(mj, model, data, file, spec.goals);
  const el = new Elements();
  el.perSecond = 1 / (model.opt.timestep * spec.frame_skip);
  const qc = new QuantityCompiler(ix, el);
  if (spec.goals.length > MAX_GOALS) ix.add('goals', `lists ${spec.goals.length} goals; at most ${MAX_GOALS}`);

  // Observations come first, so the observation is elements [0, obsSize).
  const obsParts: ObsPart[] = spec.observations.map((o, i) => {
    const s = qc.observation(o, `observations[${i}]`);
    return { name: o.name, offset: s.from, size: s.to - s.from };
  });
  const obsSize = el.length;

  // Terminations before the reward: a reward gate may read them.
  const terminationTests = spec.termination.map((t, i) => termination(qc, t, `termination[${i}]`));
  const terminated: Test = (v) => {
    for (const t of terminationTests) if (t(v)) return true;
    return false;
  };
  // The reward's top-level terms are kept as it is computed (replay's breakdown).
  const split = rewardTerms(spec.reward);
  const terms = new Float64Array(split.labels.length);
  const combine = split.combine;
  const reward = rewardNode(qc, spec.reward, 'reward', terminated, terms);
  const initSteps = spec.init.map((st, i) => initStep(ix, st, `init[${i}]`));
  if (spec.camera !== undefined) ix.id(OBJ.camera, spec.camera, 'camera');
  if (ix.problems.list.length) return { errors: ix.problems.list };

  const needs = qc.needs;
  /** The acceleration-stage quantities the task reads, for the state just computed by mj_forward. */
  const finishForward = (): void => {
    if (needs.forces) mj.mj_rnePostConstraint(model, data);
    if (needs.subtreeVelocity) mj.mj_subtreeVel(model, data);
  };
  return {
    errors: [],
    task: {
      obsSize,
      obsParts,
      needs,
      rewardBeforeStep: spec.reward_at === 'before_step',
      observe(v, out, at = 0) {
        el.evaluate(0, obsSize, v, out, at);
      },
      reward,
      rewardTerms: { labels: split.labels, combine },
      terms,
      terminated,
      beforeStep(v) {
        el.remember(v);
      },
      initialise(v, rng) {
        drawGoals(spec.goals, v, rng);
        let start = 0;
        let tries = 0;
        for (let k = 0; k < initSteps.length; k++) {
          if (initSteps[k](v, rng) === 'redo') {
            const st = spec.init[k];
            const max = st.type === 'reject_contacts' ? st.tries : 1;
            if (++tries < max) {
              mj.mj_resetData(model, data);
              v.ensure();
              if (start === 0) drawGoals(spec.goals, v, rng);
              k = start - 1;
              continue;
            }
          }
          if (spec.init[k].type === 'reject_contacts') {
            start = k + 1;
            tries = 0;
          }
        }
        mj.mj_forward(model, data);
        finishForward();
        v.ensure();
        el.remember(v);
      },
    },
  };
}
