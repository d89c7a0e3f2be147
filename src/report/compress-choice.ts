// Each layer's best choice within a relative weight error, taken from its curves (docs/definitions.md,
// "Compressibility"): what compressibility() gives at its error and what a page re-takes at another one
// without computing anything again. Pure; weight-space error, not accuracy.
import { bestRatioWithin, type CompressionPoint } from '../analysis/compression.js';
import type { CompressionMethod, CompressReport, LayerCompressibility } from './compress-report.js';

export type BestChoice = LayerCompressibility['best'];

/** Each method's curve of a layer, in the order ties are settled (the first method reaching a ratio keeps it). */
export function methodCurves(
  layer: Pick<LayerCompressibility, 'weightSvd' | 'spatialSvd' | 'pruning' | 'channelPruning'>,
): [CompressionMethod, readonly CompressionPoint[] | null][] {
  return [
    ['weight SVD', layer.weightSvd?.curve ?? null],
    ['spatial SVD', layer.spatialSvd?.curve ?? null],
    ['pruning', layer.pruning],
    ['channel pruning', layer.channelPruning],
  ];
}

/** The largest ratio any method of `layer` reaches within `error`; the layer kept (ratio 1) when none saves anything. */
export function bestChoice(
  layer: Pick<LayerCompressibility, 'parameters' | 'weightSvd' | 'spatialSvd' | 'pruning' | 'channelPruning'>,
  error: number,
): BestChoice {
  let best: BestChoice = { method: null, ratio: 1, error: 0, parameters: layer.parameters };
  for (const [method, curve] of methodCurves(layer)) {
    const p = curve && bestRatioWithin(curve, error);
    if (p && p.ratio > best.ratio)
      best = { method, ratio: p.ratio, error: p.error, parameters: Math.round(layer.parameters / p.ratio) };
  }
  return best;
}

/** The report with every layer's best choice and the model's total taken again within `error`. */
export function compressReportAt(report: CompressReport, error: number): CompressReport {
  if (error === report.error) return report;
  const layers = report.layers.map((l) => ({ ...l, best: bestChoice(l, error) }));
  return {
    ...report,
    error,
    layers,
    parameters: {
      before: layers.reduce((n, l) => n + l.parameters, 0),
      after: layers.reduce((n, l) => n + l.best.parameters, 0),
    },
  };
}

/** The parameters a layer's best choice saves. */
export const parametersSaved = (layer: LayerCompressibility): number => layer.parameters - layer.best.parameters;

/** Layers by the parameters their best choice saves, most first (report order among equals). */
export const rankedBySaving = (layers: readonly LayerCompressibility[]): LayerCompressibility[] =>
  layers
    .map((l, i) => [l, i] as const)
    .sort(([a, i], [b, j]) => parametersSaved(b) - parametersSaved(a) || i - j)
    .map(([l]) => l);
