// A weight staged in Wasm memory for the kernels: whole when it fits one chunk, else chunk by chunk
// (kernels/tensor-chunks.ts), read with readFloat32Range so no buffer ever holds more than one chunk. Each
// pass over the parts stages them again: a chunked tensor is read once per pass.
import { throwIfAborted } from '../errors.js';
import {
  channelCount,
  elementCount,
  type ChannelLayout,
  type ChannelStatsArrays,
  type Kernels,
  type StagedTensor,
} from '../kernels/kernels.js';
import { ChannelStatsMerger, tensorChunks, type TensorChunk } from '../kernels/tensor-chunks.js';
import type { TensorRef } from '../onnx/model.js';

/**
 * The most elements staged at once: 128 MB of float32. Tensors up to this size are staged whole (one
 * read); larger ones, when they can be read in ranges, in chunks of at most this size.
 */
export const CHUNK_ELEMENTS = 32 * 1024 * 1024;

/** One pass over a staged weight: `visit` runs the kernels on each staged part. */
export type StagedParts = (visit: (staged: StagedTensor, chunk: TensorChunk) => void) => Promise<void>;

export interface StagingOptions {
  file: string;
  signal?: AbortSignal | undefined;
  /** The most elements staged at once (default CHUNK_ELEMENTS). */
  chunkElements?: number | undefined;
  /** A chunked pass has reduced its first `done` elements (for progress within a large weight). */
  onChunk?: ((done: number) => void) | undefined;
}

/** The passes over `tensor` laid out as `layout`; call inside kernels.exclusive (staging is shared). */
export function stagedParts(
  kernels: Kernels,
  tensor: TensorRef,
  layout: ChannelLayout,
  options: StagingOptions,
): StagedParts {
  const { signal } = options;
  const label = { file: options.file, tensor: tensor.name };
  const max = options.chunkElements ?? CHUNK_ELEMENTS;
  const readRange = tensor.readFloat32Range?.bind(tensor);
  if (tensor.size <= max || !readRange || elementCount(layout) !== tensor.size) {
    // Whole: one stage for every pass (a tensor without range reads is read whole, however large).
    let staged: StagedTensor | undefined;
    const whole: TensorChunk = { first: 0, count: tensor.size, layout, channel: 0 };
    return async (visit) => {
      staged ??= await kernels.stage(tensor.size, (dest) => tensor.readFloat32Into(dest, signal), label);
      visit(staged, whole);
    };
  }
  return async (visit) => {
    for (const chunk of tensorChunks(layout, max)) {
      throwIfAborted(signal, options.file);
      const staged = await kernels.stage(
        chunk.count,
        (dest) => readRange(chunk.first, chunk.count, dest, signal),
        label,
      );
      visit(staged, chunk);
      options.onChunk?.(chunk.first + chunk.count);
    }
  };
}

/** Per-channel statistics of the staged weight of `layout` (merged over its chunks when it has several). */
export async function channelStatsOf(
  kernels: Kernels,
  parts: StagedParts,
  layout: ChannelLayout,
): Promise<ChannelStatsArrays> {
  let whole: ChannelStatsArrays | undefined;
  const merger = new ChannelStatsMerger(channelCount(layout));
  await parts((staged, chunk) => {
    const stats = kernels.channelStats(staged, chunk.layout);
    if (chunk.count === elementCount(layout))
      whole = stats; // staged whole: the kernel's own figures
    else merger.add(chunk, stats);
  });
  return whole ?? merger.result();
}
