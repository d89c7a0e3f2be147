// A layer's weight read in blocks of whole rows of its first dimension, so CLE never holds more than one
// chunk of a large weight: at most `chunkElements` values at a time when the tensor can be read by range
// and one row fits, else the whole weight in one block.
import { throwIfAborted } from '../errors.js';
import type { TensorRef } from '../onnx/model.js';

/** Rows `first` … `first + count` of the weight's first dimension, as float32. */
export interface WeightRows {
  readonly first: number;
  readonly count: number;
  readonly values: Float32Array;
}

/**
 * The blocks of `tensor` (`rows` rows) in order. One buffer serves every block: a block is only valid until
 * the next one is asked for.
 */
export async function* weightRows(
  tensor: TensorRef,
  rows: number,
  chunkElements: number,
  file: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<WeightRows> {
  const perRow = rows > 0 ? tensor.size / rows : 0;
  const perBlock = perRow > 0 ? Math.floor(chunkElements / perRow) : 0;
  if (!tensor.readFloat32Range || tensor.size <= chunkElements || perBlock < 1) {
    const values = new Float32Array(tensor.size);
    await tensor.readFloat32Into(values, signal);
    yield { first: 0, count: rows, values };
    return;
  }
  const buffer = new Float32Array(perBlock * perRow);
  for (let first = 0; first < rows; first += perBlock) {
    throwIfAborted(signal, file);
    const count = Math.min(perBlock, rows - first);
    const values = buffer.subarray(0, count * perRow);
    await tensor.readFloat32Range(first * perRow, count * perRow, values, signal);
    yield { first, count, values };
  }
}
