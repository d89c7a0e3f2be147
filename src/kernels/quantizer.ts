// The parameters of a weight's quantizer, whatever its granularity: one scale and zero point per channel
// (per-tensor quantization gives every channel the same pair) or per block of input rows. The kernels that
// choose parameters (min-max, clipping search, HQQ) return this shape, and the quantizing kernel and the
// export consume it.
import type { BlockLayout, ChannelLayout, IntegerRange } from './kernels.js';

/** Where a weight's parameter pairs sit. */
export type QuantGrid =
  /** One pair per output channel, in channel order (g·cg + c). */
  | { readonly kind: 'channel'; readonly layout: ChannelLayout }
  /**
   * One pair per block of `block` consecutive input rows of one column of one mat, at index
   * (m·nb + b)·cols + col with nb = blockRows(layout, block): DequantizeLinear's blocked scale layout.
   */
  | { readonly kind: 'block'; readonly layout: BlockLayout; readonly block: number };

/** A quantizer: q(x) = scale·(clamp(rne(x/scale) + zp, qmin, qmax) − zp), float32 steps, per grid entry. */
export interface GridQuantizer extends IntegerRange {
  readonly grid: QuantGrid;
  readonly scales: Float32Array;
  /** Integers in [qmin, qmax] (0 for symmetric quantizers), held as float32 like the kernels take them. */
  readonly zeroPoints: Float32Array;
}

/** Blocks per column: the last block of a column may be shorter. */
export const blockRows = (layout: BlockLayout, block: number) => Math.ceil(layout.rows / block);

/** Parameter pairs a grid holds. */
export function gridEntries(grid: QuantGrid): number {
  if (grid.kind === 'channel') return grid.layout.groups * grid.layout.cg;
  return grid.layout.mats * blockRows(grid.layout, grid.block) * grid.layout.cols;
}
