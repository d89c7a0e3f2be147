// Our stats report against test/reference/channel_stats.py (numpy), to the tolerances of docs/definitions.md ("Accuracy"): min/max
// bit-identical, mean/std within 1e-6 x the channel's absmax, relative ranges to 1e-9, SQNR to 0.01 dB.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { QuantReport } from '../../src/report/quant-error.js';
import type { LayerReport } from '../../src/report/stats-report.js';
import { PYTHON } from './node-paths.js';

export interface NumpyLayer {
  name: string;
  op: string;
  weight: string;
  shape: number[];
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
  relativeRange: (number | null)[];
  outliers: number[];
  deadChannels: number[];
  nonFinite: number;
  quant?: QuantReport | null;
}

export interface NumpyReport {
  model: { parameters: number; quantizedParameters: number };
  layers: NumpyLayer[];
}

/**
 * channel_stats.py's parameter counts and layers for the model at `path` (with SQNR figures when `quant`,
 * per-group ones for `blocks`, default 32, 64 and 128).
 */
export async function numpyReport(path: string, quant = false, blocks?: readonly number[]): Promise<NumpyReport> {
  const args = [
    'test/reference/channel_stats.py',
    path,
    ...(quant ? ['--quant'] : []),
    ...(blocks ? ['--blocks', blocks.join(',')] : []),
  ];
  const { stdout } = await promisify(execFile)(PYTHON, args, { maxBuffer: 256 << 20 });
  return JSON.parse(stdout) as NumpyReport;
}

/** channel_stats.py's layers for the model at `path` (with SQNR figures when `quant`). */
export async function numpyStats(path: string, quant = false): Promise<NumpyLayer[]> {
  return (await numpyReport(path, quant)).layers;
}

/** The same layers (name, op, weight, shape), in the same order. */
export function expectSameLayers(ours: LayerReport[], reference: NumpyLayer[]): void {
  expect(ours.map((l) => [l.name, l.op, l.weight, l.shape])).to.deep.equal(
    reference.map((l) => [l.name, l.op, l.weight, l.shape]),
  );
}

/** Per-channel statistics, relative ranges, outliers and non-finite counts agree. */
export function expectSameStats(layer: LayerReport, ref: NumpyLayer, where: string): void {
  expect(layer.channels.min, `${where} min`).to.deep.equal(ref.min);
  expect(layer.channels.max, `${where} max`).to.deep.equal(ref.max);
  ref.mean.forEach((mean, c) => {
    const tolerance = 1e-6 * layer.channels.absMax[c]!;
    expect(Math.abs(layer.channels.mean[c]! - mean), `${where} mean[${c}]`).to.be.at.most(tolerance);
    expect(Math.abs(layer.channels.std[c]! - ref.std[c]!), `${where} std[${c}]`).to.be.at.most(tolerance);
  });
  ref.relativeRange.forEach((rel, c) => {
    if (rel === null) expect(layer.relativeRange[c], where).to.equal(null);
    else expect(layer.relativeRange[c], `${where} rel[${c}]`).to.be.closeTo(rel, 1e-9 * rel);
  });
  expect(layer.outliers, `${where} outliers`).to.deep.equal(ref.outliers);
  expect(layer.deadChannels, `${where} dead channels`).to.deep.equal(ref.deadChannels);
  expect(layer.nonFinite, where).to.equal(ref.nonFinite);
}

/**
 * Above this, the "error" is float32 rounding (2^-24 relative is ~144 dB): re-quantizing weights already on
 * the same integer grid (a QOperator model) comes out exact in one implementation and ~140 dB in the other.
 */
const ROUNDING_DB = 120;

/**
 * Every SQNR figure agrees within 0.01 dB (null = exact on both sides, or ≥ ROUNDING_DB), per-group ones for
 * every block size of the reference; returns how many were compared.
 */
export function expectSameSqnr(layer: LayerReport, ref: QuantReport | null, where: string): number {
  if (ref === null) {
    expect(layer.quant, where).to.equal(null);
    return 0;
  }
  let compared = 0;
  const same = (a: number | null | undefined, b: number | null, at: string) => {
    if (a === null || b === null) expect(a ?? b ?? Infinity, at).to.be.at.least(ROUNDING_DB);
    else {
      expect(a, at).to.be.a('number');
      expect(Math.abs(a! - b), at).to.be.at.most(0.01);
      compared++;
    }
  };
  for (const bits of ['int8', 'int4'] as const) {
    for (const mode of ['symmetric', 'asymmetric'] as const) {
      const [ours, theirs] = [layer.quant![bits][mode], ref[bits][mode]];
      const at = `${where} ${bits} ${mode}`;
      same(ours.perTensor, theirs.perTensor, `${at} perTensor`);
      same(ours.perChannel, theirs.perChannel, `${at} perChannel`);
      const blocks = (f: typeof ours) => (f.perGroup ?? []).map((g) => g.block);
      expect(blocks(ours), `${at} block sizes`).to.deep.equal(blocks(theirs));
      ours.perGroup?.forEach((g, i) => same(g.sqnr, theirs.perGroup![i]!.sqnr, `${at} perGroup ${g.block}`));
    }
  }
  return compared;
}
