// Float64 row operations the singular-value kernels share (gram.ts, symmetric-eigen.ts,
// singular-vectors.ts): two lanes at a time, two accumulators so consecutive adds do not wait on each
// other. Rows are contiguous f64 (8-byte aligned; v128 loads do not need more).

/** a·b + c; one fused step in the relaxed-SIMD build. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** Σ a[k]·b[k], k < n. */
export function dot(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = s0;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 3;
    s0 = madd(v128.load(a + o), v128.load(b + o), s0);
    s1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), s1);
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; k < n; k++) s += load<f64>(a + (<usize>k << 3)) * load<f64>(b + (<usize>k << 3));
  return s;
}

/** y[k] += alpha·x[k], k < n. */
export function axpy(alpha: f64, x: usize, y: usize, n: i32): void {
  const va = f64x2.splat(alpha);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    v128.store(y + o, madd(va, v128.load(x + o), v128.load(y + o)));
  }
  if (k < n) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) + alpha * load<f64>(x + o));
  }
}

/** y[k] −= a·v[k] + b·w[k], k < n: one row of a symmetric rank-2 update. */
export function rank2(a: f64, v: usize, b: f64, w: usize, y: usize, n: i32): void {
  const va = f64x2.splat(-a), vb = f64x2.splat(-b);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    v128.store(y + o, madd(vb, v128.load(w + o), madd(va, v128.load(v + o), v128.load(y + o))));
  }
  if (k < n) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) - a * load<f64>(v + o) - b * load<f64>(w + o));
  }
}

/**
 * One row of a symmetric matrix-vector product from the lower triangle: returns Σ row[k]·v[k] and adds
 * vi·row[k] to p[k] (the same entries' mirror images), k < n, reading the row once.
 */
export function symmetricRow(row: usize, v: usize, vi: f64, p: usize, n: i32): f64 {
  const va = f64x2.splat(vi);
  let s = f64x2.splat(0);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    const a = v128.load(row + o);
    s = madd(a, v128.load(v + o), s);
    v128.store(p + o, madd(va, a, v128.load(p + o)));
  }
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (k < n) {
    const o = <usize>k << 3;
    const a = load<f64>(row + o);
    sum += a * load<f64>(v + o);
    store<f64>(p + o, load<f64>(p + o) + vi * a);
  }
  return sum;
}
