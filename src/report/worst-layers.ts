// "Worst first": the order in which the kit lists and picks the layers that will hurt. It follows the
// INT8 symmetric per-tensor SQNR of the weights (lowest first), which measures the error itself; the
// relative range (AIMET's view) only hints at it, and ranks layers only where no SQNR was computed.
import type { LayerReport } from './stats-report.js';

/**
 * Sort key of an SQNR, lowest first: numbers ascending, then exact (null: no error at all), then
 * unavailable (undefined: weights holding NaN/±Inf, or no figures).
 */
export function sqnrRank(sqnr: number | null | undefined): number {
  return sqnr === undefined ? Infinity : sqnr ?? Number.MAX_VALUE;
}

/** The figure worst-first ranks by: INT8 symmetric per-tensor SQNR (dB); see sqnrRank for null/undefined. */
export const rankingSqnr = (layer: LayerReport): number | null | undefined => layer.quant?.int8.symmetric.perTensor;

/** Layers worst first (stable: ties keep model order); by largest relative range when no layer has SQNR figures. */
export function worstFirst<L extends LayerReport>(layers: readonly L[]): L[] {
  const bySqnr = layers.some((l) => l.quant !== undefined);
  const key = bySqnr ? (l: L) => sqnrRank(rankingSqnr(l)) : (l: L) => -(l.maxRelativeRange ?? -Infinity);
  return layers
    .map((layer, index) => ({ layer, index, k: key(layer) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.index - b.index))
    .map((x) => x.layer);
}
