// Equalizing a chain of layers on their small [Cout, Cin] absmax matrices (DESIGN.md §2 "Chains"): at
// each interface, scale output channel i of the layer before by 1/s_i and input channel i of the layer
// after by s_i with s_i = sqrt(r1_i / r2_i). Overlapping interfaces undo each other a little, so sweep
// until every new factor is within 1e-4 of 1 (torch.ao's threshold), multiplying the factors up. A
// depthwise layer in the middle makes this converge to the triplet solution ∛(r0·r1·r2).
export const SCALE_TOLERANCE = 1e-4;
export const MAX_SWEEPS = 100;

export interface LayerMatrix {
  /** [cout × cin] of kernel-wise max |w|, row-major; modified in place. */
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

export function equalizeChain(layers: LayerMatrix[]): ChainScales {
  const scales = layers.slice(1).map((l) => new Float64Array(l.cin).fill(1));
  let sweeps = 0;
  let deviation = Infinity;
  while (sweeps < MAX_SWEEPS && deviation >= SCALE_TOLERANCE) {
    deviation = 0;
    for (let k = 0; k + 1 < layers.length; k++) {
      const a = layers[k]!, b = layers[k + 1]!;
      for (let i = 0; i < a.cout; i++) {
        let r1 = 0, r2 = 0;
        for (let j = 0; j < a.cin; j++) r1 = Math.max(r1, a.m[i * a.cin + j]!);
        for (let o = 0; o < b.cout; o++) r2 = Math.max(r2, b.m[o * b.cin + i]!);
        const s = usable(Math.sqrt(r1 / r2));
        if (s === 1) continue;
        deviation = Math.max(deviation, Math.abs(s - 1));
        for (let j = 0; j < a.cin; j++) a.m[i * a.cin + j] = a.m[i * a.cin + j]! / s;
        for (let o = 0; o < b.cout; o++) b.m[o * b.cin + i] = b.m[o * b.cin + i]! * s;
        scales[k]![i] = scales[k]![i]! * s;
      }
    }
    if (deviation >= SCALE_TOLERANCE) sweeps++;
  }
  return { scales, sweeps, maxScaleDeviation: deviation };
}
