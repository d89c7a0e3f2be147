// A weight too large to stage whole, quantized chunk by chunk (min-max parameters): one pass reads its
// ranges (per channel through the merged channel statistics, per block through each chunk's block ranges,
// which also catch NaN/±Inf), a second quantizes each chunk with its slice of the grid's parameters. Only
// the codes (a quarter or an eighth of the float32 weight) are held whole.
import type { WeightLayer } from '../analysis/layers.js';
import { WeightlensError } from '../errors.js';
import type { Kernels, StoredFloat } from '../kernels/kernels.js';
import { blockRows, gridEntries, sqnr, type GridQuantizer } from '../kernels/quantizer.js';
import { blockChunks, tensorChunks } from '../kernels/tensor-chunks.js';
import type { Spill } from '../onnx/export/data-file.js';
import { packNibbles } from './nibbles.js';
import type { DequantizeGrid } from './weight-grid.js';

interface ChunkedCodes {
  /** As raw_data of their type (4-bit codes packed two per byte), in memory or in the spill's Blob. */
  codes: Uint8Array | Blob;
  sqnr: number | null;
}

/**
 * 4-bit codes (one per byte) packed two per byte across pieces of any length: a piece ending on an odd
 * count leaves its last nibble for the next; `end` flushes it.
 */
function nibblePacker() {
  let carry: number | undefined;
  return {
    pack(codes: Uint8Array): Uint8Array {
      const joined = carry === undefined ? 0 : Math.min(1, codes.length); // the carried nibble takes a partner
      const rest = codes.subarray(joined);
      const even = rest.length - (rest.length % 2);
      const out = new Uint8Array(joined + even / 2);
      if (joined) out[0] = (carry! & 15) | ((codes[0]! & 15) << 4);
      out.set(packNibbles(rest.subarray(0, even)), joined);
      carry = joined || carry === undefined ? (rest.length % 2 ? rest[even]! : undefined) : carry;
      return out;
    },
    end: (): Uint8Array => (carry === undefined ? new Uint8Array(0) : packNibbles(Uint8Array.of(carry))),
  };
}

/** A staged chunk of `count` weights from `first`. Call inside kernels.exclusive. */
type StageRange = (first: number, count: number) => ReturnType<Kernels['stage']>;

function stager(kernels: Kernels, layer: WeightLayer, file: string, signal: AbortSignal | undefined): StageRange {
  const { weight } = layer;
  const read = weight.readFloat32Range!.bind(weight);
  const label = { file, tensor: weight.name };
  return (first, count) => kernels.stage(count, (dest) => read(first, count, dest, signal), label);
}

const nonFiniteError = (file: string, tensor: string) =>
  new WeightlensError('BAD_TENSOR', `${file}: weight "${tensor}" holds NaN/±Inf values; it cannot be quantized`, {
    file,
    tensor,
    field: 'values',
  });

/** Each grid entry's [lo, hi], read chunk by chunk. */
export async function chunkedRanges(
  kernels: Kernels,
  layer: WeightLayer,
  dq: DequantizeGrid,
  tensorWide: boolean,
  options: { file: string; signal?: AbortSignal; chunkElements: number },
): Promise<{ lo: Float32Array; hi: Float32Array }> {
  const stage = stager(kernels, layer, options.file, options.signal);
  const { grid } = dq;
  const E = gridEntries(grid);
  const [lo, hi] = [new Float32Array(E).fill(Infinity), new Float32Array(E).fill(-Infinity)];
  if (grid.kind === 'block') {
    const { rows, cols } = grid.layout;
    const nb = blockRows(grid.layout, grid.block);
    for (const chunk of blockChunks(grid.layout, grid.block, options.chunkElements)) {
      const staged = await stage(chunk.first, chunk.count);
      const part = kernels.blockRanges(staged, chunk.layout, grid.block);
      lo.set(part.lo, entryOffset(chunk.first, rows, cols, nb, grid.block));
      hi.set(part.hi, entryOffset(chunk.first, rows, cols, nb, grid.block));
    }
  } else {
    for (const chunk of tensorChunks(layer.layout, options.chunkElements)) {
      const staged = await stage(chunk.first, chunk.count);
      const s = kernels.channelStats(staged, chunk.layout);
      if ([...s.nan, ...s.posInf, ...s.negInf].some((n) => n > 0))
        throw nonFiniteError(options.file, layer.weight.name);
      // A chunk's channel c is the tensor's chunk.channel + c; per tensor, all fold into entry 0.
      s.min.forEach((v, c) => {
        const e = tensorWide ? 0 : chunk.channel + c;
        lo[e] = Math.min(lo[e]!, v);
        hi[e] = Math.max(hi[e]!, s.max[c]!);
      });
    }
  }
  if (lo.some((v) => !Number.isFinite(v)) || hi.some((v) => !Number.isFinite(v)))
    throw nonFiniteError(options.file, layer.weight.name);
  return { lo, hi };
}

/** Where a block chunk's entries start among the tensor's: its mat's, then its first block row's. */
function entryOffset(first: number, rows: number, cols: number, nb: number, block: number): number {
  const mat = rows * cols;
  const m = Math.floor(first / mat);
  const row = (first % mat) / cols;
  return (m * nb + row / block) * cols;
}

/**
 * The codes of the whole weight under `quantizer`, chunk by chunk, and the SQNR of what they store: into the
 * spill as each chunk is quantized where one is given (memory stays one chunk), else held whole.
 */
export async function chunkedCodes(
  kernels: Kernels,
  layer: WeightLayer,
  quantizer: GridQuantizer,
  bits: number,
  stored: StoredFloat,
  options: { file: string; signal?: AbortSignal; chunkElements: number; spill?: Spill },
): Promise<ChunkedCodes> {
  const stage = stager(kernels, layer, options.file, options.signal);
  let signal = 0,
    noise = 0;
  const { grid } = quantizer;
  const slice = (from: number, n: number): GridQuantizer => ({
    ...quantizer,
    scales: quantizer.scales.subarray(from, from + n),
    zeroPoints: quantizer.zeroPoints.subarray(from, from + n),
  });
  const parts =
    grid.kind === 'block'
      ? [...blockChunks(grid.layout, grid.block, options.chunkElements)].map((c) => {
          const local = { kind: 'block' as const, layout: c.layout, block: grid.block };
          const from = entryOffset(
            c.first,
            grid.layout.rows,
            grid.layout.cols,
            blockRows(grid.layout, grid.block),
            grid.block,
          );
          return { first: c.first, count: c.count, quantizer: { ...slice(from, gridEntries(local)), grid: local } };
        })
      : [...tensorChunks(grid.layout, options.chunkElements)].map((c) => {
          const local = { kind: 'channel' as const, layout: c.layout };
          return {
            first: c.first,
            count: c.count,
            quantizer: { ...slice(c.channel, gridEntries(local)), grid: local },
          };
        });
  const packer = bits === 4 ? nibblePacker() : undefined;
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      const staged = await stage(part.first, part.count);
      const q = kernels.quantize(staged, part.quantizer, stored);
      signal += q.signal;
      noise += q.noise;
      yield packer ? packer.pack(q.codes) : q.codes;
    }
    if (packer) yield packer.end();
  }
  let codes: Uint8Array | Blob;
  if (options.spill) codes = await options.spill(pieces());
  else {
    const held = new Uint8Array(bits === 4 ? Math.ceil(layer.weight.size / 2) : layer.weight.size);
    let at = 0;
    for await (const piece of pieces()) {
      held.set(piece, at);
      at += piece.length;
    }
    codes = held;
  }
  return { codes, sqnr: sqnr({ signal, noise }) };
}
