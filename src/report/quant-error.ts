// Data-free "will it survive INT8/INT4?": SQNR of fake-quantized weights (DESIGN.md §2, ONNX Runtime's
// definition) for symmetric and asymmetric, per-tensor and per-channel quantization. Scales come from the
// channel statistics already computed; the error pass is a Wasm kernel over the staged tensor.
import type { ChannelLayout, ChannelStatsArrays, Kernels, StagedTensor } from '../kernels/channel-stats.js';

/** SQNR in dB; null where quantization is exact (no error), or the weight is all zeros. */
export interface QuantFigures {
  perTensor: number | null;
  perChannel: number | null;
}

export interface QuantSchemes {
  symmetric: QuantFigures;
  asymmetric: QuantFigures;
}

export interface QuantReport {
  int8: QuantSchemes;
  int4: QuantSchemes;
}

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

interface Grid {
  scales: Float32Array;
  zeroPoints: Float32Array;
  qmin: number;
  qmax: number;
}

/** One quantizer: its scale, zero point and integer range (DESIGN.md §2). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/**
 * The quantizer for values in [lo, hi] with largest magnitude absMax: symmetric uses absMax, asymmetric
 * the range widened to include 0. Computed in float32 as the kernels see it.
 */
export function quantParams(bits: number, symmetric: boolean, lo: number, hi: number, absMax: number): QuantParams {
  if (symmetric) {
    const qmax = 2 ** (bits - 1) - 1;
    return { scale: safeScale(Math.fround(absMax / qmax)), zeroPoint: 0, qmin: -qmax, qmax };
  }
  const levels = 2 ** bits - 1;
  const [a, b] = [Math.min(lo, 0), Math.max(hi, 0)];
  const scale = safeScale(Math.fround((Math.fround(b) - Math.fround(a)) / levels));
  return { scale, zeroPoint: roundHalfEven(Math.fround(-a / scale)), qmin: 0, qmax: levels };
}

/** Scales/zero points per channel (lo/hi per channel), or one for all (perTensor). */
function grid(bits: number, symmetric: boolean, stats: ChannelStatsArrays, perTensor: boolean): Grid {
  const C = stats.min.length;
  const scales = new Float32Array(C), zeroPoints = new Float32Array(C);
  let tensorLo = 0, tensorHi = 0, tensorAbs = 0;
  for (let c = 0; c < C; c++) {
    tensorLo = Math.min(tensorLo, stats.min[c]!);
    tensorHi = Math.max(tensorHi, stats.max[c]!);
    tensorAbs = Math.max(tensorAbs, stats.absMax[c]!);
  }
  const tensor = quantParams(bits, symmetric, tensorLo, tensorHi, tensorAbs);
  for (let c = 0; c < C; c++) {
    const q = perTensor ? tensor : quantParams(bits, symmetric, stats.min[c]!, stats.max[c]!, stats.absMax[c]!);
    scales[c] = q.scale;
    zeroPoints[c] = q.zeroPoint;
  }
  return { scales, zeroPoints, qmin: tensor.qmin, qmax: tensor.qmax };
}

/** All eight figures for a staged weight; null when the weight holds NaN/±Inf (no meaningful scale). */
export function quantReport(kernels: Kernels, staged: StagedTensor, layout: ChannelLayout, stats: ChannelStatsArrays, nonFinite: number): QuantReport | null {
  if (nonFinite > 0) return null;
  const figures = (bits: number, symmetric: boolean): QuantFigures => {
    const run = (perTensor: boolean) => {
      const g = grid(bits, symmetric, stats, perTensor);
      return sqnr(kernels.quantError(staged, layout, g.scales, g.zeroPoints, g.qmin, g.qmax));
    };
    return { perTensor: run(true), perChannel: run(false) };
  };
  return {
    int8: { symmetric: figures(8, true), asymmetric: figures(8, false) },
    int4: { symmetric: figures(4, true), asymmetric: figures(4, false) },
  };
}
