// "Worst first": the order in which the kit lists and picks the layers that will hurt. It follows the
// INT8 symmetric per-tensor SQNR of the weights (lowest first), which measures the error itself; the
// relative range (AIMET's view) only hints at it, and ranks layers only where no SQNR was computed.
import type { LayerReport } from './stats-report.js';

/**
 * Sort key of an SQNR, lowest first: numbers ascending, then exact (null: no error at all), then
 * unavailable (undefined: weights holding NaN/±Inf, or no figures).
 */
export function sqnrRank(sqnr: number | null | undefined): number {
  return sqnr === undefined ? Infinity : (sqnr ?? Number.MAX_VALUE);
}

/** The figure worst-first ranks by: INT8 symmetric per-tensor SQNR (dB); see sqnrRank for null/undefined. */
export const rankingSqnr = (layer: LayerReport): number | null | undefined => layer.quant?.int8.symmetric.perTensor;

/**
 * Items worst first by their layer's figures (stable: ties keep model order); by largest relative range when
 * no layer has SQNR figures. `layerOf` picks the figures of an item (e.g. a CLE change's layer before CLE).
 */
export function worstFirst<L extends LayerReport>(layers: readonly L[]): L[];
export function worstFirst<T>(items: readonly T[], layerOf: (item: T) => LayerReport): T[];
export function worstFirst<T>(items: readonly T[], layerOf = (item: T) => item as LayerReport): T[] {
  const bySqnr = items.some((item) => layerOf(item).quant !== undefined);
  const key = bySqnr
    ? (l: LayerReport) => sqnrRank(rankingSqnr(l))
    : (l: LayerReport) => -(l.maxRelativeRange ?? -Infinity);
  return items
    .map((item, index) => ({ item, index, k: key(layerOf(item)) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.index - b.index))
    .map((x) => x.item);
}
