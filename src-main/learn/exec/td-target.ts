import type { Batch } from '../types.ts';
import type { Buf, Executor } from './executor.ts';

/**
 * The TD target of a batch on an executor, y = r + discount (min(qA, qB) [- alpha log pi']), with
 * discount gamma (1 - done) per row or the batch's own (n-step returns), and the batch's importance
 * weights (prioritized replay) as a buffer, or null. Buffers `r`, `discount`, `y` and `w`.
 */
export function batchTdTarget(
  exec: Executor,
  batch: Batch,
  gamma: number,
  qA: Buf,
  qB: Buf | null,
  entropy?: { logp: Buf; alpha: number },
): { y: Buf; weights: Buf | null } {
  const B = batch.size;
  const discount = new Float32Array(B);
  for (let i = 0; i < B; i++) discount[i] = batch.discounts ? batch.discounts[i] : gamma * (1 - batch.dones[i]);
  const rewards = exec.buffer('r', B);
  exec.write(rewards, batch.rewards.subarray(0, B));
  const discounts = exec.buffer('discount', B);
  exec.write(discounts, discount);
  const y = exec.buffer('y', B);
  exec.tdTarget(y, rewards, discounts, qA, qB, B, entropy);
  let weights: Buf | null = null;
  if (batch.weights) {
    weights = exec.buffer('w', B);
    exec.write(weights, batch.weights.subarray(0, B));
  }
  return { y, weights };
}
