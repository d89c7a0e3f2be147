// Protobuf wire format by hand, for files no encoder would write: wrong wire types, lengths past the end,
// overlong varints, messages nested deeper than a recursive encoder could go.

/** A varint; negative numbers as int64 two's complement (ten bytes), as protobuf writes them. */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return joinBytes(parts);
}

/** concat for more parts than a call can take as arguments. */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export const tag = (field: number, wire: number) => varint(field * 8 + wire);
export const varintField = (field: number, value: number | bigint) => concat(tag(field, 0), varint(value));
export const bytesField = (field: number, bytes: Uint8Array) => concat(tag(field, 2), varint(bytes.byteLength), bytes);
export const stringField = (field: number, text: string) => bytesField(field, new TextEncoder().encode(text));

/**
 * A length-delimited field whose length says `claimed` bytes while `bytes` follow: a length past the end of
 * its parent (or of the file) when claimed > bytes.length.
 */
export const lyingField = (field: number, claimed: number | bigint, bytes: Uint8Array) =>
  concat(tag(field, 2), varint(claimed), bytes);
