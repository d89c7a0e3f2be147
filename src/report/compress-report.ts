// How much each layer could shrink and at what weight error (`weightlens stats --compress`, `compressibility`):
// plain, JSON-ready data. docs/definitions.md, "Compressibility". Weight-space error, not accuracy.
import type { CompressionPoint } from '../analysis/compression.js';

/** A rank-k factorization of the weight viewed as a matrix. */
export interface FactorizationFigures {
  rows: number;
  cols: number;
  /** σ, descending. */
  singularValues: number[];
  /** The smallest rank keeping 99 % of Σσ². */
  rank99: number;
  /** Roy and Vetterli's effective rank. */
  effectiveRank: number;
  /** Ranks 1 … min(rows, cols): parameters before / after, and the relative error. */
  curve: CompressionPoint[];
}

export type CompressionMethod = 'weight SVD' | 'spatial SVD' | 'pruning' | 'channel pruning';

export interface LayerCompressibility {
  name: string;
  op: string;
  shape: number[];
  /** Weight elements. */
  parameters: number;
  /** [Cout, Cin·kh·kw] (a matrix weight as stored). null when not computed (`notes` says why). */
  weightSvd: FactorizationFigures | null;
  /** [Cout·kh, Cin·kw], Conv with a kernel larger than 1×1 only. */
  spatialSvd: FactorizationFigures | null;
  /** Magnitude pruning of single weights, at the shares of PRUNED_SHARES. */
  pruning: CompressionPoint[] | null;
  /** Whole input channels, lowest L1 first. */
  channelPruning: CompressionPoint[] | null;
  /** Relative error of INT8 and INT4 symmetric per-channel quantization (min-max), for reference. */
  int8Error: number | null;
  int4Error: number | null;
  /** The largest ratio within the report's error: how, and the parameters left (the layer's own when none). */
  best: { method: CompressionMethod | null; ratio: number; error: number; parameters: number };
  /** Why a figure is missing. */
  notes: string[];
}

export interface CompressReport {
  file: string;
  /** The relative weight error `best` and the totals are taken at. */
  error: number;
  layers: LayerCompressibility[];
  /** Weight parameters of the layers, and what each one's best choice within `error` leaves. */
  parameters: { before: number; after: number };
}
