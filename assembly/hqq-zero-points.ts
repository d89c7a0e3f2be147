// HQQ zero-point refinement (docs/definitions.md, "HQQ") for asymmetric block grids: onnxruntime's
// HQQWeightOnlyQuantizer.optimize_weights — lp shrinkage (p = 0.7) of the error, β = 10 growing by κ = 1.01,
// at most 20 steps, stopping at the first whose mean |x − dequantized| over the tensor does not fall —
// written with the scale instead of its inverse, in float64, from the min-max parameters. Its float zero
// point is then rounded to an integer in [0, qmax] (ONNX DequantizeLinear takes the weight's integer type)
// and kept per block only where Σ(x − q(x))², q as in clip-search.ts, falls below min-max's.
//
// The steps depend on the whole tensor's error, so blocks are swept once per step in entry order (the
// plain-JS reference's order). The SIMD kernel steps two blocks of equal length at once, one per float64
// lane, each lane adding its block's values in order: its sums equal the scalar twin's bit for bit. A
// value whose shrinkage is not 0 (rare: its error exceeds 1/β) takes a scalar pow.
//
// Results for E blocks: zp f32[E] | float zero f32[E] | scale f32[E] | pad to 8 | startNoise f64[E]
// | noise f64[E] | signal f64[E] | floatNoise f64[E] (the error with the float zero point, as MatMulNBits
// dequantizes: (clamp(rne(x/scale + z), 0, qmax) − z)·scale). Scratch: the float zero points f64[E], two
// f64 block sums, then two blocks gathered, interleaved (8 bytes a row).

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

/** shrink of two lanes, 0 without a pow where both allow it. */
@inline function shrinkPair(d: v128, beta: f64): v128 {
  return f64x2.replace_lane(f64x2.splat(shrink(f64x2.extract_lane(d, 0), beta)), 1, shrink(f64x2.extract_lane(d, 1), beta));
}

/**
 * step for two blocks of n values interleaved at p (values r of both at p + 8r): their scales (f32) at
 * scaleAt, float zero points (f64) at zero; writes both blocks' Σ|x − dequantized| at sums.
 */
function stepPair(p: usize, n: i32, scaleAt: usize, zero: usize, qmax: f64, beta: f64, sums: usize): void {
  const scale = f64x2.promote_low_f32x4(v128.load64_zero(scaleAt)), z = v128.load(zero);
  const top = f64x2.splat(qmax), nil = f64x2.splat(0), one = f64x2.splat(1);
  const limit = f64x2.splat(1 / beta), epsilon = f64x2.splat(1e-8);
  let absSum = nil, next = nil;
  for (let r = 0; r < n; r++) {
    const x = f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>r << 3))), t = f64x2.div(x, scale);
    const wq = f64x2.min(f64x2.max(f64x2.nearest(f64x2.add(t, z)), nil), top);
    const d = f64x2.sub(x, f64x2.mul(f64x2.sub(wq, z), scale));
    const a = f64x2.abs(d);
    absSum = f64x2.add(absSum, a);
    // (x − 0)/scale is t exactly: the usual case needs no second division.
    const noShrink = i64x2.all_true(v128.and(f64x2.le(a, limit), f64x2.le(f64x2.add(a, epsilon), one)));
    const back = noShrink ? t : f64x2.div(f64x2.sub(x, shrinkPair(d, beta)), scale);
    next = f64x2.add(next, f64x2.sub(wq, back));
  }
  v128.store(zero, f64x2.div(next, f64x2.splat(<f64>n)));
  v128.store(sums, absSum);
}

/** Values in block e: `block`, or fewer in the last block of a column. */
@inline function blockLength(rows: i32, cols: i32, block: i32, e: i32, nb: i32): i32 {
  return min(block, rows - ((e / cols) % nb) * block);
}

/** Copies block e ((m·nb + t)·cols + col) of [mats, rows, cols] to `to`, `stride` bytes apart; returns its length. */
function gatherBlock(src: usize, rows: i32, cols: i32, block: i32, e: i32, nb: i32, to: usize, stride: usize = 4): i32 {
  const col = e % cols, mt = e / cols, m = mt / nb, t = mt % nb;
  const r0 = t * block, n = min(block, rows - r0);
  const first = src + (((<usize>m * <usize>rows + <usize>r0) * <usize>cols + <usize>col) << 2);
  for (let r = 0; r < n; r++) store<f32>(to + <usize>r * stride, load<f32>(first + <usize>r * (<usize>cols << 2)));
  return n;
}

/**
 * Refines the zero points of the blocks of `block` input rows (the clip-search.ts block order). Returns the
 * steps taken, or −1 if the tensor holds NaN or ±Inf (then nothing is written).
 */
function refine(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmax: f32, scratch: usize, out: usize, simd: bool,
): i32 {
  const nb = (rows + block - 1) / block, E = mats * nb * cols;
  const zeros = scratch, sums = scratch + (<usize>E << 3), gather = sums + 16;
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
    for (let e = 0; e < E; ) {
      const n = blockLength(rows, cols, block, e, nb);
      if (simd && e + 1 < E && blockLength(rows, cols, block, e + 1, nb) == n) {
        gatherBlock(src, rows, cols, block, e, nb, gather, 8);
        gatherBlock(src, rows, cols, block, e + 1, nb, gather + 4, 8);
        stepPair(gather, n, out + f32s * 2 + (<usize>e << 2), zeros + (<usize>e << 3), <f64>qmax, beta, sums);
        absSum += load<f64>(sums);
        absSum += load<f64>(sums, 8);
        e += 2;
      } else {
        gatherBlock(src, rows, cols, block, e, nb, gather);
        absSum += step(gather, n, <f64>load<f32>(out + f32s * 2 + (<usize>e << 2)), zeros + (<usize>e << 3), <f64>qmax, beta);
        e++;
      }
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

export function hqqZeroPoints(src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmax: f32, scratch: usize, out: usize): i32 {
  return refine(src, mats, rows, cols, block, qmax, scratch, out, true);
}

export function hqqZeroPointsScalar(src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmax: f32, scratch: usize, out: usize): i32 {
  return refine(src, mats, rows, cols, block, qmax, scratch, out, false);
}
