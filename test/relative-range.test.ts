import { describe, it } from 'node:test';
import { expect } from 'chai';
import { outlierChannels, quantile, relativeRanges, tukeyFence } from '../src/analysis/relative-range.js';

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
