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

@inline function rowAt(x: usize, i: i32, rowBytes: usize): usize {
  return x + <usize>i * rowBytes;
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
 * The 2 × 2 block x_i·x_j, x_i·x_{j+1}, x_{i+1}·x_j, x_{i+1}·x_{j+1} of float32 rows of `len`, in float64:
 * each loaded row is promoted once for two products. Written at out (row i) and out + rowOut (row i + 1).
 */
function dotQuad(a0: usize, a1: usize, b0: usize, b1: usize, len: i32, out: usize, rowOut: usize): void {
  let s00 = f64x2.splat(0), s01 = s00, s10 = s00, s11 = s00;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const o = <usize>k << 2;
    const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o), y0 = v128.load(b0 + o), y1 = v128.load(b1 + o);
    const x0l = low(x0), x0h = high(x0), x1l = low(x1), x1h = high(x1);
    const y0l = low(y0), y0h = high(y0), y1l = low(y1), y1h = high(y1);
    s00 = madd(x0h, y0h, madd(x0l, y0l, s00));
    s01 = madd(x0h, y1h, madd(x0l, y1l, s01));
    s10 = madd(x1h, y0h, madd(x1l, y0l, s10));
    s11 = madd(x1h, y1h, madd(x1l, y1l, s11));
  }
  let d00 = f64x2.extract_lane(s00, 0) + f64x2.extract_lane(s00, 1);
  let d01 = f64x2.extract_lane(s01, 0) + f64x2.extract_lane(s01, 1);
  let d10 = f64x2.extract_lane(s10, 0) + f64x2.extract_lane(s10, 1);
  let d11 = f64x2.extract_lane(s11, 0) + f64x2.extract_lane(s11, 1);
  for (; k < len; k++) {
    const o = <usize>k << 2;
    const x0 = <f64>load<f32>(a0 + o), x1 = <f64>load<f32>(a1 + o);
    const y0 = <f64>load<f32>(b0 + o), y1 = <f64>load<f32>(b1 + o);
    d00 += x0 * y0;
    d01 += x0 * y1;
    d10 += x1 * y0;
    d11 += x1 * y1;
  }
  store<f64>(out, d00);
  store<f64>(out, d01, 8);
  store<f64>(out + rowOut, d10);
  store<f64>(out + rowOut, d11, 8);
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
  const rowBytes = <usize>len << 2, outRow = <usize>s << 3;
  // Rows in pairs, 2 × 2 blocks up to the diagonal; a block's one entry past it lands in the upper
  // triangle, which symmetric-eigen.ts uses as scratch.
  let i = 0;
  for (; i + 1 < s; i += 2) {
    const a0 = rowAt(x, i, rowBytes), a1 = a0 + rowBytes, gi = out + <usize>i * outRow;
    for (let j = 0; j <= i; j += 2) {
      const b0 = rowAt(x, j, rowBytes);
      dotQuad(a0, a1, b0, b0 + rowBytes, len, gi + (<usize>j << 3), outRow);
    }
  }
  if (i < s) {
    const a = rowAt(x, i, rowBytes), gi = out + <usize>i * outRow;
    for (let j = 0; j <= i; j += 2) {
      const b0 = rowAt(x, j, rowBytes);
      dotPair(a, b0, j + 1 <= i ? b0 + rowBytes : 0, len, gi + (<usize>j << 3));
    }
  }
  return 0;
}
