// Fused fake-quantization error (docs/definitions.md, ONNX Runtime's SQNR): for every element, with its output
// channel's scale and zero point, q(x) = scale·(clamp(rne(x·(1/scale)) + zp, qmin, qmax) − zp) in float32, and
// Σx², Σ(x − q(x))² accumulated in float64 (float32 partial sums over 16 elements). Per-tensor
// quantization is the same call with every channel given the tensor's scale. No tensor is written.
//
// x·(1/scale), the reciprocal taken once per channel, instead of x/scale: a division per element bounded
// these kernels. It rounds a value differently only within an ulp of a half-step, where the two
// neighbours are equally far to within that ulp, so the SQNR estimate moves by float rounding alone. A quantized export must divide
// exactly, as onnxruntime does, to match it bit for bit.
import { runStart } from './layout';

@inline export function promoteSum(acc: v128, v: v128): v128 {
  const hi = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(hi));
}

/** x − q(x) in four lanes, each with its lane's scale, reciprocal scale and zero point. */
@inline function laneErrors(x: v128, vs: v128, vinv: v128, vz: v128, vmin: v128, vmax: v128): v128 {
  const q = f32x4.mul(f32x4.sub(f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.mul(x, vinv)), vz), vmin), vmax), vz), vs);
  return f32x4.sub(x, q);
}

/** x − q(x) for one value, as laneErrors computes it per lane (float32 steps). */
@inline function scalarError(x: f32, scale: f32, inv: f32, zp: f32, qmin: f32, qmax: f32): f64 {
  const q: f32 = (Mathf.min(Mathf.max(nearest<f32>(x * inv) + zp, qmin), qmax) - zp) * scale;
  return <f64>(x - q);
}

/** Writes out[0] = Σx², out[1] = Σ(x − q(x))² (f64). scales/zeroPoints: f32[groups·cg]. */
export function quantError(
  src: usize, groups: i32, outer: i32, cg: i32, inner: i32,
  scales: usize, zeroPoints: usize, qmin: f32, qmax: f32, out: usize,
): void {
  const vmin = f32x4.splat(qmin), vmax = f32x4.splat(qmax);
  let signal = f64x2.splat(0), noise = f64x2.splat(0);
  let signalTail: f64 = 0, noiseTail: f64 = 0;
  const C = groups * cg;
  for (let ch = 0; ch < C; ch++) {
    const g = ch / cg, c = ch % cg;
    const scale = load<f32>(scales + (<usize>ch << 2));
    const zp = load<f32>(zeroPoints + (<usize>ch << 2));
    const inv: f32 = 1 / scale;
    const vs = f32x4.splat(scale), vinv = f32x4.splat(inv), vz = f32x4.splat(zp);
    for (let o = 0; o < outer; o++) {
      let p = runStart(src, g, o, c, outer, cg, inner);
      const end = p + (<usize>inner << 2);
      while (p + 64 <= end) {
        let s = f32x4.splat(0), n = s;
        for (let k = 0; k < 4; k++) {
          const x = v128.load(p);
          const e = laneErrors(x, vs, vinv, vz, vmin, vmax);
          s = f32x4.add(s, f32x4.mul(x, x));
          n = f32x4.add(n, f32x4.mul(e, e));
          p += 16;
        }
        signal = promoteSum(signal, s);
        noise = promoteSum(noise, n);
      }
      for (; p < end; p += 4) {
        const x = load<f32>(p);
        const e = scalarError(x, scale, inv, zp, qmin, qmax);
        signalTail += <f64>x * <f64>x;
        noiseTail += e * e;
      }
    }
  }
  store<f64>(out, f64x2.extract_lane(signal, 0) + f64x2.extract_lane(signal, 1) + signalTail);
  store<f64>(out, f64x2.extract_lane(noise, 0) + f64x2.extract_lane(noise, 1) + noiseTail, 8);
}

/**
 * quantError for layouts whose runs are single elements (groups 1, inner 1: MatMul [K, N], Gemm transB=0):
 * row by row, four channels per vector with their own scales and zero points, so memory is read in order
 * instead of one column at a time. Same per-element arithmetic and float32 partial sums (16 elements) as
 * quantError. inverses: f32[cg] scratch, filled here with each channel's 1/scale.
 */
export function quantErrorColumns(
  src: usize, outer: i32, cg: i32,
  scales: usize, zeroPoints: usize, qmin: f32, qmax: f32, inverses: usize, out: usize,
): void {
  for (let c = 0; c < cg; c++) store<f32>(inverses + (<usize>c << 2), <f32>1 / load<f32>(scales + (<usize>c << 2)));
  const vmin = f32x4.splat(qmin), vmax = f32x4.splat(qmax);
  let signal = f64x2.splat(0), noise = f64x2.splat(0);
  let signalTail: f64 = 0, noiseTail: f64 = 0;
  const wide = cg & ~3; // channels handled four at a time
  for (let o = 0; o < outer; o++) {
    const row = src + ((<usize>o * <usize>cg) << 2);
    let s = f32x4.splat(0), n = s;
    let pending = 0;
    for (let c = 0; c < wide; c += 4) {
      const at = <usize>c << 2;
      const x = v128.load(row + at);
      const vs = v128.load(scales + at), vinv = v128.load(inverses + at), vz = v128.load(zeroPoints + at);
      const e = laneErrors(x, vs, vinv, vz, vmin, vmax);
      s = f32x4.add(s, f32x4.mul(x, x));
      n = f32x4.add(n, f32x4.mul(e, e));
      if (++pending == 4) {
        signal = promoteSum(signal, s);
        noise = promoteSum(noise, n);
        s = f32x4.splat(0);
        n = s;
        pending = 0;
      }
    }
    signal = promoteSum(signal, s);
    noise = promoteSum(noise, n);
    for (let c = wide; c < cg; c++) {
      const x = load<f32>(row + (<usize>c << 2));
      const scale = load<f32>(scales + (<usize>c << 2)), zp = load<f32>(zeroPoints + (<usize>c << 2));
      const e = scalarError(x, scale, load<f32>(inverses + (<usize>c << 2)), zp, qmin, qmax);
      signalTail += <f64>x * <f64>x;
      noiseTail += e * e;
    }
  }
  store<f64>(out, f64x2.extract_lane(signal, 0) + f64x2.extract_lane(signal, 1) + signalTail);
  store<f64>(out, f64x2.extract_lane(noise, 0) + f64x2.extract_lane(noise, 1) + noiseTail, 8);
}
