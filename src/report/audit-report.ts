// The audit of an already-quantized model (`weightlens audit --json`, `auditModel`): per quantized weight
// layer, saturation and grid levels of its stored codes, its scales, its bias's int32 headroom and, given the
// float model, the error against the float weights. Definitions: docs/definitions.md, "Auditing a quantized
// model". Plain JSON-ready data, and the worst-first order the CLI prints.
import type { MatchMethod } from '../analysis/layer-matching.js';

/** Which quantized form the layer's weight is stored in. */
export type AuditFormat = 'QDQ' | 'QOperator' | 'MatMulNBits' | 'GatherBlockQuantized';

/** Codes at the range's ends and distinct codes, one entry per channel (or per block). */
export interface CodeFigures {
  atMin: number[];
  atMax: number[];
  /** Elements counted (the last block of a row may be shorter). */
  elements: number[];
  /** Distinct codes used; null when not counted (32-bit codes, or too many units for the bitsets). */
  levels: number[] | null;
}

/** A blocked weight's blocks: a summary, and every block's figures when there are not too many. */
export interface BlockFigures {
  count: number;
  /** Blocks with at least one code at qmin or qmax. */
  saturated: number;
  /** The largest share of codes at qmin or qmax in one block. */
  worstShare: number;
  /** Fewest and mean distinct codes per block; null when not counted. */
  levels: { min: number; mean: number } | null;
  /**
   * Per block, in the scale tensor's order; null when the layer has more blocks than `maxBlockDetail`
   * (auditModel's option, default DEFAULT_BLOCK_DETAIL): a 7B model has hundreds of millions.
   */
  detail: CodeFigures | null;
}

/** Blocks per layer up to which the report lists every block's figures. */
export const DEFAULT_BLOCK_DETAIL = 65_536;

export interface ScaleFigures {
  count: number;
  zero: number;
  /** Nonzero, below the smallest normal number of the scales' type (float32 2^−126, float16 2^−14). */
  denormal: number;
  negative: number;
  nonFinite: number;
}

export interface BiasAudit {
  /** The bias tensor (its stored integer tensor when int32). */
  name: string;
  /** 'int32': stored as int32 codes; 'float': a float bias a runtime would quantize to int32. */
  stored: 'int32' | 'float';
  /** The constant input scale the graph gives (QLinearConv x_scale, or the scale of the input's DequantizeLinear). */
  xScale: number | null;
  /** 'unknown': the int32 codes cannot be known (no constant x_scale, or no per-channel weight scale). */
  status: 'known' | 'unknown';
  /** Why the status is unknown. */
  reason?: string;
  /** Per channel: log2(2^31 / |q|), q the int32 bias code; negative overflows; null for a zero bias. */
  headroomBits: (number | null)[] | null;
  /** The smallest over the channels (null: every bias is zero, or unknown). */
  minHeadroomBits: number | null;
  /** Channels whose code does not fit int32 (|q| ≥ 2^31), or stored at int32's ends (saturated). */
  overflow: number;
}

export interface FloatAudit {
  /** The float model's layer and weight paired with this one, and how they were paired. */
  layer: string;
  weight: string;
  matchedBy: MatchMethod;
  /** SQNR (dB) of the dequantized weight against the float one; null when exact (or the float is all zero). */
  sqnr: number | null;
  /** Float values outside the representable range [(qmin − zp)·s, (qmax − zp)·s] of their scale. */
  outside: number;
  /** Of those, the ones more than half a step outside: clipped beyond any rounding. */
  clipped: number;
  channels: { sqnr: (number | null)[]; outside: number[]; clipped: number[] };
}

export interface LayerAudit {
  name: string;
  op: string;
  format: AuditFormat;
  /** The stored integer tensor. */
  weight: string;
  graph: string;
  dtype: string;
  bits: number;
  shape: number[];
  mode: 'tensor' | 'axis' | 'blocked';
  axis: number | null;
  blockSize: number;
  /** The range saturation is measured against; `restricted`: symmetric codes never at the type's minimum. */
  range: { qmin: number; qmax: number; restricted: boolean };
  elements: number;
  /** Codes at qmin and at qmax over the layer, and their share of all codes. */
  saturation: { atMin: number; atMax: number; share: number; worstChannelShare: number };
  /** Distinct codes used in the layer, of 2^bits (null for 32-bit codes). */
  levels: { used: number | null; of: number };
  channels: CodeFigures;
  /** Blocked weights only. */
  blocks: BlockFigures | null;
  /** Null when the op carries no weight scale (ConvInteger, MatMulInteger). */
  scales: ScaleFigures | null;
  bias: BiasAudit | null;
  float: FloatAudit | null;
  notes?: string[];
}

export interface AuditReport {
  file: string;
  /** The float model compared with, when one was given. */
  float: string | null;
  layers: LayerAudit[];
  /** Weight layers computed at run time from dequantized codes (not audited: their codes are not the weight's), and why. */
  skipped: { name: string; reason: string }[];
}

/** Headroom below this many bits ranks a layer first: its bias is within 16× of int32's range. */
export const BIAS_RISK_BITS = 4;

/**
 * Worst first: layers whose bias has less than BIAS_RISK_BITS of int32 headroom, least headroom first; then
 * the others by their worst channel's saturation share, then the layer's share, highest first. Ties keep the
 * model's order.
 */
export function worstAuditsFirst(layers: readonly LayerAudit[]): LayerAudit[] {
  const risk = (l: LayerAudit) => {
    const h = l.bias?.minHeadroomBits;
    return h !== null && h !== undefined && h < BIAS_RISK_BITS ? h : Infinity;
  };
  return layers
    .map((l, i) => ({ l, i }))
    .sort(
      (a, b) =>
        risk(a.l) - risk(b.l) ||
        b.l.saturation.worstChannelShare - a.l.saturation.worstChannelShare ||
        b.l.saturation.share - a.l.saturation.share ||
        a.i - b.i,
    )
    .map(({ l }) => l);
}
