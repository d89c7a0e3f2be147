// A layer's weight histogram as results: the request and the counts src/pipeline/weight-histogram.ts returns.
import { WeightlensError } from '../errors.js';

/** Bins a histogram may have: enough for an INT8 grid's 256 levels several times over, few enough to draw. */
export const MAX_HISTOGRAM_BINS = 1024;

export interface HistogramRequest {
  /** Layer name, its first output or its weight's name. */
  layer: string;
  /** Output channel; null for the whole tensor. */
  channel: number | null;
  bins: number;
  /** Bin over [lo, hi] instead of the finite min and max (a zoom); absent or null: the whole range. */
  range?: readonly [number, number] | null;
}

export interface LayerHistogram {
  file: string;
  /** The layer's name (as in its LayerReport), whatever name the request used. */
  layer: string;
  weight: string;
  channel: number | null;
  /** Edges: bin i is [lo + i·w, lo + (i+1)·w) with w = (hi − lo)/bins; the last bin includes hi. */
  lo: number;
  hi: number;
  counts: number[];
  /** Elements of the tensor or channel, binned or not. */
  elements: number;
  /** NaN and ±Inf elements: in no bin. */
  nonFinite: number;
  /** Finite elements below lo and above hi: 0 unless the request gave a range. */
  below: number;
  above: number;
  /** True when the bins span a requested range rather than the finite min and max. */
  zoomed: boolean;
}

/** What a histogram of results JSON (statistics, no weights) fails with. */
export const needsModelError = (file: string) =>
  new WeightlensError(
    'NO_WEIGHTS',
    `${file}: a weight histogram needs the ONNX model; results JSON holds statistics, not weights`,
    { file },
  );
