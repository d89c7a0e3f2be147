// A LayerReport as the stats pipeline would make it, for tests of the plots that draw one.
import { rangeFigures } from '../../src/analysis/relative-range.js';
import type { LayerReport, StatsReport } from '../../src/report/stats-report.js';

/** A layer report as the stats pipeline would make it, from per-channel min and max. */
export function layerOf(min: number[], max: number[], name = 'conv1'): LayerReport {
  return {
    name,
    op: 'Conv',
    weight: `${name}.weight`,
    graph: 'main',
    dtype: 'float32',
    shape: [min.length, 3, 3, 3],
    channelAxis: 0,
    groups: 1,
    depthwise: false,
    bias: null,
    batchNorm: null,
    overridable: true,
    parameters: min.length * 27,
    channels: {
      min,
      max,
      mean: min.map((m, c) => (m + max[c]!) / 2),
      std: min.map((m, c) => (max[c]! - m) / 4),
      absMax: min.map((m, c) => Math.max(-m, max[c]!)),
    },
    ...rangeFigures(min, max),
    nonFinite: 0,
    nonFiniteCounts: { nan: 0, posInf: 0, negInf: 0 },
  };
}

/** A report of `layers` from a file named `file`. */
export const reportOf = (layers: LayerReport[], file = 'toy.onnx'): StatsReport => ({
  file,
  model: {
    irVersion: 8,
    producer: 'test',
    producerVersion: '',
    opsets: { '': 13 },
    parameters: 0,
    quantizedParameters: 0,
  },
  layers,
});
