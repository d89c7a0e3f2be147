// HQQ zero-point refinement (docs/definitions.md, "HQQ") for asymmetric block grids: onnxruntime's
// HQQWeightOnlyQuantizer.optimize_weights — lp shrinkage (p = 0.7) of the error, β = 10 growing by κ = 1.01,
// at most 20 steps, stopping at the first whose mean |x − dequantized| over the tensor does not fall —
// written with the scale instead of its inverse, in float64, from the min-max parameters. Its float zero
// point is then rounded to an integer in [0, qmax] (ONNX DequantizeLinear takes the weight's integer type)
// and kept per block only where Σ(x − q(x))², q as in clip-search.ts, falls below min-max's.
//
// Scalar only: a value's step may take a pow, which has no SIMD form, and the steps depend on the whole
// tensor's error, so blocks are swept once per step in entry order (the plain-JS reference's order).
//
// Results for E blocks: zp f32[E] | float zero f32[E] | scale f32[E] | pad to 8 | startNoise f64[E]
// | noise f64[E] | signal f64[E] | floatNoise f64[E] (the error with the float zero point, as MatMulNBits
// dequantizes: (clamp(rne(x/scale + z), 0, qmax) − z)·scale). Scratch: the float zero points f64[E], then one gathered block.

const LP_NORM: f64 = 0.7;
const BETA: f64 = 10;
const KAPPA: f64 = 1.01;
const ITERATIONS = 20;

/**
 * shrink_lp_op of onnxruntime's optimize_weights: sign(d)·max(|d| − (1/β)·(|d| + 1e-8)^(p − 1), 0). Where
 * |d| ≤ 1/β and |d| + 1e-8 ≤ 1 the power is ≥ 1, so the result is 0 without it: the usual case (weight
 * errors are far below 1/β ≈ 0.1), which spares the pow.
 */
@inline function shrink(d: f64, beta: f64): f64 {
  const a = Math.abs(d);
  if (a <= 1 / beta && a + 1e-8 <= 1) return 0;
  const t = Math.max(a - (1 / beta) * Math.pow(a + 1e-8, LP_NORM - 1), 0);
  return d < 0 ? -t : t;
}

/** Σ(x − q(x))² over a block with an integer zero point, float32 steps (clip-search.ts's q). */
function blockNoise(p: usize, n: i32, scale: f32, zp: f32, qmax: f32): f64 {
  let noise: f64 = 0;
  for (let r = 0; r < n; r++) {
    const x = load<f32>(p + (<usize>r << 2));
    const e = <f64>(x - Mathf.min(Mathf.max(nearest<f32>(x / scale), -zp), qmax - zp) * scale);
    noise += e * e;
  }
  return noise;
}

/** Σ(x − q(x))² over a block with a float zero point z, float32 steps. */
function floatZeroNoise(p: usize, n: i32, scale: f32, z: f32, qmax: f32): f64 {
  let noise: f64 = 0;
  for (let r = 0; r < n; r++) {
    const x = load<f32>(p + (<usize>r << 2));
    const e = <f64>(x - (Mathf.min(Mathf.max(nearest<f32>(x / scale + z), 0), qmax) - z) * scale);
    noise += e * e;
  }
  return noise;
}

/**
 * One HQQ step on a block: returns Σ|x − dequantized| and writes its next float zero point at `zero`.
 */
function step(p: usize, n: i32, scale: f64, zero: usize, qmax: f64, beta: f64): f64 {
  const z = load<f64>(zero);
  let absSum: f64 = 0, next: f64 = 0;
  for (let r = 0; r < n; r++) {
    const x = <f64>load<f32>(p + (<usize>r << 2));
    const wq = Math.min(Math.max(nearest<f64>(x / scale + z), 0), qmax);
    const d = x - (wq - z) * scale;
    absSum += Math.abs(d);
    next += wq - (x - shrink(d, beta)) / scale;
  }
  store<f64>(zero, next / n);
  return absSum;
}

/** Copies block (m, t, col) of [mats, rows, cols] to `to`; returns its length. */
function gatherBlock(src: usize, rows: i32, cols: i32, block: i32, e: i32, nb: i32, to: usize): i32 {
  const col = e % cols, mt = e / cols, m = mt / nb, t = mt % nb;
  const r0 = t * block, n = min(block, rows - r0);
  const first = src + (((<usize>m * <usize>rows + <usize>r0) * <usize>cols + <usize>col) << 2);
  for (let r = 0; r < n; r++) store<f32>(to + (<usize>r << 2), load<f32>(first + <usize>r * (<usize>cols << 2)));
  return n;
}

/**
 * Refines the zero points of the blocks of `block` input rows (the clip-search.ts block order). Returns the
 * steps taken, or −1 if the tensor holds NaN or ±Inf (then nothing is written).
 */
export function hqqZeroPoints(src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmax: f32, scratch: usize, out: usize): i32 {
  const nb = (rows + block - 1) / block, E = mats * nb * cols;
  const zeros = scratch, gather = scratch + (<usize>E << 3);
  const f32s = <usize>E << 2, f64At = out + ((<usize>E * 12 + 7) & ~<usize>7), f64s = <usize>E << 3;
  // Min-max start: clip-search.ts's r = 1 candidate.
  for (let e = 0; e < E; e++) {
    const n = gatherBlock(src, rows, cols, block, e, nb, gather);
    let lo: f32 = 0, hi: f32 = 0, signal: f64 = 0;
    for (let r = 0; r < n; r++) {
      const x = load<f32>(gather + (<usize>r << 2));
      if (x - x != 0) return -1;
      lo = Mathf.min(lo, x);
      hi = Mathf.max(hi, x);
      signal += <f64>x * <f64>x;
    }
    let scale = <f32>((<f64>hi - <f64>lo) / <f64>qmax);
    scale = scale > 0 && scale - scale == 0 ? scale : 1;
    const zp = Mathf.min(Mathf.max(nearest<f32>(<f32>(-<f64>lo / <f64>scale)), 0), qmax);
    const i = <usize>e;
    store<f32>(out + (i << 2), zp);
    store<f32>(out + f32s * 2 + (i << 2), scale);
    store<f64>(f64At + (i << 3), blockNoise(gather, n, scale, zp, qmax));
    store<f64>(f64At + f64s * 2 + (i << 3), signal);
    store<f64>(zeros + (i << 3), <f64>zp);
  }
  // onnxruntime's loop: its best error starts at 1e4, and the zero points of the step that stops are kept.
  const total = <f64>mats * <f64>rows * <f64>cols;
  let best: f64 = 1e4, beta = BETA, steps = 0;
  while (steps < ITERATIONS) {
    let absSum: f64 = 0;
    for (let e = 0; e < E; e++) {
      const n = gatherBlock(src, rows, cols, block, e, nb, gather);
      absSum += step(gather, n, <f64>load<f32>(out + f32s * 2 + (<usize>e << 2)), zeros + (<usize>e << 3), <f64>qmax, beta);
    }
    beta *= KAPPA;
    steps++;
    const error = absSum / total;
    if (!(error < best)) break;
    best = error;
  }
  // The integer zero point where it beats min-max.
  for (let e = 0; e < E; e++) {
    const i = <usize>e, zero = load<f64>(zeros + (i << 3)), scale = load<f32>(out + f32s * 2 + (i << 2));
    store<f32>(out + f32s + (i << 2), <f32>zero);
    const zp = <f32>Math.min(Math.max(nearest<f64>(zero), 0), <f64>qmax);
    const n = gatherBlock(src, rows, cols, block, e, nb, gather);
    store<f64>(f64At + f64s * 3 + (i << 3), floatZeroNoise(gather, n, scale, <f32>zero, qmax));
    const noise = blockNoise(gather, n, scale, zp, qmax), start = load<f64>(f64At + (i << 3));
    const better = noise < start;
    if (better) store<f32>(out + (i << 2), zp);
    store<f64>(f64At + f64s + (i << 3), better ? noise : start);
  }
  return steps;
}
