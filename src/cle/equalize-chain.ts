// Equalizing a chain of layers on their small [Cout, Cin] absmax matrices (DESIGN.md §2 "Chains"): at
// each interface, scale output channel i of the layer before by 1/s_i and input channel i of the layer
// after by s_i with s_i = sqrt(r1_i / r2_i). Overlapping interfaces undo each other a little, so sweep
// until every new factor is within 1e-4 of 1 (torch.ao's threshold), multiplying the factors up. A
// depthwise layer in the middle makes this converge to the triplet solution ∛(r0·r1·r2).
// Matrices are walked row by row only (column maxima accumulate along rows): they can be 2048 × 512.
export const SCALE_TOLERANCE = 1e-4;
export const MAX_SWEEPS = 100;

export interface LayerMatrix {
  /** [cout × cin] of kernel-wise max |w|, row-major; not modified. */
  m: Float64Array;
  cout: number;
  cin: number;
}

export interface ChainScales {
  /** scales[k][i]: the factor on channel i between layer k and k+1 (layer k's output is divided by it). */
  scales: Float64Array[];
  /** Sweeps that moved some factor by 1e-4 or more (a lone pair takes 1). */
  sweeps: number;
  /** max |s - 1| of the last sweep. */
  maxScaleDeviation: number;
}

const usable = (s: number) => (Number.isFinite(s) && s > 0 ? s : 1);

/** Row maxima of m·diag(inS), i.e. each output's range before dividing by its own scale. */
function rowMax({ m, cout, cin }: LayerMatrix, inS: Float64Array | undefined): Float64Array {
  const r = new Float64Array(cout);
  for (let o = 0; o < cout; o++) {
    let best = 0;
    for (let i = 0, j = o * cin; i < cin; i++, j++) {
      const v = inS ? m[j]! * inS[i]! : m[j]!;
      if (v > best) best = v;
    }
    r[o] = best;
  }
  return r;
}

/** Column maxima of diag(1/outS)·m, i.e. each input's range before multiplying by its own scale. */
function colMax({ m, cout, cin }: LayerMatrix, outS: Float64Array | undefined): Float64Array {
  const r = new Float64Array(cin);
  for (let o = 0; o < cout; o++) {
    const f = outS ? 1 / outS[o]! : 1;
    for (let i = 0, j = o * cin; i < cin; i++, j++) {
      const v = m[j]! * f;
      if (v > r[i]!) r[i] = v;
    }
  }
  return r;
}

export function equalizeChain(layers: LayerMatrix[]): ChainScales {
  // The matrices stay as given; the scales found so far are applied on the fly (one pass per side).
  const scales = layers.slice(1).map((l) => new Float64Array(l.cin).fill(1));
  const last = layers.length - 1;
  // The chain's ends see no changing scale on their outer side: their ranges are computed once.
  const firstRows = rowMax(layers[0]!, undefined);
  const lastCols = colMax(layers[last]!, undefined);
  let sweeps = 0;
  let deviation = Infinity;
  while (sweeps < MAX_SWEEPS && deviation >= SCALE_TOLERANCE) {
    deviation = 0;
    for (let k = 0; k < last; k++) {
      const here = scales[k]!;
      const r1 = k === 0 ? firstRows : rowMax(layers[k]!, scales[k - 1]);
      const r2 = k + 1 === last ? lastCols : colMax(layers[k + 1]!, scales[k + 1]);
      for (let i = 0; i < here.length; i++) {
        // Current ranges on both sides of the interface: r1/here and r2·here.
        const s = usable(Math.sqrt(r1[i]! / here[i]! / (r2[i]! * here[i]!)));
        deviation = Math.max(deviation, Math.abs(s - 1));
        here[i] = here[i]! * s;
      }
    }
    if (deviation >= SCALE_TOLERANCE) sweeps++;
  }
  return { scales, sweeps, maxScaleDeviation: deviation };
}
