// Typed wrappers over the statistics and histogram kernels: stage a tensor in Wasm memory once, run
// kernels on it, copy the small per-channel results out.
import { WeightlensError } from '../errors.js';
import { gridEntries, type GridQuantizer } from './quantizer.js';
import { instantiateKernels, type KernelExports } from './wasm-module.js';
import { WasmArena, alignUp, labelText, type TensorLabel } from './wasm-memory.js';

/**
 * How a tensor's elements map to output channels: viewed as [groups, outer, cg, inner] row-major,
 * channel g*cg + c gathers (g, o, c, i) for all o, i. See assembly/layout.ts.
 */
export interface ChannelLayout {
  readonly groups: number;
  readonly outer: number;
  readonly cg: number;
  readonly inner: number;
}

export const channelCount = (l: ChannelLayout) => l.groups * l.cg;

/** A float type dequantized weights are written in. */
export type StoredFloat = 'float32' | 'float16' | 'bfloat16';
const STORED: Record<StoredFloat, number> = { float32: 0, float16: 1, bfloat16: 2 };

/**
 * How a tensor's elements fall into quantization blocks: viewed as [mats, rows, cols] row-major with the
 * input (reduction) axis as rows, a block is `block` consecutive rows of one column of one mat (the last
 * block of a column may be shorter). See assembly/block-quant-error.ts.
 */
export interface BlockLayout {
  readonly mats: number;
  readonly rows: number;
  readonly cols: number;
}

/** A quantizer's integer range [qmin, qmax]: symmetric [−q, q] or asymmetric [0, q], q ≥ 1. */
export interface IntegerRange {
  readonly qmin: number;
  readonly qmax: number;
}

/** One quantizer per channel: channel c's scale and zero point, and the integer range [qmin, qmax]. */
export interface ChannelQuantizer extends IntegerRange {
  readonly scales: Float32Array;
  readonly zeroPoints: Float32Array;
}

/** Σx² and, for each integer range asked for, Σ(x − q(x))² of the fake-quantized tensor (float64). */
export interface ErrorSums {
  signal: number;
  noise: number[];
}

/** Σx² and Σ(x − q(x))² per block size (blocks' order) and integer range of a per-group pass (float64). */
export interface BlockErrorSums {
  signal: number;
  noise: number[][];
}

/**
 * `blocks` (distinct, ascending) cut into runs that each divide the next, so one kernel pass computes a run
 * from its smallest blocks' ranges; a run stops where those ranges of one strip would pass 2^20 values.
 */
function divisorChains(blocks: readonly number[], cols: number): number[][] {
  const chains: number[][] = [];
  for (const block of [...new Set(blocks)].sort((a, b) => a - b)) {
    const chain = chains.at(-1);
    if (chain && block % chain.at(-1)! === 0 && (block / chain[0]!) * cols <= 2 ** 20) chain.push(block);
    else chains.push([block]);
  }
  return chains;
}

/**
 * The most output channels a tensor may have: per-channel results cost ~350 bytes a channel once they are
 * report arrays (measured: 2^20 channels, 400 MB peak), so one layer's stay under the 512 MB bar. Real
 * models stay far below it (the largest we know are vocabularies of 262,144 rows: embeddings, LM heads).
 */
export const MAX_CHANNELS = 2 ** 20;
export const elementCount = (l: ChannelLayout) => l.groups * l.outer * l.cg * l.inner;

/** Per-channel statistics over the finite values; nan/posInf/negInf count what was left out. */
export interface ChannelStatsArrays {
  min: Float32Array;
  max: Float32Array;
  absMax: Float32Array;
  mean: Float64Array;
  std: Float64Array;
  nan: Uint32Array;
  posInf: Uint32Array;
  negInf: Uint32Array;
}

export interface HistogramCounts {
  /** Equal-width bins over [lo, hi]; hi itself falls in the last bin. */
  counts: Uint32Array;
  below: number;
  above: number;
  nonFinite: number;
}

/** 'simd' picks the fused SIMD kernel for the layout; 'scalar' is the reference twin. */
export type StatsVariant = 'simd' | 'scalar';

/** A tensor staged in Wasm memory; valid until the next stage() on the same Kernels. */
export interface StagedTensor {
  readonly size: number;
  readonly generation: number;
}

// Every Kernels object of a realm shares one Wasm instance, hence one staging area: a stage() and the
// kernels run on it must not interleave with another caller's stage() (staging may await a read).
let staging: Promise<unknown> = Promise.resolve();

export class Kernels {
  private readonly arena: WasmArena;
  private generation = 0;
  private stagedSize = 0;
  private stagedLabel: TensorLabel = {};

  private constructor(private readonly exports: KernelExports) {
    this.arena = new WasmArena(exports.memory);
  }

  static async load(): Promise<Kernels> {
    return new Kernels(await instantiateKernels());
  }

  /**
   * Places `size` float32 values in Wasm memory; `fill` writes them into the view it is given
   * (a tensor decoder writes straight into Wasm memory, no intermediate copy). `label` names the tensor
   * in errors, here and in the kernels run on it.
   */
  async stage(
    size: number,
    fill: (dest: Float32Array) => void | Promise<void>,
    label: TensorLabel = {},
  ): Promise<StagedTensor> {
    if (!(Number.isSafeInteger(size) && size >= 0)) {
      throw new WeightlensError('BAD_TENSOR', `${labelText(label)} has ${size} elements, not a count`, label);
    }
    this.arena.ensure(this.arena.stage + size * 4, `its ${size} float32 values`, label);
    this.generation++;
    this.stagedSize = size;
    this.stagedLabel = label;
    await fill(new Float32Array(this.arena.buffer, this.arena.stage, size));
    return { size, generation: this.generation };
  }

  /**
   * Runs `task` (a stage() and the kernels on it) while no other task of this realm stages a tensor.
   * Callers that may run concurrently (two analyses on one page) go through here.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = staging.then(task, task);
    staging = run.catch(() => {});
    return run;
  }

  channelStats(staged: StagedTensor, layout: ChannelLayout, variant: StatsVariant = 'simd'): ChannelStatsArrays {
    this.check(staged, layout);
    const C = channelCount(layout);
    const out = this.arena.resultsAt(staged.size * 4);
    this.arena.ensure(out + statsResultBytes(C), `statistics of ${C} channels`, this.stagedLabel);
    const { groups, outer, cg, inner } = layout;
    const src = this.arena.stage;
    if (variant === 'scalar') this.exports.channelStatsScalar(src, groups, outer, cg, inner, out);
    else if (groups === 1 && inner === 1) this.exports.channelStatsColumnsSimd(src, outer, cg, out);
    else this.exports.channelStatsRunsSimd(src, groups, outer, cg, inner, out);
    return readStats(this.arena.buffer, out, C);
  }

  /**
   * Σx² and, for each of `quantizers`, Σ(x − q(x))² of the staged tensor fake-quantized with its per-channel
   * scales and zero points (one entry per channel; give every channel the same values for per-tensor
   * quantization). One call goes over the tensor once for all of them.
   */
  quantErrors(staged: StagedTensor, layout: ChannelLayout, quantizers: readonly ChannelQuantizer[]): ErrorSums {
    this.check(staged, layout);
    const C = channelCount(layout);
    const nq = quantizers.length;
    const at = this.arena.resultsAt(staged.size * 4);
    const out = at + nq * C * 16; // 8-aligned: `at` is 64-aligned
    this.arena.ensure(out + (nq + 1) * 8, `quantization error of ${C} channels`, this.stagedLabel);
    const { f32, f64 } = this.arena.views;
    quantizers.forEach(({ scales, zeroPoints, qmin, qmax }, k) => {
      const base = at / 4 + k * 4 * C;
      for (let c = 0; c < C; c++) {
        const [scale, zp] = [scales[c]!, zeroPoints[c]!];
        f32[base + c] = scale;
        f32[base + 2 * C + c] = qmin - zp;
        f32[base + 3 * C + c] = qmax - zp;
      }
    });
    const { groups, outer, cg, inner } = layout;
    // One element per run (MatMul [K, N]): the row-by-row twin reads memory in order, four channels at once.
    if (groups === 1 && inner === 1) this.exports.quantErrorsColumns(this.arena.stage, outer, cg, at, nq, out);
    else this.exports.quantErrors(this.arena.stage, groups, outer, cg, inner, at, nq, out);
    return { signal: f64[out / 8]!, noise: Array.from(f64.subarray(out / 8 + 1, out / 8 + 1 + nq)) };
  }

  /**
   * Σx² and Σ(x − q(x))² of the staged tensor quantized in blocks of each of `blocks` rows of `layout`
   * (per-group quantization, one scale and zero point per block from the block's own range), for each of
   * `ranges`: noise[i][q] for blocks[i] and ranges[q]. Sizes that divide one another are computed in one
   * pass. Sums over chunks of whole blocks of every size (whole strips of their least common multiple of
   * rows) add up to the tensor's.
   */
  blockQuantError(
    staged: StagedTensor,
    layout: BlockLayout,
    blocks: readonly number[],
    ranges: readonly IntegerRange[],
    variant: StatsVariant = 'simd',
  ): BlockErrorSums {
    this.blockCheck(staged, layout, blocks);
    const label = this.stagedLabel;
    const { mats, rows, cols } = layout;
    for (const { qmin, qmax } of ranges) {
      if (!(Number.isInteger(qmax) && qmax >= 1 && qmax < 2 ** 24 && (qmin === 0 || qmin === -qmax)))
        throw new WeightlensError('USAGE', `integer range [${qmin}, ${qmax}] is neither [−q, q] nor [0, q]`, label);
    }
    const kernel = variant === 'scalar' ? this.exports.blockQuantErrorScalar : this.exports.blockQuantError;
    const sums: BlockErrorSums = { signal: 0, noise: blocks.map(() => []) };
    for (const chain of divisorChains(blocks, cols)) {
      const at = this.arena.resultsAt(staged.size * 4);
      const sizesAt = at + ranges.length * 8;
      const scratch = alignUp(sizesAt + chain.length * 4, 16);
      const floats = this.exports.blockScratchFloats(cols, chain[0]!, chain.at(-1)!);
      const out = alignUp(scratch + floats * 4, 8);
      const nOut = 1 + chain.length * ranges.length;
      this.arena.ensure(out + nOut * 8, `per-group quantization of ${cols} columns`, label);
      new Float32Array(this.arena.buffer, at, ranges.length * 2).set(ranges.flatMap((r) => [r.qmin, r.qmax]));
      new Int32Array(this.arena.buffer, sizesAt, chain.length).set(chain);
      kernel(this.arena.stage, mats, rows, cols, sizesAt, chain.length, at, ranges.length, scratch, out);
      const [signal, ...noise] = new Float64Array(this.arena.buffer, out, nOut);
      sums.signal = signal!;
      chain.forEach((block, i) => {
        const q = noise.slice(i * ranges.length, (i + 1) * ranges.length);
        blocks.forEach((b, k) => b === block && (sums.noise[k] = q));
      });
    }
    return sums;
  }

  /** Each block's min and max over the staged tensor (blocks of `block` input rows, as a block grid indexes them). */
  blockRanges(staged: StagedTensor, layout: BlockLayout, block: number): { lo: Float32Array; hi: Float32Array } {
    this.blockCheck(staged, layout, [block]);
    const E = gridEntries({ kind: 'block', layout, block });
    const lo = this.arena.resultsAt(staged.size * 4);
    this.arena.ensure(lo + E * 8, `the ranges of ${E} blocks`, this.stagedLabel);
    const { mats, rows, cols } = layout;
    this.exports.blockRanges(this.arena.stage, mats, rows, cols, block, lo, lo + E * 4);
    return {
      lo: new Float32Array(this.arena.buffer, lo, E).slice(),
      hi: new Float32Array(this.arena.buffer, lo + E * 4, E).slice(),
    };
  }

  /**
   * The staged tensor's integer codes under `quantizer` (one byte each: int8/uint8 as stored, 4-bit codes
   * still to be packed), and Σx², Σ(x − deq(q))² of what they dequantize to, as an export stores them
   * (assembly/quantize.ts): `stored` is the float type DequantizeLinear writes them in (its scale's). The grid
   * must cover exactly the staged elements.
   */
  quantize(
    staged: StagedTensor,
    quantizer: GridQuantizer,
    stored: StoredFloat = 'float32',
  ): { codes: Uint8Array; signal: number; noise: number } {
    const { grid, scales, zeroPoints, qmin, qmax } = quantizer;
    if (grid.kind === 'channel') this.check(staged, grid.layout);
    else this.blockCheck(staged, grid.layout, [grid.block]);
    const E = gridEntries(grid);
    if (scales.length !== E || zeroPoints.length !== E)
      throw new Error(`a quantizer of ${scales.length} scales and ${zeroPoints.length} zero points for ${E} entries`);
    const n = staged.size;
    const params = this.arena.resultsAt(n * 4);
    const out = alignUp(params + E * 8, 8);
    const codes = out + 16;
    this.arena.ensure(codes + n, `the integer codes of ${n} weights`, this.stagedLabel);
    const { f32, f64 } = this.arena.views;
    f32.set(scales, params / 4);
    f32.set(zeroPoints, params / 4 + E);
    const src = this.arena.stage;
    if (grid.kind === 'channel') {
      const { groups, outer, cg, inner } = grid.layout;
      this.exports.quantizeChannels(src, groups, outer, cg, inner, params, qmin, qmax, codes, out, STORED[stored]);
    } else {
      const { mats, rows, cols } = grid.layout;
      this.exports.quantizeBlocks(src, mats, rows, cols, grid.block, params, qmin, qmax, codes, out, STORED[stored]);
    }
    return {
      codes: new Uint8Array(this.arena.buffer, codes, n).slice(),
      signal: f64[out / 8]!,
      noise: f64[out / 8 + 1]!,
    };
  }

  /** channel < 0: the whole tensor. */
  histogram(
    staged: StagedTensor,
    layout: ChannelLayout,
    channel: number,
    lo: number,
    hi: number,
    bins: number,
  ): HistogramCounts {
    this.check(staged, layout);
    if (!(bins >= 1 && Number.isInteger(bins)))
      throw new RangeError(`histogram bins must be a positive integer, got ${bins}`);
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi >= lo))
      throw new RangeError(`histogram range [${lo}, ${hi}] is not a finite interval`);
    if (channel >= channelCount(layout))
      throw new RangeError(`channel ${channel} out of range (${channelCount(layout)} channels)`);
    const out = this.arena.resultsAt(staged.size * 4);
    // The kernel counts into several tables (assembly/histogram.ts), all zeroed here, and sums them into the first.
    const bytes = this.exports.histogramBytes(bins);
    this.arena.ensure(out + bytes, 'a histogram', this.stagedLabel);
    new Uint8Array(this.arena.buffer, out, bytes).fill(0);
    const { groups, outer, cg, inner } = layout;
    this.exports.histogram(this.arena.stage, groups, outer, cg, inner, channel, lo, hi, bins, out);
    const all = new Uint32Array(this.arena.buffer, out, bins + 3).slice();
    return { counts: all.subarray(0, bins), below: all[bins]!, above: all[bins + 1]!, nonFinite: all[bins + 2]! };
  }

  /** A block layout covers exactly the staged elements, and every block size is a positive int32. */
  private blockCheck(staged: StagedTensor, layout: BlockLayout, blocks: readonly number[]): void {
    this.checkStaged(staged);
    const label = this.stagedLabel;
    const { mats, rows, cols } = layout;
    if (![mats, rows, cols].every((n) => Number.isSafeInteger(n) && n >= 0) || mats * rows * cols !== this.stagedSize) {
      throw new WeightlensError(
        'BAD_TENSOR',
        `${labelText(label)}: its ${this.stagedSize} elements do not form ${mats} × ${rows} input rows × ${cols}`,
        label,
      );
    }
    for (const block of blocks) {
      if (!(Number.isInteger(block) && block >= 1 && block <= 2 ** 31 - 1))
        throw new WeightlensError('USAGE', `${labelText(label)}: block size ${block} is not a positive integer`, label);
    }
  }

  /**
   * The label `staged` was staged with; throws if a later stage() replaced it. For the other wrappers over
   * this Wasm instance (quant-search-kernels.ts), which run kernels on the staged tensor.
   */
  labelOf(staged: StagedTensor): TensorLabel {
    this.checkStaged(staged);
    return this.stagedLabel;
  }

  private checkStaged(staged: StagedTensor): void {
    if (staged.generation !== this.generation) throw new Error('staged tensor was replaced by a later stage()');
  }

  /**
   * The kernels' preconditions, checked before they touch memory: the layout covers exactly the staged
   * elements, and there are no more channels than elements (per-channel results stay bounded by the
   * tensor's real content, whatever its dims claim).
   */
  private check(staged: StagedTensor, layout: ChannelLayout): void {
    this.checkStaged(staged);
    const label = this.stagedLabel;
    const { groups, outer, cg, inner } = layout;
    const parts = [groups, outer, cg, inner];
    if (!parts.every((n) => Number.isSafeInteger(n) && n >= 0) || elementCount(layout) !== this.stagedSize) {
      throw new WeightlensError(
        'BAD_TENSOR',
        `${labelText(label)}: its ${this.stagedSize} elements do not form ${groups} groups × ${outer} × ${cg} channels × ${inner}`,
        label,
      );
    }
    const C = channelCount(layout);
    if (C > this.stagedSize) {
      throw new WeightlensError(
        'BAD_TENSOR',
        `${labelText(label)} has ${C} output channels but ${this.stagedSize} elements: its channels hold no weights`,
        label,
      );
    }
    if (C > MAX_CHANNELS) {
      throw new WeightlensError(
        'OUT_OF_MEMORY',
        `${labelText(label)} has ${C} output channels, more than the ${MAX_CHANNELS} whose per-channel results weightlens holds`,
        label,
      );
    }
  }
}

/** Bytes of the results for C channels; offsets mirror assembly/layout.ts. */
function statsOffsets(C: number) {
  const meanAt = Math.ceil((C * 12) / 8) * 8;
  const stdAt = meanAt + C * 8;
  const nanAt = stdAt + C * 8;
  return { meanAt, stdAt, nanAt, end: nanAt + C * 12 };
}

export const statsResultBytes = (C: number) => statsOffsets(C).end;

function readStats(buffer: ArrayBuffer, out: number, C: number): ChannelStatsArrays {
  const offsets = statsOffsets(C);
  const [meanAt, stdAt, nanAt] = [out + offsets.meanAt, out + offsets.stdAt, out + offsets.nanAt];
  return {
    min: new Float32Array(buffer, out, C).slice(),
    max: new Float32Array(buffer, out + C * 4, C).slice(),
    absMax: new Float32Array(buffer, out + C * 8, C).slice(),
    mean: new Float64Array(buffer, meanAt, C).slice(),
    std: new Float64Array(buffer, stdAt, C).slice(),
    nan: new Uint32Array(buffer, nanAt, C).slice(),
    posInf: new Uint32Array(buffer, nanAt + C * 4, C).slice(),
    negInf: new Uint32Array(buffer, nanAt + C * 8, C).slice(),
  };
}
