// Fused per-channel statistics, SIMD over each channel's contiguous runs (inner >= 4: Conv axis 0,
// ConvTranspose). One pass: min, max, Σ(x-K), Σ(x-K)². Sums are taken in f32x4 over 32 elements, then
// promoted to f64 (the f32 part never sums more than 8 values per lane, so f64 accuracy is kept).
// NaN/±Inf are not tested per element: they make a sum or an extreme non-finite, and that channel is
// recomputed by channelStatsExact, which counts them.
import { runStart, writeChannel } from './layout';
import { channelStatsExact } from './channel-stats-scalar';

@inline function promoteSum(acc: v128, v: v128): v128 {
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(hi));
}

@inline function isFinite64(x: f64): bool {
  return x - x == 0;
}

export function channelStatsRunsSimd(src: usize, groups: i32, outer: i32, cg: i32, inner: i32, out: usize): void {
  const C = groups * cg;
  const runBytes = <usize>inner << 2;
  for (let ch = 0; ch < C; ch++) {
    const g = ch / cg;
    const c = ch % cg;
    let K = load<f32>(runStart(src, g, 0, c, outer, cg, inner));
    if (!isFinite64(K)) K = 0;
    const vK = f32x4.splat(K);
    let vMin0 = f32x4.splat(Infinity), vMax0 = f32x4.splat(-Infinity);
    let vMin1 = vMin0, vMax1 = vMax0;
    let vS = f64x2.splat(0), vQ = f64x2.splat(0);
    let mn: f32 = Infinity, mx: f32 = -Infinity;
    let S: f64 = 0, Q: f64 = 0;
    for (let o = 0; o < outer; o++) {
      let p = runStart(src, g, o, c, outer, cg, inner);
      const end = p + runBytes;
      while (p + 128 <= end) {
        let s0 = f32x4.splat(0), s1 = s0, q0 = s0, q1 = s0;
        for (let k = 0; k < 4; k++) {
          const a = v128.load(p), b = v128.load(p, 16);
          const da = f32x4.sub(a, vK), db = f32x4.sub(b, vK);
          s0 = f32x4.add(s0, da);
          s1 = f32x4.add(s1, db);
          q0 = f32x4.add(q0, f32x4.mul(da, da));
          q1 = f32x4.add(q1, f32x4.mul(db, db));
          vMin0 = f32x4.pmin(vMin0, a);
          vMax0 = f32x4.pmax(vMax0, a);
          vMin1 = f32x4.pmin(vMin1, b);
          vMax1 = f32x4.pmax(vMax1, b);
          p += 32;
        }
        vS = promoteSum(vS, f32x4.add(s0, s1));
        vQ = promoteSum(vQ, f32x4.add(q0, q1));
      }
      while (p + 16 <= end) {
        const a = v128.load(p);
        const da = f32x4.sub(a, vK);
        vS = promoteSum(vS, da);
        vQ = promoteSum(vQ, f32x4.mul(da, da));
        vMin0 = f32x4.pmin(vMin0, a);
        vMax0 = f32x4.pmax(vMax0, a);
        p += 16;
      }
      while (p < end) {
        const x = load<f32>(p);
        const d = <f64>x - K;
        S += d;
        Q += d * d;
        mn = Mathf.min(mn, x);
        mx = Mathf.max(mx, x);
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
    if (isFinite64(S) && isFinite64(Q) && isFinite64(mn) && isFinite64(mx)) {
      writeChannel(out, C, ch, mn, mx, K, S, Q, <f64>outer * <f64>inner, 0, 0, 0);
    } else {
      channelStatsExact(src, groups, outer, cg, inner, ch, out);
    }
  }
}
