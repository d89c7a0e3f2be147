// The data-free planner on a model: each layer's candidate schemes with their stored size (codes, scales,
// zero points) and the SQNR `computeStats` measures for them, handed to quant/planner.ts. Only schemes the
// export can write for that layer are candidates (the same checks quantizeModel makes).
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { gridEntries } from '../kernels/quantizer.js';
import type { Kernels } from '../kernels/kernels.js';
import { byteLengthOf } from '../onnx/dtypes.js';
import type { Model } from '../onnx/model.js';
import { opsetUpgrade } from '../onnx/opset-upgrade.js';
import type { Progress } from '../progress.js';
import { schemeSqnr } from '../report/quant-error.js';
import type { LayerReport, StatsReport } from '../report/stats-report.js';
import {
  planWithin,
  uniformPoint,
  type Budget,
  type Candidate,
  type FrontPoint,
  type PlannedLayer,
  type PlannerResult,
} from '../quant/planner.js';
import { opsetNeeded, storageProblem } from '../quant/qdq-plan.js';
import { schemeName, type QuantScheme } from '../quant/scheme.js';
import { dequantizeGrid } from '../quant/weight-grid.js';
import { computeStats } from './compute-stats.js';
import { DEFAULT_BLOCKS } from './quant-error.js';

export interface PlanOptions {
  budget: Budget;
  /** Block sizes of the per-group candidates (default 32, 64, 128). */
  blocks?: readonly number[];
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /**
   * The model's statistics with quantization figures for `blocks` (e.g. what the page already computed):
   * not measured again. Layers it lacks figures for get only the float candidate.
   */
  stats?: StatsReport;
}

export interface UniformPlan extends FrontPoint {
  scheme: string;
}

export interface PlanReport extends Omit<PlannerResult, 'plan'> {
  budget: Budget;
  /** The model's weights kept float: the size every plan starts from. */
  floatBytes: number;
  /** Each scheme given to every layer that can take it (the rest float), for comparison. */
  uniform: UniformPlan[];
}

/** The highest default-domain opset the model can be raised to (or its own). */
function reachableOpset(model: Model): number {
  const from = model.opsets[''] ?? 0;
  return [21, 19, 13, 10].find((v) => v <= from || opsetUpgrade(model, v).refused.length === 0) ?? from;
}

function candidates(layer: WeightLayer, report: LayerReport, blocks: readonly number[], opset: number): Candidate[] {
  const w = layer.weight;
  const floatBits = (byteLengthOf(w.dataType, w.size) ?? w.size * 4) * 8;
  const out: Candidate[] = [{ choice: 'float', bits: floatBits, sqnr: Infinity }];
  if (storageProblem(layer) || !report.quant) return out;
  const scaleBits = (byteLengthOf(w.dataType, 1) ?? 4) * 8;
  for (const bits of [8, 4] as const)
    for (const symmetric of [true, false])
      for (const scheme of [
        { bits, symmetric, granularity: 'tensor' },
        { bits, symmetric, granularity: 'channel' },
        ...blocks.map((block) => ({ bits, symmetric, granularity: 'group', block })),
      ] as QuantScheme[]) {
        const dq = dequantizeGrid(layer, scheme);
        const sqnr = schemeSqnr(report, scheme);
        if ('reason' in dq || sqnr === undefined || opsetNeeded(scheme, w.dataType) > opset) continue;
        const params = gridEntries(dq.grid) * (scaleBits + (symmetric ? 0 : bits));
        out.push({ choice: scheme, bits: w.size * bits + params, sqnr });
      }
  return out;
}

/** The plan for `budget`, the front it sits on, the uniform plans beside it, and each layer's candidates. */
export async function planQuantization(
  model: Model,
  options: PlanOptions,
): Promise<{ plan: PlannerResult['plan']; report: PlanReport; layers: PlannedLayer[] }> {
  const blocks = options.blocks ?? DEFAULT_BLOCKS;
  const stats =
    options.stats ??
    (await computeStats(model, {
      quant: true,
      blocks,
      ...(options.kernels ? { kernels: options.kernels } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }));
  const reports = new Map(stats.layers.map((l) => [l.name, l]));
  const opset = reachableOpset(model);
  // A weight shared by several layers is stored once: planned with its first layer only.
  const seen = new Set<string>();
  const layers: PlannedLayer[] = [];
  for (const layer of findWeightLayers(model)) {
    const key = `${layer.weight.graph}\0${layer.weight.name}`;
    const report = reports.get(layer.name);
    if (seen.has(key) || !report) continue;
    seen.add(key);
    layers.push({ name: layer.name, weights: layer.weight.size, candidates: candidates(layer, report, blocks, opset) });
  }
  const result = planWithin(layers, options.budget);
  const schemes = new Map<string, QuantScheme>();
  for (const l of layers)
    for (const c of l.candidates) if (c.choice !== 'float') schemes.set(schemeName(c.choice), c.choice);
  const uniform = [...schemes].map(([name, s]) => ({
    scheme: name,
    ...uniformPoint(layers, (c) => c.choice !== 'float' && schemeName(c.choice) === schemeName(s)),
  }));
  const floatBytes = uniformPoint(layers, (c) => c.choice === 'float').bytes;
  return {
    plan: result.plan,
    report: { budget: options.budget, chosen: result.chosen, front: result.front, floatBytes, uniform },
    layers,
  };
}
