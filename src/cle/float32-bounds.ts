// CLE computes its factors in float64 and writes float32. Everything it would write is checked here first,
// in float64, so a BatchNorm fold, a chain or a bias absorption whose result would leave float32 (or whose
// factor float32 cannot hold) is skipped with a reason instead of writing ±Inf or NaN.
import type { LayerMatrix } from './equalize-chain.js';

const FLOAT32_MAX = 3.4028234663852886e38;
/** The bound the checks hold weights to: a little below FLOAT32_MAX, for the last rounding of a factor. */
const LARGEST_WRITTEN = FLOAT32_MAX * (1 - 2 ** -20);
/** Smaller factors are denormal in float32 and lose precision; they round to 0 below 2^-149. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/** The value as the float32 the kernels multiply by or store: finite, and 0 or normal. */
function fitsFloat32(v: number): boolean {
  const f = Math.abs(Math.fround(v));
  return Number.isFinite(f) && (f === 0 || f >= FLOAT32_MIN_NORMAL);
}

export function countNonFinite(values: Float32Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) n++;
  return n;
}

/** The first index whose value rounds to ±Inf (or is NaN) in float32, or -1. */
export function firstBeyondFloat32(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(Math.fround(values[i]!))) return i;
  return -1;
}

export interface BnParameters {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * γ/σ per output channel (σ = sqrt(var + ε)) and the folded bias β + (b − μ)·γ/σ, or why folding would
 * not give finite float32 values: a variance below 0, var + ε ≤ 0, a parameter that is not finite, a
 * factor float32 cannot hold, or a weight (`ranges`: max |w| per output channel) or bias scaled past ±3.4e38.
 */
export function foldFactors(
  { gamma, beta, mean, variance, epsilon }: BnParameters,
  ranges: Float64Array,
  bias: Float32Array,
): { factors: Float64Array; bias: Float64Array } | { reason: string } {
  const factors = new Float64Array(ranges.length);
  const folded = new Float64Array(ranges.length);
  for (let o = 0; o < ranges.length; o++) {
    const [g, b, mu, v] = [gamma[o]!, beta[o]!, mean[o]!, variance[o]!];
    if (![g, b, mu, v].every(Number.isFinite))
      return {
        reason: `channel ${o} has a parameter that is NaN or ±Inf (scale ${g}, bias ${b}, mean ${mu}, var ${v})`,
      };
    if (v < 0) return { reason: `channel ${o} has a negative variance (${v})` };
    if (!(v + epsilon > 0))
      return { reason: `channel ${o} has var + epsilon = ${v + epsilon}, so 1/sqrt(var + epsilon) is not finite` };
    const f = g / Math.sqrt(v + epsilon);
    const largest = ranges[o]! * Math.abs(Math.fround(f));
    if (!fitsFloat32(f) || largest > LARGEST_WRITTEN) {
      return {
        reason: `channel ${o}'s factor scale/sqrt(var + epsilon) = ${f.toPrecision(3)} would take its weights (max |w| ${ranges[o]!.toPrecision(3)}) beyond float32`,
      };
    }
    factors[o] = f;
    folded[o] = b + (bias[o]! - mu) * f;
  }
  const beyond = firstBeyondFloat32(folded);
  if (beyond >= 0)
    return { reason: `channel ${beyond}'s folded bias (${folded[beyond]!.toPrecision(3)}) is beyond float32` };
  return { factors, bias: folded };
}

export interface ChainLayer {
  name: string;
  matrix: LayerMatrix;
  bias: Float32Array;
}

/**
 * Why scaling the chain's layers by `scales` (scales[k] between layer k and k+1: layer k's outputs divided,
 * layer k+1's inputs multiplied) would leave float32, or undefined. The kernels multiply a weight by the
 * float32 factors 1/s_out and s_in one after the other (or by their product), so each factor must be a
 * normal float32 and every partial product of a run's max |w| with them must stay within ±3.4e38.
 */
export function chainScaleProblem(layers: readonly ChainLayer[], scales: readonly Float64Array[]): string | undefined {
  for (const [k, s] of scales.entries()) {
    const bad = s.findIndex((v) => !(Number.isFinite(v) && v > 0 && fitsFloat32(v) && fitsFloat32(1 / v)));
    if (bad >= 0)
      return `the scale on channel ${bad} between ${layers[k]!.name} and ${layers[k + 1]!.name} (${s[bad]!.toPrecision(3)}) is beyond float32`;
  }
  for (const [k, { name, matrix, bias }] of layers.entries()) {
    const { m, outMax, inMax, cout, cin } = matrix;
    const outS = scales[k];
    const outF = outS ? Float64Array.from(outS, (v) => Math.fround(1 / v)) : undefined;
    const inF = scales[k - 1] ? Float64Array.from(scales[k - 1]!, (v) => Math.fround(v)) : undefined;
    for (let o = 0; o < cout; o++) {
      if (outS && !Number.isFinite(Math.fround(bias[o]! / outS[o]!)))
        return `${name}'s bias on channel ${o} would be scaled beyond float32`;
    }
    /** Why weights of max |w| `w` scaled by a·b would leave float32's normal range, or undefined. */
    const problem = (w: number, a: number, b: number, run: () => string) => {
      const grows = Math.max(1, a) * Math.max(1, b);
      const shrinks = Math.min(1, a) * Math.min(1, b);
      if (w * grows > LARGEST_WRITTEN || grows > LARGEST_WRITTEN) return `${run()} would be scaled beyond float32`;
      if (w > 0 && shrinks < FLOAT32_MIN_NORMAL)
        return `${run()} would be scaled by a factor below float32's normal range`;
      return undefined;
    };
    const maxima = (what: string, w: number) => `${name}'s weights ${what} (max |w| ${w.toPrecision(3)})`;
    // A chain's first layer has no input scale and its last no output scale: their maxima per channel
    // stand for the whole matrix.
    if (!m && outMax && !inF) {
      for (let o = 0; o < cout; o++) {
        const why = problem(outMax[o]!, outF ? outF[o]! : 1, 1, () => maxima(`to output ${o}`, outMax[o]!));
        if (why) return why;
      }
      continue;
    }
    if (!m && inMax && !outF) {
      for (let i = 0; i < cin; i++) {
        const why = problem(inMax[i]!, 1, inF ? inF[i]! : 1, () => maxima(`from input ${i}`, inMax[i]!));
        if (why) return why;
      }
      continue;
    }
    if (!m) throw new Error(`${name}: an inner layer of a CLE chain needs its range matrix`);
    for (let o = 0; o < cout; o++) {
      const a = outF ? outF[o]! : 1;
      for (let i = 0; i < cin; i++) {
        const w = m[o * cin + i]!;
        const why = problem(w, a, inF ? inF[i]! : 1, () => maxima(`from input ${i} to output ${o}`, w));
        if (why) return why;
      }
    }
  }
  return undefined;
}
