// AIMET's problematic-layer view: relative range per channel, with the Tukey fence (Q3 + 1.5·IQR) above
// which a channel is an outlier.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import { tukeyFence } from '../analysis/relative-range.js';
import type { LayerReport } from '../report/stats-report.js';
import { deadChannelNote } from '../report/dead-channels.js';
import {
  channelBands,
  channelsIn,
  channelRows,
  clampDomain,
  isDense,
  listedRows,
  type ChannelDomain,
  channelFrame,
  channelPixels,
} from './channels.js';
import { formatList, formatNumber, formatSpan, tickFormat } from './format.js';
import { colors } from './theme.js';

export interface RelativeRangeOptions {
  width?: number;
  height?: number;
  domain?: ChannelDomain | null;
}

export const RELATIVE_RANGE_MARKS = {
  channels: 'relative range per channel',
  outliers: 'outlier channels',
  fence: 'Tukey fence',
} as const;

export function relativeRangePlot(
  layer: LayerReport,
  { width = 640, height = 260, domain }: RelativeRangeOptions = {},
): PlotSpec {
  const [lo, hi] = clampDomain(layer, domain);
  const dense = isDense(lo, hi);
  // Dense: outliers at most one mark per bucket (the band holds every extreme).
  const rows = (dense ? listedRows(layer, 'outliers', [lo, hi]) : channelRows(layer, [lo, hi])).filter(
    (r) => r.relativeRange !== null,
  );
  const fence = tukeyFence(layer.relativeRange);
  const perChannel = channelPixels(width, lo, hi);
  const stem = {
    x: 'channel',
    y1: 1,
    y2: 'relativeRange',
    strokeWidth: Math.min(4, Math.max(1, perChannel * 0.3)),
  } as const;
  const dot = { x: 'channel', y: 'relativeRange', r: Math.min(4, Math.max(1.5, perChannel * 0.4)) } as const;
  const normal = rows.filter((r) => !r.outlier);
  const outliers = rows.filter((r) => r.outlier);
  // Dense: all channels as one stepped band of buckets from 1 (outliers drawn over it); see DENSE_CHANNELS.
  const channelMarks = dense
    ? [
        Plot.areaY(channelBands(layer, [lo, hi]), {
          x: 'channel',
          y1: 1,
          y2: 'relativeRange',
          curve: 'step',
          fill: colors.range,
          fillOpacity: 0.7,
          ariaDescription: RELATIVE_RANGE_MARKS.channels,
        }),
      ]
    : [
        Plot.ruleX(normal, { ...stem, stroke: colors.range, strokeOpacity: 0.5, ariaHidden: 'true' }),
        Plot.dot(normal, { ...dot, fill: colors.range, ariaDescription: RELATIVE_RANGE_MARKS.channels }),
      ];
  return plotSpec({
    ...channelFrame(width, height, lo, hi),
    y: { grid: true, nice: true, label: 'relative range', zero: true, tickFormat },
    marks: [
      ...channelMarks,
      Plot.ruleX(outliers, { ...stem, stroke: colors.outlier, strokeOpacity: 0.6, ariaHidden: 'true' }),
      Plot.dot(outliers, {
        ...dot,
        r: dot.r + 2,
        symbol: 'triangle',
        fill: colors.outlier,
        ariaDescription: RELATIVE_RANGE_MARKS.outliers,
      }),
      ...(fence
        ? [
            Plot.ruleY([fence.upper], {
              stroke: colors.fence,
              strokeWidth: 1.5,
              strokeDasharray: '6 3',
              ariaDescription: RELATIVE_RANGE_MARKS.fence,
            }),
            Plot.text([fence.upper], {
              y: (d: number) => d,
              frameAnchor: 'right',
              dy: -6,
              textAnchor: 'end',
              fill: colors.fence,
              text: (d: number) => `Q3 + 1.5·IQR = ${formatNumber(d)}`,
              ariaHidden: 'true',
            }),
          ]
        : []),
    ],
  });
}

export function relativeRangeText(
  layer: LayerReport,
  domain?: ChannelDomain | null,
): { title: string; description: string } {
  const span = clampDomain(layer, domain);
  const fence = tukeyFence(layer.relativeRange);
  const title = `Relative range per output channel of ${layer.name}`;
  if (!fence) {
    return {
      title,
      description: `${deadChannelNote(layer)}.`,
    };
  }
  const outliers = channelsIn(layer.outliers, span);
  const dead = channelsIn(layer.deadChannels, span);
  return {
    title,
    description:
      `Channels ${formatSpan(span)} of ${layer.channels.min.length}: each channel's weight range divided by the smallest live channel range ` +
      `(largest ${formatNumber(layer.maxRelativeRange)}). Tukey fence Q3 + 1.5·IQR = ${formatNumber(fence.upper)}; ` +
      (outliers.length ? `channels above it: ${formatList(outliers)}.` : 'no channel lies above it.') +
      (dead.length ? ` Dead channels, left out: ${formatList(dead)} (range at most 1e-4 of the layer's largest).` : ''),
  };
}
