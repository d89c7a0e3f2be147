// Quantization-error results: SQNR in dB of fake-quantized weights (docs/definitions.md), computed by
// src/pipeline/quant-error.ts.
import type { QuantScheme } from '../quant/scheme.js';
import type { LayerReport } from './stats-report.js';

/**
 * Per-group SQNR (dB) for one block size: one scale (and zero point) per block of `block` consecutive
 * weights along the input axis. (A list of these, not an object keyed by block size: integer keys make V8
 * keep a sparse array per object, kilobytes per layer.)
 */
export interface GroupFigure {
  block: number;
  sqnr: number | null;
}

/** SQNR in dB; null where quantization is exact (no error), or the weight is all zeros. */
export interface QuantFigures {
  perTensor: number | null;
  perChannel: number | null;
  /**
   * Per-group figures, ascending by block size. Absent in results made before per-group figures were
   * computed; `[]` when no block size was asked for.
   */
  perGroup?: GroupFigure[];
}

/** The per-group SQNR of `figures` for `block`: undefined when the results have no such figure. */
export const groupSqnr = (figures: QuantFigures | undefined, block: number): number | null | undefined =>
  figures?.perGroup?.find((g) => g.block === block)?.sqnr;

/**
 * The SQNR (dB) of a layer's weight under `scheme` as the statistics measured it (min-max): Infinity when
 * exact, undefined when the results hold no such figure.
 */
export function schemeSqnr(report: LayerReport, scheme: QuantScheme): number | undefined {
  const figures = report.quant?.[scheme.bits === 8 ? 'int8' : 'int4'][scheme.symmetric ? 'symmetric' : 'asymmetric'];
  const v =
    scheme.granularity === 'group'
      ? groupSqnr(figures, scheme.block!)
      : figures?.[scheme.granularity === 'tensor' ? 'perTensor' : 'perChannel'];
  return v === undefined ? undefined : (v ?? Infinity);
}

/** The block sizes of a layer's per-group figures, ascending (none for results without them). */
export const groupBlocksOf = (quant: QuantReport | null | undefined): number[] =>
  (quant?.int8.symmetric.perGroup ?? []).map((g) => g.block);

export interface QuantSchemes {
  symmetric: QuantFigures;
  asymmetric: QuantFigures;
}

export interface QuantReport {
  int8: QuantSchemes;
  int4: QuantSchemes;
}
