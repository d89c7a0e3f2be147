// The compressibility arithmetic (src/analysis/compression.ts) on cases worked by hand.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import {
  bestRatioWithin,
  channelPruningCurve,
  effectiveRank,
  factorizationCurve,
  PRUNED_SHARES,
  rankForEnergy,
  unstructuredPruningCurve,
  type CompressionPoint,
} from '../src/analysis/compression.js';
import { bestChoice, compressReportAt, rankedBySaving } from '../src/report/compress-choice.js';
import type { CompressReport } from '../src/report/compress-report.js';

describe('compression curves', () => {
  it('rank for 99 % energy and effective rank', () => {
    expect(rankForEnergy([10, 1, 0.1], 0.99)).to.equal(1); // 100 of 101.01
    expect(rankForEnergy([1, 1, 1, 1], 0.99)).to.equal(4);
    expect(rankForEnergy([0, 0], 0.99)).to.equal(0);
    expect(effectiveRank([2, 2, 2])).to.be.closeTo(3, 1e-12);
    expect(effectiveRank([5, 0, 0])).to.equal(1);
    expect(effectiveRank([3, 1])).to.be.closeTo(Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))), 1e-12);
    expect(effectiveRank([0, 0])).to.equal(0);
  });

  it('a factorization: error from the dropped σ, ratio from the factors', () => {
    // [4, 6]: rank k keeps k·(4 + 6) parameters of 24.
    const curve = factorizationCurve([3, 2, 1, 0], 24, (k) => k * 10);
    expect(curve.map((p) => p.at)).to.deep.equal([1, 2, 3, 4]);
    expect(curve.map((p) => p.ratio)).to.deep.equal([2.4, 1.2, 0.8, 0.6]);
    expect(curve[0]!.error).to.be.closeTo(Math.sqrt(5 / 14), 1e-15);
    expect(curve[1]!.error).to.be.closeTo(Math.sqrt(1 / 14), 1e-15);
    expect(curve[2]!.error).to.equal(0);
    expect(bestRatioWithin(curve, 0.3)).to.deep.include({ at: 2, ratio: 1.2 });
    expect(bestRatioWithin(curve, 0.1)).to.deep.include({ at: 3 });
  });

  it('pruning single weights, and whole input channels by L1', () => {
    // 20 weights 1..20: removing the smallest 5 % (one) drops 1² of Σ = 2870.
    const w = Array.from({ length: 20 }, (_, i) => (i % 2 ? -(i + 1) : i + 1));
    const curve = unstructuredPruningCurve(w);
    expect(curve.map((p) => p.at)).to.deep.equal(PRUNED_SHARES);
    expect(curve[0]).to.deep.equal({ ratio: 1, error: 0, at: 0 });
    expect(curve[1]!.error).to.be.closeTo(Math.sqrt(1 / 2870), 1e-15);
    expect(curve[1]!.ratio).to.be.closeTo(20 / 19, 1e-15);
    // 20 channels: L1 20..1 (reversed), squares 1 each: the 5 % share removes one channel of 20.
    const l1 = Array.from({ length: 20 }, (_, c) => 20 - c);
    const channels = channelPruningCurve(l1, new Array(20).fill(1));
    expect(channels[1]!.error).to.be.closeTo(Math.sqrt(1 / 20), 1e-15);
    expect(channels[10]).to.deep.include({ ratio: 2, at: 0.5 });
    expect(channels[10]!.error).to.be.closeTo(Math.sqrt(0.5), 1e-15);
    expect(unstructuredPruningCurve([0, 0]).every((p) => p.error === 0)).to.equal(true);
  });
});

describe('best choices taken again at another error (report/compress-choice.ts)', () => {
  const layer = (name: string, parameters: number, svd: CompressionPoint[], pruning: CompressionPoint[] | null) => ({
    name,
    op: 'Conv',
    shape: [parameters],
    parameters,
    weightSvd: { rows: 1, cols: parameters, singularValues: [], rank99: 1, effectiveRank: 1, curve: svd },
    spatialSvd: null,
    pruning,
    channelPruning: null,
    int8Error: null,
    int4Error: null,
    best: { method: null, ratio: 1, error: 0, parameters },
    notes: [],
  });
  const a = layer(
    'a',
    1000,
    [
      { ratio: 4, error: 0.2, at: 1 },
      { ratio: 2, error: 0.04, at: 2 },
    ],
    [
      { ratio: 1, error: 0, at: 0 },
      { ratio: 2.5, error: 0.1, at: 0.6 },
    ],
  );
  const b = layer('b', 10, [{ ratio: 10, error: 0.01, at: 1 }], null);
  const report: CompressReport = {
    file: 'm.onnx',
    error: 0.05,
    layers: [a, b],
    parameters: { before: 1010, after: 1010 },
  };

  it('the largest ratio of any method within the error, the layer kept when none; ties go to the first method', () => {
    expect(bestChoice(a, 0.05)).to.deep.equal({ method: 'weight SVD', ratio: 2, error: 0.04, parameters: 500 });
    expect(bestChoice(a, 0.1)).to.deep.equal({ method: 'pruning', ratio: 2.5, error: 0.1, parameters: 400 });
    expect(bestChoice(a, 0.01)).to.deep.equal({ method: null, ratio: 1, error: 0, parameters: 1000 });
  });

  it('compressReportAt: every best choice and the totals at the new error; ranked by parameters saved', () => {
    const at = compressReportAt(report, 0.2);
    expect(at.error).to.equal(0.2);
    expect(at.layers.map((l) => l.best.method)).to.deep.equal(['weight SVD', 'weight SVD']);
    expect(at.parameters).to.deep.equal({ before: 1010, after: 250 + 1 });
    expect(report.layers[0]!.best.method, 'the given report is left alone').to.equal(null);
    expect(compressReportAt(report, 0.05)).to.equal(report);
    expect(rankedBySaving(compressReportAt(report, 0.02).layers).map((l) => l.name)).to.deep.equal(['b', 'a']);
    expect(rankedBySaving(at.layers).map((l) => l.name)).to.deep.equal(['a', 'b']);
  });
});
