// Per-layer weight arithmetic for CLE, for every layout the kit knows (DESIGN.md §2): which element of a
// weight joins which output channel and which input channel. Everything else in src/cle/ works on
// channel vectors and small [Cout, Cin] matrices and calls these.
import type { WeightLayer } from '../analysis/layers.js';

/** How a layer's weight connects its output channels to its input channels. */
export interface Connectivity {
  readonly cout: number;
  readonly cin: number;
  /** Calls visit(o, i, start, length) for every contiguous run of weight elements joining output o and input i. */
  forEachRun(visit: (o: number, i: number, start: number, length: number) => void): void;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

export function connectivity(layer: WeightLayer): Connectivity {
  const shape = layer.weight.shape;
  switch (layer.op) {
    case 'Conv': {
      // [Cout, Cin/g, k…]: output o of group o / (Cout/g) reads inputs g·(Cin/g) + i.
      const [cout, cinPerGroup] = [shape[0]!, shape[1]!];
      const k = product(shape.slice(2));
      const g = layer.groups;
      const coutPerGroup = cout / g;
      return {
        cout, cin: cinPerGroup * g,
        forEachRun(visit) {
          for (let o = 0; o < cout; o++) {
            const group = Math.floor(o / coutPerGroup);
            for (let i = 0; i < cinPerGroup; i++) visit(o, group * cinPerGroup + i, (o * cinPerGroup + i) * k, k);
          }
        },
      };
    }
    case 'ConvTranspose': {
      // [Cin, Cout/g, k…]: input c of group c / (Cin/g) feeds outputs g·(Cout/g) + j.
      const [cin, coutPerGroup] = [shape[0]!, shape[1]!];
      const k = product(shape.slice(2));
      const cinPerGroup = cin / layer.groups;
      return {
        cout: coutPerGroup * layer.groups, cin,
        forEachRun(visit) {
          for (let c = 0; c < cin; c++) {
            const group = Math.floor(c / cinPerGroup);
            for (let j = 0; j < coutPerGroup; j++) visit(group * coutPerGroup + j, c, (c * coutPerGroup + j) * k, k);
          }
        },
      };
    }
    default: {
      // Gemm (transB=1: [N, K]; else [K, N]) and MatMul [K, N]: one element per (output, input).
      const transposed = layer.channelAxis === 0;
      const [rows, cols] = [shape[0]!, shape[1]!];
      return {
        cout: transposed ? rows : cols, cin: transposed ? cols : rows,
        forEachRun(visit) {
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < cols; c++) transposed ? visit(r, c, r * cols + c, 1) : visit(c, r, r * cols + c, 1);
          }
        },
      };
    }
  }
}

/** [Cout × Cin] of max |w| over each run (0 where output and input are not connected). */
export function absMaxMatrix(weights: Float32Array, conn: Connectivity): Float64Array {
  const m = new Float64Array(conn.cout * conn.cin);
  conn.forEachRun((o, i, start, length) => {
    let best = 0;
    for (let e = start; e < start + length; e++) best = Math.max(best, Math.abs(weights[e]!));
    m[o * conn.cin + i] = best;
  });
  return m;
}

/** w[o, i, …] *= inScale[i] / outScale[o], in place. */
export function scaleWeights(weights: Float32Array, conn: Connectivity, outScale: Float64Array, inScale: Float64Array): void {
  conn.forEachRun((o, i, start, length) => {
    const f = inScale[i]! / outScale[o]!;
    for (let e = start; e < start + length; e++) weights[e] = weights[e]! * f;
  });
}

/** Σ over each output's runs of w · shift[input]: what a constant input shift adds to each output. */
export function weightedShift(weights: Float32Array, conn: Connectivity, shift: Float64Array): Float64Array {
  const out = new Float64Array(conn.cout);
  conn.forEachRun((o, i, start, length) => {
    const c = shift[i]!;
    if (c === 0) return;
    let sum = 0;
    for (let e = start; e < start + length; e++) sum += weights[e]!;
    out[o] += sum * c;
  });
  return out;
}
