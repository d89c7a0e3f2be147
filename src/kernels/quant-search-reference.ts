// The plain-JS reference of the parameter search kernels (assembly/clip-search.ts, hqq-zero-points.ts):
// the definitions of docs/definitions.md one value at a time, in the kernels' order and float steps, so
// their results agree bit for bit (HQQ's float zero points up to the host's pow). The tests check the
// kernels against it and the bench times it against them.
import type { IntegerRange } from './kernels.js';
import { blockRows, gridEntries, type QuantGrid } from './quantizer.js';
import { CLIP_STEPS, clipRatio, type ClipSearchResult, type HqqResult } from './quant-search-kernels.js';

const f = Math.fround;

/** Round half to even (pipeline/quant-error.ts has the same; kernels/ sits below pipeline/). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const safeScale = (s: number) => (s > 0 && Number.isFinite(s) ? s : 1);
const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/** The values of each entry of `grid` in the kernels' order (the whole tensor as one when perTensor). */
function* entries(data: Float32Array, grid: QuantGrid, perTensor: boolean): Generator<Float32Array> {
  if (perTensor) yield data;
  else if (grid.kind === 'channel') {
    const { groups, outer, cg, inner } = grid.layout;
    for (let ch = 0; ch < groups * cg; ch++) {
      const [g, c] = [Math.floor(ch / cg), ch % cg];
      const values = new Float32Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        const start = ((g * outer + o) * cg + c) * inner;
        values.set(data.subarray(start, start + inner), o * inner);
      }
      yield values;
    }
  } else {
    const { mats, rows, cols } = grid.layout;
    for (let m = 0; m < mats; m++) {
      for (let t = 0; t < blockRows(grid.layout, grid.block); t++) {
        const [r0, n] = [t * grid.block, Math.min(grid.block, rows - t * grid.block)];
        for (let col = 0; col < cols; col++) {
          const values = new Float32Array(n);
          for (let r = 0; r < n; r++) values[r] = data[(m * rows + r0 + r) * cols + col]!;
          yield values;
        }
      }
    }
  }
}

/** min(min, 0), max(max, 0), Σx²; null if a value is NaN or ±Inf. */
function rangeOf(values: Float32Array): { lo: number; hi: number; signal: number } | null {
  let [lo, hi, signal] = [0, 0, 0];
  for (const x of values) {
    if (!Number.isFinite(x)) return null;
    [lo, hi, signal] = [Math.min(lo, x), Math.max(hi, x), signal + x * x];
  }
  return { lo, hi, signal };
}

/** The min-max parameters of the clipped range r·[lo, hi] (r = clipRatio(step)). */
export function clippedParams(step: number, lo: number, hi: number, { qmin, qmax }: IntegerRange) {
  const r = clipRatio(step);
  const [low, high] = [f(r * lo), f(r * hi)];
  if (qmin < 0) return { scale: safeScale(f(Math.max(-low, high) / qmax)), zeroPoint: 0 };
  const scale = safeScale(f((high - low) / qmax));
  return { scale, zeroPoint: clamp(roundHalfEven(f(-low / scale)), qmin, qmax) };
}

/** Σ(x − q(x))², q(x) = scale·(clamp(rne(x/scale) + zp, qmin, qmax) − zp) in float32 steps. */
export function quantNoise(values: Float32Array, scale: number, zeroPoint: number, { qmin, qmax }: IntegerRange) {
  let noise = 0;
  for (const x of values) {
    const e = f(x - f(clamp(roundHalfEven(f(x / scale)), qmin - zeroPoint, qmax - zeroPoint) * scale));
    noise += e * e;
  }
  return noise;
}

/** clipSearch of quant-search-kernels.ts on `data`, one entry at a time. */
export function clipSearchReference(
  data: Float32Array,
  grid: QuantGrid,
  range: IntegerRange,
  perTensor = false,
): ClipSearchResult | null {
  const E = perTensor ? 1 : gridEntries(grid);
  const [scales, zeroPoints, steps] = [new Float32Array(E), new Float32Array(E), new Int32Array(E)];
  const [minMaxNoise, noise, signal] = [new Float64Array(E), new Float64Array(E), new Float64Array(E)];
  let e = 0;
  for (const values of entries(data, grid, perTensor)) {
    const span = rangeOf(values);
    if (!span) return null;
    let best = { step: 0, noise: Infinity, scale: 1, zeroPoint: 0 };
    for (let step = 0; step < CLIP_STEPS; step++) {
      const params = clippedParams(step, span.lo, span.hi, range);
      const n = quantNoise(values, params.scale, params.zeroPoint, range);
      if (step === 0) minMaxNoise[e] = n;
      if (n < best.noise) best = { step, noise: n, ...params };
    }
    [scales[e], zeroPoints[e], steps[e], noise[e], signal[e]] = [
      best.scale,
      best.zeroPoint,
      best.step,
      best.noise,
      span.signal,
    ];
    e++;
  }
  const all = (a: Float32Array) => (perTensor ? new Float32Array(gridEntries(grid)).fill(a[0]!) : a);
  return {
    quantizer: { grid, scales: all(scales), zeroPoints: all(zeroPoints), qmin: range.qmin, qmax: range.qmax },
    steps,
    minMaxNoise,
    noise,
    signal,
  };
}

const [LP_NORM, BETA, KAPPA, ITERATIONS] = [0.7, 10, 1.01, 20];

/** onnxruntime's shrink_lp_op; 0 without the pow where it is ≥ 1 and |d| ≤ 1/β (hqq-zero-points.ts). */
function shrink(d: number, beta: number): number {
  const a = Math.abs(d);
  if (a <= 1 / beta && a + 1e-8 <= 1) return 0;
  const t = Math.max(a - (1 / beta) * Math.pow(a + 1e-8, LP_NORM - 1), 0);
  return d < 0 ? -t : t;
}

/** Σ(x − q(x))² with a float zero point z, as MatMulNBits dequantizes: (clamp(rne(x/scale + z)) − z)·scale. */
function floatZeroNoise(values: Float32Array, scale: number, z: number, qmax: number): number {
  let noise = 0;
  for (const x of values) {
    const e = f(x - f(f(clamp(roundHalfEven(f(f(x / scale) + z)), 0, qmax) - z) * scale));
    noise += e * e;
  }
  return noise;
}

/** hqq of quant-search-kernels.ts on `data`. */
export function hqqReference(
  data: Float32Array,
  grid: Extract<QuantGrid, { kind: 'block' }>,
  range: IntegerRange,
): HqqResult | null {
  const blocks = [...entries(data, grid, false)];
  const E = blocks.length;
  const [scales, zeroPoints, floatZeroPoints] = [new Float32Array(E), new Float32Array(E), new Float32Array(E)];
  const [startNoise, noise, signal, floatNoise, zeros] = [0, 0, 0, 0, 0].map(() => new Float64Array(E)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  for (const [e, values] of blocks.entries()) {
    const span = rangeOf(values);
    if (!span) return null;
    const { scale, zeroPoint } = clippedParams(0, span.lo, span.hi, range);
    [scales[e], zeroPoints[e], zeros[e], signal[e]] = [scale, zeroPoint, zeroPoint, span.signal];
    startNoise[e] = quantNoise(values, scale, zeroPoint, range);
  }
  let [best, beta, iterations] = [1e4, BETA, 0];
  while (iterations < ITERATIONS) {
    let absSum = 0;
    for (const [e, values] of blocks.entries()) {
      const [scale, z] = [scales[e]!, zeros[e]!];
      let [blockAbs, next] = [0, 0];
      for (const x of values) {
        const wq = clamp(roundHalfEven(x / scale + z), 0, range.qmax);
        const d = x - (wq - z) * scale;
        blockAbs += Math.abs(d);
        next += wq - (x - shrink(d, beta)) / scale;
      }
      zeros[e] = next / values.length;
      absSum += blockAbs;
    }
    beta *= KAPPA;
    iterations++;
    const error = absSum / data.length;
    if (!(error < best)) break;
    best = error;
  }
  for (const [e, values] of blocks.entries()) {
    floatZeroPoints[e] = zeros[e]!;
    floatNoise[e] = floatZeroNoise(values, scales[e]!, floatZeroPoints[e]!, range.qmax);
    const zp = clamp(roundHalfEven(zeros[e]!), 0, range.qmax);
    const n = quantNoise(values, scales[e]!, zp, range);
    const better = n < startNoise[e]!;
    if (better) zeroPoints[e] = zp;
    noise[e] = better ? n : startNoise[e]!;
  }
  return {
    quantizer: { grid, scales, zeroPoints, qmin: 0, qmax: range.qmax },
    floatZeroPoints,
    startNoise,
    noise,
    signal,
    floatNoise,
    iterations,
  };
}
