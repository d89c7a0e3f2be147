/**
 * A protobuf editor at the wire level. A message is read as a list of field records (number, wire type,
 * where its bytes are), and only on demand: the exporter opens the messages on the path to an edit and
 * nothing else. On output, every record that was not edited is copied byte for byte (unknown fields and
 * fields newer than our schema included); an edited message is rebuilt from its records and its length
 * prefix recomputed, and so is every message that contains it, up to the file.
 *
 * Output is measured first, then written into one array, so an export costs one copy of the model plus the
 * edited payloads.
 */
import { WeightlensError } from '../../errors.js';

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** One field record of a message. Offsets are absolute positions in the editor's byte array. */
export interface FieldRecord {
  readonly field: number;
  readonly wire: number;
  /** First byte of the tag. */
  readonly start: number;
  /** First byte after the tag (where a LEN record's length prefix starts). */
  readonly tagEnd: number;
  /** First byte of the value (after the length prefix for LEN records). */
  readonly dataStart: number;
  /** First byte after the record. */
  readonly end: number;
}

/** A read position that readVarint moves forward (one object per message walked, not a tuple per varint). */
export interface Cursor {
  pos: number;
}

/** Reads the varint at `at.pos` (up to 2^53) and moves past it; -1 when it is cut off before `end`. */
export function readVarint(bytes: Uint8Array, at: Cursor, end = bytes.length): number {
  let value = 0;
  for (let shift = 0; shift < 70 && at.pos < end; shift += 7) {
    const b = bytes[at.pos++]!;
    // Shifts while they fit 31 bits: results stay small integers, which V8 stores unboxed in the records.
    value += shift < 28 ? (b & 0x7f) << shift : (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return value;
  }
  return -1;
}

/** Bytes a varint of `n` (a non-negative safe integer) takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes the varint of `n` (a non-negative safe integer) at `pos`; returns the next position. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

export function encodeVarint(n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}

export function encodeTag(field: number, wire: number): Uint8Array {
  return encodeVarint(field * 8 + wire);
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Bytes that can be written: one array or a list of pieces (concatenated in order). */
export type Chunk = Uint8Array | readonly Uint8Array[];

function chunkLength(c: Chunk): number {
  if (c instanceof Uint8Array) return c.byteLength;
  let n = 0;
  for (const p of c) n += p.byteLength;
  return n;
}

function pushChunk(out: Uint8Array[], c: Chunk): void {
  if (c instanceof Uint8Array) out.push(c);
  else for (const p of c) out.push(p);
}

/**
 * Payloads up to this size are copied into their record's array: one array per small record (a new bias, a
 * node input) instead of a tag, a length and a payload array. Small typed arrays cost ~100 bytes each.
 */
const INLINE_PAYLOAD = 4096;

/** A complete LEN record: tag, length, payload (one array when the payload is small). */
export function lenRecord(field: number, payload: Chunk): Chunk {
  const length = chunkLength(payload);
  const tag = field * 8 + WIRE.LEN;
  const headerSize = varintSize(tag) + varintSize(length);
  const inline = length <= INLINE_PAYLOAD;
  const out = new Uint8Array(headerSize + (inline ? length : 0));
  writeVarint(out, writeVarint(out, 0, tag), length);
  if (!inline) return [out, ...(payload instanceof Uint8Array ? [payload] : payload)];
  let pos = headerSize;
  for (const p of payload instanceof Uint8Array ? [payload] : payload) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

export function stringRecord(field: number, text: string): Chunk {
  return lenRecord(field, utf8.encode(text));
}

export function varintRecord(field: number, value: number): Uint8Array {
  const out = new Uint8Array(varintSize(field * 8) + varintSize(value));
  writeVarint(out, writeVarint(out, 0, field * 8 + WIRE.VARINT), value);
  return out;
}

/** A varint record of a signed int64 field: a negative value takes ten bytes (its two's complement), as protobuf writes it. */
export function int64Record(field: number, value: number): Uint8Array {
  if (value >= 0) return varintRecord(field, value);
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return concat([encodeTag(field, WIRE.VARINT), Uint8Array.from(bytes)]);
}

/** Records in order, as one chunk. */
export function records(...parts: Chunk[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) pushChunk(out, p);
  return out;
}

/** Joins pieces into one new array. */
export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of pieces) n += p.byteLength;
  const out = new Uint8Array(n);
  let pos = 0;
  for (const p of pieces) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

type Edit =
  | { kind: 'remove' }
  | { kind: 'payload'; payload: Chunk } // same tag, new LEN payload
  | { kind: 'record'; record: Chunk } // the whole record replaced (any records, or none)
  | { kind: 'child'; editor: MessageEditor };

/**
 * One message inside `bytes` (start..end). Records are parsed on first use; edits are recorded against
 * record indices of the original, so indices stay valid however many records are removed.
 */
export class MessageEditor {
  private parsed?: FieldRecord[];
  private measured?: number;
  private readonly edits = new Map<number, Edit>();
  private readonly appended: Uint8Array[] = [];
  private readonly prepended: Uint8Array[] = [];

  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    /** What this message is, for error messages: e.g. `model.onnx: graph main, node 3`. */
    readonly what: string,
  ) {}

  get records(): readonly FieldRecord[] {
    return (this.parsed ??= this.parse());
  }

  /** Indices of the records with this field number, in file order. */
  indicesOf(field: number): number[] {
    const out: number[] = [];
    this.records.forEach((r, i) => {
      if (r.field === field) out.push(i);
    });
    return out;
  }

  /** The value bytes of record i (a LEN payload, or the raw varint/fixed bytes). */
  data(i: number): Uint8Array {
    const r = this.record(i);
    return this.bytes.subarray(r.dataStart, r.end);
  }

  string(i: number): string {
    return utf8Decoder.decode(this.data(i));
  }

  /**
   * The last `field` string inside the message in LEN record i ('' when it has none): a tensor's or an
   * attribute's name, read without keeping the inner message's records.
   */
  innerString(i: number, field: number): string {
    const r = this.record(i);
    let from = -1,
      to = -1;
    walkRecords(
      this.bytes,
      r.dataStart,
      r.end,
      (why) => this.corrupt(why),
      (innerField, wire, _start, _tagEnd, dataStart, end) => {
        if (innerField !== field || wire !== WIRE.LEN) return;
        from = dataStart;
        to = end;
      },
    );
    return from < 0 ? '' : utf8Decoder.decode(this.bytes.subarray(from, to));
  }

  /** The value of a VARINT record (up to 2^53). */
  varint(i: number): number {
    const r = this.record(i);
    if (r.wire !== WIRE.VARINT) throw this.corrupt(`field ${r.field} is not a varint`);
    return readVarint(this.bytes, { pos: r.dataStart }, r.end);
  }

  /** Editor of the message in LEN record i (cached: every edit below it goes into the same editor). */
  child(i: number, what: string): MessageEditor {
    const existing = this.edits.get(i);
    if (existing?.kind === 'child') return existing.editor;
    if (existing) throw new Error(`record ${i} of ${this.what} was already edited`);
    const r = this.record(i);
    if (r.wire !== WIRE.LEN) throw this.corrupt(`field ${r.field} is not a message`);
    const editor = new MessageEditor(this.bytes, r.dataStart, r.end, what);
    this.edits.set(i, { kind: 'child', editor });
    return editor;
  }

  isRemoved(i: number): boolean {
    return this.edits.get(i)?.kind === 'remove';
  }

  remove(i: number): void {
    this.record(i);
    this.edits.set(i, { kind: 'remove' });
  }

  /** Keeps the tag of LEN record i, writes a new payload (the length prefix is recomputed). */
  replacePayload(i: number, payload: Chunk): void {
    const r = this.record(i);
    if (r.wire !== WIRE.LEN) throw this.corrupt(`field ${r.field} is not length-delimited`);
    this.edits.set(i, { kind: 'payload', payload });
  }

  /** Replaces record i by `record` (complete encoded records: tag and value; may be several or none). */
  replaceRecord(i: number, record: Chunk): void {
    this.record(i);
    this.edits.set(i, { kind: 'record', record });
  }

  /** Adds complete encoded records after the last one (repeated fields: they come after the existing ones). */
  append(record: Chunk): void {
    pushChunk(this.appended, record);
  }

  /**
   * Adds complete encoded records before the first one (a graph's new nodes that must come before every
   * node reading them: ONNX lists nodes in topological order).
   */
  prepend(record: Chunk): void {
    pushChunk(this.prepended, record);
  }

  get changed(): boolean {
    if (this.appended.length > 0 || this.prepended.length > 0) return true;
    for (const e of this.edits.values()) if (e.kind !== 'child' || e.editor.changed) return true;
    return false;
  }

  /**
   * This message's length once written (without its own tag and length). Measured once, when output starts:
   * the edits are final by then. Writing measures first so the output is one array filled in place, with no
   * list of pieces (a million small views for a big graph).
   */
  get writtenLength(): number {
    return (this.measured ??= this.measure());
  }

  /** Writes this message's bytes (without its own tag and length) at `pos` of `out`; returns the next position. */
  writeTo(out: Uint8Array, pos: number): number {
    const copy = (from: number, to: number) => {
      out.set(this.bytes.subarray(from, to), pos);
      pos += to - from;
    };
    const putOne = (p: Uint8Array) => {
      out.set(p, pos);
      pos += p.byteLength;
    };
    const put = (c: Chunk) => (c instanceof Uint8Array ? putOne(c) : c.forEach(putOne));
    if (!this.changed) {
      copy(this.start, this.end);
      return pos;
    }
    put(this.prepended);
    let run = this.start; // start of the current run of untouched records
    this.forEachEdit((r, edit) => {
      copy(run, r.start);
      run = r.end;
      switch (edit.kind) {
        case 'remove':
          break;
        case 'record':
          put(edit.record);
          break;
        case 'payload':
          copy(r.start, r.tagEnd);
          pos = writeVarint(out, pos, chunkLength(edit.payload));
          put(edit.payload);
          break;
        case 'child':
          copy(r.start, r.tagEnd);
          pos = writeVarint(out, pos, edit.editor.writtenLength);
          pos = edit.editor.writeTo(out, pos);
          break;
      }
    });
    copy(run, this.end);
    put(this.appended);
    return pos;
  }

  private measure(): number {
    if (!this.changed) return this.end - this.start;
    let total = this.end - this.start + chunkLength(this.appended) + chunkLength(this.prepended);
    this.forEachEdit((r, edit) => {
      total -= r.end - r.start;
      const payload = (length: number) => r.tagEnd - r.start + varintSize(length) + length;
      if (edit.kind === 'record') total += chunkLength(edit.record);
      else if (edit.kind === 'payload') total += payload(chunkLength(edit.payload));
      else if (edit.kind === 'child') total += payload(edit.editor.writtenLength);
    });
    return total;
  }

  /** Every edited record in file order (children that changed nothing are left out). */
  private forEachEdit(visit: (r: FieldRecord, edit: Edit) => void): void {
    const records = this.records;
    for (let i = 0; i < records.length; i++) {
      const edit = this.edits.get(i);
      if (edit && !(edit.kind === 'child' && !edit.editor.changed)) visit(records[i]!, edit);
    }
  }

  private record(i: number): FieldRecord {
    const r = this.records[i];
    if (!r) throw new Error(`${this.what} has no record ${i}`);
    return r;
  }

  private corrupt(why: string): WeightlensError {
    return new WeightlensError('BAD_GRAPH', `${this.what}: cannot edit the protobuf (${why})`);
  }

  private parse(): FieldRecord[] {
    const records: FieldRecord[] = [];
    walkRecords(
      this.bytes,
      this.start,
      this.end,
      (why) => this.corrupt(why),
      (field, wire, start, tagEnd, dataStart, end) => records.push({ field, wire, start, tagEnd, dataStart, end }),
    );
    return records;
  }
}

/** Calls `visit` with each field record of the message in bytes[start, end), in order (its FieldRecord parts). */
function walkRecords(
  bytes: Uint8Array,
  start: number,
  end: number,
  corrupt: (why: string) => Error,
  // The parts, not a FieldRecord: scanning names (innerString) allocates nothing per record.
  visit: (field: number, wire: number, start: number, tagEnd: number, dataStart: number, end: number) => void,
): void {
  const at: Cursor = { pos: start };
  while (at.pos < end) {
    const recordStart = at.pos;
    const key = readVarint(bytes, at, end);
    if (key < 0) throw corrupt(`a tag is cut off at byte ${recordStart}`);
    const tagEnd = at.pos;
    // Field numbers stop at 2^29 - 1, so a valid key fits 32 bits.
    if (key > 0xffffffff) throw corrupt(`field number ${Math.floor(key / 8)} at byte ${recordStart} is out of range`);
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw corrupt(`field number 0 at byte ${recordStart}`);
    let dataStart = tagEnd;
    switch (wire) {
      case WIRE.VARINT:
        if (readVarint(bytes, at, end) < 0) throw corrupt(`varint field ${field} is cut off at byte ${recordStart}`);
        break;
      case WIRE.I64:
        at.pos = tagEnd + 8;
        break;
      case WIRE.I32:
        at.pos = tagEnd + 4;
        break;
      case WIRE.LEN: {
        const length = readVarint(bytes, at, end);
        if (length < 0) throw corrupt(`the length of field ${field} is cut off at byte ${recordStart}`);
        dataStart = at.pos;
        at.pos = dataStart + length;
        break;
      }
      default:
        throw corrupt(`field ${field} at byte ${recordStart} has wire type ${wire} (groups are not supported)`);
    }
    if (at.pos > end) throw corrupt(`field ${field} at byte ${recordStart} runs past the end of its message`);
    visit(field, wire, recordStart, tagEnd, dataStart, at.pos);
  }
}
