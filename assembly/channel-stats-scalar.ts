// Scalar per-channel statistics: the reference the SIMD kernels are tested against, and the exact path
// they fall back to for a channel holding NaN/±Inf (or values so large that x² overflows float32).
import { runStart, writeChannel } from './layout';

/** Exact statistics of one channel, accumulated in f64, non-finite values counted and left out. */
export function channelStatsExact(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, ch: i32, out: usize,
): void {
  const g = ch / cg;
  const c = ch % cg;
  let mn: f32 = Infinity, mx: f32 = -Infinity;
  let K: f64 = 0, S: f64 = 0, Q: f64 = 0, n: f64 = 0;
  let nan: u32 = 0, posInf: u32 = 0, negInf: u32 = 0;
  for (let o = 0; o < outer; o++) {
    const p = runStart(src, g, o, c, outer, cg, inner);
    for (let i = 0; i < inner; i++) {
      const x = load<f32>(p + (<usize>i << 2));
      if (x != x) nan++;
      else if (x == Infinity) posInf++;
      else if (x == -Infinity) negInf++;
      else {
        if (n == 0) K = x; // S and Q are still 0, so the shift can be chosen now
        const d = <f64>x - K;
        S += d;
        Q += d * d;
        n += 1;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
    }
  }
  writeChannel(out, groups * cg, ch, mn, mx, K, S, Q, n, nan, posInf, negInf);
}

/** Scalar twin of the fused SIMD kernels: every channel through channelStatsExact. */
export function channelStatsScalar(src: usize, groups: i32, outer: i32, cg: i32, inner: i32, out: usize): void {
  const C = groups * cg;
  for (let ch = 0; ch < C; ch++) channelStatsExact(src, groups, outer, cg, inner, ch, out);
}
