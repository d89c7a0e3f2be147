// AIMET's "Weight Ranges per Output Channel": per channel a rule from min to max and the mean as a dot;
// outlier channels (relative range above the Tukey fence) in the outlier colour, their means as triangles;
// dead channels (range at most 1e-4 of the layer's largest: invisible as a rule) as a cross at their mean.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import type { LayerReport } from '../report/stats-report.js';
import {
  channelBands,
  channelsIn,
  channelBuckets,
  channelRows,
  clampDomain,
  listedRows,
  drawable,
  isDense,
  type ChannelDomain,
  type ChannelRow,
  channelFrame,
  channelPixels,
} from './channels.js';
import { modelGrid, type ModelGrid } from './model-quantization.js';
import { formatList, formatNumber, formatSpan, tickFormat } from './format.js';
import { colors } from './theme.js';

export interface WeightRangeOptions {
  width?: number;
  height?: number;
  /** Zoom: the inclusive channel span to show; all channels when absent. */
  domain?: ChannelDomain | null;
}

/** Mark names (each mark's `ariaDescription`, i.e. its SVG group's aria-description): tests and styles find marks by them. */
export const WEIGHT_RANGE_MARKS = {
  ranges: 'channel ranges',
  means: 'channel means',
  outlierRanges: 'outlier channel ranges',
  outlierMeans: 'outlier channel means',
  modelRange: "the model's own quantization range",
  deadChannels: 'dead channels',
} as const;

export function weightRangePlot(
  layer: LayerReport,
  { width = 640, height = 320, domain }: WeightRangeOptions = {},
): PlotSpec {
  const [lo, hi] = clampDomain(layer, domain);
  const dense = isDense(lo, hi);
  // Dense: outliers and dead channels at most one mark per bucket (the band holds every extreme).
  const rows = dense ? [] : drawable(channelRows(layer, [lo, hi]));
  const normal = rows.filter((r) => !r.outlier);
  const outliers = dense ? drawable(listedRows(layer, 'outliers', [lo, hi])) : rows.filter((r) => r.outlier);
  const dead = listedRows(layer, 'deadChannels', [lo, hi]);
  const perChannel = channelPixels(width, lo, hi);
  const strokeWidth = Math.min(8, Math.max(1, perChannel * 0.6));
  const r = Math.min(4, Math.max(1.5, perChannel * 0.4));
  const range = { x: 'channel', y1: 'min', y2: 'max', strokeWidth } as const;
  const mean = { x: 'channel', y: 'mean', r } as const;
  // Dense: the channels' ranges as one stepped band of buckets (channelBands) and their means as one line.
  const bands = dense ? channelBands(layer, [lo, hi]) : [];
  const rangeMarks = dense
    ? [
        Plot.areaY(bands, {
          x: 'channel',
          y1: 'min',
          y2: 'max',
          curve: 'step',
          fill: colors.range,
          ariaDescription: WEIGHT_RANGE_MARKS.ranges,
        }),
        Plot.lineY(bands, {
          x: 'channel',
          y: 'mean',
          curve: 'step',
          stroke: colors.mean,
          strokeWidth: 1,
          ariaDescription: WEIGHT_RANGE_MARKS.means,
        }),
      ]
    : [
        Plot.ruleX(normal, { ...range, stroke: colors.range, ariaDescription: WEIGHT_RANGE_MARKS.ranges }),
        Plot.dot(
          normal.filter((d) => d.mean !== null),
          { ...mean, fill: colors.mean, ariaDescription: WEIGHT_RANGE_MARKS.means },
        ),
      ];
  return plotSpec({
    ...channelFrame(width, height, lo, hi),
    y: { grid: true, nice: true, label: 'weight', tickFormat },
    marks: [
      Plot.ruleY([0], { stroke: 'currentColor', strokeOpacity: 0.4, ariaHidden: 'true' }),
      ...modelRangeMarks(modelGrid(layer), lo, hi),
      ...rangeMarks,
      Plot.ruleX(outliers, {
        ...range,
        strokeWidth: Math.max(2, strokeWidth),
        stroke: colors.outlier,
        ariaDescription: WEIGHT_RANGE_MARKS.outlierRanges,
      }),
      Plot.dot(
        outliers.filter((d) => d.mean !== null),
        {
          ...mean,
          r: r + 2,
          symbol: 'triangle',
          fill: colors.outlier,
          stroke: 'var(--_background, white)',
          strokeWidth: 0.5,
          ariaDescription: WEIGHT_RANGE_MARKS.outlierMeans,
        },
      ),
      Plot.dot(dead, {
        x: 'channel',
        y: (d: ChannelRow) => d.mean ?? 0,
        r: r + 1,
        symbol: 'times',
        stroke: colors.dead,
        strokeWidth: 1.5,
        ariaDescription: WEIGHT_RANGE_MARKS.deadChannels,
      }),
    ],
  });
}

/** SVG <title> and <desc> text for the chart. */
export function weightRangeText(
  layer: LayerReport,
  domain?: ChannelDomain | null,
): { title: string; description: string } {
  const span = clampDomain(layer, domain);
  const shown = channelsIn(layer.outliers, span);
  let lowest: number | null = null;
  let highest: number | null = null;
  for (let c = span[0]; c <= span[1]; c++) {
    const [min, max] = [layer.channels.min[c] ?? null, layer.channels.max[c] ?? null];
    if (min !== null && (lowest === null || min < lowest)) lowest = min;
    if (max !== null && (highest === null || max > highest)) highest = max;
  }
  const dead = channelsIn(layer.deadChannels, span);
  const deadText =
    dead.length === 0
      ? ''
      : ` ${dead.length} dead channel${dead.length === 1 ? '' : 's'} (range at most 1e-4 of the layer's largest, drawn as a cross): ${formatList(dead)}.`;
  const outliers =
    shown.length === 0
      ? 'No outlier channels'
      : `${shown.length} outlier channel${shown.length === 1 ? '' : 's'} (relative range above the Tukey fence): ${formatList(shown)}`;
  return {
    title: `Weight ranges per output channel of ${layer.name}`,
    description:
      `${layer.op} ${layer.name}, weight shape [${layer.shape.join(', ')}]: channels ${formatSpan(span)} of ${layer.channels.min.length}, ` +
      `each drawn from its minimum to its maximum weight with the mean as a dot. ` +
      `Weights range from ${formatNumber(lowest)} to ${formatNumber(highest)}. ${outliers}.${deadText}` +
      modelRangeText(layer),
  };
}

/**
 * A quantized model's own clipping range per channel, behind the weights: a short rule at each channel's
 * lowest and highest representable value, or two stepped lines when the channels are dense.
 */
function modelRangeMarks(grid: ModelGrid | null, lo: number, hi: number): Plot.Markish[] {
  if (!grid) return [];
  const style = {
    stroke: colors.modelRange,
    strokeWidth: 1.5,
    ariaDescription: WEIGHT_RANGE_MARKS.modelRange,
  } as const;
  if (isDense(lo, hi)) {
    // Per bucket of channels (as the weights' band): the lowest and the highest the model represents.
    const buckets = channelBuckets(lo, hi).map(([first, last]) => {
      const run = grid.channels.slice(first, last + 1);
      return {
        channel: (first + last) / 2,
        lo: Math.min(...run.map((g) => g.lo)),
        hi: Math.max(...run.map((g) => g.hi)),
      };
    });
    const line = (y: 'lo' | 'hi') => Plot.lineY(buckets, { x: 'channel', y, curve: 'step', ...style });
    return [line('lo'), line('hi')];
  }
  const rows = grid.channels.slice(lo, hi + 1);
  const ends = rows.flatMap((r) => [
    { channel: r.channel, y: r.lo },
    { channel: r.channel, y: r.hi },
  ]);
  return [
    Plot.ruleY(ends, {
      y: 'y',
      x1: (d: { channel: number }) => d.channel - 0.45,
      x2: (d: { channel: number }) => d.channel + 0.45,
      ...style,
    }),
  ];
}

/** What the description says about a quantized model's own range ('' for a float weight). */
function modelRangeText(layer: LayerReport): string {
  const grid = modelGrid(layer);
  if (!grid) return '';
  const clipped = grid.channels.filter((g) => {
    const [min, max] = [layer.channels.min[g.channel], layer.channels.max[g.channel]];
    return (min !== null && min !== undefined && min < g.lo) || (max !== null && max !== undefined && max > g.hi);
  });
  return (
    ` The model stores this weight as ${grid.dtype}, ${grid.granularity}; the range it can represent in each channel is drawn as ` +
    `a rule at its lowest and highest value${clipped.length ? `; channels outside it: ${formatList(clipped.map((g) => g.channel))}` : ''}.`
  );
}
