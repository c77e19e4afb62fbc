/**
 * Body poses between two recorded frames, for smooth replay: recordings hold one pose per control
 * step (20–100 Hz), the display draws at its own rate. Poses are frames x nbody x 7 (x, y, z, qw,
 * qx, qy, qz) as sim bodyPoses() writes them.
 */

/**
 * Writes into `out` (nbody x 7) the poses at fractional frame `at` of `poses`: positions linearly,
 * orientations by normalised linear interpolation along the shorter arc (q and -q are one rotation).
 * At a whole frame, or past the last one, the frame itself. Returns `out`.
 */
export function blendPoses(poses: Float32Array, nbody: number, at: number, out: Float32Array): Float32Array {
  const stride = nbody * 7;
  const frames = Math.floor(poses.length / stride);
  const f0 = Math.max(0, Math.min(frames - 1, Math.floor(at)));
  const f1 = Math.min(frames - 1, f0 + 1);
  const t = f1 === f0 ? 0 : Math.max(0, Math.min(1, at - f0));
  const a = f0 * stride;
  const b = f1 * stride;
  for (let k = 0; k < nbody; k++) {
    const o = k * 7;
    for (let i = 0; i < 3; i++) out[o + i] = poses[a + o + i] + t * (poses[b + o + i] - poses[a + o + i]);
    let dot = 0;
    for (let i = 3; i < 7; i++) dot += poses[a + o + i] * poses[b + o + i];
    const sign = dot < 0 ? -1 : 1;
    let norm = 0;
    for (let i = 3; i < 7; i++) {
      const q = (1 - t) * poses[a + o + i] + t * sign * poses[b + o + i];
      out[o + i] = q;
      norm += q * q;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 3; i < 7; i++) out[o + i] /= norm;
  }
  return out;
}
