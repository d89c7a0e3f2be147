// Per-group (blocked) fake-quantization error (docs/definitions.md): the weight viewed as [mats, rows, cols]
// row-major, rows being the input (reduction) axis; a block is `block` consecutive rows of one column of one
// mat (the last block of a column may be shorter), with its own scale and zero point from the block's
// lo = min(min, 0) and hi = max(max, 0). For each quantizer q (an integer range [qmin, qmax]; symmetric
// when qmin < 0): out[0] = Σx², out[1 + q] = Σ(x − q(x))², float64, with q(x) as in quant-error.ts.
//
// Blocks are walked one strip (block rows × all columns of a mat) at a time: one pass for the ranges and
// Σx², then one pass per quantizer while the strip is in cache. The sums are added into `out` strip by
// strip, so a tensor cut into chunks of whole strips gives sums that simply add up (streaming). Values are
// multiplied by each block's reciprocal scale, as in quant-error.ts (why: there).
// scratch: f32[cols] ×5 (lo, hi, scale, 1/scale, zero point per column). quantizers: f32[nq] pairs (qmin, qmax).
import { addTo, promoteSum, reciprocal, sumLanes } from './quant-error';

/** The block's scale in float32, as src/pipeline/quant-error.ts computes it; 1 where the block is all zeros. */
@inline function blockScale(lo: f32, hi: f32, qmin: f32, qmax: f32): f32 {
  const s: f32 = qmin < 0 ? Mathf.max(-lo, hi) / qmax : <f32>((<f64>hi - <f64>lo) / <f64>qmax);
  return s > 0 && s - s == 0 ? s : 1;
}

@inline function blockZeroPoint(lo: f32, scale: f32, qmin: f32): f32 {
  return qmin < 0 ? 0 : nearest<f32>(<f32>(-<f64>lo / <f64>scale));
}

@inline function fakeQuant(x: f32, scale: f32, inv: f32, zp: f32, qmin: f32, qmax: f32): f32 {
  return (Mathf.min(Mathf.max(nearest<f32>(x * inv) + zp, qmin), qmax) - zp) * scale;
}

@inline function fakeQuantV(x: v128, vs: v128, vinv: v128, vz: v128, vmin: v128, vmax: v128): v128 {
  return f32x4.mul(f32x4.sub(f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.mul(x, vinv)), vz), vmin), vmax), vz), vs);
}

/** One column (cols = 1): the strip is n contiguous values at p. */
function runStrip(p: usize, n: i32, quantizers: usize, nq: i32, out: usize): void {
  const end = p + (<usize>n << 2);
  let vlo = f32x4.splat(0), vhi = vlo;
  let signal = f64x2.splat(0);
  let tail: f64 = 0;
  let lo: f32 = 0, hi: f32 = 0;
  let a = p;
  for (; a + 64 <= end; a += 64) {
    let s = f32x4.splat(0);
    for (let k = 0; k < 4; k++) {
      const x = v128.load(a + (<usize>k << 4));
      vlo = f32x4.pmin(vlo, x);
      vhi = f32x4.pmax(vhi, x);
      s = f32x4.add(s, f32x4.mul(x, x));
    }
    signal = promoteSum(signal, s);
  }
  const vectorEnd = a;
  for (; a < end; a += 4) {
    const x = load<f32>(a);
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
  addTo(out, 0, sumLanes(signal) + tail);
  for (let q = 0; q < nq; q++) {
    const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
    const scale = blockScale(lo, hi, qmin, qmax), zp = blockZeroPoint(lo, scale, qmin), inv = reciprocal(scale);
    const vs = f32x4.splat(scale), vinv = f32x4.splat(inv), vz = f32x4.splat(zp);
    const vmin = f32x4.splat(qmin), vmax = f32x4.splat(qmax);
    let noise = f64x2.splat(0);
    let noiseTail: f64 = 0;
    let b = p;
    for (; b < vectorEnd; b += 64) {
      let e2 = f32x4.splat(0);
      for (let k = 0; k < 4; k++) {
        const x = v128.load(b + (<usize>k << 4));
        const e = f32x4.sub(x, fakeQuantV(x, vs, vinv, vz, vmin, vmax));
        e2 = f32x4.add(e2, f32x4.mul(e, e));
      }
      noise = promoteSum(noise, e2);
    }
    for (; b < end; b += 4) {
      const x = load<f32>(b);
      const e = <f64>(x - fakeQuant(x, scale, inv, zp, qmin, qmax));
      noiseTail += e * e;
    }
    addTo(out, 1 + q, sumLanes(noise) + noiseTail);
  }
}

/** Several columns: the strip is n rows of cols values at p; each column has its own block scale. */
function columnStrip(p: usize, n: i32, cols: i32, quantizers: usize, nq: i32, scratch: usize, out: usize): void {
  const rowBytes = <usize>cols << 2;
  const vectorBytes = <usize>(cols & ~3) << 2;
  const loAt = scratch, hiAt = loAt + rowBytes, scaleAt = hiAt + rowBytes, invAt = scaleAt + rowBytes;
  const zpAt = invAt + rowBytes;
  memory.fill(loAt, 0, rowBytes << 1);
  let signal = f64x2.splat(0);
  let tail: f64 = 0;
  for (let r = 0; r < n; r++) {
    const row = p + <usize>r * rowBytes;
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
  for (let q = 0; q < nq; q++) {
    const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
    for (let j: usize = 0; j < rowBytes; j += 4) {
      const lo = load<f32>(loAt + j);
      const scale = blockScale(lo, load<f32>(hiAt + j), qmin, qmax);
      store<f32>(scaleAt + j, scale);
      store<f32>(invAt + j, reciprocal(scale));
      store<f32>(zpAt + j, blockZeroPoint(lo, scale, qmin));
    }
    const vmin = f32x4.splat(qmin), vmax = f32x4.splat(qmax);
    let noise = f64x2.splat(0);
    let noiseTail: f64 = 0;
    for (let r = 0; r < n; r++) {
      const row = p + <usize>r * rowBytes;
      for (let j: usize = 0; j < vectorBytes; j += 16) {
        const x = v128.load(row + j);
        const e = f32x4.sub(x, fakeQuantV(x, v128.load(scaleAt + j), v128.load(invAt + j), v128.load(zpAt + j), vmin, vmax));
        noise = promoteSum(noise, f32x4.mul(e, e));
      }
      for (let j = vectorBytes; j < rowBytes; j += 4) {
        const x = load<f32>(row + j);
        const e = <f64>(x - fakeQuant(x, load<f32>(scaleAt + j), load<f32>(invAt + j), load<f32>(zpAt + j), qmin, qmax));
        noiseTail += e * e;
      }
    }
    addTo(out, 1 + q, sumLanes(noise) + noiseTail);
  }
}

/** Writes out[0] = Σx² and out[1 + q] = Σ(x − q(x))² for each of the nq quantizers (f64). */
export function blockQuantError(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32,
  quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  memory.fill(out, 0, <usize>(nq + 1) << 3);
  const matBytes = (<usize>rows * <usize>cols) << 2;
  for (let m = 0; m < mats; m++) {
    const mat = src + <usize>m * matBytes;
    for (let r0 = 0; r0 < rows; r0 += block) {
      const n = min(block, rows - r0);
      const p = mat + ((<usize>r0 * <usize>cols) << 2);
      if (cols == 1) runStrip(p, n, quantizers, nq, out);
      else columnStrip(p, n, cols, quantizers, nq, scratch, out);
    }
  }
}

/** The reference: one element at a time, block by block, sums in float64. Same layout and results. */
export function blockQuantErrorScalar(
  src: usize, mats: i32, rows: i32, cols: i32, block: i32,
  quantizers: usize, nq: i32, scratch: usize, out: usize,
): void {
  memory.fill(out, 0, <usize>(nq + 1) << 3);
  const colBytes = <usize>cols << 2;
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
        addTo(out, 0, signal);
        for (let q = 0; q < nq; q++) {
          const qmin = load<f32>(quantizers + (<usize>q << 3)), qmax = load<f32>(quantizers + (<usize>q << 3), 4);
          const scale = blockScale(lo, hi, qmin, qmax), zp = blockZeroPoint(lo, scale, qmin), inv = reciprocal(scale);
          let noise: f64 = 0;
          for (let r = 0; r < n; r++) {
            const x = load<f32>(first + <usize>r * colBytes);
            const e = <f64>(x - fakeQuant(x, scale, inv, zp, qmin, qmax));
            noise += e * e;
          }
          addTo(out, 1 + q, noise);
        }
      }
    }
  }
}
