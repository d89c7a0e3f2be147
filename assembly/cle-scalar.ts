// Scalar twins of the CLE kernels (run-absmax.ts, grid-absmax.ts, scale-runs.ts, scale-grid.ts, run-sums.ts): one element
// at a time, the reference the SIMD kernels are tested against. The scaling twins multiply in the SIMD
// kernels' order, so their float32 results are bit-identical; runSumsScalar adds in memory order.

/** max |w| over each run of k weights; NaN never wins, an all-NaN run gives 0. */
export function runAbsMaxScalar(src: usize, runs: i32, k: i32, out: usize): void {
  for (let r = 0; r < runs; r++) {
    const p = src + ((<usize>r * <usize>k) << 2);
    let best: f32 = 0;
    for (let e = 0; e < k; e++) {
      const v = Mathf.abs(load<f32>(p + (<usize>e << 2)));
      if (v > best) best = v;
    }
    store<f32>(out + (<usize>r << 2), best);
  }
}

/** max |w| of each row and each column of a [rows, cols] block; NaN never wins, an all-NaN line gives 0. */
export function gridAbsMaxScalar(src: usize, rows: i32, cols: i32, rowMax: usize, colMax: usize): void {
  for (let b = 0; b < cols; b++) store<f32>(colMax + (<usize>b << 2), 0);
  for (let a = 0; a < rows; a++) {
    let best: f32 = 0;
    for (let b = 0; b < cols; b++) {
      const v = Mathf.abs(load<f32>(src + ((<usize>a * <usize>cols + <usize>b) << 2)));
      if (v > best) best = v;
      const c = colMax + (<usize>b << 2);
      if (v > load<f32>(c)) store<f32>(c, v);
    }
    store<f32>(rowMax + (<usize>a << 2), best);
  }
}

/** weights of run r *= factors[r], in place. */
export function scaleRunsScalar(src: usize, runs: i32, k: i32, factors: usize): void {
  for (let r = 0; r < runs; r++) {
    const p = src + ((<usize>r * <usize>k) << 2);
    const f = load<f32>(factors + (<usize>r << 2));
    for (let e = 0; e < k; e++) {
      const q = p + (<usize>e << 2);
      store<f32>(q, load<f32>(q) * f);
    }
  }
}

/** w[a, b, :] *= rowF[a]·colF[b], in place (k = 1: (w·colF[b])·rowF[a], as the SIMD kernel rounds). */
export function scaleGridScalar(src: usize, rows: i32, cols: i32, k: i32, rowF: usize, colF: usize): void {
  for (let a = 0; a < rows; a++) {
    const fa = load<f32>(rowF + (<usize>a << 2));
    for (let b = 0; b < cols; b++) {
      const fb = load<f32>(colF + (<usize>b << 2));
      const f = fa * fb;
      const p = src + (((<usize>a * <usize>cols + <usize>b) * <usize>k) << 2);
      for (let e = 0; e < k; e++) {
        const q = p + (<usize>e << 2);
        store<f32>(q, k == 1 ? load<f32>(q) * fb * fa : load<f32>(q) * f);
      }
    }
  }
}

/** Σ of each run of k weights in f64, in memory order. */
export function runSumsScalar(src: usize, runs: i32, k: i32, out: usize): void {
  for (let r = 0; r < runs; r++) {
    const p = src + ((<usize>r * <usize>k) << 2);
    let sum: f64 = 0;
    for (let e = 0; e < k; e++) sum += <f64>load<f32>(p + (<usize>e << 2));
    store<f64>(out + (<usize>r << 3), sum);
  }
}
