// The chart logic without elements: src/plot/ turns results into Plot options whose marks carry the data
// drawn, so what a chart shows can be checked here, in Node and in the browser, with no DOM.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { tukeyFence } from '../src/analysis/relative-range.js';
import type { LayerReport } from '../src/report/stats-report.js';
import {
  HISTOGRAM_MARKS,
  RELATIVE_RANGE_MARKS,
  WEIGHT_RANGE_MARKS,
  channelRows,
  clampDomain,
  type ChannelRow,
  formatNumber,
  relativeRangeHistogram,
  relativeRangePlot,
  relativeRangeSummary,
  relativeRangeText,
  summarize,
  weightRangePlot,
  weightRangeText,
} from '../src/plot/index.js';
import { layerOf } from './support/layer-fixture.js';

interface MarkLike {
  ariaDescription?: string;
  data?: unknown;
}

const mark = (options: { marks?: unknown[] }, name: string) =>
  (options.marks as MarkLike[]).find((m) => m.ariaDescription === name) as MarkLike & { data: { channel: number }[] };

// Channel 4 (range 9) and 7 (range 4) stand out of 1..1.3: AIMET's fence puts them above Q3 + 1.5 IQR.
const ranges = [1, 1.2, 1.1, 1.3, 9, 1.25, 1.15, 4];
const layer = layerOf(
  ranges.map((r) => -r / 2),
  ranges.map((r) => r / 2),
);

/** A wide layer (an LLM-head-like 2048 channels) with channels 100 and 1500 far wider than the rest. */
function wideLayer(): LayerReport {
  const r = Array.from({ length: 2048 }, (_, c) => 1 + (c % 7) * 0.05 + (c === 100 || c === 1500 ? 20 : 0));
  return layerOf(
    r.map((v) => -v / 2),
    r.map((v) => v / 2),
    'head',
  );
}

describe('plot: dense layers', () => {
  it('draws thousands of channels as one band and one mean line, outliers still one mark each', () => {
    const wide = wideLayer();
    expect(wide.outliers).to.deep.equal([100, 1500]);
    const options = weightRangePlot(wide, { width: 800 });
    const ranges = mark(options, WEIGHT_RANGE_MARKS.ranges) as MarkLike & {
      data: { channel: number }[];
      constructor: { name: string };
    };
    expect(ranges.constructor.name).to.equal('Area');
    expect(ranges.data.length).to.equal(1024); // buckets of two channels: MAX_BUCKETS is 2000
    expect(mark(options, WEIGHT_RANGE_MARKS.means).constructor.name).to.equal('Line');
    expect(mark(options, WEIGHT_RANGE_MARKS.outlierRanges).data.map((d) => d.channel)).to.deep.equal([100, 1500]);
    const rel = relativeRangePlot(wide, { width: 800 });
    expect(mark(rel, RELATIVE_RANGE_MARKS.channels).constructor.name).to.equal('Area');
    expect(mark(rel, RELATIVE_RANGE_MARKS.outliers).data.map((d) => d.channel)).to.deep.equal([100, 1500]);
  });

  it('bins a 262,144-row embedding into at most 2,000 buckets whose envelope keeps every extreme', () => {
    const rows = 262_144;
    const r = Array.from({ length: rows }, (_, c) => 1 + (c % 13) * 0.01 + (c === 200_001 ? 50 : 0));
    const min = r.map((v, c) => -v / 2 - (c === 77_777 ? 30 : 0));
    const big = layerOf(
      min,
      r.map((v) => v / 2),
      'embed',
    );
    const options = weightRangePlot(big, { width: 800 });
    const band = mark(options, WEIGHT_RANGE_MARKS.ranges).data as unknown as ChannelRow[];
    expect(band.length).to.be.at.most(2000).and.greaterThan(1000);
    expect(Math.max(...band.map((d) => d.max!))).to.equal(
      big.channels.max.reduce((a, b) => Math.max(a!, b!), -Infinity),
    );
    expect(Math.min(...band.map((d) => d.min!))).to.equal(min.reduce((a, b) => Math.min(a, b)));
    expect(mark(options, WEIGHT_RANGE_MARKS.means).data.length).to.equal(band.length);
    const outliers = mark(options, WEIGHT_RANGE_MARKS.outlierRanges).data.map((d) => d.channel);
    expect(outliers).to.include.members([77_777, 200_001]);
    expect(outliers.length).to.be.at.most(2000);
    // Zoomed to 1,000 channels: one row per channel again (a band while dense), the outlier its own mark.
    const zoomed = weightRangePlot(big, { width: 800, domain: [199_500, 200_499] });
    expect(mark(zoomed, WEIGHT_RANGE_MARKS.ranges).data.map((d) => d.channel)).to.deep.equal(
      Array.from({ length: 1000 }, (_, i) => 199_500 + i),
    );
    expect(mark(zoomed, WEIGHT_RANGE_MARKS.outlierRanges).data.map((d) => d.channel)).to.deep.equal([200_001]);
    const rel = mark(relativeRangePlot(big, { width: 800 }), RELATIVE_RANGE_MARKS.channels)
      .data as unknown as ChannelRow[];
    expect(rel.length).to.equal(band.length);
    expect(Math.max(...rel.map((d) => d.relativeRange!))).to.equal(
      big.relativeRange.reduce((a, b) => Math.max(a!, b!), -Infinity),
    );
  });

  it('goes back to one mark per channel when zoomed in', () => {
    const options = weightRangePlot(wideLayer(), { domain: [0, 199] });
    expect(mark(options, WEIGHT_RANGE_MARKS.ranges).constructor.name).to.equal('RuleX');
    expect(mark(options, WEIGHT_RANGE_MARKS.ranges).data.length).to.equal(199); // 200 channels, outlier 100 apart
  });
});

describe('plot: weight ranges per output channel', () => {
  it('draws every channel once, outliers apart from the others', () => {
    const options = weightRangePlot(layer, { width: 500 });
    const channels = (name: string) => mark(options, name).data.map((d) => d.channel);
    expect(layer.outliers).to.deep.equal([4, 7]);
    expect(channels(WEIGHT_RANGE_MARKS.outlierRanges)).to.deep.equal([4, 7]);
    expect(channels(WEIGHT_RANGE_MARKS.outlierMeans)).to.deep.equal([4, 7]);
    expect(channels(WEIGHT_RANGE_MARKS.ranges)).to.deep.equal([0, 1, 2, 3, 5, 6]);
    expect(channels(WEIGHT_RANGE_MARKS.means)).to.deep.equal([0, 1, 2, 3, 5, 6]);
    expect(options.width).to.equal(500);
    expect(options.x!.domain).to.deep.equal([-0.5, 7.5]);
  });

  it('zooms by restricting both the data and the x domain', () => {
    const options = weightRangePlot(layer, { domain: [6, 3] });
    expect(options.x!.domain).to.deep.equal([2.5, 6.5]);
    expect(mark(options, WEIGHT_RANGE_MARKS.ranges).data.map((d) => d.channel)).to.deep.equal([3, 5, 6]);
    expect(mark(options, WEIGHT_RANGE_MARKS.outlierRanges).data.map((d) => d.channel)).to.deep.equal([4]);
    expect(clampDomain(layer, [-5, 99])).to.deep.equal([0, 7]);
  });

  it('leaves out channels without finite values, and the means that are missing', () => {
    const gap = {
      ...layer,
      channels: {
        ...layer.channels,
        min: [...layer.channels.min],
        max: [...layer.channels.max],
        mean: [...layer.channels.mean],
      },
    };
    gap.channels.min[2] = null;
    gap.channels.max[2] = null;
    gap.channels.mean[1] = null;
    const options = weightRangePlot(gap);
    expect(mark(options, WEIGHT_RANGE_MARKS.ranges).data.map((d) => d.channel)).to.deep.equal([0, 1, 3, 5, 6]);
    expect(mark(options, WEIGHT_RANGE_MARKS.means).data.map((d) => d.channel)).to.deep.equal([0, 3, 5, 6]);
  });

  it('marks dead channels with a cross and names them in the description', () => {
    const withDead = layerOf([-1, -2, 0, -1.5], [1, 2, 1e-30, 1.5]);
    expect(withDead.deadChannels).to.deep.equal([2]);
    expect(mark(weightRangePlot(withDead), WEIGHT_RANGE_MARKS.deadChannels).data.map((d) => d.channel)).to.deep.equal([
      2,
    ]);
    expect(weightRangeText(withDead).description).to.contain(
      "1 dead channel (range at most 1e-4 of the layer's largest, drawn as a cross): 2.",
    );
    expect(mark(weightRangePlot(layer), WEIGHT_RANGE_MARKS.deadChannels).data).to.deep.equal([]);
  });

  it('describes the chart in words for its SVG title and desc', () => {
    const text = weightRangeText(layer);
    expect(text.title).to.contain('conv1');
    expect(text.description)
      .to.contain('channels 0–7 of 8')
      .and.to.contain('2 outlier channels')
      .and.to.contain('4, 7');
    expect(text.description).to.contain(`from ${formatNumber(-4.5)} to ${formatNumber(4.5)}`);
  });
});

describe('plot: relative ranges, histogram and summary', () => {
  it('plots each relative range with the outliers apart and the Tukey fence as a rule', () => {
    const options = relativeRangePlot(layer);
    expect(mark(options, RELATIVE_RANGE_MARKS.channels).data.map((d) => d.channel)).to.deep.equal([0, 1, 2, 3, 5, 6]);
    expect(mark(options, RELATIVE_RANGE_MARKS.outliers).data.map((d) => d.channel)).to.deep.equal([4, 7]);
    expect(mark(options, RELATIVE_RANGE_MARKS.fence).data).to.deep.equal([tukeyFence(layer.relativeRange)!.upper]);
    expect(relativeRangeText(layer).description).to.contain('channels above it: 4, 7');
  });

  it('bins the finite relative ranges, with the fence', () => {
    const options = relativeRangeHistogram(layer, { bins: 10 });
    expect(mark(options, HISTOGRAM_MARKS.bins).data).to.deep.equal(layer.relativeRange);
    expect(mark(options, HISTOGRAM_MARKS.fence).data).to.deep.equal([tukeyFence(layer.relativeRange)!.upper]);
  });

  it('summarises like numpy: mean, population std, min, linear quartiles, max', () => {
    // numpy: a = [1, 2, 3, 4, 10]; a.mean() 4.0, a.std() 3.1622776601683795, percentile 25/50/75 -> 2, 3, 4
    expect(summarize([1, 2, null, 3, 4, 10])).to.deep.equal({
      count: 5,
      mean: 4,
      std: 3.1622776601683795,
      min: 1,
      q1: 2,
      median: 3,
      q3: 4,
      max: 10,
    });
    expect(summarize([null])).to.equal(null);
    const rows = Object.fromEntries(relativeRangeSummary(layer).map((r) => [r.label, r.value]));
    expect(rows['outlier channels']).to.equal(2);
    expect(rows['channels']).to.equal(8);
    expect(rows['Tukey fence (Q3 + 1.5·IQR)']).to.equal(tukeyFence(layer.relativeRange)!.upper);
  });

  it('leaves a dead channel out and plots the rest; has nothing to plot when every channel is dead, and says why', () => {
    const someDead = layerOf([0, -1, -2], [0, 1, 2]);
    expect(someDead.relativeRange).to.deep.equal([null, 1, 2]);
    expect(relativeRangeText(someDead).description).to.contain('Dead channels, left out: 0');
    expect(mark(relativeRangePlot(someDead), RELATIVE_RANGE_MARKS.channels).data.map((d) => d.channel)).to.deep.equal([
      1, 2,
    ]);
    const flat = layerOf([0, 3, -2], [0, 3, -2]);
    expect(flat.relativeRange).to.deep.equal([null, null, null]);
    expect(mark(relativeRangePlot(flat), RELATIVE_RANGE_MARKS.fence)).to.equal(undefined);
    expect(relativeRangeSummary(flat)).to.deep.equal([]);
    expect(relativeRangeText(flat).description).to.contain('every channel of conv1 is dead');
  });

  it('formats numbers to six significant digits with true minus signs', () => {
    expect([
      formatNumber(0.123456789),
      formatNumber(-2.5e-7),
      formatNumber(null),
      formatNumber(Infinity),
      formatNumber(1234567),
    ]).to.deep.equal(['0.123457', '−2.5e-7', '—', '∞', '1.2346e+6']);
    expect(channelRows(layer, [7, 7])).to.deep.equal([
      { channel: 7, min: -2, max: 2, mean: 0, std: 1, relativeRange: 4, outlier: true, dead: false },
    ]);
  });
});
