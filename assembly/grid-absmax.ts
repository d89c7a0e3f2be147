// max |w| of each row and of each column of a [rows, cols] float32 block: CLE's per-channel ranges of a
// weight whose runs are single weights (Gemm, MatMul, 1×1 Conv), in one pass without a per-run output.
// SIMD; NaN never wins (pmax keeps its first operand unless the second is larger), an all-NaN line gives 0.
export function gridAbsMax(src: usize, rows: i32, cols: i32, rowMax: usize, colMax: usize): void {
  memory.fill(colMax, 0, <usize>cols << 2);
  for (let a = 0; a < rows; a++) {
    const row = src + ((<usize>a * <usize>cols) << 2);
    let best = f32x4.splat(0);
    let b = 0;
    for (; b + 4 <= cols; b += 4) {
      const v = f32x4.abs(v128.load(row + (<usize>b << 2)));
      best = f32x4.pmax(best, v);
      const c = colMax + (<usize>b << 2);
      v128.store(c, f32x4.pmax(v128.load(c), v));
    }
    let m = Mathf.max(
      Mathf.max(f32x4.extract_lane(best, 0), f32x4.extract_lane(best, 1)),
      Mathf.max(f32x4.extract_lane(best, 2), f32x4.extract_lane(best, 3)),
    );
    for (; b < cols; b++) {
      const v = Mathf.abs(load<f32>(row + (<usize>b << 2)));
      if (v > m) m = v;
      const c = colMax + (<usize>b << 2);
      if (v > load<f32>(c)) store<f32>(c, v);
    }
    store<f32>(rowMax + (<usize>a << 2), m);
  }
}
