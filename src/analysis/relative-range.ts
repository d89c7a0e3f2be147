// AIMET's "problematic layer" figures (DESIGN.md §2): relative range per channel and Tukey outliers.

/**
 * rel_c = |max_c - min_c| / min over c' of |max_c' - min_c'|. null where it is not a number: every
 * entry when the smallest range is zero (rel would be infinite), and channels without finite values.
 */
export function relativeRanges(min: ArrayLike<number>, max: ArrayLike<number>): (number | null)[] {
  const ranges = Array.from({ length: min.length }, (_, c) => Math.abs(max[c]! - min[c]!));
  // A loop, not Math.min(...ranges): spreading 10^5+ channels (an LLM vocabulary head) overflows the stack.
  let smallest = Infinity;
  for (const r of ranges) if (Number.isFinite(r) && r < smallest) smallest = r;
  return ranges.map((r) => (Number.isFinite(r) && smallest > 0 ? r / smallest : null));
}

/** Quantile by linear interpolation between order statistics (numpy/pandas default). */
export function quantile(sorted: readonly number[], q: number): number {
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
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
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
