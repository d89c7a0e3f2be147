// Histogram of a layer's relative ranges, with the Tukey fence as a vertical rule.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import { tukeyFence } from '../analysis/relative-range.js';
import type { LayerReport } from '../report/stats-report.js';
import { formatNumber, tickFormat } from './format.js';
import { chartStyle, colors } from './theme.js';

export interface HistogramOptions {
  width?: number;
  height?: number;
  /** Number of bins asked of Plot's binX (it picks nice thresholds near this). */
  bins?: number;
}

export const HISTOGRAM_MARKS = { bins: 'relative range histogram', fence: 'Tukey fence' } as const;

export function relativeRangeHistogram(
  layer: LayerReport,
  { width = 640, height = 200, bins = 30 }: HistogramOptions = {},
): PlotSpec {
  const values = layer.relativeRange.filter((v): v is number => v !== null);
  const fence = tukeyFence(values);
  return plotSpec({
    width,
    height,
    marginLeft: 56,
    marginRight: 16,
    style: chartStyle,
    x: { label: 'relative range', nice: true, tickFormat },
    y: { grid: true, label: 'channels', tickFormat },
    marks: [
      Plot.rectY(
        values,
        Plot.binX<Plot.RectYOptions>(
          { y: 'count' },
          {
            x: (d: number) => d,
            thresholds: bins,
            fill: colors.bar,
            insetLeft: 0.5,
            insetRight: 0.5,
            ariaDescription: HISTOGRAM_MARKS.bins,
          },
        ),
      ),
      Plot.ruleY([0], { stroke: 'currentColor', ariaHidden: 'true' }),
      ...(fence
        ? [
            Plot.ruleX([fence.upper], {
              stroke: colors.fence,
              strokeWidth: 1.5,
              strokeDasharray: '6 3',
              ariaDescription: HISTOGRAM_MARKS.fence,
            }),
          ]
        : []),
    ],
  });
}

export function relativeRangeHistogramText(layer: LayerReport): { title: string; description: string } {
  const values = layer.relativeRange.filter((v): v is number => v !== null);
  const fence = tukeyFence(values);
  const above = fence ? values.filter((v) => v > fence.upper).length : 0;
  return {
    title: `Histogram of the relative ranges of ${layer.name}`,
    description: fence
      ? `${values.length} channels, relative ranges from 1 to ${formatNumber(layer.maxRelativeRange)}; ${above} above the Tukey fence at ${formatNumber(fence.upper)}.`
      : `${layer.name} has no finite relative range.`,
  };
}
