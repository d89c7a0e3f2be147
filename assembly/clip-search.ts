// Clipping search (docs/definitions.md, "Clipping search"): for each grid entry — an output channel, a block
// of input rows of one column, or the whole tensor — the min-max parameters of the clipped range r·[lo, hi]
// (lo = min(min, 0), hi = max(max, 0)) for r = 1 − k/64, k = 0..31, and the candidate of least
// Σ(x − q(x))², the larger r on ties (so r = 1, plain min-max, is never beaten by an equal error).
// q(x) = scale·clamp(rne(x/scale), qmin − zp, qmax − zp) in float32 with a true division, as onnxruntime
// quantizes; e² and the sums in float64.
//
// The SIMD kernel puts four candidates in the four lanes, not four elements: every lane then adds its
// candidate's errors in element order, as the scalar twin and the plain-JS reference do, so all three sums
// are equal bit for bit and pick the same r.
//
// Results for E entries, structure of arrays (src/kernels/quant-search-kernels.ts reads them):
//   scale f32[E] | zp f32[E] | step i32[E] | pad to 8 | minMaxNoise f64[E] | noise f64[E] | signal f64[E]
// Scratch: candidates (scale, low bound, high bound, zp: f32[32] each), their noise f64[32], then a gathered
// copy of one entry's values where they are not contiguous.
import { runStart } from './layout';

/** Candidates per entry: eight vectors of four. */
const CANDIDATES = 32;
const ARRAY_BYTES: usize = CANDIDATES << 2;
const NOISE_AT: usize = ARRAY_BYTES * 4;
export const GATHER_AT: usize = NOISE_AT + (CANDIDATES << 3);

/** A zero or non-finite scale quantizes nothing: 1 keeps an all-zero entry exact. */
@inline function safeScale(s: f32): f32 {
  return s > 0 && s - s == 0 ? s : 1;
}

/** Candidate k's parameters for values in [lo, hi] (lo ≤ 0 ≤ hi), as quantParams computes min-max ones. */
function writeCandidates(lo: f32, hi: f32, qmin: f32, qmax: f32, cand: usize): void {
  for (let k = 0; k < CANDIDATES; k++) {
    const r: f64 = 1 - <f64>k / 64; // exact: k/64 is a short binary fraction
    const low = <f32>(r * <f64>lo), high = <f32>(r * <f64>hi);
    let scale: f32, zp: f32 = 0;
    if (qmin < 0) scale = safeScale(Mathf.max(-low, high) / qmax);
    else {
      scale = safeScale(<f32>((<f64>high - <f64>low) / <f64>qmax));
      zp = Mathf.min(Mathf.max(nearest<f32>(<f32>(-<f64>low / <f64>scale)), qmin), qmax);
    }
    const at = cand + (<usize>k << 2);
    store<f32>(at, scale);
    store<f32>(at + ARRAY_BYTES, qmin - zp);
    store<f32>(at + ARRAY_BYTES * 2, qmax - zp);
    store<f32>(at + ARRAY_BYTES * 3, zp);
  }
}

/** f64x2 lanes of f32x4 lanes 0, 1 and 2, 3. */
@inline function lowHalf(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

@inline function highHalf(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Four f64 lanes (two f64x2) rounded to f32x4. */
@inline function demote4(low: v128, high: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

/** writeCandidates four candidates at a time, the same float32 and float64 steps (SIMD kernel). */
function writeCandidatesSimd(lo: f32, hi: f32, qmin: f32, qmax: f32, cand: usize): void {
  const wlo = f64x2.splat(<f64>lo), whi = f64x2.splat(<f64>hi), wqmax = f64x2.splat(<f64>qmax);
  const vqmin = f32x4.splat(qmin), vqmax = f32x4.splat(qmax), one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let k = 0; k < CANDIDATES; k += 4) {
    const r01 = f64x2.replace_lane(f64x2.splat(1 - <f64>k / 64), 1, 1 - <f64>(k + 1) / 64);
    const r23 = f64x2.replace_lane(f64x2.splat(1 - <f64>(k + 2) / 64), 1, 1 - <f64>(k + 3) / 64);
    const low = demote4(f64x2.mul(r01, wlo), f64x2.mul(r23, wlo));
    const high = demote4(f64x2.mul(r01, whi), f64x2.mul(r23, whi));
    let scale: v128, zp = zero;
    if (qmin < 0) scale = f32x4.div(f32x4.max(f32x4.neg(low), high), vqmax);
    else {
      const wide0 = f64x2.div(f64x2.sub(lowHalf(high), lowHalf(low)), wqmax);
      scale = demote4(wide0, f64x2.div(f64x2.sub(highHalf(high), highHalf(low)), wqmax));
    }
    scale = v128.bitselect(scale, one, v128.and(f32x4.gt(scale, zero), f32x4.eq(f32x4.sub(scale, scale), zero)));
    if (qmin >= 0) {
      const ratio0 = f64x2.div(f64x2.neg(lowHalf(low)), lowHalf(scale));
      const ratio = demote4(ratio0, f64x2.div(f64x2.neg(highHalf(low)), highHalf(scale)));
      zp = f32x4.min(f32x4.max(f32x4.nearest(ratio), vqmin), vqmax);
    }
    const at = cand + (<usize>k << 2);
    v128.store(at, scale);
    v128.store(at + ARRAY_BYTES, f32x4.sub(vqmin, zp));
    v128.store(at + ARRAY_BYTES * 2, f32x4.sub(vqmax, zp));
    v128.store(at + ARRAY_BYTES * 3, zp);
  }
}

/** x − q(x) for four candidates' scales and bounds (zero point folded in). */
@inline function laneErrors(x: v128, s: v128, lo: v128, hi: v128): v128 {
  return f32x4.sub(x, f32x4.mul(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(x, s)), lo), hi), s));
}

@inline function squareLow(e: v128): v128 {
  const d = lowHalf(e);
  return f64x2.mul(d, d);
}

@inline function squareHigh(e: v128): v128 {
  const d = highHalf(e);
  return f64x2.mul(d, d);
}

/** Σ(x − q_k(x))² over n values at p for all candidates, eight per pass (four sums stay in registers). */
function candidateNoiseSimd(p: usize, n: i32, cand: usize): void {
  const end = p + (<usize>n << 2);
  for (let j: usize = 0; j < ARRAY_BYTES; j += 32) {
    const s0 = v128.load(cand + j), s1 = v128.load(cand + j, 16);
    const l0 = v128.load(cand + ARRAY_BYTES + j), l1 = v128.load(cand + ARRAY_BYTES + j, 16);
    const h0 = v128.load(cand + ARRAY_BYTES * 2 + j), h1 = v128.load(cand + ARRAY_BYTES * 2 + j, 16);
    let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let q = p; q < end; q += 4) {
      const x = v128.load32_splat(q);
      const e0 = laneErrors(x, s0, l0, h0), e1 = laneErrors(x, s1, l1, h1);
      a0 = f64x2.add(a0, squareLow(e0));
      a1 = f64x2.add(a1, squareHigh(e0));
      a2 = f64x2.add(a2, squareLow(e1));
      a3 = f64x2.add(a3, squareHigh(e1));
    }
    const out = cand + NOISE_AT + (j << 1); // candidate j/4's f64 sum
    v128.store(out, a0);
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
  }
}

/** The reference: candidate by candidate, one value at a time. */
function candidateNoiseScalar(p: usize, n: i32, cand: usize): void {
  const end = p + (<usize>n << 2);
  for (let k: usize = 0; k < ARRAY_BYTES; k += 4) {
    const s = load<f32>(cand + k), lo = load<f32>(cand + ARRAY_BYTES + k), hi = load<f32>(cand + ARRAY_BYTES * 2 + k);
    let noise: f64 = 0;
    for (let q = p; q < end; q += 4) {
      const x = load<f32>(q);
      const e = <f64>(x - Mathf.min(Mathf.max(nearest<f32>(x / s), lo), hi) * s);
      noise += e * e;
    }
    store<f64>(cand + NOISE_AT + (k << 1), noise);
  }
}

/**
 * Searches the entry of n contiguous values at p and writes result e of E. Returns how many of its values
 * are NaN or ±Inf (then nothing is written: such a weight has no meaningful range).
 */
function searchEntry(p: usize, n: i32, qmin: f32, qmax: f32, scratch: usize, out: usize, e: i32, E: i32, simd: bool): i32 {
  let lo: f32 = 0, hi: f32 = 0, signal: f64 = 0, nonFinite = 0;
  for (let q = p, end = p + (<usize>n << 2); q < end; q += 4) {
    const x = load<f32>(q);
    if (x - x != 0) nonFinite++;
    lo = Mathf.min(lo, x);
    hi = Mathf.max(hi, x);
    signal += <f64>x * <f64>x;
  }
  if (nonFinite > 0) return nonFinite;
  if (simd) {
    writeCandidatesSimd(lo, hi, qmin, qmax, scratch);
    candidateNoiseSimd(p, n, scratch);
  } else {
    writeCandidates(lo, hi, qmin, qmax, scratch);
    candidateNoiseScalar(p, n, scratch);
  }
  const noise = scratch + NOISE_AT;
  let best = 0;
  for (let k = 1; k < CANDIDATES; k++) if (load<f64>(noise + (<usize>k << 3)) < load<f64>(noise + (<usize>best << 3))) best = k;
  const i = <usize>e, f32s = <usize>E << 2, f64At = out + ((<usize>E * 12 + 7) & ~<usize>7);
  store<f32>(out + (i << 2), load<f32>(scratch + (<usize>best << 2)));
  store<f32>(out + f32s + (i << 2), load<f32>(scratch + ARRAY_BYTES * 3 + (<usize>best << 2)));
  store<i32>(out + f32s * 2 + (i << 2), best);
  store<f64>(f64At + (i << 3), load<f64>(noise));
  store<f64>(f64At + (<usize>E << 3) + (i << 3), load<f64>(noise + (<usize>best << 3)));
  store<f64>(f64At + (<usize>E << 4) + (i << 3), signal);
  return 0;
}

/**
 * One entry per output channel of the [groups, outer, cg, inner] layout (assembly/layout.ts); the whole
 * tensor as one entry is the layout (1, 1, 1, n). Returns the count of non-finite values met (0: all written).
 */
function searchChannels(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, qmin: f32, qmax: f32, scratch: usize, out: usize, simd: bool,
): i32 {
  const C = groups * cg, n = outer * inner, gather = scratch + GATHER_AT, runBytes = <usize>inner << 2;
  for (let ch = 0; ch < C; ch++) {
    const g = ch / cg, c = ch % cg;
    let p = runStart(src, g, 0, c, outer, cg, inner);
    if (outer > 1) {
      for (let o = 0; o < outer; o++) memory.copy(gather + <usize>o * runBytes, runStart(src, g, o, c, outer, cg, inner), runBytes);
      p = gather;
    }
    const bad = searchEntry(p, n, qmin, qmax, scratch, out, ch, C, simd);
    if (bad > 0) return bad;
  }
  return 0;
}

/**
 * One entry per block of `block` input rows of one column of one mat ([mats, rows, cols], the last block of
 * a column may be shorter), at index (m·nb + t)·cols + col: DequantizeLinear's blocked scale order.
 */
function searchBlocks(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmin: f32, qmax: f32, scratch: usize, out: usize, simd: bool,
): i32 {
  const nb = (rows + block - 1) / block, E = mats * nb * cols, gather = scratch + GATHER_AT;
  const colBytes = <usize>cols << 2;
  for (let m = 0; m < mats; m++) {
    for (let t = 0; t < nb; t++) {
      const r0 = t * block, n = min(block, rows - r0);
      for (let col = 0; col < cols; col++) {
        const first = src + (((<usize>m * <usize>rows + <usize>r0) * <usize>cols + <usize>col) << 2);
        for (let r = 0; r < n; r++) store<f32>(gather + (<usize>r << 2), load<f32>(first + <usize>r * colBytes));
        const bad = searchEntry(gather, n, qmin, qmax, scratch, out, (m * nb + t) * cols + col, E, simd);
        if (bad > 0) return bad;
      }
    }
  }
  return 0;
}

export function clipSearchChannels(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, qmin: f32, qmax: f32, scratch: usize, out: usize,
): i32 {
  return searchChannels(src, groups, outer, cg, inner, qmin, qmax, scratch, out, true);
}

export function clipSearchChannelsScalar(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32, qmin: f32, qmax: f32, scratch: usize, out: usize,
): i32 {
  return searchChannels(src, groups, outer, cg, inner, qmin, qmax, scratch, out, false);
}

export function clipSearchBlocks(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmin: f32, qmax: f32, scratch: usize, out: usize,
): i32 {
  return searchBlocks(src, mats, rows, cols, block, qmin, qmax, scratch, out, true);
}

export function clipSearchBlocksScalar(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32, qmin: f32, qmax: f32, scratch: usize, out: usize,
): i32 {
  return searchBlocks(src, mats, rows, cols, block, qmin, qmax, scratch, out, false);
}
