// Typed wrapper over the data-free parameter search kernels (assembly/clip-search.ts, hqq-zero-points.ts):
// they run on the tensor a Kernels staged (no JS copy of the weight) and return a GridQuantizer with the
// per-entry error sums a report needs for SQNR before and after. The plain-JS reference is
// quant-search-reference.ts. Call from inside the Kernels.exclusive() task that staged the tensor.
import { WeightlensError } from '../errors.js';
import type { BlockLayout, ChannelLayout, IntegerRange, Kernels, StagedTensor } from './kernels.js';
import { blockRows, gridEntries, type GridQuantizer, type QuantGrid } from './quantizer.js';
import { instantiateKernels, type KernelExports } from './wasm-module.js';
import { WasmArena, alignUp, labelText, type TensorLabel } from './wasm-memory.js';

/** Clip ratios tried: r = 1 − step/64 for step 0..31 (1 down to 0.52); see docs/definitions.md. */
export const CLIP_STEPS = 32;
export const clipRatio = (step: number) => 1 - step / 64;

/** Per searched entry (grid entries in their order; one for the whole tensor when per-tensor). */
export interface ClipSearchResult {
  readonly quantizer: GridQuantizer;
  /** The chosen step k: r = clipRatio(k); 0 is min-max. */
  readonly steps: Int32Array;
  /** Σ(x − q(x))² with the min-max parameters (r = 1). */
  readonly minMaxNoise: Float64Array;
  /** Σ(x − q(x))² with the chosen parameters (≤ minMaxNoise). */
  readonly noise: Float64Array;
  /** Σx². */
  readonly signal: Float64Array;
}

/** Per block (the grid's order). */
export interface HqqResult {
  readonly quantizer: GridQuantizer;
  /** The float zero points onnxruntime's HQQ keeps (MatMulNBits takes them), before rounding. */
  readonly floatZeroPoints: Float32Array;
  /** Σ(x − q(x))² with the min-max zero point HQQ starts from. */
  readonly startNoise: Float64Array;
  /** Σ(x − q(x))² with the kept integer zero point (≤ startNoise). */
  readonly noise: Float64Array;
  readonly signal: Float64Array;
  /** Σ(x − q(x))² with the float zero points, as MatMulNBits dequantizes: (q − z)·scale. */
  readonly floatNoise: Float64Array;
  /** HQQ steps taken (at most 20). */
  readonly iterations: number;
}

/** 'simd' runs the production kernel; 'scalar' its twin. */
export type SearchVariant = 'simd' | 'scalar';

export interface ClipSearchOptions {
  /** One clip ratio for the whole tensor (a channel grid whose channels all get the same pair). */
  readonly perTensor?: boolean;
  readonly variant?: SearchVariant;
}

type BlockGrid = Extract<QuantGrid, { kind: 'block' }>;

/** Bytes the clip-search kernel keeps before its gathered copy of an entry (assembly/clip-search.ts GATHER_AT). */
const CANDIDATE_SCRATCH = 32 * 4 * 4 + 32 * 8;

export class QuantSearchKernels {
  private readonly arena: WasmArena;

  private constructor(
    private readonly exports: KernelExports,
    private readonly kernels: Kernels,
  ) {
    this.arena = new WasmArena(exports.memory);
  }

  /** The realm's one Wasm instance; `kernels` stages the tensors searched. */
  static async load(kernels: Kernels): Promise<QuantSearchKernels> {
    return new QuantSearchKernels(await instantiateKernels(), kernels);
  }

  /**
   * Min-max and clipping search over the staged tensor for each entry of `grid` (or once for the whole
   * tensor: `perTensor`), in the integer range `range`. Null when the tensor holds NaN or ±Inf, as
   * quantReport.
   */
  clipSearch(
    staged: StagedTensor,
    grid: QuantGrid,
    range: IntegerRange,
    { perTensor = false, variant = 'simd' }: ClipSearchOptions = {},
  ): ClipSearchResult | null {
    const label = this.kernels.labelOf(staged);
    checkGrid(grid, staged.size, label);
    checkRange(range, label);
    if (perTensor && grid.kind !== 'channel')
      throw new WeightlensError('USAGE', `${labelText(label)}: per-tensor search takes a channel grid`, label);
    const { qmin, qmax } = range;
    const [E, gathered] = perTensor ? [1, 0] : [gridEntries(grid), gatheredSize(grid)];
    const scratch = this.arena.resultsAt(staged.size * 4);
    const out = alignUp(scratch + CANDIDATE_SCRATCH + gathered * 4);
    this.arena.ensure(out + resultBytes(E, 3), `clipping search of ${E} entries`, label);
    const src = this.arena.stage;
    const scalar = variant === 'scalar';
    let nonFinite: number;
    if (grid.kind === 'block') {
      const { mats, rows, cols } = grid.layout;
      const kernel = scalar ? this.exports.clipSearchBlocksScalar : this.exports.clipSearchBlocks;
      nonFinite = kernel(src, mats, rows, cols, grid.block, qmin, qmax, scratch, out);
    } else {
      const { groups, outer, cg, inner } = perTensor ? wholeTensor(staged.size) : grid.layout;
      const kernel = scalar ? this.exports.clipSearchChannelsScalar : this.exports.clipSearchChannels;
      nonFinite = kernel(src, groups, outer, cg, inner, qmin, qmax, scratch, out);
    }
    if (nonFinite > 0) return null;
    const buffer = this.arena.buffer;
    const f64At = out + Math.ceil((E * 12) / 8) * 8;
    // Per-tensor: the one pair for every channel.
    const pairs = (at: number) =>
      perTensor
        ? new Float32Array(gridEntries(grid)).fill(new Float32Array(buffer, at, 1)[0]!)
        : new Float32Array(buffer, at, E).slice();
    const [scales, zeroPoints] = [pairs(out), pairs(out + E * 4)];
    return {
      quantizer: { grid, scales, zeroPoints, qmin, qmax },
      steps: new Int32Array(buffer, out + E * 8, E).slice(),
      minMaxNoise: new Float64Array(buffer, f64At, E).slice(),
      noise: new Float64Array(buffer, f64At + E * 8, E).slice(),
      signal: new Float64Array(buffer, f64At + E * 16, E).slice(),
    };
  }

  /**
   * HQQ zero-point refinement of an asymmetric block grid ([0, qmax], 4 or 8 bits) over the staged tensor:
   * integer zero points, each kept only where it lowers its block's error. Null when the tensor holds NaN
   * or ±Inf.
   */
  hqq(staged: StagedTensor, grid: BlockGrid, range: IntegerRange, variant: SearchVariant = 'simd'): HqqResult | null {
    const label = this.kernels.labelOf(staged);
    checkGrid(grid, staged.size, label);
    checkRange(range, label);
    if (range.qmin !== 0 || grid.kind !== 'block')
      throw new WeightlensError(
        'USAGE',
        `${labelText(label)}: HQQ refines asymmetric ([0, q]) block zero points`,
        label,
      );
    const E = gridEntries(grid);
    const scratch = this.arena.resultsAt(staged.size * 4);
    // Float zero points f64[E], two block sums, two blocks interleaved (assembly/hqq-zero-points.ts).
    const out = alignUp(scratch + E * 8 + 16 + Math.min(grid.block, grid.layout.rows) * 8);
    this.arena.ensure(out + resultBytes(E, 4), `HQQ of ${E} blocks`, label);
    const { mats, rows, cols } = grid.layout;
    const kernel = variant === 'scalar' ? this.exports.hqqZeroPointsScalar : this.exports.hqqZeroPoints;
    const iterations = kernel(this.arena.stage, mats, rows, cols, grid.block, range.qmax, scratch, out);
    if (iterations < 0) return null;
    const buffer = this.arena.buffer;
    const f64At = out + Math.ceil((E * 12) / 8) * 8;
    return {
      quantizer: {
        grid,
        scales: new Float32Array(buffer, out + E * 8, E).slice(),
        zeroPoints: new Float32Array(buffer, out, E).slice(),
        qmin: 0,
        qmax: range.qmax,
      },
      floatZeroPoints: new Float32Array(buffer, out + E * 4, E).slice(),
      startNoise: new Float64Array(buffer, f64At, E).slice(),
      noise: new Float64Array(buffer, f64At + E * 8, E).slice(),
      signal: new Float64Array(buffer, f64At + E * 16, E).slice(),
      floatNoise: new Float64Array(buffer, f64At + E * 24, E).slice(),
      iterations,
    };
  }
}

/** Three f32 and `f64Arrays` f64 arrays of E (assembly/clip-search.ts and hqq-zero-points.ts results). */
const resultBytes = (E: number, f64Arrays: number) => Math.ceil((E * 12) / 8) * 8 + E * 8 * f64Arrays;

const wholeTensor = (size: number): ChannelLayout => ({ groups: 1, outer: 1, cg: 1, inner: size });

/** Values of the largest entry of a grid. */
function entrySize(grid: QuantGrid): number {
  return grid.kind === 'channel' ? grid.layout.outer * grid.layout.inner : Math.min(grid.block, grid.layout.rows);
}

/** Values the kernel copies together per entry: blocks, and channels made of several runs. */
const gatheredSize = (grid: QuantGrid) => (grid.kind === 'channel' && grid.layout.outer <= 1 ? 0 : entrySize(grid));

const layoutParts = (grid: QuantGrid): number[] => {
  const l: ChannelLayout | BlockLayout = grid.layout;
  return 'groups' in l ? [l.groups, l.outer, l.cg, l.inner] : [l.mats, l.rows, l.cols];
};

/** The grid covers exactly the staged values, every entry holds at least one, blocks are whole numbers. */
function checkGrid(grid: QuantGrid, size: number, label: TensorLabel): void {
  const parts = layoutParts(grid);
  if (!parts.every((n) => Number.isSafeInteger(n) && n >= 0) || parts.reduce((a, b) => a * b, 1) !== size)
    throw new WeightlensError(
      'BAD_TENSOR',
      `${labelText(label)}: its ${size} elements do not form [${parts.join(', ')}]`,
      label,
    );
  if (grid.kind === 'block' && !(Number.isInteger(grid.block) && grid.block >= 1 && grid.block <= 2 ** 31 - 1))
    throw new WeightlensError(
      'USAGE',
      `${labelText(label)}: block size ${grid.block} is not a positive integer`,
      label,
    );
  if (grid.kind === 'block' && blockRows(grid.layout, grid.block) * grid.layout.cols * grid.layout.mats > size)
    throw new WeightlensError('BAD_TENSOR', `${labelText(label)}: more blocks than elements`, label);
  if (grid.kind === 'channel' && entrySize(grid) === 0 && size > 0)
    throw new WeightlensError('BAD_TENSOR', `${labelText(label)}: its channels hold no weights`, label);
}

function checkRange({ qmin, qmax }: IntegerRange, label: TensorLabel): void {
  if (!(Number.isInteger(qmax) && qmax >= 1 && qmax < 2 ** 24 && (qmin === 0 || qmin === -qmax)))
    throw new WeightlensError('USAGE', `integer range [${qmin}, ${qmax}] is neither [−q, q] nor [0, q]`, label);
}
