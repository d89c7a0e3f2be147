// In-place rescaling of a weight laid out as a grid of runs [rows, cols, k]: w[a, b, :] *= rowF[a]·colF[b].
// Conv [Cout, Cin, k…] (rows = outputs) and ConvTranspose [Cin, Cout, k…] (rows = inputs) are both grids,
// so CLE's "divide output channels, multiply input channels" needs no per-run factor table.
export function scaleGrid(src: usize, rows: i32, cols: i32, k: i32, rowF: usize, colF: usize): void {
  if (k == 1) {
    for (let a = 0; a < rows; a++) {
      const row = src + ((<usize>a * <usize>cols) << 2);
      const fa = load<f32>(rowF + (<usize>a << 2));
      const fv = f32x4.splat(fa);
      let b = 0;
      for (; b + 4 <= cols; b += 4) {
        const p = row + (<usize>b << 2);
        v128.store(p, f32x4.mul(f32x4.mul(v128.load(p), v128.load(colF + (<usize>b << 2))), fv));
      }
      for (; b < cols; b++) {
        const p = row + (<usize>b << 2);
        store<f32>(p, load<f32>(p) * load<f32>(colF + (<usize>b << 2)) * fa);
      }
    }
    return;
  }
  for (let a = 0; a < rows; a++) {
    const fa = load<f32>(rowF + (<usize>a << 2));
    for (let b = 0; b < cols; b++) {
      let p = src + (((<usize>a * <usize>cols + <usize>b) * <usize>k) << 2);
      const end = p + (<usize>k << 2);
      const f = fa * load<f32>(colF + (<usize>b << 2));
      const fv = f32x4.splat(f);
      for (; p + 16 <= end; p += 16) v128.store(p, f32x4.mul(v128.load(p), fv));
      for (; p < end; p += 4) store<f32>(p, load<f32>(p) * f);
    }
  }
}
