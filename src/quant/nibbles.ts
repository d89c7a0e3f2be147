// 4-bit codes as ONNX stores them (int4/uint4 raw_data): two per byte, the first in the low nibble.

/** 4-bit codes (one per byte, low nibble meaningful) packed two per byte, element 2k in the low nibble. */
export function packNibbles(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i += 2) out[i >> 1] = (codes[i]! & 15) | (((codes[i + 1] ?? 0) & 15) << 4);
  return out;
}
