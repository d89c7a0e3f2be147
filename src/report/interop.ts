// The per-layer figures in the formats of the viewers people already use, so the numbers appear on the
// right nodes there: a Netron attachment (`"signature": "netron:attachment"`, read by Netron's
// metadata.Attachment: `metrics` entries {kind, target, name, value}) and Model Explorer node data
// (ModelNodeData: graph id -> { results: { node key -> { value } }, gradient }), where a node key is one
// of the node's output tensor names.
import { layerNodeName } from '../analysis/recurrent.js';
import type { Model, Node } from '../onnx/model.js';
import type { LayerReport, StatsReport } from './stats-report.js';

export interface NetronMetric {
  kind: 'node' | 'tensor';
  target: string;
  name: string;
  value: number | string;
  type?: string;
}

export interface NetronAttachment {
  signature: 'netron:attachment';
  metadata: NetronMetric[];
  metrics: NetronMetric[];
}

/**
 * Figures of a layer worth seeing on its node; nulls left out (Netron shows what it is given). A recurrent
 * node carries two layers: their figures are named "W …" and "R …".
 */
function layerMetrics(l: LayerReport): [string, number | string][] {
  const prefix = l.recurrent ? `${l.recurrent.input} ` : '';
  const figures: [string, number | string | null | undefined][] = [
    ['max relative range', l.maxRelativeRange],
    ['dead channels', l.deadChannels.length],
    ['outlier channels', l.outliers.length],
    ['non-finite weights', l.nonFinite],
    ['INT8 SQNR per-tensor (dB)', l.quant?.int8.symmetric.perTensor],
    ['INT8 SQNR per-channel (dB)', l.quant?.int8.symmetric.perChannel],
    ['INT4 SQNR per-channel (dB)', l.quant?.int4.symmetric.perChannel],
  ];
  return figures
    .filter((f): f is [string, number | string] => f[1] !== null && f[1] !== undefined)
    .map(([name, value]) => [prefix + name, value]);
}

export function toNetronAttachment(report: StatsReport): NetronAttachment {
  const metrics: NetronMetric[] = [];
  for (const l of report.layers) {
    for (const [name, value] of layerMetrics(l)) metrics.push({ kind: 'node', target: layerNodeName(l), name, value });
    const absMax = Math.max(...l.channels.absMax.map((v) => v ?? 0));
    metrics.push({ kind: 'tensor', target: l.weight, name: 'channels', value: l.channels.min.length });
    metrics.push({ kind: 'tensor', target: l.weight, name: 'absmax', value: absMax });
  }
  return { signature: 'netron:attachment', metadata: [], metrics };
}

export interface ModelExplorerNodeData {
  [graphId: string]: {
    results: Record<string, { value: number }>;
    gradient: { stop: number; bgColor: string }[];
  };
}

/**
 * One value per layer node (the largest relative range, or INT8 per-tensor SQNR when `metric` says so),
 * keyed by the node's first output tensor, under the main graph's name. A recurrent node shows the worse
 * of its W and R.
 */
export function toModelExplorerNodeData(
  report: StatsReport,
  model: Model,
  metric: 'relative-range' | 'sqnr' = 'relative-range',
): ModelExplorerNodeData {
  const nodes = new Map<string, Node>();
  for (const g of model.graphs) for (const n of g.nodes) nodes.set(`${g.path}\u0000${n.name}`, n);
  const results: Record<string, { value: number }> = {};
  for (const l of report.layers) {
    const output = nodes.get(`${l.graph}\u0000${layerNodeName(l)}`)?.outputs[0];
    const value = metric === 'sqnr' ? l.quant?.int8.symmetric.perTensor : l.maxRelativeRange;
    if (!output || typeof value !== 'number') continue;
    const shown = results[output]?.value;
    const worse = shown === undefined ? value : metric === 'sqnr' ? Math.min(shown, value) : Math.max(shown, value);
    results[output] = { value: worse };
  }
  // Worse is red: high relative range, or low SQNR.
  const [good, bad] = ['#2da44e', '#cf222e'];
  const gradient =
    metric === 'sqnr'
      ? [
          { stop: 0, bgColor: bad },
          { stop: 1, bgColor: good },
        ]
      : [
          { stop: 0, bgColor: good },
          { stop: 1, bgColor: bad },
        ];
  return { [model.main.name || 'main']: { results, gradient } };
}
