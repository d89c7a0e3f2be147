/**
 * TensorRef over a decoded TensorProto. The payload stays where protobufjs put it (raw_data is a zero-copy
 * view into the file) or in the external file; numbers are produced only when readFloat32Into is called.
 * Sizes are checked when the tensor is created, so a broken file fails at open with a precise message.
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import {
  DT,
  byteLengthOf,
  decodeInt32Field,
  dtypeBits,
  decodeRaw,
  rawTarget,
  dtypeName,
  isNumericReadable,
  typedFieldCount,
  typedFieldOf,
  type NumberArray,
  type TypedField,
} from './dtypes.js';
import type { ExternalDataReader } from './external-data.js';
import { int64ToNearest, int64ToNumber, type Int64 } from './int64.js';
import type { DTypeName, ExternalLocation, TensorRef } from './model.js';

/** The plain fields of a TensorProto that a TensorRef needs (no protobuf class is kept). */
export interface TensorFields {
  name?: string | null;
  dims?: Int64[] | null;
  dataType?: number | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  int64Data?: Int64[] | null;
  doubleData?: number[] | null;
  uint64Data?: Int64[] | null;
  stringData?: Uint8Array[] | null;
  externalData?: { key?: string | null; value?: string | null }[] | null;
  dataLocation?: number | null;
}

type Payload =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'typed'; field: TypedField; values: ArrayLike<Int64> }
  | { kind: 'external'; location: ExternalLocation }
  | { kind: 'none' }; // zero elements, or a dtype we will refuse on read anyway

/** Where a tensor lives and how messages name it. */
export interface TensorContext {
  fileName: string;
  external: ExternalDataReader;
}

const DATA_LOCATION_EXTERNAL = 1;

export class OnnxTensor implements TensorRef {
  readonly dtype: DTypeName;
  readonly size: number;
  readonly external?: ExternalLocation;
  private readonly payload: Payload;

  constructor(
    readonly name: string,
    readonly graph: string,
    readonly origin: 'initializer' | 'constant',
    readonly dataType: number,
    readonly shape: readonly number[],
    payload: Payload,
    private readonly context: TensorContext,
  ) {
    this.dtype = dtypeName(dataType);
    this.size = shape.reduce((a, b) => a * b, 1);
    this.payload = payload;
    if (payload.kind === 'external') this.external = payload.location;
  }

  /** Builds a tensor from a decoded TensorProto, validating shape and payload size. */
  static fromProto(
    proto: TensorFields,
    name: string,
    graph: string,
    origin: 'initializer' | 'constant',
    context: TensorContext,
  ): OnnxTensor {
    const fail = (field: string, message: string): never => {
      throw new WeightlensError('BAD_TENSOR', `${context.fileName}: ${message}`, {
        file: context.fileName,
        tensor: name,
        field,
      });
    };
    const dataType = proto.dataType ?? 0;
    const shape = (proto.dims ?? []).map((d) => {
      const n = int64ToNumber(d);
      if (n === undefined || n < 0) fail('dims', `dims of "${name}" contain ${String(n ?? d)}, not a size`);
      return n!;
    });
    const size = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(size))
      fail('dims', `dims of "${name}" [${shape}] have more elements than JavaScript can count`);
    const described = `shape [${shape}] ${dtypeName(dataType)}`;
    const make = (payload: Payload) => new OnnxTensor(name, graph, origin, dataType, shape, payload, context);
    // Readers disagree on which of two payloads wins, and CLE would rewrite one and leave the other stale.
    const fields = valueFields(proto);
    if (fields.length > 1)
      fail(fields[1]!, `"${name}" holds its values twice, in ${fields.join(' and ')}; a tensor has one payload`);

    if (proto.dataLocation === DATA_LOCATION_EXTERNAL) {
      const location = parseExternal(proto.externalData ?? [], name, fail);
      const needed = byteLengthOf(dataType, size);
      if (location.length !== undefined && needed !== undefined && location.length !== needed) {
        fail(
          'external_data',
          `external_data length of "${name}" is ${location.length} bytes, ${described} needs ${needed}`,
        );
      }
      return make({ kind: 'external', location });
    }
    const raw = proto.rawData;
    if (raw && raw.byteLength > 0) {
      const needed = byteLengthOf(dataType, size);
      if (needed !== undefined && raw.byteLength !== needed) {
        fail('raw_data', `raw_data of "${name}" has ${raw.byteLength} bytes, ${described} needs ${needed}`);
      }
      return make({ kind: 'raw', bytes: raw });
    }
    const field = typedFieldOf(dataType);
    if (size === 0 || field === undefined || !isNumericReadable(dataType)) return make({ kind: 'none' });
    const values = typedValues(proto, field);
    const needed = typedFieldCount(dataType, size);
    if (values.length !== needed) {
      if (values.length === 0)
        fail(field, `"${name}" has no data: raw_data is empty and ${field} has 0 values, ${described} needs ${needed}`);
      fail(field, `${field} of "${name}" has ${values.length} values, ${described} needs ${needed}`);
    }
    return make({ kind: 'typed', field, values });
  }

  /** A small tensor from numbers in the file (Constant's value_float(s) / value_int(s)). */
  static fromValues(
    values: number[],
    dataType: typeof DT.FLOAT | typeof DT.INT64,
    scalar: boolean,
    name: string,
    graph: string,
    context: TensorContext,
  ): OnnxTensor {
    const shape = scalar ? [] : [values.length];
    const field: TypedField = dataType === DT.FLOAT ? 'float_data' : 'int64_data';
    return new OnnxTensor(name, graph, 'constant', dataType, shape, { kind: 'typed', field, values }, context);
  }

  readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void> {
    return this.readInto(dest, signal);
  }

  readFloat32Range(first: number, count: number, dest: Float32Array, signal?: AbortSignal): Promise<void> {
    return this.readRangeInto(first, count, dest, signal);
  }

  /** Like readFloat32Into, but float64 keeps int32/int64 values exact (dequantization needs that). */
  readInto(dest: NumberArray, signal?: AbortSignal): Promise<void> {
    return this.readRangeInto(0, this.size, dest, signal);
  }

  /** Elements [first, first + count) into dest[0..count): only those bytes are read from external data. */
  private async readRangeInto(first: number, count: number, dest: NumberArray, signal?: AbortSignal): Promise<void> {
    const { fileName } = this.context;
    const usage = (message: string) =>
      new WeightlensError('USAGE', `${fileName}: tensor "${this.name}" ${message}`, {
        file: fileName,
        tensor: this.name,
      });
    if (!(Number.isSafeInteger(first) && Number.isSafeInteger(count) && first >= 0 && count >= 0))
      throw usage(`cannot read ${count} elements from ${first}`);
    if (first + count > this.size)
      throw usage(`has ${this.size} elements; elements ${first}..${first + count} do not exist`);
    if (dest.length < count) throw usage(`: ${count} elements were asked for, the destination holds ${dest.length}`);
    throwIfAborted(signal, fileName);
    if (!isNumericReadable(this.dataType)) {
      throw new WeightlensError(
        'UNSUPPORTED_DTYPE',
        `${fileName}: tensor "${this.name}" has data type ${this.dtype} (${this.dataType}), which weightlens cannot read as weights`,
        { file: fileName, tensor: this.name, field: 'data_type' },
      );
    }
    if (count === 0) return;
    const p = this.payload;
    switch (p.kind) {
      case 'raw':
        decodeRawRange(this.dataType, first, count, (from, length) => p.bytes.subarray(from, from + length), dest);
        return;
      case 'external': {
        // float32 into a Float32Array (WebAssembly memory, when staging): read straight into it.
        const target = rawTarget(this.dataType, dest, count);
        if (target) return this.context.external.readInto(p.location, target, this.name, signal, first * 4);
        const read = (from: number, length: number) =>
          this.context.external.read(p.location, length, this.name, signal, from);
        await decodeRawRange(this.dataType, first, count, read, dest);
        return;
      }
      case 'typed': {
        const values =
          first === 0 && count === p.values.length
            ? p.values
            : Array.prototype.slice.call(p.values, first, first + count);
        if (p.field === 'int32_data') decodeInt32Field(this.dataType, values as ArrayLike<number>, dest, count);
        else if (p.field === 'int64_data' || p.field === 'uint64_data') this.decodeInt64(values, dest, count, first);
        else for (let i = 0; i < count; i++) dest[i] = values[i] as number;
        return;
      }
      case 'none':
        throw new Error('unreachable: a numeric tensor with elements always has a payload');
    }
  }

  /**
   * The values of an int32/int64 tensor stored in the model file itself, read at once: the index inputs of
   * data-movement ops (Slice starts, Reshape shape, axes) are needed while the graph is analysed. int64
   * beyond 2^53 comes back as the nearest double. Undefined for other types and for external data.
   */
  integersInFile(): number[] | undefined {
    if (this.dataType !== DT.INT64 && this.dataType !== DT.INT32) return undefined;
    const p = this.payload;
    if (p.kind === 'raw') {
      const values = new Float64Array(this.size);
      decodeRaw(this.dataType, p.bytes, values, this.size);
      return [...values];
    }
    if (p.kind === 'typed') return Array.from({ length: this.size }, (_, i) => int64ToNearest(p.values[i]));
    return this.size === 0 ? [] : undefined;
  }

  private decodeInt64(values: ArrayLike<Int64>, dest: NumberArray, n: number, first: number): void {
    for (let i = 0; i < n; i++) {
      const v = int64ToNumber(values[i]);
      if (v === undefined) {
        throw new WeightlensError(
          'BAD_TENSOR',
          `${this.context.fileName}: int64 value ${first + i} of "${this.name}" is too large for a number`,
          {
            file: this.context.fileName,
            tensor: this.name,
            field: 'int64_data',
          },
        );
      }
      dest[i] = v;
    }
  }
}

/**
 * Bytes decoded per read: a tensor of any size (external data of 2 GiB and more included) is read and
 * decoded in pieces, so no single read or temporary buffer is larger than this.
 */
const READ_PIECE_BYTES = 64 * 1024 * 1024;

/**
 * Decodes elements [first, first + count) of little-endian raw bytes into dest[0..count), reading only the
 * bytes that hold them, READ_PIECE_BYTES at a time (`read(byteOffset, byteLength)` within the tensor's bytes).
 */
async function decodeRawRange(
  dataType: number,
  first: number,
  count: number,
  read: (from: number, length: number) => Uint8Array | Promise<Uint8Array>,
  dest: NumberArray,
): Promise<void> {
  const bits = dtypeBits(dataType)!;
  if (bits < 8) {
    // Packed 4-bit values: decode from the byte holding the first element, then drop a leading half.
    const perByte = 8 / bits;
    const skip = first % perByte;
    const from = (first - skip) / perByte;
    const bytes = await read(from, Math.ceil((skip + count) / perByte));
    const values = skip === 0 ? dest : new Float64Array(skip + count);
    decodeRaw(dataType, bytes, values, skip + count);
    if (skip !== 0) for (let i = 0; i < count; i++) dest[i] = values[skip + i]!;
    return;
  }
  const size = bits / 8;
  const perPiece = Math.max(1, Math.floor(READ_PIECE_BYTES / size));
  for (let done = 0; done < count; done += perPiece) {
    const n = Math.min(perPiece, count - done);
    const bytes = await read((first + done) * size, n * size);
    decodeRaw(dataType, bytes, done === 0 ? dest : dest.subarray(done), n);
  }
}

/** The payload fields that hold something, in wire order of their field numbers. */
function valueFields(proto: TensorFields): string[] {
  const held: [string, { length: number } | null | undefined][] = [
    ['float_data', proto.floatData],
    ['int32_data', proto.int32Data],
    ['string_data', proto.stringData],
    ['int64_data', proto.int64Data],
    ['raw_data', proto.rawData],
    ['double_data', proto.doubleData],
    ['uint64_data', proto.uint64Data],
  ];
  const fields = held.filter(([, values]) => (values?.length ?? 0) > 0).map(([field]) => field);
  return proto.dataLocation === DATA_LOCATION_EXTERNAL ? [...fields, 'external_data'] : fields;
}

function typedValues(proto: TensorFields, field: TypedField): ArrayLike<Int64> {
  switch (field) {
    case 'float_data':
      return proto.floatData ?? [];
    case 'int32_data':
      return proto.int32Data ?? [];
    case 'int64_data':
      return proto.int64Data ?? [];
    case 'double_data':
      return proto.doubleData ?? [];
    case 'uint64_data':
      return proto.uint64Data ?? [];
    case 'string_data':
      return [];
  }
}

function parseExternal(
  entries: { key?: string | null; value?: string | null }[],
  name: string,
  fail: (field: string, message: string) => never,
): ExternalLocation {
  const map = new Map(entries.map((e) => [e.key ?? '', e.value ?? '']));
  const location = map.get('location');
  if (location === undefined) fail('external_data', `external_data of "${name}" has no location`);
  const count = (key: string): number | undefined => {
    const text = map.get(key);
    if (text === undefined || text === '') return undefined;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      fail('external_data', `external_data ${key} of "${name}" is "${text}", not a byte count`);
    }
    return Number(text);
  };
  const length = count('length');
  return { location: location!, offset: count('offset') ?? 0, ...(length === undefined ? {} : { length }) };
}

/**
 * Reads any TensorRef as exact-as-possible numbers: our own tensors decode straight into float64;
 * others go through float32.
 */
export async function readNumbersInto(tensor: TensorRef, dest: NumberArray, signal?: AbortSignal): Promise<void> {
  if (tensor instanceof OnnxTensor || dest instanceof Float32Array) {
    if (tensor instanceof OnnxTensor) return tensor.readInto(dest, signal);
    return tensor.readFloat32Into(dest as Float32Array, signal);
  }
  const tmp = new Float32Array(tensor.size);
  await tensor.readFloat32Into(tmp, signal);
  dest.set(tmp);
}
