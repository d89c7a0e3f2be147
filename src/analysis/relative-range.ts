// AIMET's "problematic layer" figures — relative range per channel and Tukey outliers — and dead channels,
// which are left out of the relative range's denominator so that one channel at ~0 cannot make a layer
// look infinitely bad (docs/definitions.md).

/** A channel whose range is at most this fraction of its layer's largest channel range is dead. */
export const DEAD_RANGE_RATIO = 1e-4;

/** |max_c − min_c|, NaN for a channel without finite values. */
function channelRanges(min: ArrayLike<number>, max: ArrayLike<number>): Float64Array {
  const ranges = new Float64Array(min.length);
  for (let c = 0; c < min.length; c++) {
    const r = Math.abs(max[c]! - min[c]!);
    ranges[c] = Number.isFinite(r) ? r : NaN;
  }
  return ranges;
}

/** Smallest of the ranges picked by `keep`, Infinity when none is (a loop: 10^5+ channels overflow a spread). */
function smallestRange(ranges: Float64Array, keep: (c: number) => boolean): number {
  let smallest = Infinity;
  for (let c = 0; c < ranges.length; c++) if (keep(c) && ranges[c]! < smallest) smallest = ranges[c]!;
  return smallest;
}

/**
 * AIMET's relative range: rel_c = |max_c − min_c| / min over c' of |max_c' − min_c'|. null where it is not a
 * number: every entry when the smallest range is zero (rel would be infinite), and channels without finite values.
 */
export function relativeRanges(min: ArrayLike<number>, max: ArrayLike<number>): (number | null)[] {
  return aimetRelative(channelRanges(min, max));
}

function aimetRelative(ranges: Float64Array): (number | null)[] {
  const smallest = smallestRange(ranges, (c) => !Number.isNaN(ranges[c]!));
  return Array.from(ranges, (r) => (Number.isFinite(r) && smallest > 0 ? r / smallest : null));
}

/**
 * Channels whose range is at most DEAD_RANGE_RATIO of the layer's largest channel range — exactly zero
 * included — or that hold no finite value. All channels of an all-zero layer are dead.
 */
export function deadChannels(min: ArrayLike<number>, max: ArrayLike<number>): number[] {
  return deadOf(channelRanges(min, max));
}

function deadOf(ranges: Float64Array): number[] {
  let largest = 0;
  for (const r of ranges) if (r > largest) largest = r;
  const dead: number[] = [];
  // `!(r > …)` also catches NaN (no finite value) and a largest range of 0.
  ranges.forEach((r, c) => !(r > DEAD_RANGE_RATIO * largest) && dead.push(c));
  return dead;
}

/**
 * The live relative range: rel_c = range_c / min over live c' of range_c', null for dead channels (and for
 * every channel when all are dead). A live range is never zero, so the figure is always finite.
 */
export function liveRelativeRanges(
  min: ArrayLike<number>,
  max: ArrayLike<number>,
  dead = deadChannels(min, max),
): (number | null)[] {
  return liveRelative(channelRanges(min, max), dead).relative;
}

/** The live relative ranges and their denominator (Infinity when every channel is dead). */
function liveRelative(
  ranges: Float64Array,
  dead: readonly number[],
): { relative: (number | null)[]; smallest: number } {
  const isDead = new Uint8Array(ranges.length);
  for (const c of dead) isDead[c] = 1;
  const smallest = smallestRange(ranges, (c) => !isDead[c]);
  return { relative: Array.from(ranges, (r, c) => (isDead[c] ? null : r / smallest)), smallest };
}

/** A layer's range figures, as reports carry them. */
export interface RangeFigures {
  /** Live relative range per channel (null: dead). */
  relativeRange: (number | null)[];
  /** Largest live relative range; null when every channel is dead. */
  maxRelativeRange: number | null;
  /** Smallest live channel range (the live denominator); null when every channel is dead. */
  minRange: number | null;
  /** Channels whose range is at most DEAD_RANGE_RATIO of the layer's largest, or without a finite value. */
  deadChannels: number[];
  /** AIMET's largest relative range over all channels; null when its smallest range is zero (infinite). */
  aimetMaxRelativeRange: number | null;
  /** Channels above the Tukey fence of the live relative ranges. */
  outliers: number[];
}

const largestOf = (values: readonly (number | null)[]) => {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v > best)) best = v;
  return best;
};

export function rangeFigures(min: ArrayLike<number>, max: ArrayLike<number>): RangeFigures {
  const ranges = channelRanges(min, max);
  const dead = deadOf(ranges);
  const { relative, smallest } = liveRelative(ranges, dead);
  return {
    relativeRange: relative,
    maxRelativeRange: largestOf(relative),
    minRange: Number.isFinite(smallest) ? smallest : null,
    deadChannels: dead,
    aimetMaxRelativeRange: largestOf(aimetRelative(ranges)),
    outliers: outlierChannels(relative),
  };
}

/** Quantile by linear interpolation between order statistics (numpy/pandas default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface TukeyFence {
  q1: number;
  q3: number;
  /** Q3 + 1.5 * IQR: channels above it are outliers. */
  upper: number;
}

export function tukeyFence(values: readonly (number | null)[]): TukeyFence | null {
  // A Float64Array sorts numerically and natively: a JS array with a comparator is slow at 10^6 channels.
  const sorted = Float64Array.from(values.filter((v): v is number => v !== null)).sort();
  if (sorted.length === 0) return null;
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  return { q1, q3, upper: q3 + 1.5 * (q3 - q1) };
}

/** Indices of channels whose relative range lies above the layer's Tukey fence. */
export function outlierChannels(rel: readonly (number | null)[]): number[] {
  const fence = tukeyFence(rel);
  if (!fence) return [];
  const out: number[] = [];
  rel.forEach((v, c) => {
    if (v !== null && v > fence.upper) out.push(c);
  });
  return out;
}
