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

/** Round half to even, as numpy.round and the kernels (Wasm `nearest`) do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A zero scale means the channel is all zeros: any scale quantizes it exactly. */
const safeScale = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);

export function sqnr({ signal, noise }: { signal: number; noise: number }): number | null {
  return signal > 0 && noise > 0 ? 10 * Math.log10(signal / noise) : null;
}

/** One quantizer: its scale, zero point and integer range (docs/definitions.md). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/** The integer range of a b-bit quantizer: symmetric [−(2^(b−1) − 1), 2^(b−1) − 1], asymmetric [0, 2^b − 1]. */
export function integerRange(bits: number, symmetric: boolean): { qmin: number; qmax: number } {
  return symmetric ? { qmin: 1 - 2 ** (bits - 1), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * The scale for values in [lo, hi] with largest magnitude absMax, given the integer range's top (qmax):
 * symmetric uses absMax, asymmetric the range widened to include 0. In float32 as the kernels see it.
 */
export function scaleOf(qmax: number, symmetric: boolean, lo: number, hi: number, absMax: number): number {
  if (symmetric) return safeScale(Math.fround(absMax / qmax));
  return safeScale(Math.fround((Math.fround(Math.max(hi, 0)) - Math.fround(Math.min(lo, 0))) / qmax));
}

export const zeroPointOf = (symmetric: boolean, lo: number, scale: number) =>
  symmetric ? 0 : roundHalfEven(Math.fround(-Math.min(lo, 0) / scale));

/** The quantizer for values in [lo, hi] with largest magnitude absMax (docs/definitions.md). */
export function quantParams(bits: number, symmetric: boolean, lo: number, hi: number, absMax: number): QuantParams {
  const { qmin, qmax } = integerRange(bits, symmetric);
  const scale = scaleOf(qmax, symmetric, lo, hi, absMax);
  return { scale, zeroPoint: zeroPointOf(symmetric, lo, scale), qmin, qmax };
}

/**
 * The min-max quantizer of each grid entry from its own range [lo, hi] (docs/definitions.md): the scale
 * from the range widened to include 0 (asymmetric) or from the largest magnitude (symmetric).
 */
export function minMaxQuantizer(
  grid: QuantGrid,
  bits: number,
  symmetric: boolean,
  lo: ArrayLike<number>,
  hi: ArrayLike<number>,
): GridQuantizer {
  const E = gridEntries(grid);
  const { qmin, qmax } = integerRange(bits, symmetric);
  const scales = new Float32Array(E);
  const zeroPoints = new Float32Array(E);
  for (let e = 0; e < E; e++) {
    const scale = scaleOf(qmax, symmetric, lo[e]!, hi[e]!, Math.max(-lo[e]!, hi[e]!));
    scales[e] = scale;
    zeroPoints[e] = zeroPointOf(symmetric, lo[e]!, scale);
  }
  return { grid, scales, zeroPoints, qmin, qmax };
}
