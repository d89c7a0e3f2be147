// Fused fake-quantization error (docs/definitions.md, ONNX Runtime's SQNR) of several quantizers in one call:
// for every element and quantizer k, with its output channel's scale s, reciprocal 1/s and zero point zp,
// q(x) = s·clamp(rne(x·(1/s)), qmin − zp, qmax − zp) in float32 — the definition's
// s·(clamp(rne(x/s) + zp, qmin, qmax) − zp), the zero point folded into the bounds (small integers, exact).
// out[0] = Σx², out[1 + k] = Σ(x − q(x))², float64 (float32 partial sums over 16 elements). Per-tensor
// quantization is a quantizer giving every channel the tensor's scale. No tensor is written.
//
// x·(1/s), the reciprocal taken once per channel, instead of x/s: a division per element bounded these
// kernels. It rounds a value differently only within an ulp of a half-step, where the two neighbours are
// equally far to within that ulp, so the SQNR estimate moves by float rounding alone. A quantized export
// must divide exactly, as onnxruntime does, to match it bit for bit.
//
// params: for each quantizer k, four f32[C] arrays one after the other — scale, 1/scale (written here),
// qmin − zp, qmax − zp — starting at params + k·16·C.
import { runStart } from './layout';

/**
 * 1/scale in float32. Below 2^-128 it would overflow and make 0·(1/scale) NaN; the largest float32 keeps
 * zeros exact (such a scale only quantizes values whose float32 squares vanish).
 */
@inline export function reciprocal(scale: f32): f32 {
  return Mathf.min(<f32>1 / scale, f32.MAX_VALUE);
}

/** Fills each quantizer's 1/scale array (params, C channels) from its scales. */
function writeReciprocals(params: usize, C: i32, nq: i32): void {
  const arrayBytes = <usize>C << 2;
  for (let k = 0; k < nq; k++) {
    const scales = params + <usize>k * (arrayBytes << 2);
    for (let c: usize = 0; c < arrayBytes; c += 4) store<f32>(scales + arrayBytes + c, reciprocal(load<f32>(scales + c)));
  }
}

@inline export function promoteSum(acc: v128, v: v128): v128 {
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(hi));
}

@inline export function sumLanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

@inline export function addTo(out: usize, i: i32, v: f64): void {
  const p = out + (<usize>i << 3);
  store<f64>(p, load<f64>(p) + v);
}

/** x − q(x) in four lanes, each with its lane's scale, reciprocal scale and bounds (zero point folded in). */
@inline export function laneErrors(x: v128, vs: v128, vinv: v128, vlo: v128, vhi: v128): v128 {
  return f32x4.sub(x, f32x4.mul(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(x, vinv)), vlo), vhi), vs));
}

/**
 * laneErrors where no bound can bind: a symmetric scale taken from the values' own largest magnitude A,
 * normal and with qmax ≤ 2^16, keeps |x·(1/s)| ≤ A·(1/s) ≤ qmax·(1 + 4·2^-24) < qmax + ½ (block-quant-error.ts).
 */
@inline export function freeErrors(x: v128, vs: v128, vinv: v128): v128 {
  return f32x4.sub(x, f32x4.mul(f32x4.nearest(f32x4.mul(x, vinv)), vs));
}

/** x − q(x) for one value, as laneErrors computes it per lane (float32 steps). */
@inline export function scalarError(x: f32, scale: f32, inv: f32, lo: f32, hi: f32): f64 {
  return <f64>(x - Mathf.min(Mathf.max(nearest<f32>(x * inv), lo), hi) * scale);
}

/** e² summed lane-wise over four vectors (16 values). */
@inline function squares4(e0: v128, e1: v128, e2: v128, e3: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(e0, e0), f32x4.mul(e1, e1)), f32x4.add(f32x4.mul(e2, e2), f32x4.mul(e3, e3)));
}

/** Σx² over n values at p. */
@inline function runSignal(p: usize, n: i32): f64 {
  const end = p + (<usize>n << 2);
  let signal = f64x2.splat(0);
  let tail: f64 = 0;
  for (; p + 64 <= end; p += 64)
    signal = promoteSum(signal, squares4(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48)));
  for (; p < end; p += 4) {
    const x = load<f32>(p);
    tail += <f64>x * <f64>x;
  }
  return sumLanes(signal) + tail;
}

/**
 * Σ(x − q(x))² over n values at p, all with one scale (and its reciprocal and bounds); `clamp` false where
 * no bound can bind (freeErrors). Callers pass a constant, so each inlined copy keeps one loop.
 */
@inline export function runNoise(p: usize, n: i32, scale: f32, inv: f32, lo: f32, hi: f32, clamp: bool): f64 {
  const end = p + (<usize>n << 2);
  const vs = f32x4.splat(scale), vinv = f32x4.splat(inv), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let noise = f64x2.splat(0);
  let tail: f64 = 0;
  for (; p + 64 <= end; p += 64) {
    const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
    noise = promoteSum(
      noise,
      clamp
        ? squares4(laneErrors(x0, vs, vinv, vlo, vhi), laneErrors(x1, vs, vinv, vlo, vhi), laneErrors(x2, vs, vinv, vlo, vhi), laneErrors(x3, vs, vinv, vlo, vhi))
        : squares4(freeErrors(x0, vs, vinv), freeErrors(x1, vs, vinv), freeErrors(x2, vs, vinv), freeErrors(x3, vs, vinv)),
    );
  }
  for (; p < end; p += 4) {
    const e = scalarError(load<f32>(p), scale, inv, lo, hi);
    tail += e * e;
  }
  return sumLanes(noise) + tail;
}

/**
 * Writes out[0] = Σx², out[1 + k] = Σ(x − q_k(x))² (f64) for the nq quantizers of `params`. Channel by
 * channel; each quantizer goes over the channel's runs while they are in cache.
 */
export function quantErrors(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, params: usize, nq: i32, out: usize,
): void {
  memory.fill(out, 0, <usize>(nq + 1) << 3);
  const C = groups * cg;
  writeReciprocals(params, C, nq);
  const arrayBytes = <usize>C << 2;
  let signal: f64 = 0;
  for (let ch = 0; ch < C; ch++) {
    const g = ch / cg, c = ch % cg;
    for (let o = 0; o < outer; o++) signal += runSignal(runStart(src, g, o, c, outer, cg, inner), inner);
    for (let k = 0; k < nq; k++) {
      const at = params + <usize>k * (arrayBytes << 2) + (<usize>ch << 2);
      const scale = load<f32>(at), inv = load<f32>(at + arrayBytes);
      const lo = load<f32>(at + (arrayBytes << 1)), hi = load<f32>(at + arrayBytes * 3);
      let noise: f64 = 0;
      for (let o = 0; o < outer; o++) noise += runNoise(runStart(src, g, o, c, outer, cg, inner), inner, scale, inv, lo, hi, true);
      addTo(out, 1 + k, noise);
    }
  }
  store<f64>(out, signal);
}

/**
 * Σ(x − q(x))² over one row of rowBytes/4 values, each column with its own parameters: four f32 arrays of
 * the row's length one after the other at params (scale, 1/scale, low and high bound).
 */
@inline export function rowNoise(row: usize, rowBytes: usize, params: usize, clamp: bool): f64 {
  const n = rowBytes, wideBytes = rowBytes & ~<usize>15; // columns handled four at a time
  let noise = f64x2.splat(0), n2 = noise;
  let tail: f64 = 0;
  let j: usize = 0;
  for (; j + 64 <= wideBytes; j += 64) {
    const x = row + j, s = params + j, i = s + n, l = i + n, h = l + n;
    noise = promoteSum(
      noise,
      clamp
        ? squares4(
          laneErrors(v128.load(x), v128.load(s), v128.load(i), v128.load(l), v128.load(h)),
          laneErrors(v128.load(x, 16), v128.load(s, 16), v128.load(i, 16), v128.load(l, 16), v128.load(h, 16)),
          laneErrors(v128.load(x, 32), v128.load(s, 32), v128.load(i, 32), v128.load(l, 32), v128.load(h, 32)),
          laneErrors(v128.load(x, 48), v128.load(s, 48), v128.load(i, 48), v128.load(l, 48), v128.load(h, 48)),
        )
        : squares4(
          freeErrors(v128.load(x), v128.load(s), v128.load(i)),
          freeErrors(v128.load(x, 16), v128.load(s, 16), v128.load(i, 16)),
          freeErrors(v128.load(x, 32), v128.load(s, 32), v128.load(i, 32)),
          freeErrors(v128.load(x, 48), v128.load(s, 48), v128.load(i, 48)),
        ),
    );
  }
  for (; j < wideBytes; j += 16) {
    const s = params + j, i = s + n, l = i + n;
    const e = laneErrors(v128.load(row + j), v128.load(s), v128.load(i), v128.load(l), v128.load(l + n));
    n2 = f32x4.add(n2, f32x4.mul(e, e));
  }
  noise = promoteSum(noise, n2);
  for (; j < rowBytes; j += 4) {
    const s = params + j, i = s + n, l = i + n;
    const e = scalarError(load<f32>(row + j), load<f32>(s), load<f32>(i), load<f32>(l), load<f32>(l + n));
    tail += e * e;
  }
  return sumLanes(noise) + tail;
}

/** Do all channels share one scale and zero point (per-tensor quantization)? Then splats replace loads. */
function uniform(params: usize, rowBytes: usize): bool {
  const scale = load<u32>(params), lo = load<u32>(params + rowBytes * 2);
  for (let j: usize = 4; j < rowBytes; j += 4) {
    if (load<u32>(params + j) != scale || load<u32>(params + rowBytes * 2 + j) != lo) return false;
  }
  return true;
}

/**
 * quantErrors for layouts whose runs are single elements (groups 1, inner 1: MatMul [K, N], Gemm transB=0):
 * row by row, four channels per vector with their own parameters, so memory is read in order instead of
 * one column at a time; each quantizer goes over the row while it is in cache.
 */
export function quantErrorsColumns(src: usize, outer: i32, cg: i32, params: usize, nq: i32, out: usize): void {
  memory.fill(out, 0, <usize>(nq + 1) << 3);
  writeReciprocals(params, cg, nq);
  const rowBytes = <usize>cg << 2;
  let shared: u64 = 0; // bit k: quantizer k gives every channel the same parameters
  for (let k = 0; k < min(nq, 64); k++) shared |= <u64>uniform(params + <usize>k * (rowBytes << 2), rowBytes) << k;
  let signal: f64 = 0;
  for (let o = 0; o < outer; o++) {
    const row = src + <usize>o * rowBytes;
    signal += runSignal(row, cg);
    for (let k = 0; k < nq; k++) {
      const at = params + <usize>k * (rowBytes << 2);
      const noise = (shared >> k) & 1
        ? runNoise(row, cg, load<f32>(at), load<f32>(at + rowBytes), load<f32>(at + rowBytes * 2), load<f32>(at + rowBytes * 3), true)
        : rowNoise(row, rowBytes, at, true);
      addTo(out, 1 + k, noise);
    }
  }
  store<f64>(out, signal);
}
