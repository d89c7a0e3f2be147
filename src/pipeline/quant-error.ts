// Data-free "will it survive INT8/INT4?": SQNR of fake-quantized weights (docs/definitions.md, ONNX Runtime's
// definition) for symmetric and asymmetric, per-tensor, per-channel and per-group quantization. Per-tensor and
// per-channel scales come from the channel statistics already computed, per-group ones from each block's
// range inside the kernel; the error passes are Wasm kernels over the staged tensor (or its chunks).
import { channelCount, type ChannelQuantizer, type ChannelStatsArrays, type Kernels } from '../kernels/kernels.js';
import type { GroupFigure, QuantReport, QuantSchemes } from '../report/quant-error.js';
import type { BlockParts, StagedParts } from './staged-parts.js';

/** The block sizes of per-group figures unless told otherwise (those ONNX Runtime's 4-bit quantizers offer). */
export const DEFAULT_BLOCKS: readonly number[] = [32, 64, 128];

/** Round half to even, as numpy.round and the kernels (Wasm `nearest`) do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A zero scale means the channel is all zeros: any scale quantizes it exactly. */
const safeScale = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);

function sqnr({ signal, noise }: { signal: number; noise: number }): number | null {
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
function integerRange(bits: number, symmetric: boolean): { qmin: number; qmax: number } {
  return symmetric ? { qmin: 1 - 2 ** (bits - 1), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * The scale for values in [lo, hi] with largest magnitude absMax, given the integer range's top (qmax):
 * symmetric uses absMax, asymmetric the range widened to include 0. In float32 as the kernels see it.
 */
function scaleOf(qmax: number, symmetric: boolean, lo: number, hi: number, absMax: number): number {
  if (symmetric) return safeScale(Math.fround(absMax / qmax));
  return safeScale(Math.fround((Math.fround(Math.max(hi, 0)) - Math.fround(Math.min(lo, 0))) / qmax));
}

const zeroPointOf = (symmetric: boolean, lo: number, scale: number) =>
  symmetric ? 0 : roundHalfEven(Math.fround(-Math.min(lo, 0) / scale));

/** The quantizer for values in [lo, hi] with largest magnitude absMax (docs/definitions.md). */
export function quantParams(bits: number, symmetric: boolean, lo: number, hi: number, absMax: number): QuantParams {
  const { qmin, qmax } = integerRange(bits, symmetric);
  const scale = scaleOf(qmax, symmetric, lo, hi, absMax);
  return { scale, zeroPoint: zeroPointOf(symmetric, lo, scale), qmin, qmax };
}

/** Scales/zero points per channel (lo/hi per channel), or one for all (perTensor). */
function grid(bits: number, symmetric: boolean, stats: ChannelStatsArrays, perTensor: boolean): ChannelQuantizer {
  const C = stats.min.length;
  const scales = new Float32Array(C),
    zeroPoints = new Float32Array(C);
  let tensorLo = 0,
    tensorHi = 0,
    tensorAbs = 0;
  for (let c = 0; c < C; c++) {
    tensorLo = Math.min(tensorLo, stats.min[c]!);
    tensorHi = Math.max(tensorHi, stats.max[c]!);
    tensorAbs = Math.max(tensorAbs, stats.absMax[c]!);
  }
  const tensor = quantParams(bits, symmetric, tensorLo, tensorHi, tensorAbs);
  if (perTensor) {
    scales.fill(tensor.scale);
    zeroPoints.fill(tensor.zeroPoint);
  } else {
    // The scalar helpers, not quantParams: no object per channel (layers reach 2^20 channels).
    for (let c = 0; c < C; c++) {
      const scale = scaleOf(tensor.qmax, symmetric, stats.min[c]!, stats.max[c]!, stats.absMax[c]!);
      scales[c] = scale;
      zeroPoints[c] = zeroPointOf(symmetric, stats.min[c]!, scale);
    }
  }
  return { scales, zeroPoints, qmin: tensor.qmin, qmax: tensor.qmax };
}

/** The four quantizers, in QuantReport's order: INT8 and INT4, each symmetric then asymmetric. */
export const QUANTIZERS = [
  [8, true],
  [8, false],
  [4, true],
  [4, false],
] as const;

/** The integer ranges of QUANTIZERS, as the per-group kernel takes them. */
export const QUANTIZER_RANGES = QUANTIZERS.map(([bits, symmetric]) => integerRange(bits, symmetric));

/**
 * Per-group SQNR of each quantizer (QUANTIZERS' order) for each block size, ascending by block size; the
 * sums of a weight's chunks (whole strips of blocks) add up.
 */
async function perGroupFigures(
  kernels: Kernels,
  parts: BlockParts,
  blocks: readonly number[],
): Promise<GroupFigure[][]> {
  const sizes = [...blocks].sort((a, b) => a - b);
  const signal = sizes.map(() => 0);
  const noise = sizes.map(() => QUANTIZERS.map(() => 0));
  await parts(sizes, (staged, layout, held) => {
    const sums = kernels.blockQuantError(staged, layout, held, QUANTIZER_RANGES);
    held.forEach((block, i) => {
      const k = sizes.indexOf(block);
      signal[k]! += sums.signal;
      sums.noise[i]!.forEach((n, q) => (noise[k]![q]! += n));
    });
  });
  return QUANTIZERS.map((_, q) =>
    sizes.map((block, k) => ({ block, sqnr: sqnr({ signal: signal[k]!, noise: noise[k]![q]! }) })),
  );
}

/**
 * All figures for a staged weight: per-tensor, per-channel, and per-group for each of `blocks` over
 * `blockParts`; null when the weight holds NaN/±Inf (no meaningful scale).
 */
export async function quantReport(
  kernels: Kernels,
  parts: StagedParts,
  stats: ChannelStatsArrays,
  nonFinite: number,
  blockParts: BlockParts,
  blocks: readonly number[] = DEFAULT_BLOCKS,
): Promise<QuantReport | null> {
  if (nonFinite > 0) return null;
  // Every quantizer's grid first, then one pass over the weight's parts summing all their errors.
  const quantizers = ([8, 4] as const).flatMap((bits) =>
    [true, false].flatMap((symmetric) =>
      [true, false].map((perTensor) => ({ bits, symmetric, perTensor, grid: grid(bits, symmetric, stats, perTensor) })),
    ),
  );
  let signal = 0;
  const noise = quantizers.map(() => 0);
  await parts((staged, chunk) => {
    const C = channelCount(chunk.layout);
    const sums = kernels.quantErrors(
      staged,
      chunk.layout,
      quantizers.map(({ grid: g }) => ({
        ...g,
        scales: g.scales.subarray(chunk.channel, chunk.channel + C),
        zeroPoints: g.zeroPoints.subarray(chunk.channel, chunk.channel + C),
      })),
    );
    signal += sums.signal;
    sums.noise.forEach((n, i) => (noise[i]! += n));
  });
  const figure = (bits: number, symmetric: boolean, perTensor: boolean) =>
    sqnr({
      signal,
      noise:
        noise[quantizers.findIndex((q) => q.bits === bits && q.symmetric === symmetric && q.perTensor === perTensor)]!,
    });
  const perGroup = await perGroupFigures(kernels, blockParts, blocks);
  const group = (bits: number, symmetric: boolean) =>
    perGroup[QUANTIZERS.findIndex(([b, s]) => b === bits && s === symmetric)]!;
  const schemes = (bits: number): QuantSchemes => ({
    symmetric: {
      perTensor: figure(bits, true, true),
      perChannel: figure(bits, true, false),
      perGroup: group(bits, true),
    },
    asymmetric: {
      perTensor: figure(bits, false, true),
      perChannel: figure(bits, false, false),
      perGroup: group(bits, false),
    },
  });
  return { int8: schemes(8), int4: schemes(4) };
}
