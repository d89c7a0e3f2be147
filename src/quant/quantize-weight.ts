// One layer's weight quantized for export: staged in Wasm memory, its min-max quantizer chosen, its codes
// computed and packed as the integer tensor stores them, with the exact SQNR of what they dequantize to.
import type { WeightLayer } from '../analysis/layers.js';
import { WeightlensError } from '../errors.js';
import type { Kernels } from '../kernels/kernels.js';
import { minMaxQuantizer, sqnr, type GridQuantizer } from '../kernels/quantizer.js';
import type { DequantizeGrid } from './weight-grid.js';
import type { QuantScheme } from './scheme.js';

export interface QuantizedWeight {
  readonly quantizer: GridQuantizer;
  /** The codes as raw_data of their integer type (4-bit: two per byte, the first in the low nibble). */
  readonly raw: Uint8Array;
  /** SQNR (dB) of the stored weight against the float one; null when exact. */
  readonly sqnr: number | null;
}

const min = (a: number, b: number) => Math.min(a, b);
const max = (a: number, b: number) => Math.max(a, b);

/** 4-bit codes (one per byte, low nibble meaningful) packed two per byte, element 2k in the low nibble. */
export function packNibbles(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i += 2) out[i >> 1] = (codes[i]! & 15) | (((codes[i + 1] ?? 0) & 15) << 4);
  return out;
}

/**
 * Quantizes `layer`'s weight with `scheme` on `dq`'s grid (min-max scales). Call inside kernels.exclusive.
 * A weight holding NaN or ±Inf has no meaningful scale: refused, naming the tensor.
 */
export async function quantizeWeight(
  kernels: Kernels,
  layer: WeightLayer,
  scheme: QuantScheme,
  dq: DequantizeGrid,
  options: { file: string; signal?: AbortSignal },
): Promise<QuantizedWeight> {
  const { weight } = layer;
  const label = { file: options.file, tensor: weight.name };
  const staged = await kernels.stage(weight.size, (dest) => weight.readFloat32Into(dest, options.signal), label);
  const stats = kernels.channelStats(staged, layer.layout);
  const nonFinite = [stats.nan, stats.posInf, stats.negInf].reduce((n, a) => n + a.reduce((x, y) => x + y, 0), 0);
  if (nonFinite > 0)
    throw new WeightlensError(
      'BAD_TENSOR',
      `${options.file}: weight "${weight.name}" holds ${nonFinite} NaN/±Inf values; it cannot be quantized`,
      { ...label, field: 'values' },
    );
  const { grid } = dq;
  let lo: ArrayLike<number>, hi: ArrayLike<number>;
  if (grid.kind === 'block') ({ lo, hi } = kernels.blockRanges(staged, grid.layout, grid.block));
  else if (scheme.granularity === 'tensor') [lo, hi] = [[stats.min.reduce(min)], [stats.max.reduce(max)]];
  else [lo, hi] = [stats.min, stats.max];
  const quantizer = minMaxQuantizer(grid, scheme.bits, scheme.symmetric, lo, hi);
  const q = kernels.quantize(staged, quantizer);
  return { quantizer, raw: scheme.bits === 4 ? packNibbles(q.codes) : q.codes, sqnr: sqnr(q) };
}
