// Data-free "will it survive INT8/INT4?": SQNR of fake-quantized weights (docs/definitions.md, ONNX Runtime's
// definition) for symmetric and asymmetric, per-tensor, per-channel and per-group quantization. Per-tensor and
// per-channel scales come from the channel statistics already computed, per-group ones from each block's
// range inside the kernel; the error passes are Wasm kernels over the staged tensor (or its chunks).
import { channelCount, type ChannelQuantizer, type ChannelStatsArrays, type Kernels } from '../kernels/kernels.js';
import { integerRange, minMaxQuantizer, sqnr, type QuantGrid } from '../kernels/quantizer.js';
import type { GroupFigure, QuantReport, QuantSchemes } from '../report/quant-error.js';
import type { BlockParts, StagedParts } from './staged-parts.js';

/** The block sizes of per-group figures unless told otherwise (those ONNX Runtime's 4-bit quantizers offer). */
export const DEFAULT_BLOCKS: readonly number[] = [32, 64, 128];

/** Scales/zero points per channel (lo/hi per channel), or one for all (perTensor). */
function grid(bits: number, symmetric: boolean, stats: ChannelStatsArrays, perTensor: boolean): ChannelQuantizer {
  const C = stats.min.length;
  const channels = (cg: number): QuantGrid => ({ kind: 'channel', layout: { groups: 1, outer: 1, cg, inner: 1 } });
  if (!perTensor) return minMaxQuantizer(channels(C), bits, symmetric, stats.min, stats.max);
  let lo = 0,
    hi = 0;
  for (let c = 0; c < C; c++) {
    lo = Math.min(lo, stats.min[c]!);
    hi = Math.max(hi, stats.max[c]!);
  }
  const tensor = minMaxQuantizer(channels(1), bits, symmetric, [lo], [hi]);
  return {
    ...tensor,
    scales: new Float32Array(C).fill(tensor.scales[0]!),
    zeroPoints: new Float32Array(C).fill(tensor.zeroPoints[0]!),
  };
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
