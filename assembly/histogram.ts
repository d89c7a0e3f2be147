// Fixed-bin histogram of a whole tensor or of one output channel (same [groups, outer, cg, inner] view
// as the statistics kernels). Slots are computed four at a time with SIMD (f64 lanes, so bin edges match
// the scalar rule exactly); the scattered count updates go to four tables in turn, summed at the end, so
// a run of weights in one bin does not serialize on a single counter.
import { runStart } from './layout';

/** Count tables used in turn. */
const TABLES: i32 = 4;

/** Bytes the caller zeroes at `out` for a histogram of `bins` bins: TABLES tables of bins + 3 counts. */
export function histogramBytes(bins: i32): i32 {
  return TABLES * (bins + 3) * 4;
}

/** Slot of x in a table: a bin, or bins (below lo), bins+1 (above hi), bins+2 (NaN/±Inf). */
@inline function slotOf(x: f32, lo: f64, hi: f64, scale: f64, bins: i32): i32 {
  if (x != x || Mathf.abs(x) == Infinity) return bins + 2;
  const v = <f64>x;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  if (scale == 0) return 0; // lo == hi: one value, first bin
  const b = <i32>Math.floor((v - lo) * scale);
  return b < bins ? b : bins - 1; // v == hi belongs to the last bin, as in numpy.histogram
}

@inline function bump(table: usize, slot: i32): void {
  const p = table + (<usize>slot << 2);
  store<u32>(p, load<u32>(p) + 1);
}

/**
 * The slots of four floats at once (SIMD), with the same f64 arithmetic and comparisons as slotOf, so the
 * counts are identical: bin = min(floor((v − lo)·scale), bins − 1), overridden by below / above / non-finite.
 */
@inline function slots4(x: v128, lo2: v128, hi2: v128, scale2: v128, last: v128, belowSlot: v128, aboveSlot: v128, otherSlot: v128): v128 {
  const a = f64x2.promote_low_f32x4(x);
  const b = f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1));
  const ia = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.sub(a, lo2), scale2)));
  const ib = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(f64x2.mul(f64x2.sub(b, lo2), scale2)));
  let slot = i32x4.min_s(i32x4.shuffle(ia, ib, 0, 1, 4, 5), last);
  // f64 comparisons give 64-bit masks: lanes 0 and 2 of each pair hold the four elements' answers.
  const below = i32x4.shuffle(f64x2.lt(a, lo2), f64x2.lt(b, lo2), 0, 2, 4, 6);
  const above = i32x4.shuffle(f64x2.gt(a, hi2), f64x2.gt(b, hi2), 0, 2, 4, 6);
  const finite = f32x4.lt(f32x4.abs(x), f32x4.splat(Infinity)); // false for NaN and ±Inf
  slot = v128.bitselect(belowSlot, slot, below);
  slot = v128.bitselect(aboveSlot, slot, above);
  return v128.bitselect(slot, otherSlot, finite);
}

/** Counts n contiguous floats at p: four at a time, element i into table i mod 4; the rest one by one. */
@inline function countRun(p: usize, n: usize, lo: f64, hi: f64, scale: f64, bins: i32, out: usize, stride: usize): void {
  const lo2 = f64x2.splat(lo), hi2 = f64x2.splat(hi), scale2 = f64x2.splat(scale);
  const last = i32x4.splat(bins - 1), belowSlot = i32x4.splat(bins), aboveSlot = i32x4.splat(bins + 1), otherSlot = i32x4.splat(bins + 2);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const slot = slots4(v128.load(p + (i << 2)), lo2, hi2, scale2, last, belowSlot, aboveSlot, otherSlot);
    bump(out, i32x4.extract_lane(slot, 0));
    bump(out + stride, i32x4.extract_lane(slot, 1));
    bump(out + 2 * stride, i32x4.extract_lane(slot, 2));
    bump(out + 3 * stride, i32x4.extract_lane(slot, 3));
  }
  for (; i < n; i++) bump(out, slotOf(load<f32>(p + (i << 2)), lo, hi, scale, bins));
}

/**
 * Counts into out: u32[bins + 3] = bins equal-width bins over [lo, hi], then below lo, above hi,
 * non-finite. channel < 0 means the whole tensor. `out` must hold histogramBytes(bins) zeroed bytes
 * (the count tables); the sum is left in the first.
 */
export function histogram(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, channel: i32,
  lo: f64, hi: f64, bins: i32, out: usize,
): void {
  const scale = hi > lo ? <f64>bins / (hi - lo) : 0;
  const slots = bins + 3;
  const stride = <usize>slots << 2;
  if (channel < 0) {
    countRun(src, <usize>groups * <usize>outer * <usize>cg * <usize>inner, lo, hi, scale, bins, out, stride);
  } else {
    const g = channel / cg;
    const c = channel % cg;
    for (let o = 0; o < outer; o++) countRun(runStart(src, g, o, c, outer, cg, inner), <usize>inner, lo, hi, scale, bins, out, stride);
  }
  for (let s = 0; s < slots; s++) {
    const p = out + (<usize>s << 2);
    store<u32>(p, load<u32>(p) + load<u32>(p + stride) + load<u32>(p + 2 * stride) + load<u32>(p + 3 * stride));
  }
}
