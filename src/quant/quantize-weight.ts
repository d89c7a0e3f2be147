// One layer's weight quantized for export: staged in Wasm memory, its min-max quantizer chosen, its codes
// computed and packed as the integer tensor stores them, with the exact SQNR of what they dequantize to.
import type { WeightLayer } from '../analysis/layers.js';
import { WeightlensError } from '../errors.js';
import type { Spill } from '../onnx/export/data-file.js';
import { DT } from '../onnx/dtypes.js';
import { smallestPositive, storedFloat } from '../onnx/export/encode-values.js';
import type { Kernels, StoredFloat } from '../kernels/kernels.js';
import { CHUNK_ELEMENTS } from '../kernels/tensor-chunks.js';
import { chunkedCodes, chunkedRanges } from './quantize-chunked.js';
import { packNibbles } from './nibbles.js';
import { integerRange, minMaxQuantizer, sqnr, type GridQuantizer } from '../kernels/quantizer.js';
import type { QuantSearchKernels } from '../kernels/quant-search-kernels.js';
import type { DequantizeGrid } from './weight-grid.js';
import type { QuantScheme } from './scheme.js';

export interface QuantizedWeight {
  readonly quantizer: GridQuantizer;
  /** SQNR (dB) the min-max quantizer would give: the figure a fix (clipping search, HQQ) starts from. */
  readonly minMaxSqnr: number | null;
  /**
   * The codes as raw_data of their integer type (4-bit: two per byte, the first in the low nibble); in the
   * spill's Blob when the weight was quantized chunk by chunk with a spill given.
   */
  readonly raw: Uint8Array | Blob;
  /** SQNR (dB) of the stored weight against the float one; null when exact. */
  readonly sqnr: number | null;
}

const min = (a: number, b: number) => Math.min(a, b);
const max = (a: number, b: number) => Math.max(a, b);

/**
 * Quantizes `layer`'s weight with `scheme` on `dq`'s grid, its parameters chosen by the scheme's method:
 * staged whole, or (larger than `chunkElements`, readable in ranges) chunk by chunk with min-max parameters
 * (quantize-chunked.ts). Call inside kernels.exclusive.
 * A weight holding NaN or ±Inf has no meaningful scale: refused, naming the tensor.
 */
export async function quantizeWeight(
  kernels: Kernels,
  search: QuantSearchKernels,
  layer: WeightLayer,
  scheme: QuantScheme,
  dq: DequantizeGrid,
  options: { file: string; signal?: AbortSignal; chunkElements?: number; spill?: Spill },
): Promise<QuantizedWeight> {
  const { weight } = layer;
  const label = { file: options.file, tensor: weight.name };
  const stored: StoredFloat =
    weight.dataType === DT.FLOAT16 ? 'float16' : weight.dataType === DT.BFLOAT16 ? 'bfloat16' : 'float32';
  const chunkElements = options.chunkElements ?? CHUNK_ELEMENTS;
  if (weight.size > chunkElements && weight.readFloat32Range) {
    if (scheme.method && scheme.method !== 'min-max')
      throw new WeightlensError(
        'USAGE',
        `${options.file}: weight "${weight.name}" has ${weight.size} elements, more than one chunk (${chunkElements}); the clipping search and HQQ need it whole — quantize it with min-max`,
        label,
      );
    const chunked = { ...options, chunkElements };
    const { lo, hi } = await chunkedRanges(kernels, layer, dq, scheme.granularity === 'tensor', chunked);
    const quantizer = inScaleType(weight.dataType, minMaxQuantizer(dq.grid, scheme.bits, scheme.symmetric, lo, hi));
    const q = await chunkedCodes(kernels, layer, quantizer, scheme.bits, stored, chunked);
    return { quantizer, minMaxSqnr: q.sqnr, raw: q.codes, sqnr: q.sqnr };
  }
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
  const range = integerRange(scheme.bits, scheme.symmetric);
  let lo: ArrayLike<number>, hi: ArrayLike<number>;
  if (grid.kind === 'block') ({ lo, hi } = kernels.blockRanges(staged, grid.layout, grid.block));
  else if (scheme.granularity === 'tensor') [lo, hi] = [[stats.min.reduce(min)], [stats.max.reduce(max)]];
  else [lo, hi] = [stats.min, stats.max];
  const minMax = inScaleType(weight.dataType, minMaxQuantizer(grid, scheme.bits, scheme.symmetric, lo, hi));
  const searched =
    scheme.method === 'clip'
      ? search.clipSearch(staged, grid, range)
      : scheme.method === 'hqq' && grid.kind === 'block'
        ? search.hqq(staged, grid, range)
        : undefined;
  const atMinMax = kernels.quantize(staged, minMax, stored);
  let chosen = { quantizer: minMax, q: atMinMax };
  if (searched) {
    // Scales rounded to a float16/bfloat16 weight's type can cost a fix its gain: never store worse than min-max.
    const quantizer = inScaleType(weight.dataType, searched.quantizer);
    const q = kernels.quantize(staged, quantizer, stored);
    if (q.noise <= atMinMax.noise) chosen = { quantizer, q };
  }
  return {
    quantizer: chosen.quantizer,
    minMaxSqnr: sqnr(atMinMax),
    raw: scheme.bits === 4 ? packNibbles(chosen.q.codes) : chosen.q.codes,
    sqnr: sqnr(chosen.q),
  };
}

/**
 * The quantizer with its scales as the export stores them: in the weight's own float type (DequantizeLinear's
 * output takes its scale's type), never rounded to zero.
 */
function inScaleType(dataType: number, quantizer: GridQuantizer): GridQuantizer {
  if (dataType !== DT.FLOAT16 && dataType !== DT.BFLOAT16) return quantizer;
  const scales = Float32Array.from(quantizer.scales, (s) =>
    Math.max(storedFloat(dataType, s), smallestPositive(dataType)),
  );
  return { ...quantizer, scales };
}
