// Fixed-bin histogram of a whole tensor or of one output channel (same [groups, outer, cg, inner] view
// as the statistics kernels). Scalar: the cost is the scattered count update, which SIMD does not help.
import { runStart } from './layout';

/** Slot of x in out: a bin, or bins (below lo), bins+1 (above hi), bins+2 (NaN/±Inf). */
@inline function slotOf(x: f32, lo: f64, hi: f64, scale: f64, bins: i32): i32 {
  if (x != x || Mathf.abs(x) == Infinity) return bins + 2;
  const v = <f64>x;
  if (v < lo) return bins;
  if (v > hi) return bins + 1;
  if (scale == 0) return 0; // lo == hi: one value, first bin
  const b = <i32>Math.floor((v - lo) * scale);
  return b < bins ? b : bins - 1; // v == hi belongs to the last bin, as in numpy.histogram
}

/**
 * Adds counts into out: u32[bins + 3] = bins equal-width bins over [lo, hi], then below lo, above hi,
 * non-finite. channel < 0 means the whole tensor. Zero out first for fresh counts.
 */
export function histogram(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, channel: i32,
  lo: f64, hi: f64, bins: i32, out: usize,
): void {
  const scale = hi > lo ? <f64>bins / (hi - lo) : 0;
  if (channel < 0) {
    const n = <usize>groups * <usize>outer * <usize>cg * <usize>inner;
    for (let i: usize = 0; i < n; i++) {
      const p = out + (<usize>slotOf(load<f32>(src + (i << 2)), lo, hi, scale, bins) << 2);
      store<u32>(p, load<u32>(p) + 1);
    }
    return;
  }
  const g = channel / cg;
  const c = channel % cg;
  for (let o = 0; o < outer; o++) {
    const run = runStart(src, g, o, c, outer, cg, inner);
    for (let i = 0; i < inner; i++) {
      const p = out + (<usize>slotOf(load<f32>(run + (<usize>i << 2)), lo, hi, scale, bins) << 2);
      store<u32>(p, load<u32>(p) + 1);
    }
  }
}
