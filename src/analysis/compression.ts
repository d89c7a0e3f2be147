// How much a layer could shrink, and at what weight error (docs/definitions.md, "Compressibility"): from its
// singular values (a rank-k factorization) and from its weights' magnitudes (pruning). Pure arithmetic on
// arrays; every error is relative, in the Frobenius norm: ‖W − Ŵ‖ / ‖W‖. Weight-space error, not accuracy.

/** One point of a curve: parameters before / after, and the relative error it costs. */
export interface CompressionPoint {
  /** Parameter compression ratio: weights before / weights after (≥ 1 where it saves anything). */
  readonly ratio: number;
  /** ‖W − Ŵ‖ / ‖W‖. */
  readonly error: number;
  /** The rank kept (factorizations) or the share of weights / channels removed (pruning). */
  readonly at: number;
}

/** What a factorization keeps: its two factors' parameter count at rank k. */
export type FactorParameters = (rank: number) => number;

/** Σ σ_i² of σ (descending) from index `from` on, for every `from`: tail[k] is the energy a rank k drops. */
function energyTails(sigma: ArrayLike<number>): Float64Array {
  const tail = new Float64Array(sigma.length + 1);
  for (let i = sigma.length - 1; i >= 0; i--) tail[i] = tail[i + 1]! + sigma[i]! * sigma[i]!;
  return tail;
}

/** The smallest rank keeping at least `share` of the energy Σσ² (0 for an all-zero weight). */
export function rankForEnergy(sigma: ArrayLike<number>, share: number): number {
  const tail = energyTails(sigma);
  const total = tail[0]!;
  if (!(total > 0)) return 0;
  for (let k = 0; k <= sigma.length; k++) if (tail[k]! <= (1 - share) * total) return k;
  return sigma.length;
}

/**
 * Roy and Vetterli's effective rank: exp of the entropy of the singular values normalized to sum 1,
 * exp(−Σ p_i·ln p_i), p_i = σ_i / Σσ. Between 1 (one direction) and the number of σ (all equal); 0 when all
 * are zero.
 */
export function effectiveRank(sigma: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < sigma.length; i++) sum += sigma[i]!;
  if (!(sum > 0)) return 0;
  let entropy = 0;
  for (let i = 0; i < sigma.length; i++) {
    const p = sigma[i]! / sum;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * Rank k = 1 … s of a factorization: ratio = `original` / factors(k), error = sqrt(Σ_{i≥k} σ_i² / Σ σ_i²)
 * (Eckart–Young: the best rank-k approximation drops exactly the smallest σ).
 */
export function factorizationCurve(
  sigma: ArrayLike<number>,
  original: number,
  factors: FactorParameters,
): CompressionPoint[] {
  const tail = energyTails(sigma);
  const total = tail[0]!;
  const points: CompressionPoint[] = [];
  for (let k = 1; k <= sigma.length; k++)
    points.push({ ratio: original / factors(k), error: total > 0 ? Math.sqrt(tail[k]! / total) : 0, at: k });
  return points;
}

/** Shares of weights (or channels) removed that the pruning curves give: 0 %, 5 %, … 95 %, and 99 %. */
export const PRUNED_SHARES: readonly number[] = [...Array.from({ length: 20 }, (_, i) => i / 20), 0.99];

/**
 * Magnitude pruning of individual weights: at each share s of PRUNED_SHARES the ⌊s·n⌋ smallest |w| are set
 * to zero; ratio = n / (n − removed) (parameters, not bytes: a sparse format also stores indices).
 */
export function unstructuredPruningCurve(weights: ArrayLike<number>): CompressionPoint[] {
  const squares = Float64Array.from(weights, (w) => w * w).sort();
  const n = squares.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + squares[i]!;
  const total = prefix[n]!;
  return PRUNED_SHARES.map((share) => {
    const removed = Math.floor(share * n);
    return {
      ratio: n / Math.max(1, n - removed),
      error: total > 0 ? Math.sqrt(prefix[removed]! / total) : 0,
      at: share,
    };
  });
}

/**
 * Channel pruning: whole input channels removed, smallest L1 norm first (the data-free form of how AIMET
 * picks channels). `l1[c]` = Σ|w| and `squares[c]` = Σw² over input channel c's slice; at each share s the
 * ⌊s·C⌋ lowest-L1 channels go: error = sqrt(their Σw² / total), ratio = C / (C − removed).
 */
export function channelPruningCurve(l1: ArrayLike<number>, squares: ArrayLike<number>): CompressionPoint[] {
  const order = Array.from({ length: l1.length }, (_, c) => c).sort((a, b) => l1[a]! - l1[b]! || a - b);
  const c = order.length;
  const prefix = new Float64Array(c + 1);
  for (let i = 0; i < c; i++) prefix[i + 1] = prefix[i]! + squares[order[i]!]!;
  const total = prefix[c]!;
  return PRUNED_SHARES.map((share) => {
    const removed = Math.floor(share * c);
    return {
      ratio: c / Math.max(1, c - removed),
      error: total > 0 ? Math.sqrt(prefix[removed]! / total) : 0,
      at: share,
    };
  });
}

/** The largest ratio among `points` whose error is at most `error` (1: nothing to gain within it). */
export function bestRatioWithin(points: readonly CompressionPoint[], error: number): CompressionPoint | undefined {
  let best: CompressionPoint | undefined;
  for (const p of points) if (p.error <= error && (!best || p.ratio > best.ratio)) best = p;
  return best;
}
