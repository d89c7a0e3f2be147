// Per-layer weight arithmetic for CLE, for every layout the kit knows (docs/definitions.md): which element of a
// weight joins which output channel and which input channel. A weight is a sequence of runs of `k`
// contiguous elements (a kernel) in memory order. Most layouts are a grid of runs [rows, cols]: Conv
// [Cout, Cin, k…] (rows are outputs), ConvTranspose [Cin, Cout, k…] and Gemm/MatMul [K, N] (rows are
// inputs), Gemm transB=1 [N, K]; the Wasm kernels work on grids directly. Grouped convolutions (depthwise
// included) use a table of each run's output and input channel.
import type { WeightLayer } from '../analysis/layers.js';
import type { CleKernels } from '../kernels/cle-kernels.js';

export interface Connectivity {
  readonly cout: number;
  readonly cin: number;
  /** Elements per run (kernel size; 1 for Gemm/MatMul). */
  readonly k: number;
  /** Ungrouped layouts: the run grid, and whether its rows are the outputs (else the inputs). */
  readonly grid?: { rows: number; cols: number; rowsAreOutputs: boolean };
  /** Grouped layouts: output and input channel of run r. */
  readonly table?: { out: Int32Array; in: Int32Array };
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
    if (g === 1) return { cout, cin, k, grid: { rows: d0, cols: d1, rowsAreOutputs: conv } };
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
    return { cout, cin, k, table: { out, in: inn } };
  }
  const [rows, cols] = [shape[0]!, shape[1]!];
  const rowsAreOutputs = layer.channelAxis === 0; // Gemm transB=1 [N, K]; else [K, N]
  return {
    cout: rowsAreOutputs ? rows : cols,
    cin: rowsAreOutputs ? cols : rows,
    k: 1,
    grid: { rows, cols, rowsAreOutputs },
  };
}

/** [Cout × Cin] of max |w| over each run (0 where output and input are not connected); Wasm kernel. */
export async function absMaxMatrix(
  kernels: CleKernels,
  weights: Float32Array,
  conn: Connectivity,
): Promise<Float64Array> {
  const runMax = await kernels.runAbsMax(weights, conn.k);
  const m = new Float64Array(conn.cout * conn.cin);
  if (conn.grid?.rowsAreOutputs) m.set(runMax);
  else if (conn.grid) {
    const { rows, cols } = conn.grid; // rows are inputs: transpose
    for (let a = 0; a < rows; a++) for (let b = 0; b < cols; b++) m[b * conn.cin + a] = runMax[a * cols + b]!;
  } else {
    const { out, in: inn } = conn.table!;
    for (let r = 0; r < out.length; r++) m[out[r]! * conn.cin + inn[r]!] = runMax[r]!;
  }
  return m;
}

/** max |w| of each output channel (what a BatchNorm fold scales), without the [Cout × Cin] matrix. */
export async function outputAbsMax(
  kernels: CleKernels,
  weights: Float32Array,
  conn: Connectivity,
): Promise<Float64Array> {
  const runMax = await kernels.runAbsMax(weights, conn.k);
  const result = new Float64Array(conn.cout);
  for (let r = 0; r < runMax.length; r++) {
    const o = runChannels(conn, r)[0];
    if (runMax[r]! > result[o]!) result[o] = runMax[r]!;
  }
  return result;
}

/** w[o, i, …] *= inScale[i] / outScale[o], in place; Wasm kernels. */
export async function scaleWeights(
  kernels: CleKernels,
  weights: Float32Array,
  conn: Connectivity,
  outScale: Float64Array,
  inScale: Float64Array,
): Promise<void> {
  if (conn.grid) {
    const divide = Float32Array.from(outScale, (s) => 1 / s);
    const multiply = Float32Array.from(inScale);
    const [rowF, colF] = conn.grid.rowsAreOutputs ? [divide, multiply] : [multiply, divide];
    await kernels.scaleGrid(weights, conn.k, rowF, colF);
    return;
  }
  const { out, in: inn } = conn.table!;
  const factors = new Float32Array(out.length);
  for (let r = 0; r < out.length; r++) factors[r] = inScale[inn[r]!]! / outScale[out[r]!]!;
  await kernels.scaleRuns(weights, conn.k, factors);
}

/**
 * Σ over each output's runs of (Σ_kernel w) · shift[input]: what a constant shift of each input channel
 * adds to each output (high-bias absorption). The kernel sums are a Wasm kernel; the rest is Cout·Cin long.
 */
export async function weightedShift(
  kernels: CleKernels,
  weights: Float32Array,
  conn: Connectivity,
  shift: Float64Array,
): Promise<Float64Array> {
  const sums = await kernels.runSums(weights, conn.k);
  const result = new Float64Array(conn.cout);
  for (let r = 0; r < sums.length; r++) {
    const [o, i] = runChannels(conn, r);
    result[o] = result[o]! + sums[r]! * shift[i]!;
  }
  return result;
}

/** Output and input channel of run r. */
function runChannels(conn: Connectivity, r: number): [number, number] {
  if (conn.table) return [conn.table.out[r]!, conn.table.in[r]!];
  const { cols, rowsAreOutputs } = conn.grid!;
  const [a, b] = [Math.floor(r / cols), r % cols];
  return rowsAreOutputs ? [a, b] : [b, a];
}
