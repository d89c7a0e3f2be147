// The data-free planner: given each layer's candidate schemes (their stored size and the SQNR of the weight
// they store), the plan whose worst layer SQNR is highest within a size budget, or the smallest plan whose
// every layer clears an SQNR floor; and the whole model's size-versus-worst-SQNR front.
//
// For a threshold T each layer takes its smallest candidate with SQNR ≥ T (keeping it float always
// qualifies): the model's size grows with T, so the best plan within a budget is the one at the highest T
// that fits. It is never worse than a uniform plan (one scheme for every layer) that fits: at T = that plan's
// worst SQNR, each layer's pick is no larger than the uniform scheme's.
import type { LayerChoice, QuantPlan } from './plan.js';

/** One way to store a layer: its scheme (or float), the bits it takes, the SQNR of what it stores. */
export interface Candidate {
  readonly choice: LayerChoice;
  readonly bits: number;
  /** dB; Infinity when exact (float, or a weight quantization leaves unchanged). */
  readonly sqnr: number;
}

export interface PlannedLayer {
  readonly name: string;
  /** Weight elements (for a budget in bits per weight). */
  readonly weights: number;
  /** Must include the float candidate. */
  readonly candidates: readonly Candidate[];
}

export type Budget = { readonly bytes: number } | { readonly bitsPerWeight: number } | { readonly sqnrFloor: number };

export interface FrontPoint {
  readonly bytes: number;
  /** The lowest layer SQNR of the plan (dB; Infinity: every layer exact). */
  readonly worstSqnr: number;
}

export interface PlannerResult {
  readonly plan: QuantPlan;
  readonly chosen: FrontPoint;
  /** Every plan the thresholds give, smallest first, each worst SQNR higher than the one before. */
  readonly front: readonly FrontPoint[];
}

/** Each layer's pick at threshold T: its smallest candidate with SQNR ≥ T (the best SQNR among equal sizes). */
function picks(layers: readonly PlannedLayer[], threshold: number): Candidate[] {
  return layers.map((l) => {
    let best: Candidate | undefined;
    for (const c of l.candidates) {
      if (c.sqnr < threshold) continue;
      if (!best || c.bits < best.bits || (c.bits === best.bits && c.sqnr > best.sqnr)) best = c;
    }
    if (!best) throw new Error(`layer ${l.name} has no float candidate`);
    return best;
  });
}

const pointOf = (chosen: readonly Candidate[]): FrontPoint => ({
  bytes: chosen.reduce((n, c) => n + c.bits, 0) / 8,
  worstSqnr: chosen.reduce((w, c) => Math.min(w, c.sqnr), Infinity),
});

export function planWithin(layers: readonly PlannedLayer[], budget: Budget): PlannerResult {
  const thresholds = [...new Set(layers.flatMap((l) => l.candidates.map((c) => c.sqnr)))].sort((a, b) => a - b);
  const points = thresholds.map((t) => ({ threshold: t, chosen: picks(layers, t) }));
  const front: FrontPoint[] = [];
  for (const p of points) {
    const point = pointOf(p.chosen);
    if (front.length === 0 || point.worstSqnr > front.at(-1)!.worstSqnr) front.push(point);
  }
  let at: { chosen: Candidate[] } | undefined;
  if ('sqnrFloor' in budget) at = { chosen: picks(layers, budget.sqnrFloor) };
  else {
    const bytes =
      'bytes' in budget ? budget.bytes : (budget.bitsPerWeight * layers.reduce((n, l) => n + l.weights, 0)) / 8;
    for (const p of points) if (pointOf(p.chosen).bytes <= bytes) at = p; // size grows with T
  }
  // Nothing fits the budget: the smallest plan there is, so the caller can say by how much it misses.
  const chosen = at?.chosen ?? points[0]?.chosen ?? [];
  const plan: Record<string, LayerChoice> = {};
  layers.forEach((l, i) => (plan[l.name] = chosen[i]!.choice));
  return { plan: { default: 'float', layers: plan }, chosen: pointOf(chosen), front };
}

/** The plan giving every layer `choice` where it is a candidate (others stay float): size and worst SQNR. */
export function uniformPoint(layers: readonly PlannedLayer[], same: (c: Candidate) => boolean): FrontPoint {
  return pointOf(layers.map((l) => l.candidates.find(same) ?? l.candidates.find((c) => c.choice === 'float')!));
}
