// Where a kernel finds channel c's elements, and where it writes per-channel results.
//
// A weight tensor is viewed as [groups, outer, cg, inner] float32, row-major. Output channel
// ch = g*cg + c gathers the elements (g, o, c, i) for every o < outer and i < inner:
//   Conv [Cout, Cin/g, k…]            -> groups 1, outer 1,     cg Cout,   inner Cin/g·k…
//   Gemm transB=0 / MatMul [in, out]   -> groups 1, outer in,    cg out,    inner 1
//   ConvTranspose [Cin, Cout/g, k…]    -> groups g, outer Cin/g, cg Cout/g, inner k…
// so no layout needs a transposing copy.

/** Byte offset of element (g, o, c, 0). */
@inline export function runStart(src: usize, g: i32, o: i32, c: i32, outer: i32, cg: i32, inner: i32): usize {
  return src + ((<usize>(g * outer + o) * <usize>cg + <usize>c) * <usize>inner << 2);
}

// Results for C channels, structure of arrays (JS reads them as typed-array views and sizes them,
// src/kernels/channel-stats.ts):
//   min f32[C] | max f32[C] | absMax f32[C] | pad to 8 | mean f64[C] | std f64[C]
//   | nan u32[C] | posInf u32[C] | negInf u32[C]
// Statistics cover the finite values only; the three counts say what was left out.
@inline export function offMin(C: i32): usize { return 0; }
@inline export function offMax(C: i32): usize { return <usize>C << 2; }
@inline export function offAbsMax(C: i32): usize { return <usize>C << 3; }
@inline export function offMean(C: i32): usize { return (<usize>C * 12 + 7) & ~<usize>7; }
@inline export function offStd(C: i32): usize { return offMean(C) + (<usize>C << 3); }
@inline export function offNaN(C: i32): usize { return offStd(C) + (<usize>C << 3); }
@inline export function offPosInf(C: i32): usize { return offNaN(C) + (<usize>C << 2); }
@inline export function offNegInf(C: i32): usize { return offPosInf(C) + (<usize>C << 2); }

/**
 * Writes channel ch's results from shifted sums: S = Σ(x-K), Q = Σ(x-K)² over n finite values.
 * Shifting by a value of the channel keeps Q/n - (S/n)² accurate when |mean| ≫ std.
 */
export function writeChannel(
  out: usize, C: i32, ch: i32,
  mn: f32, mx: f32, K: f64, S: f64, Q: f64, n: f64,
  nan: u32, posInf: u32, negInf: u32,
): void {
  const i = <usize>ch;
  let mean = NaN, std = NaN, absMax: f32 = NaN;
  if (n > 0) {
    const m = S / n;
    mean = K + m;
    std = Math.sqrt(Math.max(Q / n - m * m, 0));
    absMax = Mathf.max(Mathf.abs(mn), Mathf.abs(mx));
  } else {
    mn = NaN;
    mx = NaN;
  }
  store<f32>(out + offMin(C) + (i << 2), mn);
  store<f32>(out + offMax(C) + (i << 2), mx);
  store<f32>(out + offAbsMax(C) + (i << 2), absMax);
  store<f64>(out + offMean(C) + (i << 3), mean);
  store<f64>(out + offStd(C) + (i << 3), std);
  store<u32>(out + offNaN(C) + (i << 2), nan);
  store<u32>(out + offPosInf(C) + (i << 2), posInf);
  store<u32>(out + offNegInf(C) + (i << 2), negInf);
}

/**
 * Below this absMax the float32 squares in the SIMD partial sums lose digits (x² nears the float32
 * subnormal range), so such a channel goes through the exact f64 path. Real models have them: PP-OCRv4
 * rec has a conv channel whose weights are all ~1e-23.
 */
const TINY_ABS_MAX: f64 = 1e-9;

/** Can the SIMD sums of a channel be trusted? Non-finite values and tiny channels need the exact path. */
export function fastSumsUsable(mn: f64, mx: f64, S: f64, Q: f64): bool {
  const finite = S - S == 0 && Q - Q == 0 && mn - mn == 0 && mx - mx == 0;
  return finite && Math.max(Math.abs(mn), Math.abs(mx)) >= TINY_ABS_MAX;
}
