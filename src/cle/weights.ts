// Per-layer weight arithmetic for CLE, for every layout the kit knows (docs/definitions.md): which element of a
// weight joins which output channel and which input channel. A weight is a sequence of runs of `k`
// contiguous elements (a kernel) in memory order. Most layouts are a grid of runs [rows, cols]: Conv
// [Cout, Cin, k…] (rows are outputs), ConvTranspose [Cin, Cout, k…] and Gemm/MatMul [K, N] (rows are
// inputs), Gemm transB=1 [N, K]; the Wasm kernels work on grids directly. Grouped convolutions (depthwise
// included) use a table of each run's output and input channel. Every function takes a block of whole
// rows of the weight's first dimension (WeightRows, rows.ts), so a weight larger than a chunk is never
// held whole.
import type { WeightLayer } from '../analysis/layers.js';
import type { CleKernels } from '../kernels/cle-kernels.js';
import type { WeightRows } from './rows.js';

export interface Connectivity {
  readonly cout: number;
  readonly cin: number;
  /** Elements per run (kernel size; 1 for Gemm/MatMul). */
  readonly k: number;
  /** Ungrouped layouts: the run grid, and whether its rows are the outputs (else the inputs). */
  readonly grid?: { rows: number; cols: number; rowsAreOutputs: boolean };
  /** Grouped layouts: output and input channel of run r; runs are [d0, perRow] in memory order. */
  readonly table?: { out: Int32Array; in: Int32Array; perRow: number };
  /** The weight's first dimension: a pass reads blocks of whole rows of it. */
  readonly rows: number;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

export function connectivity(layer: WeightLayer): Connectivity {
  const shape = layer.weight.shape;
  if (layer.op === 'Conv' || layer.op === 'ConvTranspose') {
    const [d0, d1] = [shape[0]!, shape[1]!];
    const k = product(shape.slice(2));
    const g = layer.groups;
    const conv = layer.op === 'Conv';
    const [cout, cin] = conv ? [d0, d1 * g] : [d1 * g, d0];
    if (g === 1) return { cout, cin, k, rows: d0, grid: { rows: d0, cols: d1, rowsAreOutputs: conv } };
    const out = new Int32Array(d0 * d1),
      inn = new Int32Array(d0 * d1);
    for (let a = 0, r = 0; a < d0; a++) {
      const group = Math.floor(a / (d0 / g));
      for (let b = 0; b < d1; b++, r++) {
        // Conv: output a reads input group·(Cin/g) + b. ConvTranspose: input a feeds output group·(Cout/g) + b.
        out[r] = conv ? a : group * d1 + b;
        inn[r] = conv ? group * d1 + b : a;
      }
    }
    return { cout, cin, k, rows: d0, table: { out, in: inn, perRow: d1 } };
  }
  const [rows, cols] = [shape[0]!, shape[1]!];
  const rowsAreOutputs = layer.channelAxis === 0; // Gemm transB=1 [N, K]; else [K, N]
  return {
    cout: rowsAreOutputs ? rows : cols,
    cin: rowsAreOutputs ? cols : rows,
    k: 1,
    rows,
    grid: { rows, cols, rowsAreOutputs },
  };
}

/** Runs in one row of the weight's first dimension (the grid's columns; a grouped layout's second dim). */
const runsPerRow = (conn: Connectivity) => (conn.grid ? conn.grid.cols : conn.table!.perRow);

/**
 * What a pass gathers of max |w| over each run: each output's maximum (`outMax`, over every input), each
 * input's (`inMax`), and/or the whole [Cout × Cin] matrix (0 where not connected). NaN never wins.
 */
export interface RunRanges {
  outMax?: Float64Array;
  inMax?: Float64Array;
  matrix?: Float32Array;
}

/** Adds a block of rows to `into` (Wasm kernels for the maxima). */
export async function addRanges(
  kernels: CleKernels,
  rows: WeightRows,
  conn: Connectivity,
  into: RunRanges,
): Promise<void> {
  const { outMax, inMax, matrix } = into;
  if (conn.grid && conn.k === 1 && !matrix) {
    // Runs of one weight (Gemm, MatMul, 1×1 kernels): the grid's row and column maxima are the channels'.
    const { rowMax, colMax } = await kernels.gridAbsMax(rows.values, rows.count, conn.grid.cols);
    const [byRow, byCol] = conn.grid.rowsAreOutputs ? [outMax, inMax] : [inMax, outMax];
    rowMax.forEach((v, a) => byRow && v > byRow[rows.first + a]! && (byRow[rows.first + a] = v));
    colMax.forEach((v, b) => byCol && v > byCol[b]! && (byCol[b] = v));
    return;
  }
  const runMax = await kernels.runAbsMax(rows.values, conn.k);
  const note = (o: number, i: number, v: number) => {
    if (outMax && v > outMax[o]!) outMax[o] = v;
    if (inMax && v > inMax[i]!) inMax[i] = v;
    if (matrix) matrix[o * conn.cin + i] = v;
  };
  forEachRun(conn, rows, (r, o, i) => note(o, i, runMax[r]!));
}

/** Σ over the block's runs of (Σ_kernel w) · shift[input], added to `into[output]` (high-bias absorption). */
export async function addShift(
  kernels: CleKernels,
  rows: WeightRows,
  conn: Connectivity,
  shift: Float64Array,
  into: Float64Array,
): Promise<void> {
  // A run of one weight is its own sum (exact in float64, as the kernel's would be).
  const sums = conn.k === 1 ? rows.values : await kernels.runSums(rows.values, conn.k);
  forEachRun(conn, rows, (r, o, i) => {
    into[o] = into[o]! + sums[r]! * shift[i]!;
  });
}

/** The float32 factors a layer's weights are multiplied by: w[o, i, …] *= inScale[i] / outScale[o]. */
export interface LayerFactors {
  /** Grids: per row and per column of runs. */
  grid?: { rowF: Float32Array; colF: Float32Array };
  /** Grouped layouts: per run. */
  runs?: Float32Array;
}

export function layerFactors(conn: Connectivity, outScale: Float64Array, inScale: Float64Array): LayerFactors {
  if (conn.grid) {
    const divide = Float32Array.from(outScale, (s) => 1 / s);
    const multiply = Float32Array.from(inScale);
    const [rowF, colF] = conn.grid.rowsAreOutputs ? [divide, multiply] : [multiply, divide];
    return { grid: { rowF, colF } };
  }
  const { out, in: inn } = conn.table!;
  const runs = new Float32Array(out.length);
  for (let r = 0; r < out.length; r++) runs[r] = inScale[inn[r]!]! / outScale[out[r]!]!;
  return { runs };
}

/** Scales a block of rows in place by `factors`; Wasm kernels. */
export async function scaleRows(
  kernels: CleKernels,
  rows: WeightRows,
  conn: Connectivity,
  factors: LayerFactors,
): Promise<void> {
  if (factors.grid) {
    const rowF = factors.grid.rowF.subarray(rows.first, rows.first + rows.count);
    await kernels.scaleGrid(rows.values, conn.k, rowF, factors.grid.colF);
    return;
  }
  const perRow = runsPerRow(conn);
  await kernels.scaleRuns(
    rows.values,
    conn.k,
    factors.runs!.subarray(rows.first * perRow, (rows.first + rows.count) * perRow),
  );
}

/** Each run of the block with its index in the block and its output and input channel. */
function forEachRun(conn: Connectivity, rows: WeightRows, visit: (r: number, o: number, i: number) => void): void {
  if (conn.grid) {
    const { cols, rowsAreOutputs } = conn.grid;
    for (let a = rows.first, r = 0; a < rows.first + rows.count; a++)
      for (let b = 0; b < cols; b++, r++) {
        if (rowsAreOutputs) visit(r, a, b);
        else visit(r, b, a);
      }
    return;
  }
  const { out, in: inn } = conn.table!;
  const perRow = runsPerRow(conn);
  const first = rows.first * perRow;
  for (let r = 0; r < rows.count * perRow; r++) visit(r, out[first + r]!, inn[first + r]!);
}
