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
  if (channelCount(layer) === 0) return [];
  return rowsOf(
    layer,
    Array.from({ length: hi - lo + 1 }, (_, i) => lo + i),
  );
}

/** The rows of `channels` (each a channel of the layer). */
function rowsOf(layer: LayerReport, channels: readonly number[]): ChannelRow[] {
  const outliers = new Set(layer.outliers);
  const dead = new Set(layer.deadChannels);
  const { min, max, mean, std } = layer.channels;
  return channels.map((c) => ({
    channel: c,
    min: min[c]!,
    max: max[c]!,
    mean: mean[c]!,
    std: std[c]!,
    relativeRange: layer.relativeRange[c] ?? null,
    outlier: outliers.has(c),
    dead: dead.has(c),
  }));
}

/** The rows of the layer's outlier (or dead) channels inside `domain`, at most one per bucket (see channelBuckets). */
export function listedRows(layer: LayerReport, list: 'outliers' | 'deadChannels', domain: ChannelDomain): ChannelRow[] {
  const [lo, hi] = domain;
  const size = bucketSize(lo, hi);
  const kept = new Map<number, number>();
  const range = (c: number) => (layer.channels.max[c] ?? 0) - (layer.channels.min[c] ?? 0);
  for (const c of channelsIn(layer[list], domain)) {
    const bucket = Math.floor((c - lo) / size);
    const held = kept.get(bucket);
    if (held === undefined || range(c) > range(held)) kept.set(bucket, c);
  }
  return rowsOf(
    layer,
    [...kept.values()].sort((a, b) => a - b),
  );
}

/** The channels of `list` (e.g. a layer's outliers) inside `domain`, in the list's order. */
export const channelsIn = (list: readonly number[], [lo, hi]: ChannelDomain) => list.filter((c) => c >= lo && c <= hi);

/**
 * Most buckets a chart draws across: channels lo..hi are binned into at most this many runs of consecutive
 * channels, each drawn as its envelope (the smallest min and largest max of its channels, so an extreme
 * channel is never hidden). A 262,144-row vocabulary is 2,000 points of a band, not 262,144.
 */
export const MAX_BUCKETS = 2000;

/** Channels per bucket for lo..hi: 1 while they fit in MAX_BUCKETS. */
const bucketSize = (lo: number, hi: number) => Math.max(1, Math.ceil((hi - lo + 1) / MAX_BUCKETS));

/**
 * The band of channels lo..hi as rows, one per bucket of `bucketSize` channels: at the bucket's middle,
 * min and max its envelope, mean the mean of its channels' means, relative range the largest; no std.
 * While the channels fit in MAX_BUCKETS, one row per channel (at the channel itself).
 */
export function channelBands(layer: LayerReport, [lo, hi]: ChannelDomain): ChannelRow[] {
  if (channelCount(layer) === 0) return [];
  const { min, max, mean } = layer.channels;
  return channelBuckets(lo, hi).map(([first, last]) => {
    let [low, high, rel, sum, means] = [Infinity, -Infinity, -Infinity, 0, 0];
    for (let c = first; c <= last; c++) {
      const [a, b, m, r] = [min[c] ?? null, max[c] ?? null, mean[c] ?? null, layer.relativeRange[c] ?? null];
      if (a !== null && a < low) low = a;
      if (b !== null && b > high) high = b;
      if (r !== null && r > rel) rel = r;
      if (m !== null) [sum, means] = [sum + m, means + 1];
    }
    return {
      channel: (first + last) / 2,
      min: low === Infinity ? null : low,
      max: high === -Infinity ? null : high,
      mean: means ? sum / means : null,
      std: null,
      relativeRange: rel === -Infinity ? null : rel,
      outlier: false,
      dead: false,
    };
  });
}

/** The runs of consecutive channels channelBands bins lo..hi into, [first, last] each. */
export function channelBuckets(lo: number, hi: number): [number, number][] {
  const size = bucketSize(lo, hi);
  const runs: [number, number][] = [];
  for (let first = lo; first <= hi; first += size) runs.push([first, Math.min(hi, first + size - 1)]);
  return runs;
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
