// The model-wide view of Cross Layer Equalization: every weight layer's largest relative range (how
// unevenly its output channels are spread) before and after CLE, worst layers first (lowest INT8 per-tensor
// SQNR before CLE), on a log scale; an arrow per layer that CLE changed, the selected layer highlighted.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import type { CleReport } from '../report/cle-report.js';
import { isDense } from './channels.js';
import { maxRelativeRangeText } from './cle-channels.js';
import { formatDb } from './quant-error.js';
import { rankingSqnr, worstFirst } from '../report/worst-layers.js';
import { channelTicks, formatList, formatNumber, logTicks, tickFormat } from './format.js';
import { chartStyle, colors } from './theme.js';

/** One weight layer of the model, before and after CLE. */
export interface CleLayerRow {
  /** Position in the chart: worst first (lowest INT8 per-tensor SQNR before CLE; see worstFirst). */
  index: number;
  name: string;
  op: string;
  /** Largest live relative range; null when every channel is dead. */
  before: number | null;
  after: number | null;
  /** Text of each figure ('—' for none). */
  beforeText: string;
  afterText: string;
  changed: boolean;
  /** INT8 symmetric per-tensor SQNR before CLE, as text ('' without quantization figures). */
  sqnrBeforeText: string;
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
  return worstFirst(report.layers, (l) => l.before).map((l, index) => {
    const beforeText = maxRelativeRangeText(l.before);
    const afterText = maxRelativeRangeText(l.after);
    const sqnr = rankingSqnr(l.before);
    return {
      index,
      name: l.name,
      op: l.op,
      before: l.before.maxRelativeRange,
      after: l.after.maxRelativeRange,
      beforeText,
      afterText,
      changed: beforeText !== afterText || l.before.maxRelativeRange !== l.after.maxRelativeRange,
      sqnrBeforeText: sqnr === undefined ? '' : formatDb(sqnr),
    };
  });
}

export function cleLayersPlot(
  report: CleReport,
  { width = 640, height = 200, selected }: CleLayersOptions = {},
): PlotSpec {
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
  const yDomain = decadeDomain(rows.flatMap((d) => [d.before, d.after]));
  return plotSpec({
    width,
    height,
    marginLeft,
    marginRight: 16,
    style: chartStyle,
    x: {
      domain: [-0.5, last + 0.5],
      ticks: channelTicks(0, last, width / 80),
      tickFormat: 'd',
      label: 'layers, worst INT8 SQNR first',
    },
    y: {
      type: 'log',
      domain: yDomain,
      ticks: logTicks(yDomain[0], yDomain[1], height - 50),
      tickFormat,
      grid: true,
      label: 'largest relative range',
    },
    marks: [
      Plot.rect(chosen, {
        x1: (d: CleLayerRow) => d.index - 0.5,
        x2: (d: CleLayerRow) => d.index + 0.5,
        fill: 'var(--_selected-background, #ddf4ff)',
        stroke: 'var(--_accent-color, #0969da)',
        strokeWidth: 1,
        ariaDescription: CLE_LAYER_MARKS.selected,
      }),
      dense
        ? Plot.ruleX(arrows, {
            x: 'index',
            y1: 'before',
            y2: 'after',
            stroke: colors.change,
            strokeWidth: Math.max(1, perLayer * 0.8),
            ariaDescription: CLE_LAYER_MARKS.change,
          })
        : Plot.arrow(arrows, {
            x1: 'index',
            x2: 'index',
            y1: 'before',
            y2: 'after',
            stroke: colors.change,
            strokeWidth: Math.min(2.5, Math.max(1, perLayer * 0.15)),
            headLength: Math.min(8, Math.max(3, perLayer * 0.6)),
            insetEnd: r,
            ariaDescription: CLE_LAYER_MARKS.change,
          }),
      dense
        ? Plot.lineY(point('before'), {
            x: 'index',
            y: 'before',
            curve: 'step',
            stroke: colors.before,
            strokeDasharray: '2 2',
            ariaDescription: CLE_LAYER_MARKS.before,
          })
        : Plot.dot(point('before'), {
            x: 'index',
            y: 'before',
            r,
            stroke: colors.before,
            strokeWidth: 1.25,
            fill: 'var(--_background, white)',
            ariaDescription: CLE_LAYER_MARKS.before,
          }),
      dense
        ? Plot.lineY(point('after'), {
            x: 'index',
            y: 'after',
            curve: 'step',
            stroke: colors.after,
            ariaDescription: CLE_LAYER_MARKS.after,
          })
        : Plot.dot(point('after'), {
            x: 'index',
            y: 'after',
            r,
            fill: colors.after,
            ariaDescription: CLE_LAYER_MARKS.after,
          }),
    ],
  });
}

/** The values' span widened to whole decades (a relative range is at least 1). */
function decadeDomain(values: readonly (number | null)[]): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) if (v !== null && v > 0) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (lo > hi) return [1, 10];
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.max(Math.ceil(Math.log10(hi)), Math.floor(Math.log10(lo)) + 1)];
}

/** SVG <title> and <desc> text for the chart. */
export function cleLayersText(report: CleReport, selected?: string | null): { title: string; description: string } {
  const rows = cleLayerRows(report);
  const changed = rows.filter((d) => d.changed);
  const better = changed.filter((d) => d.before !== null && d.after !== null && d.after < d.before).length;
  const notDrawn = rows.filter((d) => d.before === null || d.after === null).map((d) => d.name);
  const chosen = rows.find((d) => d.name === selected);
  const worst = (which: 'before' | 'after') => {
    let top: CleLayerRow | undefined;
    for (const d of rows) if (d[which] !== null && (!top || d[which]! > top[which]!)) top = d;
    return top ? `${formatNumber(top[which])} (${top.name})` : 'none';
  };
  return {
    title: `Largest relative range per layer of ${report.file}, before and after CLE`,
    description:
      `${rows.length} weight layers, worst first (lowest INT8 per-tensor SQNR before CLE), each with its largest relative range before CLE (hollow dot) and after (filled dot) ` +
      `on a log scale, an arrow where CLE changed it. ${changed.length} ${changed.length === 1 ? 'layer' : 'layers'} changed, ${better} of them for the better. ` +
      `Highest before: ${worst('before')}; after: ${worst('after')}.` +
      (notDrawn.length ? ` Not drawn (every channel dead): ${formatList(notDrawn, 10)}.` : '') +
      (chosen
        ? ` Selected: number ${chosen.index + 1}, ${chosen.name}, ${chosen.beforeText} → ${chosen.afterText}.`
        : ''),
  };
}
