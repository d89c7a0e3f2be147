// AIMET's "changes in key stats per output channel" for one layer seen twice: before and after CLE
// (<cle-compare>), or in two versions of a model (<model-compare>). Per channel the range and mean before
// (dotted) and after (solid), the change of min and max shaded between them, outlier channels of either side
// in the outlier colour. Above DENSE_CHANNELS channels the sides become lines, of buckets of channels
// (channelBands) beyond MAX_BUCKETS. What the two sides are called (SideLabels) is the caller's.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import type { LayerReport } from '../report/stats-report.js';
import {
  channelBands,
  channelRows,
  clampDomain,
  isDense,
  listedRows,
  type ChannelDomain,
  type ChannelRow,
  channelFrame,
  channelPixels,
} from './channels.js';
import { formatList, formatNumber, formatSpan, tickFormat } from './format.js';
import { colors } from './theme.js';

/** One layer's statistics on two sides: before and after CLE (a CleLayerChange), or in two models. */
export interface LayerChange {
  name: string;
  op: string;
  before: LayerReport;
  after: LayerReport;
}

/** What the two sides are called in mark names and text: "before CLE" / "after CLE", or "before" / "after". */
export interface SideLabels {
  before: string;
  after: string;
}

/** <cle-compare>'s sides. */
export const CLE_SIDES: SideLabels = { before: 'before CLE', after: 'after CLE' };

/** One output channel on both sides. */
export interface CleChannelRow {
  channel: number;
  before: ChannelRow;
  after: ChannelRow;
}

export interface CleChannelOptions {
  width?: number;
  height?: number;
  /** The inclusive channel span to show; all channels when absent. */
  domain?: ChannelDomain | null;
  /** What the sides are called in the marks' names (default CLE_SIDES). */
  sides?: SideLabels;
}

/**
 * Mark names (each mark's `ariaDescription`) for sides called `sides`: the element gives each a `part` (by
 * its key, the same whatever the sides are called), tests find marks by them.
 */
export function channelChangeMarks(sides: SideLabels) {
  return {
    maxChange: 'change of channel maxima',
    minChange: 'change of channel minima',
    beforeRanges: `channel ranges ${sides.before}`,
    beforeOutliers: `outlier channel ranges ${sides.before}`,
    beforeMeans: `channel means ${sides.before}`,
    afterRanges: `channel ranges ${sides.after}`,
    afterOutliers: `outlier channel ranges ${sides.after}`,
    afterMeans: `channel means ${sides.after}`,
  } as const;
}

/** <cle-compare>'s mark names. */
export const CLE_CHANNEL_MARKS = channelChangeMarks(CLE_SIDES);

const EMPTY_ROW = { min: null, max: null, mean: null, std: null, relativeRange: null, outlier: false, dead: false };

/** The rows of channels `domain[0]..domain[1]` (the channels of `before`; a channel missing after is empty). */
export function cleChannelRows(change: LayerChange, domain?: ChannelDomain | null): CleChannelRow[] {
  const span = clampDomain(change.before, domain);
  const after = new Map(channelRows(change.after, span).map((r) => [r.channel, r]));
  return channelRows(change.before, span).map((before) => ({
    channel: before.channel,
    before,
    after: after.get(before.channel) ?? { ...EMPTY_ROW, channel: before.channel },
  }));
}

/** Both sides' bands over `domain` (channelBands), bucket by bucket. */
function cleBands(change: LayerChange, domain: ChannelDomain): CleChannelRow[] {
  const after = channelBands(change.after, domain);
  return channelBands(change.before, domain).map((before, i) => ({
    channel: before.channel,
    before,
    after: after[i] ?? { ...EMPTY_ROW, channel: before.channel },
  }));
}

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
/** Both sides of `key` are finite and differ: the channel's change there is drawn. */
export const changed = (row: CleChannelRow, key: 'min' | 'max' | 'mean') =>
  finite(row.before[key]) && finite(row.after[key]) && row.before[key] !== row.after[key];
const hasRange = (r: ChannelRow) => r.min !== null && r.max !== null;

/** Dotted: how the before side is drawn (also in the element's key). */
export const BEFORE_DASH = '2 2';

export function cleChannelPlot(
  change: LayerChange,
  { width = 640, height = 320, domain, sides = CLE_SIDES }: CleChannelOptions = {},
): PlotSpec {
  const MARKS = channelChangeMarks(sides);
  const [lo, hi] = clampDomain(change.before, domain);
  const dense = isDense(lo, hi);
  const rows = dense ? cleBands(change, [lo, hi]) : cleChannelRows(change, [lo, hi]);
  const perChannel = channelPixels(width, lo, hi);
  // Before and after side by side within a channel's column when there is room, else on top of each other.
  const offset = perChannel >= 10 ? 0.2 : 0;
  const half = 0.42;
  const strokeWidth = Math.min(3, Math.max(1, perChannel * 0.12));
  const r = Math.min(3.5, Math.max(1.5, perChannel * 0.15));
  const xBefore = (d: CleChannelRow) => d.channel - offset;
  const xAfter = (d: CleChannelRow) => d.channel + offset;
  const side = (which: 'before' | 'after') => ({
    y1: (d: CleChannelRow) => d[which].min,
    y2: (d: CleChannelRow) => d[which].max,
    x: which === 'before' ? xBefore : xAfter,
    strokeWidth: which === 'before' ? Math.max(1, strokeWidth * 0.8) : strokeWidth,
    ...(which === 'before' ? { strokeDasharray: BEFORE_DASH } : {}),
  });
  const shade = { fill: colors.change, fillOpacity: 0.45 };
  // Dense: at most one outlier per bucket (the bands hold every extreme), drawn on its own side.
  const outliers = (which: 'before' | 'after') =>
    dense
      ? listedRows(change[which], 'outliers', [lo, hi])
          .filter(hasRange)
          .map((r) => ({ channel: r.channel, before: r, after: r }))
      : rows.filter((d) => d[which].outlier && hasRange(d[which]));

  const body = dense
    ? denseMarks(rows, { ...shade, fillOpacity: 0.75 }, MARKS)
    : [
        Plot.rect(
          rows.filter((d) => changed(d, 'max')),
          {
            x1: (d: CleChannelRow) => d.channel - half,
            x2: (d: CleChannelRow) => d.channel + half,
            y1: (d: CleChannelRow) => d.before.max,
            y2: (d: CleChannelRow) => d.after.max,
            ...shade,
            ariaDescription: MARKS.maxChange,
          },
        ),
        Plot.rect(
          rows.filter((d) => changed(d, 'min')),
          {
            x1: (d: CleChannelRow) => d.channel - half,
            x2: (d: CleChannelRow) => d.channel + half,
            y1: (d: CleChannelRow) => d.before.min,
            y2: (d: CleChannelRow) => d.after.min,
            ...shade,
            ariaDescription: MARKS.minChange,
          },
        ),
        Plot.ruleX(
          rows.filter((d) => !d.before.outlier && hasRange(d.before)),
          {
            ...side('before'),
            stroke: colors.before,
            ariaDescription: MARKS.beforeRanges,
          },
        ),
        Plot.ruleX(
          rows.filter((d) => !d.after.outlier && hasRange(d.after)),
          {
            ...side('after'),
            stroke: colors.after,
            ariaDescription: MARKS.afterRanges,
          },
        ),
        Plot.dot(
          rows.filter((d) => d.before.mean !== null),
          {
            x: xBefore,
            y: (d: CleChannelRow) => d.before.mean,
            r,
            stroke: colors.before,
            strokeWidth: 1.25,
            fill: 'var(--_background, white)',
            ariaDescription: MARKS.beforeMeans,
          },
        ),
        Plot.dot(
          rows.filter((d) => d.after.mean !== null),
          {
            x: xAfter,
            y: (d: CleChannelRow) => d.after.mean,
            r,
            fill: colors.after,
            ariaDescription: MARKS.afterMeans,
          },
        ),
      ];
  return plotSpec({
    ...channelFrame(width, height, lo, hi),
    y: { grid: true, nice: true, label: 'weight', tickFormat },
    marks: [
      Plot.ruleY([0], { stroke: 'currentColor', strokeOpacity: 0.4, ariaHidden: 'true' }),
      ...body,
      // Outliers keep a mark each in every mode, over the rest.
      Plot.ruleX(outliers('before'), {
        ...side('before'),
        strokeWidth: Math.max(1.5, strokeWidth),
        stroke: colors.outlier,
        ariaDescription: MARKS.beforeOutliers,
      }),
      Plot.ruleX(outliers('after'), {
        ...side('after'),
        strokeWidth: Math.max(2, strokeWidth),
        stroke: colors.outlier,
        ariaDescription: MARKS.afterOutliers,
      }),
    ],
  });
}

/**
 * Dense: the range after as one stepped band, the changes of min and max as stepped bands over it, the
 * range before as dotted stepped lines, and the means as lines (before dotted).
 */
function denseMarks(
  rows: CleChannelRow[],
  shade: { fill: string; fillOpacity: number },
  MARKS: ReturnType<typeof channelChangeMarks>,
): Plot.Markish[] {
  const series = (which: 'before' | 'after', keys: readonly ('min' | 'max' | 'mean')[]) =>
    rows.flatMap((d) => keys.map((key) => ({ channel: d.channel, key, value: d[which][key] })));
  const band = (key: 'min' | 'max', name: string) =>
    Plot.areaY(rows, {
      x: 'channel',
      y1: (d: CleChannelRow) => d.before[key],
      y2: (d: CleChannelRow) => d.after[key],
      curve: 'step',
      ...shade,
      ariaDescription: name,
    });
  const line = (
    which: 'before' | 'after',
    keys: readonly ('min' | 'max' | 'mean')[],
    name: string,
    extra: Plot.LineYOptions,
  ) =>
    Plot.lineY(series(which, keys), {
      x: 'channel',
      y: 'value',
      z: 'key',
      curve: 'step',
      ...extra,
      ariaDescription: name,
    });
  return [
    Plot.areaY(rows, {
      x: 'channel',
      y1: (d: CleChannelRow) => d.after.min,
      y2: (d: CleChannelRow) => d.after.max,
      curve: 'step',
      fill: colors.after,
      fillOpacity: 0.35,
      ariaDescription: MARKS.afterRanges,
    }),
    band('max', MARKS.maxChange),
    band('min', MARKS.minChange),
    line('before', ['min', 'max'], MARKS.beforeRanges, {
      stroke: colors.before,
      strokeWidth: 0.75,
      strokeOpacity: 0.8,
      strokeDasharray: BEFORE_DASH,
    }),
    line('before', ['mean'], MARKS.beforeMeans, {
      stroke: colors.before,
      strokeWidth: 1,
      strokeDasharray: BEFORE_DASH,
    }),
    line('after', ['mean'], MARKS.afterMeans, { stroke: colors.after, strokeWidth: 1 }),
  ];
}

const extremes = (rows: ChannelRow[]) => {
  let lowest: number | null = null;
  let highest: number | null = null;
  for (const r of rows) {
    if (r.min !== null && (lowest === null || r.min < lowest)) lowest = r.min;
    if (r.max !== null && (highest === null || r.max > highest)) highest = r.max;
  }
  return `from ${formatNumber(lowest)} to ${formatNumber(highest)}`;
};

/** The largest (live) relative range of a layer as text: '—' when every channel is dead. */
export function maxRelativeRangeText(layer: { maxRelativeRange: number | null }): string {
  return formatNumber(layer.maxRelativeRange);
}

/** SVG <title> and <desc> text for the chart. */
export function cleChannelText(
  change: LayerChange,
  domain?: ChannelDomain | null,
  sides: SideLabels = CLE_SIDES,
): { title: string; description: string } {
  const span = clampDomain(change.before, domain);
  const rows = cleChannelRows(change, span);
  const moved = rows.filter((d) => changed(d, 'min') || changed(d, 'max') || changed(d, 'mean')).length;
  const outliers = (which: 'before' | 'after') => {
    const list = rows.filter((d) => d[which].outlier).map((d) => d.channel);
    return list.length ? `${list.length} (${formatList(list)})` : 'none';
  };
  const { before, after } = change;
  return {
    title: `Changes in key stats per output channel of ${change.name}`,
    description:
      `${change.op} ${change.name}, weight shape [${before.shape.join(', ')}]: channels ${formatSpan(span)} of ${before.channels.min.length}, ` +
      `each with its range (minimum to maximum weight) and mean ${sides.before} (dotted) and ${sides.after} (solid), the change of minimum and maximum shaded. ` +
      `${moved} of ${rows.length} channels changed. ` +
      `Weights ranged ${extremes(rows.map((d) => d.before))} before and ${extremes(rows.map((d) => d.after))} after. ` +
      `Largest relative range ${maxRelativeRangeText(before)} before, ${maxRelativeRangeText(after)} after. ` +
      `Outlier channels before: ${outliers('before')}; after: ${outliers('after')}.`,
  };
}
