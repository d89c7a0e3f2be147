/**
 * float32 values -> the bytes of a tensor's own data type: raw_data (little-endian), or the typed
 * TensorProto field onnx.proto uses for it (float_data, int32_data holding float16/bfloat16 bits,
 * double_data). Narrowing rounds to nearest, ties to even, as a C cast and numpy do.
 */
import { DT, float16Table } from '../dtypes.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 -> float16 bits, round to nearest even; overflow -> ±Inf, NaN stays NaN (quiet), sign kept. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 127 + 15; // float16 biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: keep 10 of the 23 mantissa bits; a carry out of the mantissa moves into the exponent,
    // which is exactly right (up to 0x7c00 = Inf when 65504 rounds up).
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
    return sign | h;
  }
  // Subnormal (or zero): the value in units of 2^-24 is m / 2^shift.
  const shift = 14 - e;
  if (shift > 24) return sign; // below half the smallest subnormal (float32 subnormals included)
  const m = mant | 0x800000;
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && h & 1)) h++; // may become 0x400, the smallest normal: correct
  return sign | h;
}

/** float32 -> bfloat16 bits (the top half, rounded to nearest even); NaN stays a quiet NaN. */
export function float32ToBfloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  // Unsigned arithmetic in doubles: bits + bias stays below 2^32 for every non-NaN input.
  return Math.floor((bits + 0x7fff + ((bits >>> 16) & 1)) / 65536) & 0xffff;
}

/**
 * What writing `values` as `dataType` does to them: ‖stored − values‖ / ‖values‖ over the finite values
 * (sums in float64), with `stored` the float16/bfloat16 they round to. 0 for float32 and float64, which
 * hold every float32 exactly, and for a tensor of zeros; Infinity when a value overflows to ±Inf.
 */
export function roundingChange(dataType: number, values: Float32Array): number {
  const sums = { change: 0, norm: 0 };
  addRoundingSums(dataType, values, sums);
  return roundingChangeOf(sums);
}

/** ‖stored − values‖² and ‖values‖² of roundingChange, added up over the pieces of a tensor written in pieces. */
export interface RoundingSums {
  change: number;
  norm: number;
}

export const roundingChangeOf = ({ change, norm }: RoundingSums) => (norm > 0 ? Math.sqrt(change / norm) : 0);

/** `value` as a float16 or bfloat16 tensor stores it (round to nearest even), as a number. */
export function storedFloat(dataType: number, value: number): number {
  if (dataType === DT.FLOAT16) return float16Table()[float32ToFloat16Bits(value)]!;
  u32[0] = float32ToBfloat16Bits(value) << 16;
  return f32[0]!;
}

/** The smallest positive value of float16 (2^-24) or bfloat16 (2^-133). */
export const smallestPositive = (dataType: number) => (dataType === DT.FLOAT16 ? 2 ** -24 : 2 ** -133);

export function addRoundingSums(dataType: number, values: Float32Array, sums: RoundingSums): void {
  if (dataType !== DT.FLOAT16 && dataType !== DT.BFLOAT16) return;
  const stored = (v: number) => storedFloat(dataType, v);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    sums.change += (stored(v) - v) ** 2;
    sums.norm += v * v;
  }
}

/** Data types whose values an export can write (float weights). */
export function isWritableFloat(dataType: number): boolean {
  return dataType === DT.FLOAT || dataType === DT.FLOAT16 || dataType === DT.BFLOAT16 || dataType === DT.DOUBLE;
}

/**
 * raw_data bytes for `values` in `dataType` (one of isWritableFloat). float32 on a little-endian machine
 * is a view of the values themselves (no copy): the caller must not change them before the export ends.
 */
export function encodeRaw(dataType: number, values: Float32Array): Uint8Array {
  const n = values.length;
  switch (dataType) {
    case DT.FLOAT: {
      if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, n * 4);
      const out = new Uint8Array(n * 4);
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i]!, true);
      return out;
    }
    case DT.DOUBLE: {
      const out = new Uint8Array(n * 8);
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) view.setFloat64(i * 8, values[i]!, true);
      return out;
    }
    case DT.FLOAT16:
    case DT.BFLOAT16: {
      const convert = dataType === DT.FLOAT16 ? float32ToFloat16Bits : float32ToBfloat16Bits;
      const out = new Uint8Array(n * 2);
      for (let i = 0, j = 0; i < n; i++, j += 2) {
        const h = convert(values[i]!);
        out[j] = h & 0xff;
        out[j + 1] = h >>> 8;
      }
      return out;
    }
    default:
      throw new Error(`encodeRaw: data type ${dataType} is not a writable float type`);
  }
}

/** Packed float_data (fixed32) payload. */
export function packedFloat32(values: Float32Array): Uint8Array {
  return encodeRaw(DT.FLOAT, values);
}

/** Packed double_data (fixed64) payload. */
export function packedFloat64(values: Float32Array): Uint8Array {
  return encodeRaw(DT.DOUBLE, values);
}

/** Packed int32_data payload holding float16 or bfloat16 bits (one varint of up to 3 bytes each). */
export function packedHalfBits(dataType: number, values: Float32Array): Uint8Array {
  const convert = dataType === DT.FLOAT16 ? float32ToFloat16Bits : float32ToBfloat16Bits;
  const out = new Uint8Array(values.length * 3);
  let pos = 0;
  for (let i = 0; i < values.length; i++) {
    let h = convert(values[i]!);
    while (h >= 0x80) {
      out[pos++] = (h & 0x7f) | 0x80;
      h >>>= 7;
    }
    out[pos++] = h;
  }
  return out.subarray(0, pos);
}
