// The model-wide view of Cross Layer Equalization: every weight layer's largest relative range (how
// unevenly its output channels are spread) before and after CLE, in model order, on a log scale; an
// arrow per layer that CLE changed, the selected layer highlighted.
import * as Plot from '@observablehq/plot';
import type { CleReport } from '../report/cle-report.js';
import { isDense } from './channels.js';
import { maxRelativeRangeText } from './cle-channels.js';
import { channelTicks, formatList, formatNumber } from './format.js';
import { chartStyle, colors } from './theme.js';

/** One weight layer of the model, before and after CLE. */
export interface CleLayerRow {
  /** Position in model order (the report's `layers`). */
  index: number;
  name: string;
  op: string;
  /** Largest relative range; null when it is infinite (smallest range 0) or there is no finite channel. */
  before: number | null;
  after: number | null;
  /** Text of each figure ('∞' for an infinite one). */
  beforeText: string;
  afterText: string;
  changed: boolean;
}

export interface CleLayersOptions {
  width?: number;
  height?: number;
  /** Name of the layer to highlight. */
  selected?: string | null;
}

export const CLE_LAYER_MARKS = {
  selected: 'selected layer',
  change: 'change of largest relative range',
  before: 'largest relative range before CLE',
  after: 'largest relative range after CLE',
} as const;

export function cleLayerRows(report: CleReport): CleLayerRow[] {
  return report.layers.map((l, index) => {
    const beforeText = maxRelativeRangeText(l.before);
    const afterText = maxRelativeRangeText(l.after);
    return {
      index, name: l.name, op: l.op,
      before: l.before.maxRelativeRange, after: l.after.maxRelativeRange, beforeText, afterText,
      changed: beforeText !== afterText || l.before.maxRelativeRange !== l.after.maxRelativeRange,
    };
  });
}

export function cleLayersPlot(report: CleReport, { width = 640, height = 200, selected }: CleLayersOptions = {}): Plot.PlotOptions {
  const rows = cleLayerRows(report);
  const n = rows.length;
  const last = Math.max(0, n - 1);
  const marginLeft = 56;
  const perLayer = (width - marginLeft - 16) / Math.max(1, n);
  const r = Math.min(4, Math.max(1.5, perLayer * 0.3));
  const chosen = rows.filter((d) => d.name === selected);
  const arrows = rows.filter((d) => d.changed && d.before !== null && d.after !== null);
  const dense = isDense(0, last);
  const point = (which: 'before' | 'after') => rows.filter((d) => d[which] !== null);
  return {
    width, height, marginLeft, marginRight: 16, style: chartStyle,
    x: { domain: [-0.5, last + 0.5], ticks: channelTicks(0, last, width / 80), tickFormat: 'd', label: 'layer (model order)' },
    y: { type: 'log', grid: true, nice: true, label: 'largest relative range', tickFormat: '~g' },
    marks: [
      Plot.rect(chosen, {
        x1: (d: CleLayerRow) => d.index - 0.5, x2: (d: CleLayerRow) => d.index + 0.5,
        fill: 'var(--_selected-background, #ddf4ff)', stroke: 'var(--_accent-color, #0969da)', strokeWidth: 1,
        ariaDescription: CLE_LAYER_MARKS.selected,
      }),
      dense
        ? Plot.ruleX(arrows, {
            x: 'index', y1: 'before', y2: 'after', stroke: colors.change, strokeWidth: Math.max(1, perLayer * 0.8),
            ariaDescription: CLE_LAYER_MARKS.change,
          })
        : Plot.arrow(arrows, {
            x1: 'index', x2: 'index', y1: 'before', y2: 'after', stroke: colors.change, strokeWidth: Math.min(2.5, Math.max(1, perLayer * 0.15)),
            headLength: Math.min(8, Math.max(3, perLayer * 0.6)), insetEnd: r, ariaDescription: CLE_LAYER_MARKS.change,
          }),
      dense
        ? Plot.lineY(point('before'), { x: 'index', y: 'before', curve: 'step', stroke: colors.before, strokeDasharray: '2 2', ariaDescription: CLE_LAYER_MARKS.before })
        : Plot.dot(point('before'), {
            x: 'index', y: 'before', r, stroke: colors.before, strokeWidth: 1.25, fill: 'var(--_background, white)',
            ariaDescription: CLE_LAYER_MARKS.before,
          }),
      dense
        ? Plot.lineY(point('after'), { x: 'index', y: 'after', curve: 'step', stroke: colors.after, ariaDescription: CLE_LAYER_MARKS.after })
        : Plot.dot(point('after'), { x: 'index', y: 'after', r, fill: colors.after, ariaDescription: CLE_LAYER_MARKS.after }),
    ],
  };
}

/** SVG <title> and <desc> text for the chart. */
export function cleLayersText(report: CleReport, selected?: string | null): { title: string; description: string } {
  const rows = cleLayerRows(report);
  const changed = rows.filter((d) => d.changed);
  const better = changed.filter((d) => d.before !== null && d.after !== null && d.after < d.before).length;
  const infinite = rows.filter((d) => d.before === null || d.after === null).map((d) => d.name);
  const chosen = rows.find((d) => d.name === selected);
  const worst = (which: 'before' | 'after') => {
    let top: CleLayerRow | undefined;
    for (const d of rows) if (d[which] !== null && (!top || d[which]! > top[which]!)) top = d;
    return top ? `${formatNumber(top[which])} (${top.name})` : 'none';
  };
  return {
    title: `Largest relative range per layer of ${report.file}, before and after CLE`,
    description:
      `${rows.length} weight layers in model order, each with its largest relative range before CLE (hollow dot) and after (filled dot) ` +
      `on a log scale, an arrow where CLE changed it. ${changed.length} ${changed.length === 1 ? 'layer' : 'layers'} changed, ${better} of them for the better. ` +
      `Highest before: ${worst('before')}; after: ${worst('after')}.` +
      (infinite.length ? ` Not drawn (infinite or no finite channel): ${formatList(infinite, 10)}.` : '') +
      (chosen ? ` Selected: layer ${chosen.index + 1}, ${chosen.name}, ${chosen.beforeText} → ${chosen.afterText}.` : ''),
  };
}
