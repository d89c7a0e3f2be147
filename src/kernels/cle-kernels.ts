// Typed wrappers over the Cross Layer Equalization kernels (assembly/run-absmax.ts, scale-runs.ts,
// scale-grid.ts, run-sums.ts and their scalar twins in cle-scalar.ts). A weight is a sequence of runs of
// `k` contiguous float32 values (one kernel joining an output and an input channel); JS owns the memory.
//
// The Wasm instance, hence its memory and staging area, is shared with the statistics kernels: every
// method here stages the weight and runs the kernel inside `Kernels.exclusive`, so it never interleaves
// with another caller's stage(). Do not call these from inside an exclusive() task (it would wait on itself).
import { WeightlensError } from '../errors.js';
import { Kernels } from './kernels.js';
import { instantiateKernels, type KernelExports } from './wasm-module.js';
import { WasmArena } from './wasm-memory.js';

/** 'simd' runs the production kernel; 'scalar' its one-element-at-a-time twin (the reference). */
export type CleKernelVariant = 'simd' | 'scalar';

export class CleKernels {
  private readonly arena: WasmArena;

  private constructor(
    private readonly exports: KernelExports,
    private readonly guard: Kernels,
  ) {
    this.arena = new WasmArena(exports.memory);
  }

  /** The realm's one Wasm instance; `kernels` (if given) is only used for its exclusive() guard. */
  static async load(kernels?: Kernels): Promise<CleKernels> {
    return new CleKernels(await instantiateKernels(), kernels ?? (await Kernels.load()));
  }

  /** max |w| over each run of `k` weights (NaN never wins; an all-NaN run gives 0). */
  async runAbsMax(weights: Float32Array, k: number, variant: CleKernelVariant = 'simd'): Promise<Float32Array> {
    const runs = runCount(weights, k);
    return this.withStaged(weights, runs * 4, 'run ranges', (src, out) => {
      (variant === 'scalar' ? this.exports.runAbsMaxScalar : this.exports.runAbsMax)(src, runs, k, out);
      return new Float32Array(this.arena.buffer, out, runs).slice();
    });
  }

  /** max |w| of each row and of each column of a [rows, cols] block (NaN never wins; an all-NaN line gives 0). */
  async gridAbsMax(
    weights: Float32Array,
    rows: number,
    cols: number,
    variant: CleKernelVariant = 'simd',
  ): Promise<{ rowMax: Float32Array; colMax: Float32Array }> {
    if (rows * cols !== weights.length)
      throw new WeightlensError('BAD_TENSOR', `a [${rows}, ${cols}] grid does not cover ${weights.length} weights`);
    return this.withStaged(weights, (rows + cols) * 4, 'grid ranges', (src, out) => {
      (variant === 'scalar' ? this.exports.gridAbsMaxScalar : this.exports.gridAbsMax)(
        src,
        rows,
        cols,
        out,
        out + rows * 4,
      );
      return {
        rowMax: new Float32Array(this.arena.buffer, out, rows).slice(),
        colMax: new Float32Array(this.arena.buffer, out + rows * 4, cols).slice(),
      };
    });
  }

  /** Σ of each run of `k` weights, accumulated in float64. */
  async runSums(weights: Float32Array, k: number, variant: CleKernelVariant = 'simd'): Promise<Float64Array> {
    const runs = runCount(weights, k);
    return this.withStaged(weights, runs * 8, 'run sums', (src, out) => {
      (variant === 'scalar' ? this.exports.runSumsScalar : this.exports.runSums)(src, runs, k, out);
      return new Float64Array(this.arena.buffer, out, runs).slice();
    });
  }

  /** weights[run r] *= factors[r], in place. */
  async scaleRuns(
    weights: Float32Array,
    k: number,
    factors: Float32Array,
    variant: CleKernelVariant = 'simd',
  ): Promise<void> {
    const runs = runCount(weights, k);
    if (factors.length !== runs)
      throw new WeightlensError('BAD_TENSOR', `${factors.length} run factors for ${runs} runs of ${k} weights`);
    await this.withStaged(weights, runs * 4, 'run factors', (src, at) => {
      new Float32Array(this.arena.buffer, at, runs).set(factors);
      (variant === 'scalar' ? this.exports.scaleRunsScalar : this.exports.scaleRuns)(src, runs, k, at);
      weights.set(new Float32Array(this.arena.buffer, src, weights.length));
    });
  }

  /** weights[a, b, :] *= rowF[a]·colF[b] for a [rows, cols, k] grid of runs, in place. */
  async scaleGrid(
    weights: Float32Array,
    k: number,
    rowF: Float32Array,
    colF: Float32Array,
    variant: CleKernelVariant = 'simd',
  ): Promise<void> {
    const [rows, cols] = [rowF.length, colF.length];
    if (rows * cols * k !== weights.length)
      throw new WeightlensError(
        'BAD_TENSOR',
        `a [${rows}, ${cols}, ${k}] grid does not cover ${weights.length} weights`,
      );
    await this.withStaged(weights, (rows + cols) * 4, 'grid factors', (src, at) => {
      new Float32Array(this.arena.buffer, at, rows).set(rowF);
      new Float32Array(this.arena.buffer, at + rows * 4, cols).set(colF);
      (variant === 'scalar' ? this.exports.scaleGridScalar : this.exports.scaleGrid)(
        src,
        rows,
        cols,
        k,
        at,
        at + rows * 4,
      );
      weights.set(new Float32Array(this.arena.buffer, src, weights.length));
    });
  }

  /** Copies `weights` to the staging area and `extraBytes` of scratch after it, then runs `task(src, scratch)`. */
  private withStaged<T>(
    weights: Float32Array,
    extraBytes: number,
    what: string,
    task: (src: number, scratch: number) => T,
  ): Promise<T> {
    return this.guard.exclusive(async () => {
      const src = this.arena.stage;
      const scratch = this.arena.resultsAt(weights.length * 4);
      this.arena.ensure(scratch + extraBytes, what); // may detach old views: make new ones after it
      new Float32Array(this.arena.buffer, src, weights.length).set(weights);
      return task(src, scratch);
    });
  }
}

/** Kernels never see a run length that does not tile the weights (a zero-size kernel dim included). */
function runCount(weights: Float32Array, k: number): number {
  if (!(Number.isInteger(k) && k >= 1 && weights.length % k === 0))
    throw new WeightlensError('BAD_TENSOR', `runs of ${k} do not divide ${weights.length} weights`);
  return weights.length / k;
}
