// Quantizes a staged weight to integer codes, as an export stores them, and sums the error of what they
// dequantize to: q = clamp(rne(x/s) + zp, qmin, qmax) with a true float32 division (onnxruntime's
// QuantizeLinear), dequantized (q − zp)·s in float32 (its DequantizeLinear). Each code is written as one
// byte (its low 8 bits: int8 and uint8 as they are, 4-bit codes packed by the caller).
//
// params: scale f32[E] then zero point f32[E] (integers), one pair per grid entry (src/kernels/quantizer.ts).
// out: f64 Σx², f64 Σ(x − deq(q))². Non-finite inputs are the caller's to refuse.
// `stored`: the type DequantizeLinear writes, which the error is measured on: 0 float32, 1 float16, 2
// bfloat16 (deq rounded to it, nearest even, one value at a time).
import { promoteSum, sumLanes } from './quant-error';

/** One lane group: codes of four values and their squared errors. */
@inline function lanes(x: v128, s: v128, zp: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(x, s)), zp), lo), hi);
}

@inline function storeCodes(codes: usize, q: v128): void {
  const i = i32x4.trunc_sat_f32x4_s(q);
  // Low byte of each lane: the code's two's-complement (int8) or plain (uint8) byte.
  store<u32>(codes, <u32>i32x4.extract_lane(v128.shuffle<u8>(i, i, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), 0));
}

@inline function scalarCode(x: f32, s: f32, zp: f32, lo: f32, hi: f32): f32 {
  return Mathf.min(Mathf.max(nearest<f32>(x / s) + zp, lo), hi);
}

/** Accumulates Σx² and Σe² of the four lanes into sums (f64x2 each). */
@inline function errorSquares(x: v128, q: v128, s: v128, zp: v128): v128 {
  const e = f32x4.sub(x, f32x4.mul(f32x4.sub(q, zp), s));
  return f32x4.mul(e, e);
}

/** x rounded to float16 (1) or bfloat16 (2), nearest even, as a float32; x itself for 0. Finite x. */
@inline function roundStored(x: f32, stored: i32): f32 {
  if (stored == 0) return x;
  const b = reinterpret<u32>(x);
  const sign = b & 0x80000000;
  let a = b & 0x7fffffff;
  if (stored == 2) return reinterpret<f32>(sign | ((a + 0x7fff + ((a >> 16) & 1)) & 0xffff0000));
  if (a >= 0x477ff000) return reinterpret<f32>(sign | 0x7f800000); // 65520 and up: float16 overflows
  if (a < 0x38800000) {
    // Below 2^-14, float16's subnormals: steps of 2^-24, which is float32's ulp at 0.5 (hardware rounds).
    const r = (reinterpret<f32>(a) + <f32>0.5) - <f32>0.5;
    return reinterpret<f32>(sign | reinterpret<u32>(r));
  }
  a = (a + 0xfff + ((a >> 13) & 1)) & 0xffffe000; // keep 10 mantissa bits, nearest even
  return reinterpret<f32>(sign | a);
}

let signal = f64x2.splat(0);
let noise = f64x2.splat(0);
let tailSignal: f64 = 0;
let tailNoise: f64 = 0;

/** n values at p, one parameter pair for all of them. */
function quantizeRun(p: usize, n: i32, codes: usize, s: f32, zp: f32, lo: f32, hi: f32, stored: i32): void {
  const end = p + (<usize>n << 2);
  if (stored != 0) {
    for (; p < end; p += 4, codes++) scalarStep(load<f32>(p), codes, s, zp, lo, hi, stored);
    return;
  }
  const vs = f32x4.splat(s), vzp = f32x4.splat(zp), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  for (; p + 16 <= end; p += 16, codes += 4) {
    const x = v128.load(p);
    const q = lanes(x, vs, vzp, vlo, vhi);
    storeCodes(codes, q);
    signal = promoteSum(signal, f32x4.mul(x, x));
    noise = promoteSum(noise, errorSquares(x, q, vs, vzp));
  }
  for (; p < end; p += 4, codes++) scalarStep(load<f32>(p), codes, s, zp, lo, hi, 0);
}

/** One value: its code, and its squares added to the tails. */
@inline function scalarStep(x: f32, codes: usize, s: f32, zp: f32, lo: f32, hi: f32, stored: i32): void {
  const q = scalarCode(x, s, zp, lo, hi);
  store<u8>(codes, <u8>(<i32>q));
  const e = <f64>(x - roundStored((q - zp) * s, stored));
  tailSignal += <f64>x * <f64>x;
  tailNoise += e * e;
}

/** n values at p, value j with the pair at entry j of the parameter arrays (E entries each) from `first`. */
function quantizeLine(
  p: usize, n: i32, codes: usize, params: usize, E: i32, first: i32, lo: f32, hi: f32, stored: i32,
): void {
  const scales = params + (<usize>first << 2), zps = scales + (<usize>E << 2);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let j: usize = 0;
  const bytes = <usize>n << 2;
  for (; stored == 0 && j + 16 <= bytes; j += 16, codes += 4) {
    const x = v128.load(p + j), vs = v128.load(scales + j), vzp = v128.load(zps + j);
    const q = lanes(x, vs, vzp, vlo, vhi);
    storeCodes(codes, q);
    signal = promoteSum(signal, f32x4.mul(x, x));
    noise = promoteSum(noise, errorSquares(x, q, vs, vzp));
  }
  for (; j < bytes; j += 4, codes++)
    scalarStep(load<f32>(p + j), codes, load<f32>(scales + j), load<f32>(zps + j), lo, hi, stored);
}

function begin(): void {
  signal = f64x2.splat(0);
  noise = f64x2.splat(0);
  tailSignal = 0;
  tailNoise = 0;
}

function finish(out: usize): void {
  store<f64>(out, sumLanes(signal) + tailSignal);
  store<f64>(out + 8, sumLanes(noise) + tailNoise);
}

/** Channel grid over [groups, outer, cg, inner] (layout.ts): channel g·cg + c has entry g·cg + c. */
export function quantizeChannels(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, params: usize, qmin: f32, qmax: f32, codes: usize, out: usize,
  stored: i32,
): void {
  begin();
  const E = groups * cg;
  let at: usize = 0; // element index, in storage order
  for (let g = 0; g < groups; g++) {
    for (let o = 0; o < outer; o++) {
      if (inner == 1) {
        quantizeLine(src + (at << 2), cg, codes + at, params, E, g * cg, qmin, qmax, stored);
        at += <usize>cg;
        continue;
      }
      for (let c = 0; c < cg; c++) {
        const e = <usize>(g * cg + c) << 2;
        const s = load<f32>(params + e), zp = load<f32>(params + (<usize>E << 2) + e);
        quantizeRun(src + (at << 2), inner, codes + at, s, zp, qmin, qmax, stored);
        at += <usize>inner;
      }
    }
  }
  finish(out);
}

/**
 * Block grid over [mats, rows, cols]: element (m, r, col) has entry (m·nb + r/block)·cols + col,
 * nb = ceil(rows/block).
 */
export function quantizeBlocks(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32, params: usize, qmin: f32, qmax: f32, codes: usize, out: usize,
  stored: i32,
): void {
  begin();
  const nb = (rows + block - 1) / block;
  const E = mats * nb * cols;
  let at: usize = 0;
  for (let m = 0; m < mats; m++) {
    if (cols == 1) {
      // Each block is a contiguous run of up to `block` values with one pair.
      for (let b = 0; b < nb; b++) {
        const n = min(block, rows - b * block);
        const e = <usize>(m * nb + b) << 2;
        const s = load<f32>(params + e), zp = load<f32>(params + (<usize>E << 2) + e);
        quantizeRun(src + (at << 2), n, codes + at, s, zp, qmin, qmax, stored);
        at += <usize>n;
      }
      continue;
    }
    for (let r = 0; r < rows; r++) {
      quantizeLine(src + (at << 2), cols, codes + at, params, E, (m * nb + r / block) * cols, qmin, qmax, stored);
      at += <usize>cols;
    }
  }
  finish(out);
}

/**
 * Each block's min and max (block grid, as quantizeBlocks indexes it) into lo f32[E] and hi f32[E]; the
 * caller refuses non-finite weights first.
 */
export function blockRanges(src: usize, mats: i32, rows: i32, cols: i32, block: i32, lo: usize, hi: usize): void {
  const nb = (rows + block - 1) / block;
  let p = src;
  for (let m = 0; m < mats; m++) {
    for (let r = 0; r < rows; r++) {
      const first = r % block == 0;
      const row = <usize>((m * nb + r / block) * cols) << 2;
      for (let c: usize = 0; c < <usize>cols << 2; c += 4, p += 4) {
        const x = load<f32>(p);
        const l = lo + row + c, h = hi + row + c;
        store<f32>(l, first ? x : Mathf.min(load<f32>(l), x));
        store<f32>(h, first ? x : Mathf.max(load<f32>(h), x));
      }
    }
  }
}
