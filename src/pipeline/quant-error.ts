// Data-free "will it survive INT8/INT4?": SQNR of fake-quantized weights (docs/definitions.md, ONNX Runtime's
// definition) for symmetric and asymmetric, per-tensor, per-channel and per-group quantization. Per-tensor and
// per-channel scales come from the channel statistics already computed, per-group ones from each block's
// range inside the kernel; the error passes are Wasm kernels over the staged tensor.
import type { BlockLayout, ChannelLayout, ChannelStatsArrays, Kernels, StagedTensor } from '../kernels/kernels.js';
import type { GroupFigure, QuantFigures, QuantReport } from '../report/quant-error.js';

/** The block sizes of per-group figures unless told otherwise (those ONNX Runtime's 4-bit quantizers offer). */
export const DEFAULT_BLOCKS: readonly number[] = [32, 64, 128];

/** Round half to even, as numpy.round and the kernels (Wasm `nearest`) do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A zero scale means the channel is all zeros: any scale quantizes it exactly. */
const safeScale = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);

function sqnr(signal: number, noise: number): number | null {
  return signal > 0 && noise > 0 ? 10 * Math.log10(signal / noise) : null;
}

interface Grid {
  scales: Float32Array;
  zeroPoints: Float32Array;
  qmin: number;
  qmax: number;
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
function grid(bits: number, symmetric: boolean, stats: ChannelStatsArrays, perTensor: boolean): Grid {
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

/** Per-group SQNR of each quantizer (QUANTIZERS' order) for each block size, ascending by block size. */
function perGroupFigures(
  kernels: Kernels,
  staged: StagedTensor,
  layout: BlockLayout,
  blocks: readonly number[],
): GroupFigure[][] {
  const figures = QUANTIZERS.map((): GroupFigure[] => []);
  for (const block of [...blocks].sort((a, b) => a - b)) {
    const sums = kernels.blockQuantError(staged, layout, block, QUANTIZER_RANGES);
    sums.noise.forEach((noise, q) => figures[q]!.push({ block, sqnr: sqnr(sums.signal, noise) }));
  }
  return figures;
}

/**
 * All figures for a staged weight: per-tensor, per-channel and per-group for each of `blocks`; null when
 * the weight holds NaN/±Inf (no meaningful scale).
 */
export function quantReport(
  kernels: Kernels,
  staged: StagedTensor,
  layout: ChannelLayout,
  blockLayout: BlockLayout,
  stats: ChannelStatsArrays,
  nonFinite: number,
  blocks: readonly number[] = DEFAULT_BLOCKS,
): QuantReport | null {
  if (nonFinite > 0) return null;
  const perGroup = perGroupFigures(kernels, staged, blockLayout, blocks);
  const figures = (q: number): QuantFigures => {
    const [bits, symmetric] = QUANTIZERS[q]!;
    const run = (perTensor: boolean) => {
      const g = grid(bits, symmetric, stats, perTensor);
      const { signal, noise } = kernels.quantError(staged, layout, g.scales, g.zeroPoints, g.qmin, g.qmax);
      return sqnr(signal, noise);
    };
    return { perTensor: run(true), perChannel: run(false), perGroup: perGroup[q]! };
  };
  return {
    int8: { symmetric: figures(0), asymmetric: figures(1) },
    int4: { symmetric: figures(2), asymmetric: figures(3) },
  };
}
