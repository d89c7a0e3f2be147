// One row per output channel of a layer report: the data every per-channel chart and table draws.
import type { LayerReport } from '../report/stats-report.js';
import { channelTicks } from './format.js';
import { chartStyle } from './theme.js';

export interface ChannelRow {
  channel: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  relativeRange: number | null;
  /** Above the layer's Tukey fence (the report's `outliers`). */
  outlier: boolean;
  /** Range at most 1e-4 of the layer's largest, or no finite value (the report's `deadChannels`). */
  dead: boolean;
}

/** Inclusive channel span [first, last]. */
export type ChannelDomain = readonly [number, number];

export const channelCount = (layer: LayerReport) => layer.channels.min.length;

/** `domain` ordered, rounded and clamped to the layer's channels; the whole layer when absent. */
export function clampDomain(layer: LayerReport, domain?: ChannelDomain | null): [number, number] {
  const last = Math.max(0, channelCount(layer) - 1);
  if (!domain) return [0, last];
  const clamp = (c: number) => Math.min(last, Math.max(0, Math.round(Number.isFinite(c) ? c : 0)));
  const [a, b] = [clamp(domain[0]), clamp(domain[1])];
  return a <= b ? [a, b] : [b, a];
}

/** The rows of channels `domain[0]..domain[1]` (all channels when absent). */
export function channelRows(layer: LayerReport, domain?: ChannelDomain | null): ChannelRow[] {
  const [lo, hi] = clampDomain(layer, domain);
  const outliers = new Set(layer.outliers);
  const dead = new Set(layer.deadChannels);
  const { min, max, mean, std } = layer.channels;
  const rows: ChannelRow[] = [];
  if (channelCount(layer) === 0) return rows;
  for (let c = lo; c <= hi; c++) {
    rows.push({
      channel: c,
      min: min[c]!,
      max: max[c]!,
      mean: mean[c]!,
      std: std[c]!,
      relativeRange: layer.relativeRange[c] ?? null,
      outlier: outliers.has(c),
      dead: dead.has(c),
    });
  }
  return rows;
}

/** Rows that can be drawn as a range (finite min and max). */
export const drawable = (rows: ChannelRow[]) => rows.filter((r) => r.min !== null && r.max !== null);

/**
 * Above this many visible channels a chart draws the ordinary channels as one band (one SVG path)
 * instead of a mark each: at ~2 px per channel single marks are unreadable anyway, and thousands of
 * SVG elements would block the page for well over 50 ms. Outliers always keep a mark each.
 */
export const DENSE_CHANNELS = 400;

export const isDense = (lo: number, hi: number) => hi - lo + 1 > DENSE_CHANNELS;

const MARGIN_LEFT = 56;
const MARGIN_RIGHT = 16;

/** What every per-channel chart shares: size, margins, style, and channels lo..hi on x (ticks ~80 px apart). */
export function channelFrame(width: number, height: number, lo: number, hi: number) {
  return {
    width,
    height,
    marginLeft: MARGIN_LEFT,
    marginRight: MARGIN_RIGHT,
    style: chartStyle,
    x: {
      domain: [lo - 0.5, hi + 0.5],
      ticks: channelTicks(lo, hi, width / 80),
      tickFormat: 'd',
      label: 'output channel',
    },
  };
}

/** Pixels per channel inside that frame (marks size themselves by it). */
export const channelPixels = (width: number, lo: number, hi: number) =>
  (width - MARGIN_LEFT - MARGIN_RIGHT) / (hi - lo + 1);
