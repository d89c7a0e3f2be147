// Equalizing a chain of layers on their small [Cout, Cin] absmax matrices (docs/definitions.md). The
// chain is walked set by set: a pair (s_i = sqrt(r1_i / r2_i): output channel i of the layer before is
// divided by s_i, input channel i of the layer after multiplied by it) or, around a depthwise layer, a
// Conv -> DW -> Conv triplet solved in closed form (p = ∛(r0·r1·r2), s12 = r0/p, s23 = p/r2), so a lone
// set is exact after one sweep. Overlapping sets undo each other a little, so sweep until every new factor
// is within SCALE_TOLERANCE / 2 of 1 (a factor s leaves two ranges s² apart: the ranges then agree within
// SCALE_TOLERANCE, torch.ao's threshold), multiplying the factors up; the full weights are touched once.
// Matrices are walked row by row only (column maxima accumulate along rows): they can be 2048 × 512.
import { chainSets } from '../analysis/cle-sets.js';

export const SCALE_TOLERANCE = 1e-4;
export const MAX_SWEEPS = 100;

/**
 * A layer's kernel-wise max |w|. Inner layers of a chain need the [cout × cin] matrix; the first layer only
 * each output's maximum and the last only each input's (their outer side sees no changing scale), which
 * are taken from `m` when not given.
 */
export interface LayerMatrix {
  /** [cout × cin] of kernel-wise max |w|, row-major; not modified. */
  m?: Float32Array | Float64Array;
  /** Max over each output's row of m. */
  outMax?: Float64Array;
  /** Max over each input's column of m. */
  inMax?: Float64Array;
  cout: number;
  cin: number;
  /** Depthwise (cout = cin, only the diagonal connected): between two layers it forms a triplet. */
  depthwise?: boolean;
}

export interface ChainScales {
  /** scales[k][i]: the factor on channel i between layer k and k+1 (layer k's output is divided by it). */
  scales: Float64Array[];
  /** Sweeps that moved some factor by SCALE_TOLERANCE / 2 or more (a lone pair or triplet takes 1). */
  sweeps: number;
  /** max |s - 1| of the last sweep. */
  maxScaleDeviation: number;
}

const usable = (s: number) => (Number.isFinite(s) && s > 0 ? s : 1);

/** The matrix of a layer that needs one (an inner layer of its chain). */
function matrixOf({ m }: LayerMatrix): Float32Array | Float64Array {
  if (!m) throw new Error('an inner layer of a CLE chain needs its range matrix');
  return m;
}

/** Row maxima of m·diag(inS), i.e. each output's range before dividing by its own scale; into r[0, cout). */
function rowMax(layer: LayerMatrix, inS: Float64Array | undefined, r = new Float64Array(layer.cout)): Float64Array {
  const { cout, cin } = layer;
  const m = matrixOf(layer);
  const s = inS ?? new Float64Array(cin).fill(1);
  for (let o = 0; o < cout; o++) {
    // Four running maxima: one would make every step wait on the comparison before it (half the speed).
    let b0 = 0,
      b1 = 0,
      b2 = 0,
      b3 = 0;
    let i = 0,
      j = o * cin;
    for (; i + 4 <= cin; i += 4, j += 4) {
      const v0 = m[j]! * s[i]!,
        v1 = m[j + 1]! * s[i + 1]!,
        v2 = m[j + 2]! * s[i + 2]!,
        v3 = m[j + 3]! * s[i + 3]!;
      if (v0 > b0) b0 = v0;
      if (v1 > b1) b1 = v1;
      if (v2 > b2) b2 = v2;
      if (v3 > b3) b3 = v3;
    }
    for (; i < cin; i++, j++) {
      const v = m[j]! * s[i]!;
      if (v > b0) b0 = v;
    }
    r[o] = Math.max(b0, b1, b2, b3);
  }
  return r;
}

/** Column maxima of diag(1/outS)·m, i.e. each input's range before multiplying by its own scale; into r[0, cin). */
function colMax(layer: LayerMatrix, outS: Float64Array | undefined, r = new Float64Array(layer.cin)): Float64Array {
  const { cout, cin } = layer;
  const m = matrixOf(layer);
  r.fill(0, 0, cin);
  for (let o = 0; o < cout; o++) {
    const f = outS ? 1 / outS[o]! : 1;
    for (let i = 0, j = o * cin; i < cin; i++, j++) {
      const v = m[j]! * f;
      if (v > r[i]!) r[i] = v;
    }
  }
  return r;
}

export { chainSets };

export function equalizeChain(layers: LayerMatrix[]): ChainScales {
  // The matrices stay as given; the scales found so far are applied on the fly (one pass per side).
  const scales = layers.slice(1).map((l) => new Float64Array(l.cin).fill(1));
  const last = layers.length - 1;
  // The chain's ends see no changing scale on their outer side: their ranges are computed once.
  const firstRows = layers[0]!.outMax ?? rowMax(layers[0]!, undefined);
  const lastCols = layers[last]!.inMax ?? colMax(layers[last]!, undefined);
  // One buffer per side, reused by every set of every sweep: long chains (thousands of small layers, 100
  // sweeps) would otherwise allocate an array per set and sweep.
  const width = layers.reduce((most, l) => Math.max(most, l.cout, l.cin), 0);
  const outBuffer = new Float64Array(width),
    inBuffer = new Float64Array(width);
  /** Layer k's output ranges before dividing by scales[k]; its input ranges before multiplying by scales[k - 1]. */
  const outRanges = (k: number) => (k === 0 ? firstRows : rowMax(layers[k]!, scales[k - 1], outBuffer));
  const inRanges = (k: number) => (k === last ? lastCols : colMax(layers[k]!, scales[k], inBuffer));
  const sets = chainSets(layers);
  const stop = SCALE_TOLERANCE / 2;
  let sweeps = 0;
  let deviation = Infinity;
  while (sweeps < MAX_SWEEPS && deviation >= stop) {
    deviation = 0;
    for (const { kind, first: k } of sets) {
      const a = scales[k]!;
      const r0 = outRanges(k);
      if (kind === 'pair') {
        const r2 = inRanges(k + 1);
        for (let i = 0; i < a.length; i++) {
          // Current ranges on both sides of the interface: r0/a and r2·a.
          const s = usable(Math.sqrt(r0[i]! / a[i]! / (r2[i]! * a[i]!)));
          deviation = Math.max(deviation, Math.abs(s - 1));
          a[i] = a[i]! * s;
        }
        continue;
      }
      const b = scales[k + 1]!;
      const { cin } = layers[k + 1]!;
      const m = matrixOf(layers[k + 1]!);
      const r2 = inRanges(k + 2);
      for (let i = 0; i < a.length; i++) {
        // Current ranges: layer k's output r0/a, the depthwise channel d·a/b, layer k+2's input r2·b.
        const [x0, x1, x2] = [r0[i]! / a[i]!, (m[i * cin + i]! * a[i]!) / b[i]!, r2[i]! * b[i]!];
        const p = Math.cbrt(x0 * x1 * x2);
        const s12 = usable(x0 / p),
          s23 = usable(p / x2);
        deviation = Math.max(deviation, Math.abs(s12 - 1), Math.abs(s23 - 1));
        a[i] = a[i]! * s12;
        b[i] = b[i]! * s23;
      }
    }
    if (deviation >= stop) sweeps++;
  }
  return { scales, sweeps, maxScaleDeviation: deviation };
}
