import { describe, it } from 'node:test';
import { expect } from 'chai';
import {
  deadChannels,
  liveRelativeRanges,
  outlierChannels,
  quantile,
  rangeFigures,
  relativeRanges,
  tukeyFence,
} from '../src/analysis/relative-range.js';

describe('relative ranges and Tukey outliers (AIMET rules)', () => {
  it('divides each channel range by the smallest one', () => {
    expect(relativeRanges([-1, 0, -2], [1, 0.5, 6])).to.deep.equal([4, 1, 16]);
  });

  it('reports null, not Infinity or NaN, when the smallest range is zero', () => {
    expect(relativeRanges([0, -1], [0, 1])).to.deep.equal([null, null]);
  });

  it('leaves channels without finite values out of the smallest range', () => {
    expect(relativeRanges([NaN, -1, -0.5], [NaN, 1, 0.5])).to.deep.equal([null, 2, 1]);
  });

  it('interpolates quartiles linearly like numpy.percentile', () => {
    // numpy.percentile([1, 2, 3, 4, 10], [25, 75]) == [2, 4]; of [1, 2, 3, 4] == [1.75, 3.25]
    expect([quantile([1, 2, 3, 4, 10], 0.25), quantile([1, 2, 3, 4, 10], 0.75)]).to.deep.equal([2, 4]);
    expect([quantile([1, 2, 3, 4], 0.25), quantile([1, 2, 3, 4], 0.75)]).to.deep.equal([1.75, 3.25]);
  });

  it('marks channels above Q3 + 1.5 IQR', () => {
    const rel = [1, 1.2, 1.1, 1.3, 9, 1.25, 1.15, 4];
    const fence = tukeyFence(rel)!;
    expect(fence.upper).to.be.closeTo(fence.q3 + 1.5 * (fence.q3 - fence.q1), 1e-12);
    expect(outlierChannels(rel)).to.deep.equal([4, 7]);
  });

  it('finds no outliers when every value is null', () => {
    expect(outlierChannels([null, null])).to.deep.equal([]);
  });
});

describe('dead channels and the live relative range', () => {
  it('calls a channel dead when its range is at most 1e-4 of the largest, zero, or without finite values', () => {
    // Ranges: 2, 2e-4 (dead: exactly 1e-4 of 2), 3e-4 (live), 0, no finite value.
    const min = [-1, 0, 0, 5, NaN];
    const max = [1, 2e-4, 3e-4, 5, NaN];
    expect(deadChannels(min, max)).to.deep.equal([1, 3, 4]);
    expect(liveRelativeRanges(min, max)).to.deep.equal([2 / 3e-4, null, 1, null, null]);
  });

  it('calls every channel of an all-constant layer dead, with no relative range at all', () => {
    expect(deadChannels([0, 1], [0, 1])).to.deep.equal([0, 1]);
    expect(rangeFigures([0, 1], [0, 1])).to.deep.equal({
      relativeRange: [null, null],
      maxRelativeRange: null,
      minRange: null,
      deadChannels: [0, 1],
      aimetMaxRelativeRange: null,
      outliers: [],
    });
  });

  it("keeps AIMET's figure beside the live one: one near-dead channel makes AIMET's explode, not ours", () => {
    // PP-OCRv4 det's p2o.Conv.22 in small: live ranges 1..4, one channel of range 1.2e-34.
    const f = rangeFigures([-0.5, -1, -2, 0], [0.5, 1, 2, 1.2e-34]);
    expect(f.deadChannels).to.deep.equal([3]);
    expect(f.maxRelativeRange).to.equal(4);
    expect(f.minRange).to.equal(1);
    expect(f.aimetMaxRelativeRange).to.be.closeTo(4 / 1.2e-34, (4 / 1.2e-34) * 1e-12);
  });

  it('finds outliers among live channels only: dead channels do not drag the quartiles down', () => {
    const ranges = [1, 1.1, 1.2, 1.3, 1.25, 6];
    const dead = [0, 0, 0, 0, 0, 0];
    const f = rangeFigures(
      [...ranges, ...dead].map((r) => -r / 2),
      [...ranges, ...dead].map((r) => r / 2),
    );
    expect(f.deadChannels).to.deep.equal([6, 7, 8, 9, 10, 11]);
    expect(f.outliers).to.deep.equal(outlierChannels(ranges.map((r) => r / 1)));
  });
});
