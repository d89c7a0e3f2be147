// Quantization-error results: SQNR in dB of fake-quantized weights (docs/definitions.md), computed by
// src/pipeline/quant-error.ts.

/**
 * Per-group SQNR (dB) by block size: the key is the block size in decimal ("32"), the value the SQNR with
 * one scale (and zero point) per block of that many consecutive weights along the input axis.
 */
export type PerGroupFigures = Record<string, number | null>;

/** SQNR in dB; null where quantization is exact (no error), or the weight is all zeros. */
export interface QuantFigures {
  perTensor: number | null;
  perChannel: number | null;
  /** Absent in results made before per-group figures were computed; `{}` when no block size was asked for. */
  perGroup?: PerGroupFigures;
}

export interface QuantSchemes {
  symmetric: QuantFigures;
  asymmetric: QuantFigures;
}

export interface QuantReport {
  int8: QuantSchemes;
  int4: QuantSchemes;
}
