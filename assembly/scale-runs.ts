// In-place rescaling for CLE and BatchNorm folding: every element of run r (k contiguous float32) is
// multiplied by factors[r] (= input scale / output scale of the kernel's channels).
export function scaleRuns(src: usize, runs: i32, k: i32, factors: usize): void {
  if (k == 1) {
    let i = 0;
    for (; i + 4 <= runs; i += 4) {
      const p = src + (<usize>i << 2);
      v128.store(p, f32x4.mul(v128.load(p), v128.load(factors + (<usize>i << 2))));
    }
    for (; i < runs; i++) {
      const p = src + (<usize>i << 2);
      store<f32>(p, load<f32>(p) * load<f32>(factors + (<usize>i << 2)));
    }
    return;
  }
  for (let r = 0; r < runs; r++) {
    let p = src + ((<usize>r * <usize>k) << 2);
    const end = p + (<usize>k << 2);
    const f = load<f32>(factors + (<usize>r << 2));
    const fv = f32x4.splat(f);
    for (; p + 16 <= end; p += 16) v128.store(p, f32x4.mul(v128.load(p), fv));
    for (; p < end; p += 4) store<f32>(p, load<f32>(p) * f);
  }
}
