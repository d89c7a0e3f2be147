// Two versions of a model compared weight by weight (`weightlens diff --json`, diffModels): plain, JSON-ready
// data (null where a figure is not finite). docs/definitions.md, "Comparing two models".
import type { MatchMethod } from '../analysis/layer-matching.js';
import type { LayerReport } from './stats-report.js';

/** One layer of `before` matched with one of `after`. */
export interface DiffLayer {
  /** The layer's name on each side (node names; they differ when matched by weight or position). */
  before: string;
  after: string;
  op: string;
  matchedBy: MatchMethod;
  /** A BatchNormalization folded into one side's weight for the comparison (the other side had it folded). */
  folded?: { side: 'before' | 'after'; batchNorm: string };
  /** The weights' shapes differ: only per-side figures are given. */
  shapeChanged: boolean;
  /** ‖after − before‖ / ‖before‖ over the weight; null when the shapes differ or `before` is all zeros. */
  relativeChange: number | null;
  /**
   * 10·log10(‖before‖² / ‖after − before‖²): `after` taken as a quantized `before`. null when the weights are
   * equal, the shapes differ, or either holds NaN/±Inf.
   */
  sqnr: number | null;
  /** Output channels whose weights point the other way after (dot product of before and after below 0). */
  flippedChannels: number[];
  /** Channels dead after that were alive before (docs/definitions.md, "Dead channels"). */
  diedChannels: number[];
  /** Channels alive after that were dead before. */
  revivedChannels: number[];
  /** Each side's statistics (per channel, relative ranges, quantization SQNR), as `weightlens stats` gives them. */
  beforeStats: LayerReport;
  afterStats: LayerReport;
}

export interface DiffReport {
  before: string;
  after: string;
  layers: DiffLayer[];
  /** Weight layers one side has and no rule matched on the other. */
  onlyBefore: string[];
  onlyAfter: string[];
  /** Layers whose BatchNorm could not be folded for the comparison, and why (compared unfolded). */
  notFolded: { layer: string; reason: string }[];
}
