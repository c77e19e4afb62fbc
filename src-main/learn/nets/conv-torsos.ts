/**
 * The conv torsos a pixel run can train, by name (the run's `pixels.conv` setting). Pure data, no
 * TF.js: the run-config schema and the renderer's form read it.
 *
 * The DDPG paper (Lillicrap et al. 2015, supplement 7) gives 3 conv layers of 32 filters without
 * pooling, not their kernels or strides.
 * - 'fast' (the default): 4x4 stride 4, 3x3 stride 2, 3x3 stride 1 (64x64: 16x16 -> 7x7 -> 5x5 x 32
 *   = 800 features), picked for update speed on the CPU. Its first layer sees the frame in
 *   non-overlapping 4-pixel blocks.
 * - 'drq': DrQ-v2's encoder (Yarats et al. 2021): 3x3 stride 2, then three 3x3 stride 1 (84x84:
 *   41 -> 39 -> 37 -> 35, 35x35 x 32 = 39200 features), which keeps the frame's fine positions
 *   (a 2-pixel pole a few pixels off upright) at ~20x the multiply-adds.
 */
export interface ConvLayerSpec {
  kernel: number;
  stride: number;
  filters: number;
}

export const CONV_TORSOS = Object.freeze({
  fast: Object.freeze([
    { kernel: 4, stride: 4, filters: 32 },
    { kernel: 3, stride: 2, filters: 32 },
    { kernel: 3, stride: 1, filters: 32 },
  ]),
  drq: Object.freeze([
    { kernel: 3, stride: 2, filters: 32 },
    { kernel: 3, stride: 1, filters: 32 },
    { kernel: 3, stride: 1, filters: 32 },
    { kernel: 3, stride: 1, filters: 32 },
  ]),
} satisfies Record<string, readonly ConvLayerSpec[]>);

export type ConvTorso = keyof typeof CONV_TORSOS;
export const CONV_TORSO_NAMES = Object.keys(CONV_TORSOS) as [ConvTorso, ...ConvTorso[]];
/** The torso a pixel run trains unless its settings name another. */
export const DEFAULT_CONV_TORSO: ConvTorso = 'fast';
