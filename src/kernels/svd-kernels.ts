// Typed wrapper over the singular-value kernels (assembly/gram.ts, symmetric-eigen.ts,
// singular-vectors.ts): the staged tensor viewed as a row-major matrix [rows, cols], its Gram matrix on the
// smaller side, that matrix's eigenvalues (σ² ) and, for a rank-k factorization, its eigenvectors and the
// other side's vectors. Float64 throughout; docs/definitions.md, "Singular values". The plain-JS reference
// is svd-reference.ts. Call from inside the Kernels.exclusive() task that staged the tensor.
import { WeightlensError } from '../errors.js';
import type { Kernels, StagedTensor } from './kernels.js';
import { instantiateKernels, type KernelExports } from './wasm-module.js';
import { WasmArena, alignUp, labelText, type TensorLabel } from './wasm-memory.js';

/**
 * The largest Gram side (min(rows, cols)) decomposed: its Gram matrix and eigenvectors take 2·8·side² bytes
 * (256 MB at 4096, inside the 512 MB memory bar), and the O(side³) work grows to tens of seconds there
 * (measured in Node: 2.6 s for the values at 2048). Real weights stay far below it (ResNet-50: 1024; a 4096-wide transformer's square matrices meet it).
 */
export const MAX_GRAM_SIDE = 4096;

/** A = Σ_j values[j]·u_j·v_jᵀ, j < s = min(rows, cols). */
export interface SingularVectors {
  /** σ_j, descending. */
  readonly values: Float64Array;
  /** [s, rows]: row j is u_j (unit; zero where σ_j is below the Gram's resolution, see singularVectors). */
  readonly left: Float64Array;
  /** [s, cols]: row j is v_j. */
  readonly right: Float64Array;
}

/**
 * Below σ_max·√(s·ε) a singular value is under what the Gram matrix resolves (its eigenvalues carry an
 * error near s·ε·σ_max²): the long side's vector there is noise, and is left zero.
 */
export const resolvedCut = (sigmaMax: number, side: number) => sigmaMax * Math.sqrt(side * Number.EPSILON);

/** σ = √max(λ, 0) of eigenvalues λ (descending, so σ stays descending). */
export const singularFromEigen = (eigen: Float64Array) => eigen.map((x) => Math.sqrt(Math.max(x, 0)));

/**
 * The weight W [cout, cin, kh, kw] as the Spatial SVD matrix [cout·kh, cin·kw]: element (o·kh + y, c·kw + x)
 * is W[o, c, y, x]. A fill for Kernels.stage.
 */
export function spatialMatrix(
  weight: Float32Array,
  [cout, cin, kh, kw]: readonly [number, number, number, number],
  dest: Float32Array,
): void {
  if (cout * cin * kh * kw !== weight.length || dest.length !== weight.length)
    throw new Error(`a Spatial SVD of ${weight.length} weights shaped [${cout}, ${cin}, ${kh}, ${kw}]`);
  const cols = cin * kw;
  let i = 0;
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) dest[(o * kh + y) * cols + c * kw + x] = weight[i++]!;
}

/** Where one decomposition's arrays sit in Wasm memory (byte addresses). */
interface Placement {
  side: number;
  len: number;
  transposed: number;
  gram: number;
  eigen: number;
  scratch: number;
  vectors: number;
  long: number;
}

export class SvdKernels {
  private readonly arena: WasmArena;

  private constructor(
    private readonly exports: KernelExports,
    private readonly kernels: Kernels,
  ) {
    this.arena = new WasmArena(exports.memory);
  }

  /** The realm's one Wasm instance; `kernels` stages the matrices decomposed. */
  static async load(kernels: Kernels): Promise<SvdKernels> {
    return new SvdKernels(await instantiateKernels(), kernels);
  }

  /** The singular values of the staged tensor viewed as [rows, cols], descending (min(rows, cols) of them). */
  singularValues(staged: StagedTensor, rows: number, cols: number): Float64Array {
    const label = this.kernels.labelOf(staged);
    const at = this.place(staged, rows, cols, false, label);
    return singularFromEigen(this.decompose(at, rows, cols, false, label));
  }

  /** The singular values and both sides' vectors of the staged tensor viewed as [rows, cols]. */
  singularVectors(staged: StagedTensor, rows: number, cols: number): SingularVectors {
    const label = this.kernels.labelOf(staged);
    const at = this.place(staged, rows, cols, true, label);
    const values = singularFromEigen(this.decompose(at, rows, cols, true, label));
    const { side, len } = at;
    const sigma = at.scratch; // free again once the eigensolver is done
    new Float64Array(this.arena.buffer, sigma, side).set(values);
    const x = rows > cols ? at.transposed : this.arena.stage;
    this.exports.singularVectors(x, side, len, at.vectors, sigma, resolvedCut(values[0] ?? 0, side), at.long);
    const short = new Float64Array(this.arena.buffer, at.vectors, side * side).slice();
    const long = new Float64Array(this.arena.buffer, at.long, side * len).slice();
    return rows > cols ? { values, left: long, right: short } : { values, left: short, right: long };
  }

  private place(staged: StagedTensor, rows: number, cols: number, withVectors: boolean, label: TensorLabel): Placement {
    if (!(
      Number.isSafeInteger(rows) &&
      Number.isSafeInteger(cols) &&
      rows >= 0 &&
      cols >= 0 &&
      rows * cols === staged.size
    ))
      throw new WeightlensError(
        'BAD_TENSOR',
        `${labelText(label)}: its ${staged.size} elements do not form a [${rows}, ${cols}] matrix`,
        label,
      );
    const [side, len] = rows > cols ? [cols, rows] : [rows, cols];
    if (side > MAX_GRAM_SIDE)
      throw new WeightlensError(
        'OUT_OF_MEMORY',
        `${labelText(label)}: its [${rows}, ${cols}] matrix has a Gram side of ${side}, more than the ${MAX_GRAM_SIDE} whose singular values weightlens computes`,
        label,
      );
    const transposed = this.arena.resultsAt(staged.size * 4);
    const gram = alignUp(transposed + (rows > cols ? staged.size * 4 : 0));
    const eigen = gram + side * side * 8;
    const scratch = eigen + side * 16; // e f64[side], then work f64[2·side]
    const vectors = alignUp(scratch + side * 24);
    const long = vectors + side * side * 8;
    const end = withVectors ? long + side * len * 8 : vectors;
    this.arena.ensure(end, `the singular ${withVectors ? 'vectors' : 'values'} of [${rows}, ${cols}]`, label);
    return { side, len, transposed, gram, eigen, scratch, vectors, long };
  }

  /** Gram matrix and its eigen-decomposition; the eigenvalues (descending). */
  private decompose(at: Placement, rows: number, cols: number, vectors: boolean, label: TensorLabel): Float64Array {
    const { side } = at;
    if (this.exports.gramMatrix(this.arena.stage, rows, cols, at.transposed, at.gram) !== 0)
      throw new WeightlensError(
        'BAD_TENSOR',
        `${labelText(label)} holds NaN or ±Inf: it has no singular values`,
        label,
      );
    const e = at.scratch;
    const steps = this.exports.symmetricEigen(at.gram, side, at.eigen, e, e + side * 8, vectors ? at.vectors : 0);
    if (steps < 0)
      throw new WeightlensError(
        'INTERNAL',
        `${labelText(label)}: the eigenvalues of its ${side} × ${side} Gram matrix did not converge in ${30 * side} QL steps`,
        label,
      );
    return new Float64Array(this.arena.buffer, at.eigen, side).slice();
  }
}
