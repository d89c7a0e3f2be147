// The singular vectors of the long side, from the short side's (docs/definitions.md, "Singular values"):
// with X [s, len] the float32 matrix whose Gram G = X·Xᵀ was decomposed (gram.ts: A or Aᵀ) and W [s, s]
// G's unit eigenvectors by row (symmetric-eigen.ts), row j of Y [s, len] is y_j = Xᵀ·w_j / σ_j, so
// X = Σ_j σ_j·w_j·y_jᵀ. Where σ_j ≤ cut the direction is below what the Gram resolves: y_j is left zero
// (its term is at most cut in size). Products and sums in float64.
import { madd } from './f64-rows';

/** y[k] += alpha·x[k], x float32, y float64, k < n. */
function axpyF32(alpha: f64, x: usize, y: usize, n: i32): void {
  const va = f64x2.splat(alpha);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const v = v128.load(x + (<usize>k << 2));
    const o = y + (<usize>k << 3);
    v128.store(o, madd(va, f64x2.promote_low_f32x4(v), v128.load(o)));
    v128.store(o, madd(va, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), v128.load(o, 16)), 16);
  }
  for (; k < n; k++) {
    const o = y + (<usize>k << 3);
    store<f64>(o, load<f64>(o) + alpha * <f64>load<f32>(x + (<usize>k << 2)));
  }
}

/** sigma f64[s] descending; writes Y f64[s, len]. */
export function singularVectors(x: usize, s: i32, len: i32, w: usize, sigma: usize, cut: f64, y: usize): void {
  memory.fill(y, 0, (<usize>s * <usize>len) << 3);
  for (let j = 0; j < s; j++) {
    const sj = load<f64>(sigma + (<usize>j << 3));
    if (!(sj > cut)) continue;
    const yj = y + ((<usize>j * <usize>len) << 3);
    const wj = w + ((<usize>j * <usize>s) << 3);
    for (let i = 0; i < s; i++)
      axpyF32(load<f64>(wj + (<usize>i << 3)) / sj, x + ((<usize>i * <usize>len) << 2), yj, len);
  }
}
