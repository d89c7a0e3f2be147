/**
 * ONNX TensorProto.DataType codes and the decoders that turn stored elements into numbers.
 * Decoders take little-endian bytes at any alignment: protobufjs hands out `raw_data` as a zero-copy view
 * into the file, usually not 4-byte aligned, so typed-array views over it would throw.
 */
import type { DTypeName } from './model.js';

/** Codes as in onnx.proto (1.16+); 17–23 are newer than the onnx-proto schema and arrive as plain numbers. */
const NAMES: readonly DTypeName[] = [
  'undefined',
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
];
/** Bits per element; 0 where the size is not fixed (string) or unknown. */
const BITS: readonly number[] = [0, 32, 8, 8, 16, 16, 32, 64, 0, 8, 16, 64, 32, 64, 64, 128, 16, 8, 8, 8, 8, 4, 4, 4];

export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

export function dtypeName(code: number): DTypeName {
  return NAMES[code] ?? `unknown(${code})`;
}

/** Bits per element, or undefined for string and unknown codes. */
export function dtypeBits(code: number): number | undefined {
  const bits = BITS[code];
  return bits ? bits : undefined;
}

/** Bytes that `count` elements occupy in raw_data (4-bit types pack two per byte), or undefined. */
export function byteLengthOf(code: number, count: number): number | undefined {
  const bits = dtypeBits(code);
  return bits === undefined ? undefined : Math.ceil((count * bits) / 8);
}

/**
 * Can weightlens turn this type into real numbers? Floats, integers (quantized weights; int4/uint4 for
 * blocked quantization) and bool. Not: string, complex, float8 and float4 (no decoder yet), unknown codes.
 */
export function isNumericReadable(code: number): boolean {
  return (code >= 1 && code <= 7) || (code >= 9 && code <= 13) || code === 16 || code === 21 || code === 22;
}

/** The numbers a decoder writes: float32 for weights, float64 where integers must stay exact (int32 dequant). */
export type NumberArray = Float32Array | Float64Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;
/** All 65536 float16 values, built on first use (256 KiB): one lookup per element beats bit-twiddling. */
export function float16Table(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0)
      table[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) table[h] = mant ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return (f16Table = table);
}

const bf16Scratch = new Float32Array(1);
const bf16ScratchBits = new Uint32Array(bf16Scratch.buffer);
function bfloat16ToNumber(bits: number): number {
  bf16ScratchBits[0] = (bits & 0xffff) << 16;
  return bf16Scratch[0]!;
}

/**
 * The bytes of dest[0..n) when values of type `code` can be stored into them as they are: float32 into a
 * Float32Array on a little-endian machine (a byte copy, or a read straight into it). Else undefined.
 */
export function rawTarget(code: number, dest: NumberArray, n: number): Uint8Array | undefined {
  return code === DT.FLOAT && dest instanceof Float32Array && LITTLE_ENDIAN
    ? new Uint8Array(dest.buffer, dest.byteOffset, n * 4)
    : undefined;
}

/**
 * Decodes `n` elements of type `code` from little-endian bytes (any alignment) into dest[0..n).
 * The caller has checked isNumericReadable(code) and that src holds byteLengthOf(code, n) bytes.
 */
export function decodeRaw(code: number, src: Uint8Array, dest: NumberArray, n: number): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (code) {
    case DT.FLOAT: {
      // A byte copy into the destination's own memory where it can: alignment-safe and as fast as memcpy.
      const target = rawTarget(code, dest, n);
      if (target) target.set(src.subarray(0, n * 4));
      else for (let i = 0; i < n; i++) dest[i] = view.getFloat32(i * 4, true);
      return;
    }
    case DT.FLOAT16: {
      const table = float16Table();
      for (let i = 0, j = 0; i < n; i++, j += 2) dest[i] = table[src[j]! | (src[j + 1]! << 8)]!;
      return;
    }
    case DT.BFLOAT16:
      if (dest instanceof Float32Array) {
        // bfloat16 is the top half of a float32: shift the bits into place through an integer view.
        const bits = new Uint32Array(dest.buffer, dest.byteOffset, n);
        for (let i = 0, j = 0; i < n; i++, j += 2) bits[i] = (src[j]! << 16) | (src[j + 1]! << 24);
      } else {
        for (let i = 0, j = 0; i < n; i++, j += 2) dest[i] = bfloat16ToNumber(src[j]! | (src[j + 1]! << 8));
      }
      return;
    case DT.DOUBLE: // a Float32Array store rounds to nearest-even, as a C cast does
      for (let i = 0; i < n; i++) dest[i] = view.getFloat64(i * 8, true);
      return;
    case DT.INT8:
      for (let i = 0; i < n; i++) dest[i] = (src[i]! << 24) >> 24;
      return;
    case DT.UINT8:
    case DT.BOOL:
      for (let i = 0; i < n; i++) dest[i] = src[i]!;
      return;
    case DT.INT16:
      for (let i = 0; i < n; i++) dest[i] = view.getInt16(i * 2, true);
      return;
    case DT.UINT16:
      for (let i = 0; i < n; i++) dest[i] = view.getUint16(i * 2, true);
      return;
    case DT.INT32:
      for (let i = 0; i < n; i++) dest[i] = view.getInt32(i * 4, true);
      return;
    case DT.UINT32:
      for (let i = 0; i < n; i++) dest[i] = view.getUint32(i * 4, true);
      return;
    case DT.INT64:
      for (let i = 0; i < n; i++) dest[i] = view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      return;
    case DT.UINT64:
      for (let i = 0; i < n; i++) dest[i] = view.getUint32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      return;
    case DT.INT4:
    case DT.UINT4:
      decodePacked4(code === DT.INT4, (k) => src[k]!, dest, n);
      return;
    default:
      throw new Error(`decodeRaw: data type ${code} is not numeric-readable`); // guarded by callers
  }
}

/** int4/uint4: two per byte, low nibble first; int4 sign-extends. */
function decodePacked4(signed: boolean, byteAt: (k: number) => number, dest: NumberArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const nibble = (byteAt(i >> 1) >> ((i & 1) * 4)) & 0xf;
    dest[i] = signed ? (nibble << 28) >> 28 : nibble;
  }
}

/**
 * Decodes `int32_data`: onnx.proto stores int8/uint8/int16/uint16/int32/bool as values, float16 and
 * bfloat16 as their 16 bits, and int4/uint4 as packed bytes (ceil(n/2) entries).
 */
export function decodeInt32Field(code: number, values: ArrayLike<number>, dest: NumberArray, n: number): void {
  switch (code) {
    case DT.FLOAT16: {
      const table = float16Table();
      for (let i = 0; i < n; i++) dest[i] = table[values[i]! & 0xffff]!;
      return;
    }
    case DT.BFLOAT16:
      for (let i = 0; i < n; i++) dest[i] = bfloat16ToNumber(values[i]!);
      return;
    case DT.INT4:
    case DT.UINT4:
      decodePacked4(code === DT.INT4, (k) => values[k]! & 0xff, dest, n);
      return;
    default:
      for (let i = 0; i < n; i++) dest[i] = values[i]!;
  }
}

/** How many entries a typed field holds for `count` elements (4-bit types pack, complex types pair). */
export function typedFieldCount(code: number, count: number): number {
  if (code === DT.INT4 || code === DT.UINT4) return Math.ceil(count / 2);
  if (code === DT.COMPLEX64 || code === DT.COMPLEX128) return count * 2;
  return count;
}

/** Which typed TensorProto field onnx.proto uses for a data type when raw_data is absent. */
export type TypedField = 'float_data' | 'int32_data' | 'string_data' | 'int64_data' | 'double_data' | 'uint64_data';
export function typedFieldOf(code: number): TypedField | undefined {
  switch (code) {
    case DT.FLOAT:
    case DT.COMPLEX64:
      return 'float_data';
    case DT.DOUBLE:
    case DT.COMPLEX128:
      return 'double_data';
    case DT.INT64:
      return 'int64_data';
    case DT.UINT32:
    case DT.UINT64:
      return 'uint64_data';
    case DT.STRING:
      return 'string_data';
    default:
      return code >= 1 && code <= 23 ? 'int32_data' : undefined;
  }
}

const FLOATING_POINT = new Set<DTypeName>([
  'float32',
  'float16',
  'bfloat16',
  'float64',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'float4e2m1',
]);

/** Real floating-point element types (not complex): what a float weight, bias or scale is stored in. */
export const isFloatingPoint = (dtype: DTypeName) => FLOATING_POINT.has(dtype);
