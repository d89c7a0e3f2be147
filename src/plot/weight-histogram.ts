// A layer's weight histogram (whole tensor or one output channel) with a quantizer overlaid: the clipping
// range shaded between two rules, and its grid levels where they are far enough apart to see; otherwise
// the header says how many histogram bins one grid step spans.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import type { LayerReport } from '../report/stats-report.js';
import { quantParams } from '../kernels/quantizer.js';
import type { LayerHistogram } from '../report/weight-histogram.js';
import { TICK_GAP_PX, formatNumber, logTicks, tickFormat } from './format.js';
import type { QuantBits, QuantScheme } from './quant-error.js';
import { chartStyle, colors } from './theme.js';

export type CountScale = 'linear' | 'log';
/** Whose range sets the quantizer: the whole tensor's, or each output channel's own. */
export type GridGranularity = 'tensor' | 'channel';

export interface OverlayOptions {
  bits: QuantBits;
  scheme: QuantScheme;
  grid: GridGranularity;
}

export interface QuantOverlay extends OverlayOptions {
  /** The clipping range: symmetric ±max|w|; asymmetric [min, max] widened to include 0. */
  lo: number;
  hi: number;
  /** One grid step, and the value of level q is (q − zeroPoint)·scale for q in qmin..qmax. */
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

/** Grid levels closer than this on screen are not drawn one by one. */
const MIN_LEVEL_GAP_PX = 4;
const MARGIN = { left: 56, right: 16 };

export const WEIGHT_HISTOGRAM_MARKS = {
  clipRange: 'clipping range',
  clipBounds: 'clipping bounds',
  levels: 'quantization grid levels',
  bins: 'weight histogram bins',
} as const;

/** Finite extremes of the report's figures for a channel, or for every channel; null if none is finite. */
function extremes(layer: LayerReport, channel: number | null) {
  const { min, max, absMax } = layer.channels;
  const picked = channel === null ? min.map((_, c) => c) : [channel];
  let lo = Infinity,
    hi = -Infinity,
    abs = 0;
  for (const c of picked) {
    if (min[c] == null || max[c] == null || absMax[c] == null) continue;
    lo = Math.min(lo, min[c]!);
    hi = Math.max(hi, max[c]!);
    abs = Math.max(abs, absMax[c]!);
  }
  return lo <= hi ? { lo, hi, abs } : null;
}

/**
 * The quantizer drawn over the histogram, from the layer's statistics (the same scales as its SQNR
 * figures). Null when a per-channel grid is asked of the whole tensor (each channel has its own), or
 * nothing is finite.
 */
export function quantOverlay(layer: LayerReport, channel: number | null, options: OverlayOptions): QuantOverlay | null {
  if (options.grid === 'channel' && channel === null) return null;
  const range = extremes(layer, options.grid === 'tensor' ? null : channel);
  if (!range) return null;
  const symmetric = options.scheme === 'symmetric';
  const q = quantParams(options.bits, symmetric, range.lo, range.hi, range.abs);
  const [lo, hi] = symmetric ? [-range.abs, range.abs] : [Math.min(range.lo, 0), Math.max(range.hi, 0)];
  return { ...options, lo, hi, ...q };
}

export const levelCount = (o: QuantOverlay) => o.qmax - o.qmin + 1;
export const binWidth = (h: LayerHistogram) => (h.hi - h.lo) / h.counts.length;

/** The weights shown on the x axis: a zoomed histogram's range; else its range and the clipping range, never empty. */
export function histogramDomain(h: LayerHistogram, overlay: QuantOverlay | null): [number, number] {
  if (h.zoomed) return [h.lo, h.hi];
  let lo = Math.min(h.lo, overlay?.lo ?? h.lo);
  let hi = Math.max(h.hi, overlay?.hi ?? h.hi);
  if (hi <= lo) [lo, hi] = [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  return [lo, hi];
}

/** Whether each grid level gets its own rule at this chart width. */
export function levelsDrawn(h: LayerHistogram, overlay: QuantOverlay, width: number): boolean {
  const [lo, hi] = histogramDomain(h, overlay);
  return (overlay.scale / (hi - lo)) * (width - MARGIN.left - MARGIN.right) >= MIN_LEVEL_GAP_PX;
}

export function gridLevels(o: QuantOverlay): number[] {
  return Array.from({ length: levelCount(o) }, (_, i) => (o.qmin + i - o.zeroPoint) * o.scale);
}

export interface HistogramBin {
  bin: number;
  x1: number;
  x2: number;
  count: number;
}

export function histogramBins(h: LayerHistogram): HistogramBin[] {
  const w = binWidth(h);
  const last = h.counts.length - 1;
  // The last edge is hi itself, not lo + bins·w (which may differ by rounding).
  return h.counts.map((count, bin) => ({
    bin,
    x1: h.lo + bin * w,
    x2: bin === last ? h.hi : h.lo + (bin + 1) * w,
    count,
  }));
}

export interface WeightHistogramOptions {
  width?: number;
  height?: number;
  scale?: CountScale;
}

/**
 * Count ticks: whole numbers only; on the symlog axis 0, then powers of ten (and 2, 5 times them where there
 * is room), each at least a label's height above the one below (symlog puts 1 close to 0).
 */
function countTicks(max: number, log: boolean, pixels: number): number[] | undefined {
  if (!log) return max < 8 ? Array.from({ length: Math.max(1, max) + 1 }, (_, i) => i) : undefined;
  const at = (count: number) => (Math.log1p(count) / Math.log1p(Math.max(1, max))) * pixels;
  const ticks = [0];
  for (const t of logTicks(1, Math.max(1, max), pixels)) if (at(t) - at(ticks.at(-1)!) >= TICK_GAP_PX) ticks.push(t);
  return ticks;
}

export function weightHistogramPlot(
  h: LayerHistogram,
  overlay: QuantOverlay | null,
  { width = 640, height = 240, scale = 'linear' }: WeightHistogramOptions = {},
): PlotSpec {
  const domain = histogramDomain(h, overlay);
  // A channel's bins can be far narrower than a pixel beside a tensor-wide clipping range: draw each at least one pixel wide.
  const pixel = (domain[1] - domain[0]) / (width - MARGIN.left - MARGIN.right);
  const bins = histogramBins(h)
    .filter((b) => b.count > 0)
    .map((b) => ({ ...b, x2: Math.max(b.x2, b.x1 + pixel) }));
  const log = scale === 'log';
  // Zoomed, the axis is narrower than the quantizer: keep its marks inside (unzoomed the domain holds them all).
  const inView = (v: number) => !h.zoomed || (v >= domain[0] && v <= domain[1]);
  const levels = overlay && levelsDrawn(h, overlay, width) ? gridLevels(overlay).filter(inView) : [];
  // Plot's default top and bottom margins (20 + 30 px) leave this much for the bars.
  const ticks = countTicks(Math.max(0, ...h.counts), log, height - 50);
  return plotSpec({
    width,
    height,
    marginLeft: MARGIN.left,
    marginRight: MARGIN.right,
    style: chartStyle,
    x: { domain, label: 'weight', tickFormat },
    // symlog: a log axis that still has a 0 at its base, so bins of one weight stay visible.
    y: {
      grid: true,
      label: log ? 'weights (log)' : 'weights',
      tickFormat,
      ...(ticks ? { ticks } : {}),
      ...(log ? { type: 'symlog' as const } : { nice: true }),
    },
    marks: [
      ...(overlay
        ? [
            Plot.rect([overlay], {
              x1: 'lo',
              x2: 'hi',
              fill: colors.clip,
              fillOpacity: 0.08,
              clip: true,
              ariaDescription: WEIGHT_HISTOGRAM_MARKS.clipRange,
            }),
          ]
        : []),
      Plot.ruleX(levels, {
        stroke: colors.gridLevel,
        strokeOpacity: 0.5,
        ariaDescription: WEIGHT_HISTOGRAM_MARKS.levels,
      }),
      Plot.rectY(bins, {
        x1: 'x1',
        x2: 'x2',
        y1: 0,
        y2: 'count',
        fill: colors.bar,
        insetLeft: binWidth(h) >= 3 * pixel ? 0.5 : 0,
        ariaDescription: WEIGHT_HISTOGRAM_MARKS.bins,
      }),
      Plot.ruleY([0], { stroke: 'currentColor', ariaHidden: 'true' }),
      ...(overlay
        ? [
            Plot.ruleX([overlay.lo, overlay.hi].filter(inView), {
              stroke: colors.clip,
              strokeWidth: 2,
              ariaDescription: WEIGHT_HISTOGRAM_MARKS.clipBounds,
            }),
          ]
        : []),
    ],
  });
}

export const overlayLabel = (o: OverlayOptions) => `INT${o.bits} ${o.scheme}, per-${o.grid} grid`;

/** The clipping range in words: "±0.5 (max |w|)" or "[−0.2, 0.7]". */
export const clipText = (o: QuantOverlay) =>
  o.scheme === 'symmetric'
    ? `±${formatNumber(o.hi)} (max |w|)`
    : `[${formatNumber(o.lo)}, ${formatNumber(o.hi)}] (min, max, with 0)`;

/** How the grid is shown: every level, or how many histogram bins one step spans. */
export function gridText(h: LayerHistogram, o: QuantOverlay, width: number): string {
  const n = levelCount(o);
  if (levelsDrawn(h, o, width)) return `${n} levels, step ${formatNumber(o.scale)}, each drawn`;
  const w = binWidth(h);
  const span =
    w > 0
      ? `one step spans ${formatNumber(Number((o.scale / w).toPrecision(3)))} histogram bins`
      : 'every weight is one value';
  return `${n} levels, step ${formatNumber(o.scale)}: too dense to draw, ${span}`;
}

export function selectionText(h: LayerHistogram): string {
  return h.channel === null ? 'whole tensor' : `output channel ${h.channel}`;
}

/** SVG <title> and <desc> for the chart. */
export function weightHistogramText(
  h: LayerHistogram,
  overlay: QuantOverlay | null,
  width = 640,
): { title: string; description: string } {
  const binned = h.counts.reduce((a, b) => a + b, 0);
  const peak = h.counts.indexOf(Math.max(...h.counts));
  const bins = histogramBins(h);
  const parts = [
    `${h.elements} weights of ${h.weight} in ${h.counts.length} equal bins from ${formatNumber(h.lo)} to ${formatNumber(h.hi)}.`,
    binned > 0
      ? `The fullest bin, ${formatNumber(bins[peak]!.x1)} to ${formatNumber(bins[peak]!.x2)}, holds ${h.counts[peak]}.`
      : 'No finite weight.',
    overlay ? `${overlayLabel(overlay)}: clipping range ${clipText(overlay)}; ${gridText(h, overlay, width)}.` : '',
    h.zoomed ? `Zoomed: ${h.below} weights below and ${h.above} above the range shown.` : '',
    h.nonFinite ? `${h.nonFinite} NaN or infinite weights are in no bin.` : '',
  ];
  return { title: `Weight histogram of ${h.layer}, ${selectionText(h)}`, description: parts.filter(Boolean).join(' ') };
}
