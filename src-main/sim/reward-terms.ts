/**
 * The reward's top-level terms, as the replay's breakdown shows them: the parts of the spec's
 * outermost sum, product, min or max (a reward of one term is that term). Each term gets a short
 * label in the spec's own words (`joint_vel hinge`, `upright pole`), so a researcher can match the
 * trace to the line of the .task.json it comes from.
 */
import type { Point, Quantity, RewardNode } from '../api/task-spec.ts';

/** How the terms make the reward: added (a sum's terms already carry their weights), multiplied, or the smallest / largest. */
export type TermsCombine = 'sum' | 'product' | 'min' | 'max' | 'one';

export interface RewardTerms {
  combine: TermsCombine;
  /** One label per term, unique within the reward. */
  labels: string[];
}

export function rewardTerms(reward: RewardNode): RewardTerms {
  const [combine, nodes]: [TermsCombine, RewardNode[]] =
    'sum' in reward
      ? ['sum', reward.sum]
      : 'product' in reward
        ? ['product', reward.product]
        : 'min' in reward
          ? ['min', reward.min]
          : 'max' in reward
            ? ['max', reward.max]
            : ['one', [reward]];
  const raw = nodes.map((n) => nodeLabel(n));
  // Two terms reading the same quantity (a tolerance and a cost of one joint) are told apart by position.
  const labels = raw.map((l, k) =>
    raw.indexOf(l) !== raw.lastIndexOf(l) ? `${l} #${raw.slice(0, k + 1).filter((x) => x === l).length}` : l,
  );
  return { combine, labels };
}

const MAX_LABEL = 48;

export function nodeLabel(node: RewardNode): string {
  const label = innerLabel(node);
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

function innerLabel(node: RewardNode): string {
  for (const kind of ['product', 'sum', 'min', 'max'] as const) {
    if (kind in node) return `${kind}(${(node as Record<typeof kind, RewardNode[]>)[kind].map(innerLabel).join(', ')})`;
  }
  for (const kind of ['abs', 'square', 'exp', 'clip', 'gate'] as const) {
    if (kind in node) return `${kind}(${innerLabel((node as Record<typeof kind, RewardNode>)[kind])})`;
  }
  return quantityLabel((node as { quantity: Quantity }).quantity);
}

function pointLabel(p: Point): string {
  if ('site' in p) return p.site;
  if ('geom' in p) return p.geom;
  if ('goal' in p) return p.goal;
  return p.frame === 'com' ? `${p.body} com` : p.body;
}

/** `.x` / `.xz` when a quantity reads only some axes (two terms on one site's x and z stay apart). */
function axesLabel(axes: string[] | undefined): string {
  return axes && axes.length < 3 ? `.${axes.join('')}` : '';
}

export function quantityLabel(q: Quantity): string {
  switch (q.type) {
    case 'displacement':
      return `displacement ${quantityLabel(q.of)}`;
    case 'joint_pos':
    case 'joint_vel':
      return `${q.type} ${q.joints.join(',')}`;
    case 'free_joint':
      return `${q.joint} ${q.part}`;
    case 'sensor':
      return `sensor ${q.sensor}`;
    case 'position':
      return `position ${pointLabel(q.point)}${axesLabel(q.axes)}`;
    case 'relative':
    case 'distance':
      return `${q.type} ${pointLabel(q.from)}→${pointLabel(q.to)}${axesLabel(q.axes)}`;
    case 'upright':
    case 'quaternion':
      return `${q.type} ${q.body}`;
    case 'body_speed':
      return `speed ${q.body}.${q.axis}`;
    case 'com':
    case 'com_velocity':
      return `${q.body ? `${q.type} ${q.body}` : q.type}${axesLabel(q.axes)}`;
    case 'contact_force':
      return q.bodies ? `contact_force ${q.bodies.join(',')}` : 'contact_force';
    case 'actuator_force':
    case 'ctrl':
      return q.actuators ? `${q.type} ${q.actuators.join(',')}` : q.type;
    case 'constraint_force':
      return q.joints ? `constraint_force ${q.joints.join(',')}` : 'constraint_force';
    default:
      return q.type;
  }
}
