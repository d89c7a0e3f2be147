// <compressibility-plot>'s chart: for one layer, the relative weight error ‖W − Ŵ‖/‖W‖ (y) each method costs
// against the parameter compression ratio it reaches (x, log): Weight SVD and Spatial SVD at every rank,
// magnitude and channel pruning at every share; the layer's INT8 and INT4 errors as labelled reference rules,
// and a rule at the chosen error with each method's best point within it. Weight-space error, not accuracy.
import * as Plot from '@observablehq/plot';
import { bestRatioWithin } from '../analysis/compression.js';
import { methodCurves } from '../report/compress-choice.js';
import type { CompressionMethod, LayerCompressibility } from '../report/compress-report.js';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import { chartStyle, colors } from './theme.js';

export const COMPRESS_MARKS = {
  errorRule: 'chosen error',
  int8Rule: 'INT8 error',
  int4Rule: 'INT4 error',
  referenceLabels: 'quantization error labels',
  curves: 'error against compression ratio',
  bestPoints: 'best point of each method within the error',
  bestChoice: "the layer's best choice",
} as const;

/** The error axis' label: what the figure is, and what it is not. */
export const ERROR_AXIS_LABEL = 'relative weight error ‖W − Ŵ‖/‖W‖ (not accuracy)';

/** Each method's colour (CSS variables, themed by the element). */
export const METHOD_COLORS: Readonly<Record<CompressionMethod, string>> = {
  'weight SVD': colors.weightSvd,
  'spatial SVD': colors.spatialSvd,
  pruning: colors.pruning,
  'channel pruning': colors.channelPruning,
};

/** One point of a method's curve on the chart. */
export interface CurvePoint {
  method: CompressionMethod;
  ratio: number;
  error: number;
  /** The rank kept (SVD) or the share removed (pruning). */
  at: number;
}

/** The methods a layer has a curve for, in the legend's order. */
export const layerMethods = (layer: LayerCompressibility): CompressionMethod[] =>
  methodCurves(layer).flatMap(([method, curve]) => (curve && curve.length ? [method] : []));

/**
 * The points drawn: each method's curve where it saves parameters (ratio ≥ 1; a factorization at a high rank
 * holds more than the weight), in order of ratio.
 */
export function curvePoints(layer: LayerCompressibility): CurvePoint[] {
  return methodCurves(layer).flatMap(([method, curve]) =>
    (curve ?? [])
      .filter((p) => p.ratio >= 1 && Number.isFinite(p.ratio) && Number.isFinite(p.error))
      .map((p) => ({ method, ratio: p.ratio, error: p.error, at: p.at }))
      .sort((a, b) => a.ratio - b.ratio || a.error - b.error),
  );
}

/** Each method's best point within `error` (the largest ratio whose error is at most `error`), ratio > 1 only. */
export function bestPoints(layer: LayerCompressibility, error: number): CurvePoint[] {
  return methodCurves(layer).flatMap(([method, curve]) => {
    const p = curve && bestRatioWithin(curve, error);
    return p && p.ratio > 1 ? [{ method, ratio: p.ratio, error: p.error, at: p.at }] : [];
  });
}

export interface CompressibilityOptions {
  width?: number;
  height?: number;
}

/** The error axis' top: the region around the chosen error and the INT4 reference (at most 1). */
export function errorDomainTop(layer: LayerCompressibility, error: number): number {
  return Math.min(1, Math.max(0.02, error * 2.5, (layer.int4Error ?? 0) * 1.25, (layer.int8Error ?? 0) * 1.25));
}

export function compressibilityPlot(
  layer: LayerCompressibility,
  error: number,
  { width = 640, height = 300 }: CompressibilityOptions = {},
): PlotSpec {
  const points = curvePoints(layer);
  const best = bestPoints(layer, error);
  const yMax = errorDomainTop(layer, error);
  // The ratio axis spans what the methods reach within the error axis' top.
  const within = points.filter((p) => p.error <= yMax).map((p) => p.ratio);
  const xMax = Math.max(2, ...within) * 1.15;
  const references = [
    ...(layer.int8Error === null ? [] : [{ label: 'INT8', error: layer.int8Error }]),
    ...(layer.int4Error === null ? [] : [{ label: 'INT4', error: layer.int4Error }]),
  ].filter((r) => r.error <= yMax);
  const chosen = layer.best.method
    ? best.filter((p) => p.method === layer.best.method && p.ratio === layer.best.ratio)
    : [];
  const methods = layerMethods(layer);
  return plotSpec({
    width,
    height,
    marginLeft: 52,
    marginRight: 72,
    marginBottom: 36,
    style: chartStyle,
    x: { type: 'log', domain: [1, xMax], grid: true, label: 'parameter compression ratio (before / after) →' },
    y: {
      domain: [0, yMax],
      grid: true,
      label: `↑ ${ERROR_AXIS_LABEL}`,
      tickFormat: (v: number) => `${+(v * 100).toPrecision(3)}%`,
    },
    color: { domain: methods, range: methods.map((m) => METHOD_COLORS[m]) },
    marks: [
      Plot.ruleY([error], {
        stroke: colors.change,
        strokeDasharray: '5 3',
        strokeWidth: 1.5,
        ariaDescription: COMPRESS_MARKS.errorRule,
      }),
      Plot.ruleY(
        references.filter((r) => r.label === 'INT8'),
        {
          y: 'error',
          stroke: colors.mean,
          strokeDasharray: '2 2',
          ariaDescription: COMPRESS_MARKS.int8Rule,
        },
      ),
      Plot.ruleY(
        references.filter((r) => r.label === 'INT4'),
        {
          y: 'error',
          stroke: colors.mean,
          strokeDasharray: '6 2 2 2',
          ariaDescription: COMPRESS_MARKS.int4Rule,
        },
      ),
      Plot.text(references, {
        x: xMax,
        y: 'error',
        text: (r: { label: string; error: number }) => `${r.label} ${+(r.error * 100).toPrecision(3)}%`,
        textAnchor: 'start',
        dx: 4,
        fontSize: 10,
        fill: 'currentColor',
        ariaDescription: COMPRESS_MARKS.referenceLabels,
      }),
      Plot.line(points, {
        x: 'ratio',
        y: 'error',
        z: 'method',
        stroke: 'method',
        strokeWidth: 1.75,
        clip: true,
        ariaDescription: COMPRESS_MARKS.curves,
      }),
      Plot.dot(best, {
        x: 'ratio',
        y: 'error',
        r: 4,
        fill: 'method',
        stroke: 'var(--_background, white)',
        title: (p: CurvePoint) => `${p.method}: ${p.ratio.toFixed(2)}x at ${(p.error * 100).toPrecision(3)}% error`,
        ariaDescription: COMPRESS_MARKS.bestPoints,
      }),
      Plot.dot(chosen, {
        x: 'ratio',
        y: 'error',
        r: 8,
        fill: 'none',
        stroke: 'currentColor',
        strokeWidth: 1.5,
        ariaDescription: COMPRESS_MARKS.bestChoice,
      }),
    ],
  });
}

const percent = (v: number) => `${+(v * 100).toPrecision(3)}%`;

/** SVG <title> and <desc> text for the chart. */
export function compressibilityText(
  layer: LayerCompressibility,
  error: number,
): { title: string; description: string } {
  const best = bestPoints(layer, error);
  const methods = layerMethods(layer);
  return {
    title: `Relative weight error against parameter compression ratio of ${layer.name}`,
    description:
      (methods.length ? `Curves: ${methods.join(', ')}. ` : 'No curve: ' + layer.notes.join('; ') + '. ') +
      `Within ${percent(error)} error: ` +
      (best.length
        ? best.map((p) => `${p.method} ${p.ratio.toFixed(2)}x (${percent(p.error)})`).join(', ')
        : 'no method saves parameters') +
      '. ' +
      (layer.int8Error === null ? '' : `INT8 error ${percent(layer.int8Error)}. `) +
      (layer.int4Error === null ? '' : `INT4 error ${percent(layer.int4Error)}. `) +
      'Weight-space error, not accuracy.',
  };
}
