// CLE results made by hand, without the CLE engine: "after" is a layer's report with each output channel
// scaled by a known factor (what CLE does to a layer's rows), the derived figures recomputed the way the
// stats pipeline computes them.
import { rangeFigures } from '../../src/analysis/relative-range.js';
import type { CleOutcome, CleReport } from '../../src/report/cle-report.js';
import type { LayerReport } from '../../src/report/stats-report.js';

const scale = (values: (number | null)[], factors: readonly number[]) =>
  values.map((v, c) => (v === null ? null : v * factors[c]!));

/** `layer` with output channel c scaled by factors[c] > 0. */
export function rescaled(layer: LayerReport, factors: readonly number[]): LayerReport {
  const ch = layer.channels;
  const min = scale(ch.min, factors);
  const max = scale(ch.max, factors);
  return {
    ...layer,
    channels: {
      min,
      max,
      mean: scale(ch.mean, factors),
      std: scale(ch.std, factors),
      absMax: scale(ch.absMax, factors),
    },
    ...rangeFigures(
      min.map((v) => v ?? NaN),
      max.map((v) => v ?? NaN),
    ),
  };
}

/**
 * Factors that bring every channel's absmax to the layer's mean absmax (as CLE evens out a layer), except
 * channel 0, left exactly as it was.
 */
export function evening(layer: LayerReport): number[] {
  const absMax = layer.channels.absMax.map((v) => v ?? 1);
  const target = absMax.reduce((a, b) => a + b, 0) / absMax.length;
  return absMax.map((v, c) => (c === 0 || v === 0 ? 1 : target / v));
}

/** A CleReport whose layers are `before`, with the layers named in `after` replaced by those reports. */
export function cleReportOf(file: string, before: LayerReport[], after: Record<string, LayerReport>): CleReport {
  const names = Object.keys(after);
  return {
    file,
    options: { biasAbsorption: true, relu6ToRelu: false },
    folded: names.map((into, i) => ({ batchNorm: `batch_norm_${i}`, into })),
    sets: [
      {
        kind: 'pair',
        layers: names.length >= 2 ? names.slice(0, 2) : [names[0]!, before.at(-1)!.name],
        between: ['Relu'],
      },
    ],
    chains: [{ layers: names, sweeps: 3, maxScaleDeviation: 4e-5 }],
    skipped: [
      { layers: ['conv_12', 'conv_13'], reason: 'HardSwish between conv_12 and conv_13 is not scale-equivariant' },
      { layers: ['conv_20'], reason: 'conv_20 is a grouped convolution (groups 4) that is not depthwise' },
    ],
    biasAbsorbed: names.length >= 2 ? [{ from: names[0]!, to: names[1]!, channels: 3 }] : [],
    relu6Rewritten: [],
    layers: before.map((b) => ({ name: b.name, op: b.op, before: b, after: after[b.name] ?? b })),
  };
}

/** An outcome around a report: `bytes` and data files as given. */
export function outcomeOf(
  report: CleReport,
  bytes: Uint8Array,
  dataFiles: Record<string, Uint8Array> = {},
): CleOutcome {
  return {
    report,
    bytes,
    dataFiles: new Map(Object.entries(dataFiles).map(([location, b]) => [location, [b]])),
    dataLocations: Object.keys(dataFiles),
  };
}
