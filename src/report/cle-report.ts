// The results of Cross Layer Equalization as the CLI, the Worker and <cle-compare> exchange them:
// plain, JSON-ready data, plus the exported model's bytes.
import type { DataPart } from '../onnx/export/data-file.js';
import type { LayerReport } from './stats-report.js';

export interface CleOptions {
  /** High-bias absorption after folding and equalizing (default true). */
  biasAbsorption?: boolean;
  /** Treat Clip(0, 6) as Relu so CLE can cross it: changes the float model, so never implied. */
  relu6ToRelu?: boolean;
}

/** One weight layer before and after (after = statistics of the exported model, re-opened). */
export interface CleLayerChange {
  name: string;
  op: string;
  before: LayerReport;
  after: LayerReport;
}

export interface CleReport {
  file: string;
  options: Required<CleOptions>;
  /** BatchNormalization nodes folded into the layer before them. */
  folded: { batchNorm: string; into: string }[];
  /** Equalized sets: pairs and Conv→DW→Conv triplets, with the ops between them. */
  sets: { kind: 'pair' | 'triplet'; layers: string[]; between: string[] }[];
  /** Chains of overlapping sets and the sweeps that equalized them (docs/definitions.md, "Chains"). */
  /** `pieces`: a long chain of large layers equalized in that many consecutive pieces (for memory). */
  chains: { layers: string[]; sweeps: number; maxScaleDeviation: number; pieces?: number }[];
  /** Candidates left alone, each with the reason. */
  skipped: { layers: string[]; reason: string }[];
  biasAbsorbed: { from: string; to: string; channels: number }[];
  /** Clip(0, 6) nodes rewritten to Relu (only with relu6ToRelu). */
  relu6Rewritten: string[];
  /** float16/bfloat16 models only: how rounding the equalized weights to the stored type changed them. */
  rounding?: CleRounding;
  layers: CleLayerChange[];
}

/**
 * CLE computes in float32; writing the result back as float16/bfloat16 rounds every rewritten value, so
 * the equalized model's function differs slightly from the exact one. The "after" statistics are of the
 * stored (rounded) weights.
 */
export interface CleRounding {
  /** The largest relative change over every layer's weight and bias. */
  worst: number;
  /**
   * Each rewritten layer stored in a narrow type: ‖stored − exact‖ / ‖exact‖ of its weight (and bias),
   * exact = the float32 values CLE computed. null in JSON where a value overflowed the type (±Inf).
   */
  layers: { name: string; dtype: 'float16' | 'bfloat16'; weight: number; bias?: number }[];
}

export interface CleOutcome {
  report: CleReport;
  /** The equalized model. */
  bytes: Uint8Array;
  /**
   * New external-data files of the equalized model, by location (write them beside it): new bytes, and
   * ranges of the input's data files copied through (only with `relocateExternal`).
   */
  dataFiles: Map<string, DataPart[]>;
  /** Every external-data location the equalized model refers to (new ones and the input's own). */
  dataLocations: string[];
}
