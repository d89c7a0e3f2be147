// A weight staged in Wasm memory for the kernels: whole when it fits one chunk, else chunk by chunk
// (kernels/tensor-chunks.ts), read with readFloat32Range so no buffer ever holds more than one chunk. Each
// pass over the parts stages them again: a chunked tensor is read once per pass.
import { throwIfAborted } from '../errors.js';
import {
  channelCount,
  elementCount,
  type BlockLayout,
  type ChannelLayout,
  type ChannelStatsArrays,
  type Kernels,
  type StagedTensor,
} from '../kernels/kernels.js';
import {
  blockChunks,
  ChannelStatsMerger,
  CHUNK_ELEMENTS,
  tensorChunks,
  type TensorChunk,
} from '../kernels/tensor-chunks.js';
import type { TensorRef } from '../onnx/model.js';

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

/**
 * The passes for per-group quantization with blocks of each of `sizes` rows: `visit` runs on each staged
 * part with the block sizes it holds whole blocks of (every size, unless the chunks had to differ).
 */
export type BlockParts = (
  sizes: readonly number[],
  visit: (staged: StagedTensor, layout: BlockLayout, sizes: readonly number[]) => void,
) => Promise<void>;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcmOf = (sizes: readonly number[]) => sizes.reduce((m, b) => (m / gcd(m, b)) * b, 1);

/**
 * Block sizes that can share one read: chunks of whole strips of their least common multiple hold whole
 * blocks of each (32, 64, 128: strips of 128 rows). A multiple so large that one strip would not fit a chunk
 * splits them into a read per size.
 */
function readGroups(sizes: readonly number[], cols: number, max: number): (readonly number[])[] {
  return lcmOf(sizes) * cols <= max ? [sizes] : sizes.map((b) => [b]);
}

/**
 * How `tensor` is read: whole (`readRange` undefined), or (too large, readable in ranges) in chunks of at
 * most `max` elements, each staged by `readRange`.
 */
function staging(kernels: Kernels, tensor: TensorRef, layout: ChannelLayout, options: StagingOptions) {
  const max = options.chunkElements ?? CHUNK_ELEMENTS;
  const read = tensor.readFloat32Range?.bind(tensor);
  const label = { file: options.file, tensor: tensor.name };
  const whole = tensor.size <= max || !read || elementCount(layout) !== tensor.size;
  const readRange = ({ first, count }: { first: number; count: number }) =>
    kernels.stage(count, (dest) => read!(first, count, dest, options.signal), label);
  return { max, readRange: whole ? undefined : readRange, label };
}

/**
 * The per-group passes over `tensor` (channel `layout`, block `blocks`): a weight staged whole is the one
 * `parts` stages (not read again); a chunked one is read in chunks of whole strips of blocks (blockChunks),
 * once for all block sizes where their strips fit a chunk (readGroups). Call inside kernels.exclusive.
 */
export function stagedBlockParts(
  kernels: Kernels,
  tensor: TensorRef,
  layout: ChannelLayout,
  blocks: BlockLayout,
  parts: StagedParts,
  options: StagingOptions,
): BlockParts {
  const { max, readRange } = staging(kernels, tensor, layout, options);
  if (!readRange) return (sizes, visit) => parts((staged) => visit(staged, blocks, sizes));
  return async (sizes, visit) => {
    for (const group of readGroups(sizes, blocks.cols, max)) {
      for (const chunk of blockChunks(blocks, lcmOf(group), max)) {
        throwIfAborted(options.signal, options.file);
        visit(await readRange(chunk), chunk.layout, group);
      }
    }
  };
}

/** The passes over `tensor` laid out as `layout`; call inside kernels.exclusive (staging is shared). */
export function stagedParts(
  kernels: Kernels,
  tensor: TensorRef,
  layout: ChannelLayout,
  options: StagingOptions,
): StagedParts {
  const { signal } = options;
  const { max, readRange, label } = staging(kernels, tensor, layout, options);
  if (!readRange) {
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
      visit(await readRange(chunk), chunk);
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
  // Made at the first chunk, after the kernel has checked the layout: a weight claiming 2^26 channels and
  // holding no elements is refused before per-channel arrays of that size exist.
  let merger: ChannelStatsMerger | undefined;
  await parts((staged, chunk) => {
    const stats = kernels.channelStats(staged, chunk.layout);
    if (chunk.count === elementCount(layout))
      whole = stats; // staged whole: the kernel's own figures
    else (merger ??= new ChannelStatsMerger(channelCount(layout))).add(chunk, stats);
  });
  return whole ?? (merger ?? new ChannelStatsMerger(channelCount(layout))).result();
}
