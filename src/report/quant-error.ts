// Quantization-error results: SQNR in dB of fake-quantized weights (docs/definitions.md), computed by
// src/pipeline/quant-error.ts.

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
