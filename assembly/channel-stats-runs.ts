// Fused per-channel statistics, SIMD over each channel's contiguous runs (Conv axis 0, ConvTranspose).
// One pass: min, max, Σx, Σx². Sums are taken in f32x4 over 64 elements (4 values per lane per chain),
// then promoted to f64. Operation count is what limits speed here (the loop runs at memory speed only
// with 4 independent chains and no per-element shift), so two rare cases are sent to the exact scalar
// path instead of being handled in the loop:
// - NaN/±Inf: they make a sum or an extreme non-finite (one test per channel, not per element);
// - channels so small that float32 squares underflow (see fastSumsUsable);
// - |mean| > 4·std: Σx²/n - mean² then cancels too many digits for the 1e-6·absMax bar, and the exact
//   path shifts by a value of the channel first.
import { fastSumsUsable, runStart, writeChannel } from './layout';
import { channelStatsExact } from './channel-stats-scalar';

@inline function promoteSum(acc: v128, v: v128): v128 {
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(hi));
}

/**
 * q + a·a. The relaxed-SIMD build (picked at run time where the engine validates it) fuses this into
 * one FMA, which is the last operation this memory-bound loop can shed.
 */
@inline function addSquares(q: v128, a: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, a, q);
  return f32x4.add(q, f32x4.mul(a, a));
}

/** Σx² cancellation makes std unreliable past this mean²/variance ratio (see above). */
const MAX_MEAN_SQ_OVER_VAR: f64 = 16;

export function channelStatsRunsSimd(src: usize, groups: i32, outer: i32, cg: i32, inner: i32, out: usize): void {
  const C = groups * cg;
  const runBytes = <usize>inner << 2;
  for (let ch = 0; ch < C; ch++) {
    const g = ch / cg;
    const c = ch % cg;
    let vMin0 = f32x4.splat(Infinity), vMax0 = f32x4.splat(-Infinity);
    let vMin1 = vMin0, vMax1 = vMax0;
    let vS = f64x2.splat(0), vQ = f64x2.splat(0);
    let mn: f32 = Infinity, mx: f32 = -Infinity;
    let S: f64 = 0, Q: f64 = 0;
    for (let o = 0; o < outer; o++) {
      let p = runStart(src, g, o, c, outer, cg, inner);
      const end = p + runBytes;
      while (p + 256 <= end) {
        let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
        for (let k = 0; k < 4; k++) {
          const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
          s0 = f32x4.add(s0, a);
          s1 = f32x4.add(s1, b);
          s2 = f32x4.add(s2, c);
          s3 = f32x4.add(s3, d);
          q0 = addSquares(q0, a);
          q1 = addSquares(q1, b);
          q2 = addSquares(q2, c);
          q3 = addSquares(q3, d);
          vMin0 = f32x4.pmin(vMin0, f32x4.pmin(a, c));
          vMax0 = f32x4.pmax(vMax0, f32x4.pmax(a, c));
          vMin1 = f32x4.pmin(vMin1, f32x4.pmin(b, d));
          vMax1 = f32x4.pmax(vMax1, f32x4.pmax(b, d));
          p += 64;
        }
        vS = promoteSum(vS, f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
        vQ = promoteSum(vQ, f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
      }
      while (p + 16 <= end) {
        const a = v128.load(p);
        vS = promoteSum(vS, a);
        vQ = promoteSum(vQ, f32x4.mul(a, a));
        vMin0 = f32x4.pmin(vMin0, a);
        vMax0 = f32x4.pmax(vMax0, a);
        p += 16;
      }
      while (p < end) {
        const x = <f64>load<f32>(p);
        S += x;
        Q += x * x;
        mn = Mathf.min(mn, <f32>x);
        mx = Mathf.max(mx, <f32>x);
        p += 4;
      }
    }
    const vMin = f32x4.pmin(vMin0, vMin1), vMax = f32x4.pmax(vMax0, vMax1);
    mn = Mathf.min(mn, Mathf.min(Mathf.min(f32x4.extract_lane(vMin, 0), f32x4.extract_lane(vMin, 1)),
      Mathf.min(f32x4.extract_lane(vMin, 2), f32x4.extract_lane(vMin, 3))));
    mx = Mathf.max(mx, Mathf.max(Mathf.max(f32x4.extract_lane(vMax, 0), f32x4.extract_lane(vMax, 1)),
      Mathf.max(f32x4.extract_lane(vMax, 2), f32x4.extract_lane(vMax, 3))));
    S += f64x2.extract_lane(vS, 0) + f64x2.extract_lane(vS, 1);
    Q += f64x2.extract_lane(vQ, 0) + f64x2.extract_lane(vQ, 1);
    const n = <f64>outer * <f64>inner;
    const mean = S / n;
    const wellConditioned = mean * mean <= MAX_MEAN_SQ_OVER_VAR * (Q / n - mean * mean);
    if (fastSumsUsable(mn, mx, S, Q) && wellConditioned) {
      writeChannel(out, C, ch, mn, mx, 0, S, Q, n, 0, 0, 0);
    } else {
      channelStatsExact(src, groups, outer, cg, inner, ch, out);
    }
  }
}
