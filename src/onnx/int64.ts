/**
 * protobufjs returns int64 fields as a `Long` when the `long` package is loaded and as a number otherwise,
 * depending on how it was bundled. Everything weightlens reads from them (dims, ints, offsets) must be a
 * safe JS integer, so convert once here and let the caller say what to throw otherwise.
 */
export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

export type Int64 = number | LongLike;

/** The exact value, or undefined if it is not a safe integer (|v| > 2^53 - 1). */
export function int64ToNumber(v: Int64 | null | undefined): number | undefined {
  const value = int64ToNearest(v);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The nearest double: exact up to 2^53, rounded beyond (Slice's INT64_MAX "to the end" stays huge). */
export function int64ToNearest(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const low = v.low >>> 0;
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  return high * 4294967296 + low;
}
