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
} from '../src/analysis/compression.js';

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
