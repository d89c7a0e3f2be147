/**
 * onnxruntime's packed weight formats (com.microsoft MatMulNBits, GatherBlockQuantized) seen as the plain
 * integer and scale tensors DequantizeLinear reads: values unpacked from bytes (low bits first), each stored
 * row's padding dropped, optionally transposed; and a tensor of one repeated value (a default zero point).
 * Sizes are checked by the caller before a view is made.
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import { dtypeName } from './dtypes.js';
import type { DTypeName, TensorRef } from './model.js';

/** How a stored tensor holds a matrix, one stored row after the other. */
export interface StoredRows {
  rows: number;
  /** Values per stored row, padding included. */
  stride: number;
  /** The leading values of each row that are real; the rest is padding. */
  used: number;
  /** 4 or 8: unsigned values packed in uint8 bytes, low bits first. 0: the stored tensor's own values. */
  bits: 0 | 4 | 8;
  /** Show the matrix as [used, rows] (MatMulNBits stores B column by column) instead of [rows, used]. */
  transposed: boolean;
}

/** A view of `source` as the matrix `layout` describes, with data type `dataType` (uint4 for 4-bit values). */
export function rowsView(source: TensorRef, dataType: number, layout: StoredRows, fileName: string): TensorRef {
  const { rows, used, transposed } = layout;
  return new View(
    source.name,
    source.graph,
    dataType,
    transposed ? [used, rows] : [rows, used],
    fileName,
    (dest, signal) => readRows(source, layout, fileName, dest, signal),
  );
}

/** A tensor of `shape` whose every element is `value` (a zero point the op defaults). */
export function filledTensor(
  name: string,
  graph: string,
  dataType: number,
  shape: readonly number[],
  value: number,
  fileName: string,
): TensorRef {
  return new View(name, graph, dataType, shape, fileName, async (dest) => {
    dest.fill(
      value,
      0,
      shape.reduce((a, b) => a * b, 1),
    );
  });
}

async function readRows(
  source: TensorRef,
  layout: StoredRows,
  fileName: string,
  dest: Float32Array,
  signal?: AbortSignal,
) {
  const { rows, stride, used, bits, transposed } = layout;
  const stored = new Float32Array(source.size);
  await source.readFloat32Into(stored, signal);
  throwIfAborted(signal, fileName);
  const perByte = bits === 4 ? 2 : 1;
  for (let r = 0; r < rows; r++) {
    const base = (r * stride) / perByte;
    for (let i = 0; i < used; i++) {
      const v = bits === 4 ? (stored[base + (i >> 1)]! >> ((i & 1) * 4)) & 15 : stored[base + i]!;
      dest[transposed ? i * rows + r : r * used + i] = v;
    }
  }
}

class View implements TensorRef {
  readonly origin = 'constant' as const;
  readonly dtype: DTypeName;
  readonly size: number;

  constructor(
    readonly name: string,
    readonly graph: string,
    readonly dataType: number,
    readonly shape: readonly number[],
    private readonly fileName: string,
    private readonly fill: (dest: Float32Array, signal?: AbortSignal) => Promise<void>,
  ) {
    this.dtype = dtypeName(dataType);
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  async readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void> {
    if (dest.length < this.size) {
      throw new WeightlensError(
        'USAGE',
        `${this.fileName}: tensor "${this.name}" has ${this.size} elements, the destination only ${dest.length}`,
        { file: this.fileName, tensor: this.name },
      );
    }
    await this.fill(dest, signal);
  }
}
