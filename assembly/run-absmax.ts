// max |w| over each run of k contiguous float32 weights (one run = one kernel joining an output channel
// and an input channel): the [Cout, Cin] range matrix CLE equalizes. SIMD; NaN never wins (pmax).
export function runAbsMax(src: usize, runs: i32, k: i32, out: usize): void {
  if (k == 1) {
    const zero = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= runs; i += 4) v128.store(out + (<usize>i << 2), f32x4.pmax(zero, f32x4.abs(v128.load(src + (<usize>i << 2)))));
    for (; i < runs; i++) {
      const v = Mathf.abs(load<f32>(src + (<usize>i << 2)));
      store<f32>(out + (<usize>i << 2), v > 0 ? v : 0);
    }
    return;
  }
  for (let r = 0; r < runs; r++) {
    let p = src + ((<usize>r * <usize>k) << 2);
    const end = p + (<usize>k << 2);
    let m = f32x4.splat(0);
    for (; p + 16 <= end; p += 16) m = f32x4.pmax(m, f32x4.abs(v128.load(p)));
    let best = Mathf.max(Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), Mathf.max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (; p < end; p += 4) {
      const v = Mathf.abs(load<f32>(p));
      if (v > best) best = v;
    }
    store<f32>(out + (<usize>r << 2), best);
  }
}
