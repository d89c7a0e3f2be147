// Σ of each run of k contiguous float32 weights, accumulated in f64: what high-bias absorption needs
// (b2[o] += Σ_i c_i · Σ_kernel W2[o, i, …]; the Σ_i over runs is done by the caller, it is Cout·Cin long).
// SIMD: four f64 lanes (two f64x2 accumulators) per run; the scalar twin in cle-scalar.ts adds in order.
export function runSums(src: usize, runs: i32, k: i32, out: usize): void {
  for (let r = 0; r < runs; r++) {
    let p = src + ((<usize>r * <usize>k) << 2);
    const end = p + (<usize>k << 2);
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    for (; p + 16 <= end; p += 16) {
      const v = v128.load(p);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
    }
    const s = f64x2.add(lo, hi);
    let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; p < end; p += 4) sum += <f64>load<f32>(p);
    store<f64>(out + (<usize>r << 3), sum);
  }
}
