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

/** A point in the world: a site, a body's origin (`frame: "origin"`) or centre of mass (`"com"`), a geom, or a goal point of the spec. */
export const PointSchema = z.union([
  z.object({ site: Name }).strict(),
  z.object({ body: Name, frame: z.enum(['origin', 'com']).default('origin') }).strict(),
  z.object({ geom: Name }).strict(),
  z.object({ goal: Name }).strict(),
]);
export type Point = z.infer<typeof PointSchema>;

/** Entries of a body's rotation matrix (xmat), row-major as in dm_control (`zz` = cosine of tilt from vertical). */
export const XmatEntry = z.enum(['xx', 'xy', 'xz', 'yx', 'yy', 'yz', 'zx', 'zy', 'zz']);

const Axes = z.array(Axis).min(1).default(['x', 'y', 'z']);

/** Quantities that read the state as it is now (everything but `displacement`). */
const INSTANT_QUANTITIES = [
  /** Generalised position of hinge/slide joints (radians / metres). `wrap` folds angles into [-pi, pi]. */
  z.object({ type: z.literal('joint_pos'), joints: z.array(Name).min(1), wrap: z.boolean().default(false) }).strict(),
  /** Generalised velocity of hinge/slide joints. */
  z.object({ type: z.literal('joint_vel'), joints: z.array(Name).min(1) }).strict(),
  /** Part of a free joint: its position (world), quaternion (w x y z), linear velocity (world) or angular velocity (body frame, as MuJoCo's qvel). */
  z
    .object({
      type: z.literal('free_joint'),
      joint: Name,
      part: z.enum(['position', 'quaternion', 'linear_velocity', 'angular_velocity']),
      axes: Axes,
    })
    .strict(),
  /** Every qpos entry, then every qvel entry (Gymnasium's `state_vector()`). */
  z.object({ type: z.literal('state') }).strict(),
  /** A sensor's output (all of it, or the entries listed in `index`). */
  z.object({ type: z.literal('sensor'), sensor: Name, index: z.array(z.number().int().min(0)).optional() }).strict(),
  /** World position of a point along the given axes. */
  z.object({ type: z.literal('position'), point: PointSchema, axes: Axes }).strict(),
  /** `to - from` in world axes, or with `frame` in the axes of that body (egocentric). */
  z.object({ type: z.literal('relative'), from: PointSchema, to: PointSchema, axes: Axes, frame: Name.optional() }).strict(),
  /** Euclidean distance between two points (optionally only in the listed axes). */
  z.object({ type: z.literal('distance'), from: PointSchema, to: PointSchema, axes: Axes }).strict(),
  /** The body's z-axis projected on world z (xmat zz): 1 upright, -1 upside down (dm_control `upright`). */
  z.object({ type: z.literal('upright'), body: Name }).strict(),
  /** A body's orientation quaternion in the world (w x y z). */
  z.object({ type: z.literal('quaternion'), body: Name }).strict(),
  /** Linear velocity of a body's centre of mass along a world axis (m/s). */
  z.object({ type: z.literal('body_speed'), body: Name, axis: Axis }).strict(),
  /** Centre of mass of a body's subtree (the whole model when `body` is omitted), world axes. */
  z.object({ type: z.literal('com'), body: Name.optional(), axes: Axes }).strict(),
  /** Linear velocity of that centre of mass (MuJoCo's subtree_linvel), world axes. */
  z.object({ type: z.literal('com_velocity'), body: Name.optional(), axes: Axes }).strict(),
  /** External (contact) force and torque on bodies, 6 per body as MuJoCo's cfrc_ext (all bodies but the world when omitted). */
  z.object({ type: z.literal('contact_force'), bodies: z.array(Name).min(1).optional() }).strict(),
  /** Force each actuator applied in the last physics step (actuator units: N or N m). */
  z.object({ type: z.literal('actuator_force'), actuators: z.array(Name).min(1).optional() }).strict(),
  /** Constraint force (joint limits, contacts, equalities) on the joints' degrees of freedom (all when omitted): MuJoCo's qfrc_constraint. */
  z.object({ type: z.literal('constraint_force'), joints: z.array(Name).min(1).optional() }).strict(),
  /** Number of contacts now. */
  z.object({ type: z.literal('contact_count') }).strict(),
  /** The agent's action in [-1, 1] (one entry per actuator). */
  z.object({ type: z.literal('control') }).strict(),
  /** The control in actuator units (the action mapped onto ctrlrange: what Gymnasium's control costs square). */
  z.object({ type: z.literal('ctrl'), actuators: z.array(Name).min(1).optional() }).strict(),
  /** The constant 1 (an alive bonus when scaled). */
  z.object({ type: z.literal('alive') }).strict(),
] as const;

const InstantQuantitySchema = z.discriminatedUnion('type', INSTANT_QUANTITIES);

/**
 * A quantity read from the simulation: scalar or vector. Used by reward terms, terminations and
 * observations. `displacement` is the change of another quantity over the agent step divided by the
 * control timestep ((x_after - x_before) / dt: Gymnasium's forward velocity).
 */
export const QuantitySchema = z.discriminatedUnion('type', [
  ...INSTANT_QUANTITIES,
  z.object({ type: z.literal('displacement'), of: InstantQuantitySchema }).strict(),
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
        ctx.addIssue({
          code: 'custom',
          path: ['value_at_margin'],
          message: `must be in ${open ? '(0, 1)' : '[0, 1)'} for the ${t.sigmoid} sigmoid`,
        });
      }
    }
  });
export type Tolerance = z.infer<typeof ToleranceSchema>;

/** How a vector becomes a scalar; `first` takes entry 0, `max_abs` the largest magnitude. */
export const ReduceSchema = z.enum(['mean', 'min', 'max', 'sum', 'sumsq', 'norm', 'first', 'max_abs']);
export type Reduce = z.infer<typeof ReduceSchema>;

/**
 * A reward leaf: `offset + scale * reduce(tolerance(clip_each(q - minus)))` (minus, clip_each, tolerance optional).
 * E.g. dm_control's cartpole `(1 + upright) / 2` is `{quantity: {type: "upright", ...}, offset:
 * 0.5, scale: 0.5}`; a control cost `{quantity: {type: "ctrl"}, reduce: "sumsq", scale: -0.1}`;
 * Gymnasium's `(y - 2)^2` `{quantity: ..., minus: 2, reduce: "sumsq"}`.
 */
export const RewardTermSchema = z
  .object({
    quantity: QuantitySchema,
    /** Subtracted from the quantity first: one number for every entry, or one per entry. */
    minus: z.union([Finite, z.array(Finite).min(1)]).optional(),
    /** Each entry clipped into [lo, hi] after `minus` (Gymnasium Ant clips contact forces to ±1 before squaring them). */
    clip_each: z.tuple([Bound, Bound]).optional(),
    /** One tolerance for every entry, or one per entry (per-axis bounds). */
    tolerance: z.union([ToleranceSchema, z.array(ToleranceSchema).min(1)]).optional(),
    reduce: ReduceSchema.default('mean'),
    scale: Finite.default(1),
    offset: Finite.default(0),
  })
  .strict();
export type RewardTerm = z.infer<typeof RewardTermSchema>;

/** The episode ends (terminated, bootstrap 0) when a quantity leaves [below, above]. */
export const ConditionSchema = z
  .object({
    quantity: QuantitySchema,
    reduce: ReduceSchema.default('first'),
    /** Holds when the value is below this. */
    below: Finite.optional(),
    /** Holds when the value is above this. */
    above: Finite.optional(),
  })
  .strict()
  .refine((t) => t.below !== undefined || t.above !== undefined, { message: 'give `below` and/or `above`' });
export type Condition = z.infer<typeof ConditionSchema>;

/** Ends the episode when any entry of the state (qpos, qvel) is NaN or infinite (Gymnasium's `np.isfinite(state).all()`). */
export const NotFiniteSchema = z.object({ state_not_finite: z.literal(true) }).strict();

export const TerminationSchema = z.union([NotFiniteSchema, ConditionSchema]);
export type Termination = z.infer<typeof TerminationSchema>;

export type RewardNode =
  | RewardTerm
  | { product: RewardNode[] }
  | { sum: RewardNode[]; weights?: number[] }
  | { min: RewardNode[] }
  | { max: RewardNode[] }
  | { abs: RewardNode }
  | { square: RewardNode }
  | { exp: RewardNode }
  | { clip: RewardNode; range: [number | 'inf' | '-inf', number | 'inf' | '-inf'] }
  | { gate: RewardNode; unless: Condition[] | 'terminated' };

const Nodes = (): z.ZodType<RewardNode[]> => z.array(RewardNodeSchema).min(1).max(32);

/** The shapes of reward node, by the key that tells them apart. */
const REWARD_NODES: Record<string, () => z.ZodType> = {
  product: () => z.object({ product: Nodes() }).strict(),
  sum: () =>
    z
      .object({ sum: Nodes(), weights: z.array(Finite).optional() })
      .strict()
      .refine((s) => !s.weights || s.weights.length === s.sum.length, {
        message: 'weights must have one entry per summed term',
        path: ['weights'],
      }),
  min: () => z.object({ min: Nodes() }).strict(),
  max: () => z.object({ max: Nodes() }).strict(),
  abs: () => z.object({ abs: RewardNodeSchema }).strict(),
  square: () => z.object({ square: RewardNodeSchema }).strict(),
  exp: () => z.object({ exp: RewardNodeSchema }).strict(),
  clip: () => z.object({ clip: RewardNodeSchema, range: z.tuple([Bound, Bound]) }).strict(),
  /** The inner node's value, or 0 while any of the conditions holds ("terminated": the spec's terminations). */
  gate: () =>
    z.object({ gate: RewardNodeSchema, unless: z.union([z.literal('terminated'), z.array(ConditionSchema).min(1).max(32)]) }).strict(),
  quantity: () => RewardTermSchema,
};
const NODE_KINDS = Object.keys(REWARD_NODES);

/**
 * Rewards are terms combined by products, (weighted) sums, min/max, abs, square, exp, clip and gates,
 * nested as deep as needed. The node's kind is told by its key, so a mistake is reported inside the
 * node the user meant (`reward.product[0].quantity.type`), not as "invalid input" for the whole reward.
 */
export const RewardNodeSchema: z.ZodType<RewardNode> = z.lazy(() =>
  z.unknown().transform((v, ctx) => {
    const kinds = v && typeof v === 'object' && !Array.isArray(v) ? NODE_KINDS.filter((k) => k in v) : [];
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a reward node has exactly one of the keys ${NODE_KINDS.map((k) => `"${k}"`).join(', ')}${kinds.length ? ` (this one has ${kinds.join(', ')})` : ''}`,
      });
      return z.NEVER;
    }
    const r = REWARD_NODES[kinds[0]]().safeParse(v);
    if (r.success) return r.data as RewardNode;
    for (const i of r.error.issues)
      ctx.addIssue({ ...(i as object), code: 'custom', message: i.message, path: i.path as PropertyKey[] } as never);
    return z.NEVER;
  }),
) as unknown as z.ZodType<RewardNode>;

/** Applied to every value of an observation part, in this order: transform, then clip (Gymnasium clips qvel to ±10). */
const Post = {
  transform: z.enum(['none', 'log1p', 'sin', 'cos']).default('none'),
  clip: z
    .tuple([Finite, Finite])
    .refine(([a, b]) => a <= b, 'first value must not exceed the second')
    .optional(),
};

/** One named part of the observation vector. */
export const ObservationSchema = z.discriminatedUnion('type', [
  /** Joint positions (all joints in model order, or `joints`), minus `exclude` (e.g. the runner's x). */
  z.object({ name: Name, type: z.literal('qpos'), joints: z.array(Name).optional(), exclude: z.array(Name).default([]), ...Post }).strict(),
  z.object({ name: Name, type: z.literal('qvel'), joints: z.array(Name).optional(), exclude: z.array(Name).default([]), ...Post }).strict(),
  /** Sensor outputs; `log1p` compresses touch sensors as dm_control does. */
  z.object({ name: Name, type: z.literal('sensors'), sensors: z.array(Name).min(1), ...Post }).strict(),
  /** World positions of points (sites, bodies, geoms, goals). */
  z.object({ name: Name, type: z.literal('positions'), points: z.array(PointSchema).min(1), axes: Axes, ...Post }).strict(),
  /** `to - from` in world coordinates (e.g. finger to target), or in a body's axes with `frame`. */
  z
    .object({ name: Name, type: z.literal('relative'), from: PointSchema, to: PointSchema, axes: Axes, frame: Name.optional(), ...Post })
    .strict(),
  /** Entries of body rotation matrices (all bodies but the world when `bodies` is omitted), as dm_control's orientations. */
  z
    .object({ name: Name, type: z.literal('orientations'), bodies: z.array(Name).optional(), entries: z.array(XmatEntry).min(1), ...Post })
    .strict(),
  /** Linear (centre of mass) and/or angular velocity of bodies in world axes. */
  z
    .object({
      name: Name,
      type: z.literal('body_velocity'),
      bodies: z.array(Name).min(1),
      kind: z.enum(['linear', 'angular', 'both']).default('linear'),
      ...Post,
    })
    .strict(),
  /** World height (z) of points. */
  z.object({ name: Name, type: z.literal('height'), points: z.array(PointSchema).min(1), ...Post }).strict(),
  /** Any quantity (e.g. part of a free joint, contact forces, a displacement). */
  z.object({ name: Name, type: z.literal('quantity'), quantity: QuantitySchema, ...Post }).strict(),
]);
export type Observation = z.infer<typeof ObservationSchema>;

const Range = z.tuple([Finite, Finite]).refine(([a, b]) => a <= b, 'first value must not exceed the second');
const Vec3 = z.tuple([Finite, Finite, Finite]);

/** Where a drawn point lands (give one): a fixed point, a box (one range per axis), or a disc/annulus in the xy plane at height `z` (dm_control reacher's draw). */
const Place = {
  value: Vec3.optional(),
  uniform: z.tuple([Range, Range, Range]).optional(),
  /** `uniform_area`: uniform over the annulus's area (Gymnasium reacher's draw) rather than in radius (dm_control's). */
  disc: z
    .object({ radius: Range, angle: Range.default([0, 2 * Math.PI]), z: Finite.default(0), uniform_area: z.boolean().default(false) })
    .strict()
    .optional(),
};

/** A goal point: constant, or drawn at the start of each episode; rewards and observations read it as a point (`{goal: name}`). */
export const GoalSchema = z.object({ name: Name, ...Place }).strict();

/** Initial-state randomisation, applied in order after the state is reset to the model's qpos0 (and the goals are drawn). */
export const InitStepSchema = z.discriminatedUnion('type', [
  /** Start from a keyframe of the MJCF (its qpos, qvel, act, ctrl, mocap). */
  z.object({ type: z.literal('keyframe'), key: Name }).strict(),
  /**
   * dm_control's randomize_limited_and_rotational_joints: limited hinge/slide joints uniform in their
   * range, unlimited hinges uniform in [-pi, pi], balls and free-joint orientations uniformly random.
   */
  z.object({ type: z.literal('joints_in_range'), joints: z.array(Name).optional() }).strict(),
  /**
   * Set (or with `add`, perturb) joint positions: uniform in `uniform`, normal with std `normal`, or
   * `value`. Without `joints`, every qpos entry (free-joint quaternions too, as Gymnasium's reset noise).
   */
  z
    .object({
      type: z.literal('qpos'),
      joints: z.array(Name).min(1).optional(),
      uniform: Range.optional(),
      normal: Finite.min(0).optional(),
      value: Finite.optional(),
      add: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      type: z.literal('qvel'),
      joints: z.array(Name).optional(),
      uniform: Range.optional(),
      normal: Finite.min(0).optional(),
      value: Finite.optional(),
      add: z.boolean().default(false),
    })
    .strict(),
  /** Initial control in actuator units (all actuators, or those listed): what `settle` steps and the first step start from. */
  z.object({ type: z.literal('ctrl'), actuators: z.array(Name).min(1).optional(), value: Finite }).strict(),
  /** Move a body fixed to the world (e.g. a target) to a random point of a disc/annulus in its xy plane, as reacher does. */
  z.object({ type: z.literal('body_in_disc'), body: Name, radius: Range, angle: Range.default([0, 2 * Math.PI]) }).strict(),
  /**
   * Move a geom, site or body (its position in its parent's frame: the world's for a world child) to a
   * goal point or a drawn place: dm_control reacher moves its target geom, finger-turn its target site.
   */
  z
    .object({
      type: z.literal('move'),
      geom: Name.optional(),
      site: Name.optional(),
      body: Name.optional(),
      goal: Name.optional(),
      ...Place,
    })
    .strict(),
  /** Put a point on two slide joints (x, y) at a random place of a disc/annulus: a target whose place is part of qpos. */
  z
    .object({
      type: z.literal('joints_in_disc'),
      joints: z.tuple([Name, Name]),
      radius: Range,
      angle: Range.default([0, 2 * Math.PI]),
      uniform_area: z.boolean().default(false),
    })
    .strict(),
  /** Let the model settle for n physics steps with the current control (zero unless a `ctrl` step set it), then reset the clock (dm_control cheetah: 200). */
  z.object({ type: z.literal('settle'), steps: z.number().int().min(1).max(10_000) }).strict(),
  /** Redraw all previous randomisation until no contacts remain (dm_control finger: up to 1000 tries). */
  z.object({ type: z.literal('reject_contacts'), tries: z.number().int().min(1).max(1000).default(1000) }).strict(),
]);
export type InitStep = z.infer<typeof InitStepSchema>;
export type Goal = z.infer<typeof GoalSchema>;

/** Versions of the task-spec format this build reads. 2 adds to 1 and changes nothing in it: a version-1 file means the same read as 2. */
export const SPEC_VERSIONS = [1, 2] as const;

export const TaskSpecSchema = z
  .object({
    /** Format version of this file. */
    version: z.union([z.literal(1), z.literal(2)]).default(1),
    /** Short human name (the id comes from the file name). */
    name: z.string().min(1).max(120),
    description: z.string().max(2000).default(''),
    /** The MJCF this task runs on, relative to the spec's folder; several specs may name one model. Default: `<id>.xml`. */
    model: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\\:*?"<>|\0]+\.xml$/i, 'must be a relative path to an .xml file')
      .optional(),
    /** Physics steps per agent step (the control timestep is model timestep x frame_skip). */
    frame_skip: z.number().int().min(1).max(1000).default(1),
    /** Agent steps before the episode is truncated. */
    episode_length: z.number().int().min(1).max(1_000_000).default(1000),
    goals: z.array(GoalSchema).max(16).default([]),
    observations: z.array(ObservationSchema).min(1).max(64),
    reward: RewardNodeSchema,
    /**
     * When the reward is computed: on the state after the agent step (dm_control, most of Gymnasium),
     * or on the state before it, with the new action (Gymnasium's Reacher computes it before simulating).
     */
    reward_at: z.enum(['after_step', 'before_step']).default('after_step'),
    termination: z.array(TerminationSchema).max(32).default([]),
    init: z.array(InitStepSchema).max(32).default([]),
    /** Camera used for pixel observations (must be a named camera in the MJCF). */
    camera: Name.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const unique = (names: string[], field: string, what: string): void => {
      const seen = new Set<string>();
      names.forEach((n, i) => {
        if (seen.has(n)) ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `duplicate ${what} name '${n}'` });
        seen.add(n);
      });
    };
    unique(
      s.observations.map((o) => o.name),
      'observations',
      'observation',
    );
    unique(
      s.goals.map((g) => g.name),
      'goals',
      'goal',
    );
    s.init.forEach((st, i) => {
      if (st.type === 'qpos' && [st.uniform, st.normal, st.value].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['init', i], message: 'give exactly one of `uniform`, `normal`, `value`' });
      }
      if (st.type === 'qvel' && [st.uniform, st.normal, st.value].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['init', i], message: 'give exactly one of `uniform`, `normal`, `value`' });
      }
      if (st.type === 'move' && [st.geom, st.site, st.body].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({ code: 'custom', path: ['init', i], message: 'give exactly one of `geom`, `site`, `body` to move' });
      }
      if (st.type === 'move' && [st.goal, st.value, st.uniform, st.disc].filter((v) => v !== undefined).length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['init', i],
          message: 'give exactly one of `goal`, `value`, `uniform`, `disc` (where to move it)',
        });
      }
    });
    s.goals.forEach((g, i) => {
      if ([g.value, g.uniform, g.disc].filter((v) => v !== undefined).length !== 1)
        ctx.addIssue({ code: 'custom', path: ['goals', i], message: 'give exactly one of `value`, `uniform`, `disc`' });
    });
  });
/** A parsed task spec (defaults filled in). */
export type TaskSpec = z.infer<typeof TaskSpecSchema>;
/** A task spec as written in the JSON file (defaults optional). */
export type TaskSpecInput = z.input<typeof TaskSpecSchema>;

/** A compiled model's elements by kind (`envs init`, a bare-MJCF drop): names, or `#index` for unnamed ones. */
export interface ModelInventory {
  timestep: number;
  joints: { name: string; type: 'free' | 'ball' | 'slide' | 'hinge' }[];
  bodies: string[];
  sites: string[];
  sensors: string[];
  actuators: string[];
  cameras: string[];
  keyframes: string[];
}

/** The starter task spec offered for a bare MJCF: the spec file's name and text, and the model's inventory. */
export interface EnvStarter {
  /** The MJCF the starter was written for. */
  xml: string;
  /** `<model stem>.task.json`, to sit beside the MJCF. */
  specFile: string;
  /** The spec as JSON text (it validated as written). */
  specText: string;
  inventory: ModelInventory;
}

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

/**
 * The parts of a spec that are well-formed on their own, with defaults where a part is not: a spec
 * whose schema check failed is still compiled from these, so naming mistakes elsewhere in the file
 * are reported in the same pass as the schema errors (null when the file is not a JSON object).
 */
export function wellFormedParts(json: unknown): TaskSpec | null {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return null;
  const raw = json as Record<string, unknown>;
  const list = <T>(schema: z.ZodType<T>, v: unknown): T[] =>
    Array.isArray(v)
      ? v.flatMap((x) => {
          const r = schema.safeParse(x);
          return r.success ? [r.data] : [];
        })
      : [];
  const field = <T>(schema: z.ZodType<T>, v: unknown, fallback: T): T => {
    const r = schema.safeParse(v);
    return r.success ? r.data : fallback;
  };
  return {
    version: 2,
    name: 'partial',
    description: '',
    frame_skip: field(z.number().int().min(1).max(1000), raw.frame_skip, 1),
    episode_length: 1,
    goals: list(GoalSchema, raw.goals),
    observations: list(ObservationSchema, raw.observations),
    reward: field(RewardNodeSchema, raw.reward, { quantity: { type: 'alive' }, reduce: 'mean', scale: 1, offset: 0 }),
    reward_at: 'after_step',
    termination: list(TerminationSchema, raw.termination),
    init: list(InitStepSchema, raw.init),
    ...(typeof raw.camera === 'string' && raw.camera ? { camera: raw.camera } : {}),
  };
}
