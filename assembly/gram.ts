// The Gram matrix of a row-major float32 A [rows, cols] on its smaller side s = min(rows, cols), the first
// step of its singular values (docs/definitions.md, "Singular values"): G = X·Xᵀ, X = A when rows ≤ cols,
// else X = Aᵀ (copied transposed into `transposed`, f32[rows·cols], so both cases are dot products of
// contiguous rows). G is float64 [s, s], lower triangle only (what symmetric-eigen.ts reads), products and
// sums in float64.
import { madd } from './f64-rows';

/** Whether any of n values at p is NaN or ±Inf (x − x is 0 exactly for finite x). */
function anyNonFinite(p: usize, n: usize): bool {
  const zero = f32x4.splat(0);
  let seen = v128.splat<i32>(0);
  const end = p + (n << 2);
  let q = p;
  for (; q + 16 <= end; q += 16) {
    const x = v128.load(q);
    seen = v128.or(seen, f32x4.ne(f32x4.sub(x, x), zero));
  }
  for (; q < end; q += 4) {
    const x = load<f32>(q);
    if (x - x != 0) return true;
  }
  return v128.any_true(seen);
}

/** Aᵀ of A [rows, cols] into dst [cols, rows], in 32 × 32 tiles so both sides stay in cache. */
function transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r0 = 0; r0 < rows; r0 += 32) {
    const r1 = min(r0 + 32, rows);
    for (let c0 = 0; c0 < cols; c0 += 32) {
      const c1 = min(c0 + 32, cols);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(src + ((<usize>r * <usize>cols + <usize>c) << 2)));
        }
      }
    }
  }
}

@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/**
 * x_i·x_j and x_i·x_{j+1} of float32 rows of `len`, in float64 (row i is promoted once for both); the
 * second is skipped (b1 = 0) for the last row.
 */
function dotPair(a: usize, b0: usize, b1: usize, len: i32, out: usize): void {
  let s0 = f64x2.splat(0), t0 = s0, s1 = s0, t1 = s0;
  const two = b1 != 0;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a + o);
    const xl = low(x), xh = high(x);
    const y0 = v128.load(b0 + o);
    s0 = madd(xl, low(y0), s0);
    t0 = madd(xh, high(y0), t0);
    if (two) {
      const y1 = v128.load(b1 + o);
      s1 = madd(xl, low(y1), s1);
      t1 = madd(xh, high(y1), t1);
    }
  }
  s0 = f64x2.add(s0, t0);
  s1 = f64x2.add(s1, t1);
  let d0 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  let d1 = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
  for (; k < len; k++) {
    const o = <usize>k << 2;
    const x = <f64>load<f32>(a + o);
    d0 += x * <f64>load<f32>(b0 + o);
    if (two) d1 += x * <f64>load<f32>(b1 + o);
  }
  store<f64>(out, d0);
  if (two) store<f64>(out, d1, 8);
}

/**
 * G = X·Xᵀ's lower triangle into out (f64 [s, s]) for X = A or Aᵀ as above. Returns 1 (and writes nothing) if A holds NaN or
 * ±Inf, else 0.
 */
export function gramMatrix(src: usize, rows: i32, cols: i32, transposed: usize, out: usize): i32 {
  if (anyNonFinite(src, <usize>rows * <usize>cols)) return 1;
  let x = src, s = rows, len = cols;
  if (rows > cols) {
    transpose(src, rows, cols, transposed);
    x = transposed;
    s = cols;
    len = rows;
  }
  const rowBytes = <usize>len << 2;
  for (let i = 0; i < s; i++) {
    const a = x + <usize>i * rowBytes;
    const gi = out + ((<usize>i * <usize>s) << 3);
    for (let j = 0; j <= i; j += 2) {
      const b1 = j + 1 <= i ? x + <usize>(j + 1) * rowBytes : 0;
      dotPair(a, x + <usize>j * rowBytes, b1, len, gi + (<usize>j << 3));
    }
  }
  return 0;
}
