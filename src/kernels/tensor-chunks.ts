// A tensor too large to stage whole is analysed in chunks: contiguous element ranges, each one a channel
// layout of its own, whose kernel results merge exactly into the whole tensor's (docs/definitions.md,
// "Streaming"). The tensor is [groups, outer, cg, inner] row-major (kernels.ts), so a chunk is, by size:
// - whole (g, o) rows of one group: [1, rows, cg, inner], channels g·cg … g·cg + cg;
// - a run of channels of one row: [1, 1, k, inner], channels g·cg + c … + k;
// - a piece of one channel's run: [1, 1, 1, k], channel g·cg + c.
import {
  channelCount,
  elementCount,
  type BlockLayout,
  type ChannelLayout,
  type ChannelStatsArrays,
} from './kernels.js';

/**
 * The most elements staged at once: 128 MB of float32. Tensors up to this size are staged whole (one
 * read); larger ones, when they can be read in ranges, in chunks of at most this size (statistics and CLE
 * alike).
 */
export const CHUNK_ELEMENTS = 32 * 1024 * 1024;

export interface TensorChunk {
  /** First element (row-major) and element count. */
  readonly first: number;
  readonly count: number;
  /** The chunk's own layout, and the whole tensor's channel its channel 0 is. */
  readonly layout: ChannelLayout;
  readonly channel: number;
}

/** The chunks of at most `maxElements` elements covering a tensor of `layout`, in element order. */
export function* tensorChunks(layout: ChannelLayout, maxElements: number): Generator<TensorChunk> {
  const { groups, outer, cg, inner } = layout;
  if (elementCount(layout) === 0) return;
  const max = Math.max(1, Math.floor(maxElements));
  const row = cg * inner;
  for (let g = 0; g < groups; g++) {
    const groupStart = g * outer * row;
    if (row <= max) {
      const rows = Math.floor(max / row);
      for (let o = 0; o < outer; o += rows) {
        const n = Math.min(rows, outer - o);
        yield {
          first: groupStart + o * row,
          count: n * row,
          layout: { groups: 1, outer: n, cg, inner },
          channel: g * cg,
        };
      }
      continue;
    }
    for (let o = 0; o < outer; o++) {
      const rowStart = groupStart + o * row;
      if (inner <= max) {
        const channels = Math.floor(max / inner);
        for (let c = 0; c < cg; c += channels) {
          const k = Math.min(channels, cg - c);
          const layout = { groups: 1, outer: 1, cg: k, inner };
          yield { first: rowStart + c * inner, count: k * inner, layout, channel: g * cg + c };
        }
        continue;
      }
      for (let c = 0; c < cg; c++) {
        for (let i = 0; i < inner; i += max) {
          const k = Math.min(max, inner - i);
          const layout = { groups: 1, outer: 1, cg: 1, inner: k };
          yield { first: rowStart + c * inner + i, count: k, layout, channel: g * cg + c };
        }
      }
    }
  }
}

export interface BlockChunk {
  /** First element (row-major) and element count. */
  readonly first: number;
  readonly count: number;
  /** The chunk's own block layout: its rows start at a block boundary of the whole tensor's. */
  readonly layout: BlockLayout;
}

/**
 * Chunks of a tensor of block `layout` for per-group quantization with blocks of `block` rows: whole mats,
 * or whole strips of `block` rows × all columns of one mat (one strip even where it alone exceeds
 * `maxElements`: a block row cannot be cut), so each chunk's blocks are the tensor's and its sums add up.
 */
export function* blockChunks(layout: BlockLayout, block: number, maxElements: number): Generator<BlockChunk> {
  const { mats, rows, cols } = layout;
  const mat = rows * cols;
  if (mat === 0) return;
  const max = Math.max(1, Math.floor(maxElements));
  if (mat <= max) {
    const n = Math.floor(max / mat);
    for (let m = 0; m < mats; m += n) {
      const k = Math.min(n, mats - m);
      yield { first: m * mat, count: k * mat, layout: { mats: k, rows, cols } };
    }
    return;
  }
  const step = Math.max(1, Math.floor(max / (block * cols))) * block;
  for (let m = 0; m < mats; m++) {
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r);
      yield { first: m * mat + r * cols, count: n * cols, layout: { mats: 1, rows: n, cols } };
    }
  }
}

/**
 * Per-channel statistics of a whole tensor from its chunks' (tensorChunks order or any other). Min/max and
 * the non-finite counts merge as they are; means and standard deviations through each part's count of
 * finite values (Chan et al.'s pairwise update of the mean and the sum of squared deviations, in float64).
 */
export class ChannelStatsMerger {
  private readonly min: Float32Array;
  private readonly max: Float32Array;
  private readonly mean: Float64Array;
  /** Σ (x − mean)² over the finite values seen so far. */
  private readonly squares: Float64Array;
  private readonly finite: Float64Array;
  private readonly nan: Uint32Array;
  private readonly posInf: Uint32Array;
  private readonly negInf: Uint32Array;

  constructor(readonly channels: number) {
    this.min = new Float32Array(channels).fill(Infinity);
    this.max = new Float32Array(channels).fill(-Infinity);
    this.mean = new Float64Array(channels);
    this.squares = new Float64Array(channels);
    this.finite = new Float64Array(channels);
    this.nan = new Uint32Array(channels);
    this.posInf = new Uint32Array(channels);
    this.negInf = new Uint32Array(channels);
  }

  /** Adds one chunk's statistics (`part` covers chunk.layout's channels, from chunk.channel on). */
  add(chunk: TensorChunk, part: ChannelStatsArrays): void {
    const perChannel = chunk.layout.outer * chunk.layout.inner;
    for (let c = 0; c < channelCount(chunk.layout); c++) {
      const ch = chunk.channel + c;
      const nan = part.nan[c]!,
        posInf = part.posInf[c]!,
        negInf = part.negInf[c]!;
      this.nan[ch]! += nan;
      this.posInf[ch]! += posInf;
      this.negInf[ch]! += negInf;
      const n = perChannel - nan - posInf - negInf;
      if (n === 0) continue;
      if (part.min[c]! < this.min[ch]!) this.min[ch] = part.min[c]!;
      if (part.max[c]! > this.max[ch]!) this.max[ch] = part.max[c]!;
      const seen = this.finite[ch]!;
      const total = seen + n;
      const delta = part.mean[c]! - this.mean[ch]!;
      this.mean[ch] = this.mean[ch]! + (delta * n) / total;
      this.squares[ch] = this.squares[ch]! + part.std[c]! ** 2 * n + (delta * delta * seen * n) / total;
      this.finite[ch] = total;
    }
  }

  /** The merged statistics, as the kernel gives them for a whole tensor (NaN where a channel has no finite value). */
  result(): ChannelStatsArrays {
    const C = this.channels;
    const out: ChannelStatsArrays = {
      min: this.min.slice(),
      max: this.max.slice(),
      absMax: new Float32Array(C),
      mean: this.mean.slice(),
      std: new Float64Array(C),
      nan: this.nan.slice(),
      posInf: this.posInf.slice(),
      negInf: this.negInf.slice(),
    };
    for (let ch = 0; ch < C; ch++) {
      const n = this.finite[ch]!;
      if (n === 0) {
        out.min[ch] = out.max[ch] = out.absMax[ch] = NaN;
        out.mean[ch] = out.std[ch] = NaN;
        continue;
      }
      out.absMax[ch] = Math.max(Math.abs(out.min[ch]!), Math.abs(out.max[ch]!));
      out.std[ch] = Math.sqrt(this.squares[ch]! / n);
    }
    return out;
  }
}
