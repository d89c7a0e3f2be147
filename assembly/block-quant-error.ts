// Per-group (blocked) fake-quantization error (docs/definitions.md): the weight viewed as [mats, rows, cols]
// row-major, rows being the input (reduction) axis; a block is `block` consecutive rows of one column of one
// mat (the last block of a column may be shorter), with its own scale and zero point from the block's
// lo = min(min, 0) and hi = max(max, 0). For each quantizer q (an integer range [qmin, qmax]; symmetric
// when qmin < 0) q(x) is computed as in quant-error.ts (a reciprocal scale, the zero point in the bounds).
//
// One call takes several block sizes, each dividing the next (32, 64, 128): the weight is walked one strip
// (the largest block's rows × all columns of a mat; a few strips where there is one column) at a time, its
// ranges and Σx² taken once for blocks of the smallest size, whose ranges combine into those of the larger
// ones; then one pass per block size and quantizer while the strip is in cache. out[0] = Σx², out[1 + i·nq + q] = Σ(x − q(x))² for block size
// i and quantizer q, float64, added strip by strip, so a tensor cut into chunks of whole strips gives sums
// that simply add up (streaming).
//
// blocks: i32[nb]. quantizers: f32[nq] pairs (qmin, qmax). scratch: f32, blockScratchFloats(...) of them.
import { addTo, promoteSum, reciprocal, rowNoise, runNoise, scalarError, sumLanes } from './quant-error';

/** The block's scale in float32, as src/pipeline/quant-error.ts computes it; 1 where the block is all zeros. */
@inline function blockScale(lo: f32, hi: f32, qmin: f32, qmax: f32): f32 {
  const s: f32 = qmin < 0 ? Mathf.max(-lo, hi) / qmax : <f32>((<f64>hi - <f64>lo) / <f64>qmax);
  return s > 0 && s - s == 0 ? s : 1;
}

@inline function blockZeroPoint(lo: f32, scale: f32, qmin: f32): f32 {
  return qmin < 0 ? 0 : nearest<f32>(<f32>(-<f64>lo / <f64>scale));
}

/** Writes a block's scale, 1/scale and bounds (qmin − zp, qmax − zp) at at, at + stride, … */
@inline function writeParams(at: usize, stride: usize, lo: f32, hi: f32, qmin: f32, qmax: f32): void {
  const scale = blockScale(lo, hi, qmin, qmax), zp = blockZeroPoint(lo, scale, qmin);
  store<f32>(at, scale);
  store<f32>(at + stride, reciprocal(scale));
  store<f32>(at + stride * 2, qmin - zp);
  store<f32>(at + stride * 3, qmax - zp);
}

/** Both f64x2 halves of f32x4 lanes. */
@inline function highHalf(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Four f64 lanes (two f64x2) rounded to f32x4. */
@inline function demote4(low: v128, high: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

/**
 * writeParams for bytes/4 blocks, four at a time: their lows at loAt and highs at hiAt; the four parameter
 * arrays (rowNoise's layout, each `bytes` long) at params. Same float32/float64 steps. Returns whether no
 * bound can bind (freeErrors in quant-error.ts): symmetric, qmax ≤ 2^16, every scale a normal float32 —
 * the scale then comes from the block's own largest magnitude.
 */
function writeBlockParams(loAt: usize, hiAt: usize, params: usize, rowBytes: usize, qmin: f32, qmax: f32): bool {
  const vectorBytes = rowBytes & ~<usize>15;
  const one = f32x4.splat(1), largest = f32x4.splat(f32.MAX_VALUE), zero = f32x4.splat(0);
  const vqmin = f32x4.splat(qmin), vqmax = f32x4.splat(qmax), wqmax = f64x2.splat(<f64>qmax);
  const smallestNormal = f32x4.splat(1.17549435e-38);
  let normal = i32x4.splat(-1); // a lane stays all ones while its scales are normal
  for (let j: usize = 0; j < vectorBytes; j += 16) {
    const lo = v128.load(loAt + j), hi = v128.load(hiAt + j);
    let scale: v128, zp = zero;
    if (qmin < 0) scale = f32x4.div(f32x4.max(f32x4.neg(lo), hi), vqmax);
    else {
      const low = f64x2.div(f64x2.sub(f64x2.promote_low_f32x4(hi), f64x2.promote_low_f32x4(lo)), wqmax);
      scale = demote4(low, f64x2.div(f64x2.sub(highHalf(hi), highHalf(lo)), wqmax));
    }
    const usable = v128.and(f32x4.gt(scale, zero), f32x4.eq(f32x4.sub(scale, scale), zero));
    scale = v128.bitselect(scale, one, usable);
    if (qmin >= 0) {
      const low = f64x2.div(f64x2.neg(f64x2.promote_low_f32x4(lo)), f64x2.promote_low_f32x4(scale));
      zp = f32x4.nearest(demote4(low, f64x2.div(f64x2.neg(highHalf(lo)), highHalf(scale))));
    }
    normal = v128.and(normal, f32x4.ge(scale, smallestNormal));
    v128.store(params + j, scale);
    v128.store(params + rowBytes + j, f32x4.min(f32x4.div(one, scale), largest));
    v128.store(params + rowBytes * 2 + j, f32x4.sub(vqmin, zp));
    v128.store(params + rowBytes * 3 + j, f32x4.sub(vqmax, zp));
  }
  let free = qmin < 0 && qmax <= 65536 && (vectorBytes == 0 || i32x4.all_true(normal));
  for (let j = vectorBytes; j < rowBytes; j += 4) {
    writeParams(params + j, rowBytes, load<f32>(loAt + j), load<f32>(hiAt + j), qmin, qmax);
    free = free && load<f32>(params + j) >= 1.17549435e-38;
  }
  return free;
}

/** Values of one column walked per step: several strips at once, so parameters vectorize across blocks. */
const RUN_SPAN = 2048;

/** Rows per step: whole strips of the largest block. */
@inline function stripRows(cols: i32, largest: i32): i32 {
  return cols == 1 ? largest * max(1, RUN_SPAN / largest) : largest;
}

/** The scratch a call needs, in float32s: ranges of the smallest blocks of a step, then parameters. */
export function blockScratchFloats(cols: i32, smallest: i32, largest: i32): i32 {
  const pieces = (stripRows(cols, largest) + smallest - 1) / smallest;
  return cols == 1 ? 8 * pieces : (2 * pieces + 6) * cols;
}

/**
 * One column (cols = 1): the step is n contiguous values at p. Blocks' ranges and parameters are arrays
 * over the step's blocks (lows, then highs), so writeBlockParams does four blocks at a time.
 */
function runStrip(
  p: usize, n: i32, blocks: usize, nb: i32, quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  const b0 = load<i32>(blocks);
  const pieces = (n + b0 - 1) / b0;
  const pieceBytes = <usize>pieces << 2;
  const loAt = scratch, hiAt = loAt + pieceBytes;
  // The smallest blocks' ranges and Σx².
  let signal = f64x2.splat(0);
  let tail: f64 = 0;
  for (let s = 0; s < pieces; s++) {
    const a = p + (<usize>(s * b0) << 2), end = a + (<usize>min(b0, n - s * b0) << 2);
    let vlo = f32x4.splat(0), vhi = vlo;
    let lo: f32 = 0, hi: f32 = 0;
    let v = a;
    for (; v + 64 <= end; v += 64) {
      let x2 = f32x4.splat(0);
      for (let k = 0; k < 4; k++) {
        const x = v128.load(v + (<usize>k << 4));
        vlo = f32x4.pmin(vlo, x);
        vhi = f32x4.pmax(vhi, x);
        x2 = f32x4.add(x2, f32x4.mul(x, x));
      }
      signal = promoteSum(signal, x2);
    }
    for (; v < end; v += 4) {
      const x = load<f32>(v);
      lo = Mathf.min(lo, x);
      hi = Mathf.max(hi, x);
      tail += <f64>x * <f64>x;
    }
    for (let l: u8 = 0; l < 4; l++) {
      lo = Mathf.min(lo, f32x4.extract_lane(vlo, 0));
      hi = Mathf.max(hi, f32x4.extract_lane(vhi, 0));
      vlo = v128.shuffle<f32>(vlo, vlo, 1, 2, 3, 0);
      vhi = v128.shuffle<f32>(vhi, vhi, 1, 2, 3, 0);
    }
    store<f32>(loAt + (<usize>s << 2), lo);
    store<f32>(hiAt + (<usize>s << 2), hi);
  }
  addTo(out, 0, sumLanes(signal) + tail);
  const blockLo = hiAt + pieceBytes, params = blockLo + (pieceBytes << 1);
  for (let i = 0; i < nb; i++) {
    const b = load<i32>(blocks + (<usize>i << 2)), per = b / b0;
    const count = (n + b - 1) / b, countBytes = <usize>count << 2, blockHi = blockLo + countBytes;
    for (let t = 0; t < count; t++) {
      let lo: f32 = 0, hi: f32 = 0;
      for (let s = t * per; s < min((t + 1) * per, pieces); s++) {
        lo = Mathf.min(lo, load<f32>(loAt + (<usize>s << 2)));
        hi = Mathf.max(hi, load<f32>(hiAt + (<usize>s << 2)));
      }
      store<f32>(blockLo + (<usize>t << 2), lo);
      store<f32>(blockHi + (<usize>t << 2), hi);
    }
    for (let q = 0; q < nq; q++) {
      const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
      const free = writeBlockParams(blockLo, blockHi, params, countBytes, qmin, qmax);
      let noise: f64 = 0;
      for (let t = 0; t < count; t++) {
        const at = params + (<usize>t << 2), first = p + (<usize>(t * b) << 2), len = min(b, n - t * b);
        const scale = load<f32>(at), inv = load<f32>(at + countBytes);
        const lo = load<f32>(at + countBytes * 2), hi = load<f32>(at + countBytes * 3);
        noise += free
          ? runNoise(first, len, scale, inv, lo, hi, false)
          : runNoise(first, len, scale, inv, lo, hi, true);
      }
      addTo(out, 1 + i * nq + q, noise);
    }
  }
}

/** Several columns: the strip is n rows of cols values at p; each column has its own block scale. */
function columnStrip(
  p: usize, n: i32, cols: i32, blocks: usize, nb: i32, quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  const b0 = load<i32>(blocks);
  const pieces = (n + b0 - 1) / b0;
  const rowBytes = <usize>cols << 2;
  const vectorBytes = <usize>(cols & ~3) << 2;
  // The smallest blocks' ranges: piece s's lows at scratch + 2s·rowBytes, its highs after them.
  memory.fill(scratch, 0, (<usize>pieces * rowBytes) << 1);
  let signal = f64x2.splat(0);
  let tail: f64 = 0;
  for (let r = 0; r < n; r++) {
    const row = p + <usize>r * rowBytes;
    const loAt = scratch + <usize>(r / b0) * (rowBytes << 1), hiAt = loAt + rowBytes;
    for (let j: usize = 0; j < vectorBytes; j += 16) {
      const x = v128.load(row + j);
      v128.store(loAt + j, f32x4.pmin(v128.load(loAt + j), x));
      v128.store(hiAt + j, f32x4.pmax(v128.load(hiAt + j), x));
      signal = promoteSum(signal, f32x4.mul(x, x));
    }
    for (let j = vectorBytes; j < rowBytes; j += 4) {
      const x = load<f32>(row + j);
      store<f32>(loAt + j, Mathf.min(load<f32>(loAt + j), x));
      store<f32>(hiAt + j, Mathf.max(load<f32>(hiAt + j), x));
      tail += <f64>x * <f64>x;
    }
  }
  addTo(out, 0, sumLanes(signal) + tail);
  // A block's combined range, then its parameters per column (scale, 1/scale, bounds: rowNoise's layout).
  const loAt = scratch + (<usize>pieces * rowBytes << 1), hiAt = loAt + rowBytes, params = hiAt + rowBytes;
  for (let i = 0; i < nb; i++) {
    const b = load<i32>(blocks + (<usize>i << 2)), per = b / b0;
    for (let t = 0; t * b < n; t++) {
      const s0 = t * per, s1 = min(s0 + per, pieces);
      memory.copy(loAt, scratch + <usize>s0 * (rowBytes << 1), rowBytes << 1);
      for (let s = s0 + 1; s < s1; s++) {
        const piece = scratch + <usize>s * (rowBytes << 1);
        for (let j: usize = 0; j < vectorBytes; j += 16) {
          v128.store(loAt + j, f32x4.pmin(v128.load(loAt + j), v128.load(piece + j)));
          v128.store(hiAt + j, f32x4.pmax(v128.load(hiAt + j), v128.load(piece + rowBytes + j)));
        }
        for (let j = vectorBytes; j < rowBytes; j += 4) {
          store<f32>(loAt + j, Mathf.min(load<f32>(loAt + j), load<f32>(piece + j)));
          store<f32>(hiAt + j, Mathf.max(load<f32>(hiAt + j), load<f32>(piece + rowBytes + j)));
        }
      }
      const first = p + <usize>(t * b) * rowBytes, rowsIn = min(b, n - t * b);
      for (let q = 0; q < nq; q++) {
        const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
        const free = writeBlockParams(loAt, hiAt, params, rowBytes, qmin, qmax);
        let noise: f64 = 0;
        for (let r = 0; r < rowsIn; r++) {
          const row = first + <usize>r * rowBytes;
          noise += free ? rowNoise(row, rowBytes, params, false) : rowNoise(row, rowBytes, params, true);
        }
        addTo(out, 1 + i * nq + q, noise);
      }
    }
  }
}

/**
 * Writes out[0] = Σx² and out[1 + i·nq + q] = Σ(x − q(x))² for each of the nb block sizes and nq
 * quantizers (f64).
 */
export function blockQuantError(
  src: usize, mats: i32, rows: i32, cols: i32, blocks: usize, nb: i32,
  quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  memory.fill(out, 0, <usize>(1 + nb * nq) << 3);
  const step = stripRows(cols, load<i32>(blocks + (<usize>(nb - 1) << 2)));
  const matBytes = (<usize>rows * <usize>cols) << 2;
  for (let m = 0; m < mats; m++) {
    const mat = src + <usize>m * matBytes;
    for (let r0 = 0; r0 < rows; r0 += step) {
      const n = min(step, rows - r0);
      const p = mat + ((<usize>r0 * <usize>cols) << 2);
      if (cols == 1) runStrip(p, n, blocks, nb, quantizers, nq, scratch, out);
      else columnStrip(p, n, cols, blocks, nb, quantizers, nq, scratch, out);
    }
  }
}

/** The reference: one element at a time, block size by block size, block by block, sums in float64. */
export function blockQuantErrorScalar(
  src: usize, mats: i32, rows: i32, cols: i32, blocks: usize, nb: i32,
  quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  memory.fill(out, 0, <usize>(1 + nb * nq) << 3);
  const colBytes = <usize>cols << 2;
  for (let i = 0; i < nb; i++) {
    const block = load<i32>(blocks + (<usize>i << 2));
    for (let m = 0; m < mats; m++) {
      for (let r0 = 0; r0 < rows; r0 += block) {
        const n = min(block, rows - r0);
        for (let c = 0; c < cols; c++) {
          const first = src + ((((<usize>m * <usize>rows + <usize>r0) * <usize>cols) + <usize>c) << 2);
          let lo: f32 = 0, hi: f32 = 0, signal: f64 = 0;
          for (let r = 0; r < n; r++) {
            const x = load<f32>(first + <usize>r * colBytes);
            lo = Mathf.min(lo, x);
            hi = Mathf.max(hi, x);
            signal += <f64>x * <f64>x;
          }
          if (i == 0) addTo(out, 0, signal);
          for (let q = 0; q < nq; q++) {
            const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
            writeParams(scratch, 4, lo, hi, qmin, qmax);
            const scale = load<f32>(scratch), inv = load<f32>(scratch, 4);
            const low = load<f32>(scratch, 8), high = load<f32>(scratch, 12);
            let noise: f64 = 0;
            for (let r = 0; r < n; r++) {
              const e = scalarError(load<f32>(first + <usize>r * colBytes), scale, inv, low, high);
              noise += e * e;
            }
            addTo(out, 1 + i * nq + q, noise);
          }
        }
      }
    }
  }
}
