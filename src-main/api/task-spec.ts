/**
 * The declarative task spec: the JSON file (`<name>.task.json`) a user drops beside an MJCF model to
 * turn it into a task without running any code. It plays the part of a dm_control task module
 * (initialise, observe, reward, terminate), as data. Names (joints, sites, bodies, sensors, cameras)
 * are checked against the compiled model when the env loads.
 *
 * No Node imports here: the renderer imports this file to validate dragged-in files.
 */
import { z } from 'zod';

const Name = z.string().min(1).max(128);
const Finite = z.number().refine(Number.isFinite, 'must be a finite number');
/** JSON has no infinity: bounds accept the strings "inf" / "-inf" for open intervals. */
const Bound = z.union([Finite, z.literal('inf'), z.literal('-inf')]);
const Axis = z.enum(['x', 'y', 'z']);

/** A point in the world: a site, a body's origin (`frame: "origin"`) or centre of mass (`"com"`), or a geom. */
export const PointSchema = z.union([
  z.object({ site: Name }).strict(),
  z.object({ body: Name, frame: z.enum(['origin', 'com']).default('origin') }).strict(),
  z.object({ geom: Name }).strict(),
]);
export type Point = z.infer<typeof PointSchema>;

/** Entries of a body's rotation matrix (xmat), row-major as in dm_control (`zz` = cosine of tilt from vertical). */
export const XmatEntry = z.enum(['xx', 'xy', 'xz', 'yx', 'yy', 'yz', 'zx', 'zy', 'zz']);

/**
 * A quantity read from the simulation: scalar or vector. Used by reward terms and termination
 * conditions.
 */
export const QuantitySchema = z.discriminatedUnion('type', [
  /** Generalised position of hinge/slide joints (radians / metres). `wrap` folds angles into [-pi, pi]. */
  z.object({ type: z.literal('joint_pos'), joints: z.array(Name).min(1), wrap: z.boolean().default(false) }).strict(),
  /** Generalised velocity of hinge/slide joints. */
  z.object({ type: z.literal('joint_vel'), joints: z.array(Name).min(1) }).strict(),
  /** A sensor's output (all of it, or the entries listed in `index`). */
  z.object({ type: z.literal('sensor'), sensor: Name, index: z.array(z.number().int().min(0)).optional() }).strict(),
  /** World position of a point along the given axes. */
  z.object({ type: z.literal('position'), point: PointSchema, axes: z.array(Axis).min(1).default(['x', 'y', 'z']) }).strict(),
  /** `to - from` in world coordinates along the given axes. */
  z.object({ type: z.literal('relative'), from: PointSchema, to: PointSchema, axes: z.array(Axis).min(1).default(['x', 'y', 'z']) }).strict(),
  /** Euclidean distance between two points (optionally only in the listed axes). */
  z.object({ type: z.literal('distance'), from: PointSchema, to: PointSchema, axes: z.array(Axis).min(1).default(['x', 'y', 'z']) }).strict(),
  /** The body's z-axis projected on world z (xmat zz): 1 upright, -1 upside down (dm_control `upright`). */
  z.object({ type: z.literal('upright'), body: Name }).strict(),
  /** Linear velocity of a body's centre of mass along a world axis (m/s). */
  z.object({ type: z.literal('body_speed'), body: Name, axis: Axis }).strict(),
  /** The agent's action in [-1, 1] (one entry per actuator). */
  z.object({ type: z.literal('control') }).strict(),
  /** The constant 1 (an alive bonus when scaled). */
  z.object({ type: z.literal('alive') }).strict(),
]);
export type Quantity = z.infer<typeof QuantitySchema>;

/** dm_control `rewards.tolerance` sigmoids. */
export const SigmoidSchema = z.enum(['gaussian', 'hyperbolic', 'long_tail', 'reciprocal', 'cosine', 'linear', 'quadratic', 'tanh_squared']);
export type Sigmoid = z.infer<typeof SigmoidSchema>;

/**
 * dm_control's tolerance(x, bounds, margin, sigmoid, value_at_margin): 1 inside bounds, falling
 * off with the sigmoid to `value_at_margin` at distance `margin` outside them (0 outside when margin
 * is 0). Defaults are dm_control's.
 */
export const ToleranceSchema = z
  .object({
    bounds: z.tuple([Bound, Bound]).default([0, 0]),
    margin: Finite.min(0).default(0),
    sigmoid: SigmoidSchema.default('gaussian'),
    value_at_margin: Finite.min(0).max(1).default(0.1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const lo = t.bounds[0] === 'inf' ? Infinity : t.bounds[0] === '-inf' ? -Infinity : t.bounds[0];
    const hi = t.bounds[1] === 'inf' ? Infinity : t.bounds[1] === '-inf' ? -Infinity : t.bounds[1];
    if (lo > hi) ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'lower bound is above the upper bound' });
    if (t.margin > 0) {
      const v = t.value_at_margin;
      // As in dm_control: these sigmoids reach 0 only at infinity, so value_at_margin must be in (0, 1).
      const open = ['gaussian', 'hyperbolic', 'long_tail', 'reciprocal', 'tanh_squared'].includes(t.sigmoid);
      if (open ? !(v > 0 && v < 1) : !(v >= 0 && v < 1)) {
        ctx.addIssue({ code: 'custom', path: ['value_at_margin'], message: `must be in ${open ? '(0, 1)' : '[0, 1)'} for the ${t.sigmoid} sigmoid` });
      }
    }
  });
export type Tolerance = z.infer<typeof ToleranceSchema>;

/**
 * A reward leaf: `offset + scale * reduce(tolerance ? tolerance(q) : q)`. E.g. dm_control's
 * cartpole `(1 + upright) / 2` is `{quantity: {type: "upright", ...}, offset: 0.5, scale: 0.5}`,
 * a control cost is `{quantity: {type: "control"}, reduce: "sumsq", scale: -0.1}`.
 */
export const RewardTermSchema = z
  .object({
    quantity: QuantitySchema,
    tolerance: ToleranceSchema.optional(),
    /** How a vector becomes a scalar; `first` takes entry 0 (a scalar quantity needs none). */
    reduce: z.enum(['mean', 'min', 'max', 'sum', 'sumsq', 'norm', 'first']).default('mean'),
    scale: Finite.default(1),
    offset: Finite.default(0),
  })
  .strict();
export type RewardTerm = z.infer<typeof RewardTermSchema>;

export type RewardNode =
  | RewardTerm
  | { product: RewardNode[] }
  | { sum: RewardNode[]; weights?: number[] };

/** Rewards are terms combined by products and (weighted) sums, nested as deep as needed. */
export const RewardNodeSchema: z.ZodType<RewardNode> = z.lazy(() =>
  z.union([
    z.object({ product: z.array(RewardNodeSchema).min(1).max(32) }).strict(),
    z
      .object({ sum: z.array(RewardNodeSchema).min(1).max(32), weights: z.array(Finite).optional() })
      .strict()
      .refine((s) => !s.weights || s.weights.length === s.sum.length, { message: 'weights must have one entry per summed term', path: ['weights'] }),
    RewardTermSchema,
  ]),
) as z.ZodType<RewardNode>;

/** One named part of the observation vector. */
export const ObservationSchema = z.discriminatedUnion('type', [
  /** Joint positions (all joints in model order, or `joints`), minus `exclude` (e.g. the runner's x). */
  z.object({ name: Name, type: z.literal('qpos'), joints: z.array(Name).optional(), exclude: z.array(Name).default([]) }).strict(),
  z.object({ name: Name, type: z.literal('qvel'), joints: z.array(Name).optional(), exclude: z.array(Name).default([]) }).strict(),
  /** Sensor outputs; `log1p` compresses touch sensors as dm_control does. */
  z.object({ name: Name, type: z.literal('sensors'), sensors: z.array(Name).min(1), transform: z.enum(['none', 'log1p']).default('none') }).strict(),
  /** World positions of points (sites, bodies, geoms). */
  z.object({ name: Name, type: z.literal('positions'), points: z.array(PointSchema).min(1), axes: z.array(Axis).min(1).default(['x', 'y', 'z']) }).strict(),
  /** `to - from` in world coordinates (e.g. finger to target). */
  z.object({ name: Name, type: z.literal('relative'), from: PointSchema, to: PointSchema, axes: z.array(Axis).min(1).default(['x', 'y', 'z']) }).strict(),
  /** Entries of body rotation matrices (all bodies but the world when `bodies` is omitted), as dm_control's orientations. */
  z.object({ name: Name, type: z.literal('orientations'), bodies: z.array(Name).optional(), entries: z.array(XmatEntry).min(1) }).strict(),
  /** Linear (centre of mass) and/or angular velocity of bodies in world axes. */
  z.object({ name: Name, type: z.literal('body_velocity'), bodies: z.array(Name).min(1), kind: z.enum(['linear', 'angular', 'both']).default('linear') }).strict(),
  /** World height (z) of points. */
  z.object({ name: Name, type: z.literal('height'), points: z.array(PointSchema).min(1) }).strict(),
]);
export type Observation = z.infer<typeof ObservationSchema>;

/** The episode ends (terminated, bootstrap 0) when a quantity leaves [above, below]. */
export const TerminationSchema = z
  .object({
    quantity: QuantitySchema,
    reduce: z.enum(['mean', 'min', 'max', 'sum', 'sumsq', 'norm', 'first']).default('first'),
    /** Terminate when the value is below this. */
    below: Finite.optional(),
    /** Terminate when the value is above this. */
    above: Finite.optional(),
  })
  .strict()
  .refine((t) => t.below !== undefined || t.above !== undefined, { message: 'give `below` and/or `above`' });
export type Termination = z.infer<typeof TerminationSchema>;

const Range = z.tuple([Finite, Finite]).refine(([a, b]) => a <= b, 'first value must not exceed the second');

/** Initial-state randomisation, applied in order after the state is reset to the model's qpos0. */
export const InitStepSchema = z.discriminatedUnion('type', [
  /**
   * dm_control's randomize_limited_and_rotational_joints: limited hinge/slide joints uniform in their
   * range, unlimited hinges uniform in [-pi, pi], balls and free-joint orientations uniformly random.
   */
  z.object({ type: z.literal('joints_in_range'), joints: z.array(Name).optional() }).strict(),
  /** Set (or with `add`, perturb) joint positions: uniform in `uniform`, or normal with std `normal`. */
  z.object({ type: z.literal('qpos'), joints: z.array(Name).min(1), uniform: Range.optional(), normal: Finite.min(0).optional(), value: Finite.optional(), add: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('qvel'), joints: z.array(Name).optional(), uniform: Range.optional(), normal: Finite.min(0).optional() }).strict(),
  /** Move a body fixed to the world (e.g. a target) to a random point of a disc/annulus in its xy plane, as reacher does. */
  z.object({ type: z.literal('body_in_disc'), body: Name, radius: Range, angle: Range.default([0, 2 * Math.PI]) }).strict(),
  /** Put a point on two slide joints (x, y) at a random place of a disc/annulus: a target whose place is part of qpos. */
  z.object({ type: z.literal('joints_in_disc'), joints: z.tuple([Name, Name]), radius: Range, angle: Range.default([0, 2 * Math.PI]) }).strict(),
  /** Let the model settle for n physics steps with zero control, then reset the clock (dm_control cheetah: 200). */
  z.object({ type: z.literal('settle'), steps: z.number().int().min(1).max(10_000) }).strict(),
  /** Redraw all previous randomisation until no contacts remain (dm_control finger: up to 1000 tries). */
  z.object({ type: z.literal('reject_contacts'), tries: z.number().int().min(1).max(1000).default(1000) }).strict(),
]);
export type InitStep = z.infer<typeof InitStepSchema>;

export const TaskSpecSchema = z
  .object({
    /** Format version of this file. */
    version: z.literal(1).default(1),
    /** Short human name (the id comes from the file name). */
    name: z.string().min(1).max(120),
    description: z.string().max(2000).default(''),
    /** Physics steps per agent step (the control timestep is model timestep x frame_skip). */
    frame_skip: z.number().int().min(1).max(1000).default(1),
    /** Agent steps before the episode is truncated. */
    episode_length: z.number().int().min(1).max(1_000_000).default(1000),
    observations: z.array(ObservationSchema).min(1).max(64),
    reward: RewardNodeSchema,
    termination: z.array(TerminationSchema).max(32).default([]),
    init: z.array(InitStepSchema).max(32).default([]),
    /** Camera used for pixel observations (must be a named camera in the MJCF). */
    camera: Name.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.observations.forEach((o, i) => {
      if (seen.has(o.name)) ctx.addIssue({ code: 'custom', path: ['observations', i, 'name'], message: `duplicate observation name '${o.name}'` });
      seen.add(o.name);
    });
    s.init.forEach((st, i) => {
      if (st.type === 'qpos' && [st.uniform, st.normal, st.value].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['init', i], message: 'give exactly one of `uniform`, `normal`, `value`' });
      }
      if (st.type === 'qvel' && [st.uniform, st.normal].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['init', i], message: 'give exactly one of `uniform`, `normal`' });
      }
    });
  });
/** A parsed task spec (defaults filled in). */
export type TaskSpec = z.infer<typeof TaskSpecSchema>;
/** A task spec as written in the JSON file (defaults optional). */
export type TaskSpecInput = z.input<typeof TaskSpecSchema>;

/** Summary of an environment, as listed by `envs list` and the studio's env picker. */
export interface EnvSummary {
  id: string;
  name: string;
  source: 'builtin' | 'user' | 'path';
  obsSize: number;
  actionSize: number;
  episodeLength: number;
  frameSkip: number;
  /** Seconds per agent step. */
  controlTimestep: number;
  description: string;
  /** Camera for pixel observations, when the task names one. */
  camera?: string;
}

/** Result of validating an env's files (drag-in or `envs validate`). */
export interface EnvValidation {
  ok: boolean;
  errors: { file?: string; field?: string; message: string }[];
  info?: EnvSummary & { obsParts: { name: string; offset: number; size: number }[]; actuators: string[]; warnings: string[] };
}
