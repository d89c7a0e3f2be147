// Per-layer weight arithmetic for CLE, for every layout the kit knows (DESIGN.md §2): which element of a
// weight joins which output channel and which input channel. A weight is a sequence of runs of `k`
// contiguous elements (a kernel), run r joining output out[r] and input in[r]; every layout stores its
// runs in memory order, so run r starts at r·k and the loops below are plain passes over the array.
import type { WeightLayer } from '../analysis/layers.js';
import type { Kernels } from '../kernels/channel-stats.js';

export interface Connectivity {
  readonly cout: number;
  readonly cin: number;
  /** Elements per run (kernel size; 1 for Gemm/MatMul). */
  readonly k: number;
  readonly out: Int32Array;
  readonly in: Int32Array;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

export function connectivity(layer: WeightLayer): Connectivity {
  const shape = layer.weight.shape;
  if (layer.op === 'Conv' || layer.op === 'ConvTranspose') {
    const [d0, d1] = [shape[0]!, shape[1]!];
    const k = product(shape.slice(2));
    const g = layer.groups;
    const out = new Int32Array(d0 * d1), inn = new Int32Array(d0 * d1);
    for (let a = 0, r = 0; a < d0; a++) {
      for (let b = 0; b < d1; b++, r++) {
        if (layer.op === 'Conv') {
          // [Cout, Cin/g, k…]: output a, of group a / (Cout/g), reads input group·(Cin/g) + b.
          out[r] = a;
          inn[r] = Math.floor(a / (d0 / g)) * d1 + b;
        } else {
          // [Cin, Cout/g, k…]: input a, of group a / (Cin/g), feeds output group·(Cout/g) + b.
          out[r] = Math.floor(a / (d0 / g)) * d1 + b;
          inn[r] = a;
        }
      }
    }
    return layer.op === 'Conv' ? { cout: d0, cin: d1 * g, k, out, in: inn } : { cout: d1 * g, cin: d0, k, out, in: inn };
  }
  // Gemm (transB=1: [N, K]; else [K, N]) and MatMul [K, N]: one element per (output, input).
  const transposed = layer.channelAxis === 0;
  const [rows, cols] = [shape[0]!, shape[1]!];
  const out = new Int32Array(rows * cols), inn = new Int32Array(rows * cols);
  for (let r = 0, e = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, e++) {
      out[e] = transposed ? r : c;
      inn[e] = transposed ? c : r;
    }
  }
  return { cout: transposed ? rows : cols, cin: transposed ? cols : rows, k: 1, out, in: inn };
}

/** [Cout × Cin] of max |w| over each run (0 where output and input are not connected); Wasm kernel. */
export async function absMaxMatrix(kernels: Kernels, weights: Float32Array, conn: Connectivity): Promise<Float64Array> {
  const runMax = await kernels.exclusive(() => kernels.runAbsMax(weights, conn.k));
  const m = new Float64Array(conn.cout * conn.cin);
  const { out, in: inn } = conn;
  for (let r = 0; r < out.length; r++) m[out[r]! * conn.cin + inn[r]!] = runMax[r]!;
  return m;
}

/** w[o, i, …] *= inScale[i] / outScale[o], in place; Wasm kernel. */
export async function scaleWeights(
  kernels: Kernels, weights: Float32Array, conn: Connectivity, outScale: Float64Array, inScale: Float64Array,
): Promise<void> {
  const { out, in: inn } = conn;
  const factors = new Float32Array(out.length);
  for (let r = 0; r < out.length; r++) factors[r] = inScale[inn[r]!]! / outScale[out[r]!]!;
  await kernels.exclusive(() => kernels.scaleRuns(weights, conn.k, factors));
}

/** Σ over each output's runs of w · shift[input]: what a constant input shift adds to each output. */
export function weightedShift(weights: Float32Array, conn: Connectivity, shift: Float64Array): Float64Array {
  const result = new Float64Array(conn.cout);
  const { k, out, in: inn } = conn;
  for (let r = 0, e = 0; r < out.length; r++) {
    const c = shift[inn[r]!]!;
    let sum = 0;
    for (const end = e + k; e < end; e++) sum += weights[e]!;
    result[out[r]!] += sum * c;
  }
  return result;
}
