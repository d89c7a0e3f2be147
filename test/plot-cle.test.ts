// <cle-compare>'s chart logic without the element: the per-channel before/after view and the model-wide
// view, checked through the data each mark carries (Node and browser, no DOM).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { DENSE_CHANNELS } from '../src/plot/channels.js';
import {
  CLE_CHANNEL_MARKS,
  CLE_LAYER_MARKS,
  cleChannelPlot,
  cleChannelRows,
  cleChannelText,
  cleLayerRows,
  cleLayersPlot,
  cleLayersText,
} from '../src/plot/index.js';
import { cleReportOf, evening, rescaled } from './support/cle-fixture.js';
import { layerOf } from './support/layer-fixture.js';

interface MarkLike {
  ariaDescription?: string;
  data?: unknown;
  constructor: { name: string };
}

const marks = (options: { marks?: unknown[] }) => options.marks as MarkLike[];
const mark = (options: { marks?: unknown[] }, name: string) =>
  marks(options).find((m) => m.ariaDescription === name) as MarkLike & { data: { channel: number }[] };
const channels = (options: { marks?: unknown[] }, name: string) => mark(options, name).data.map((d) => d.channel);

// Channels 4 and 7 are outliers before; CLE-like factors even every channel out except channel 0.
const ranges = [1, 1.2, 1.1, 1.3, 9, 1.25, 1.15, 4];
const before = layerOf(
  ranges.map((r) => -r / 2),
  ranges.map((r) => r / 2),
);
const after = rescaled(before, evening(before));
const change = { name: 'conv1', op: 'Conv', before, after };

describe('plot: CLE changes per output channel', () => {
  it('has one before-mark and one after-mark per channel, outliers apart, as the reports say', () => {
    expect(before.outliers).to.deep.equal([4, 7]);
    expect(after.outliers).to.deep.equal([]);
    const options = cleChannelPlot(change, { width: 600 });
    expect(channels(options, CLE_CHANNEL_MARKS.beforeOutliers)).to.deep.equal([4, 7]);
    expect(channels(options, CLE_CHANNEL_MARKS.beforeRanges)).to.deep.equal([0, 1, 2, 3, 5, 6]);
    expect(channels(options, CLE_CHANNEL_MARKS.afterOutliers)).to.deep.equal([]);
    expect(channels(options, CLE_CHANNEL_MARKS.afterRanges)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(channels(options, CLE_CHANNEL_MARKS.beforeMeans)).to.have.length(8);
    expect(channels(options, CLE_CHANNEL_MARKS.afterMeans)).to.have.length(8);
  });

  it('shades the change where min or max moved, and nowhere they did not', () => {
    const options = cleChannelPlot(change);
    expect(channels(options, CLE_CHANNEL_MARKS.maxChange)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(channels(options, CLE_CHANNEL_MARKS.minChange)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    const same = cleChannelPlot({ ...change, after: before });
    expect(channels(same, CLE_CHANNEL_MARKS.maxChange)).to.deep.equal([]);
    expect(channels(same, CLE_CHANNEL_MARKS.minChange)).to.deep.equal([]);
  });

  it('pairs each channel before with the same channel after', () => {
    const [row] = cleChannelRows(change, [4, 4]);
    expect(row!.before.max).to.equal(4.5);
    expect(row!.after.max).to.be.closeTo(after.channels.max[4]!, 0);
    expect(row!.after.max).to.not.equal(row!.before.max);
    expect(cleChannelRows(change, [6, 3]).map((r) => r.channel)).to.deep.equal([3, 4, 5, 6]);
  });

  it('describes the change in words for the SVG title and desc', () => {
    const text = cleChannelText(change);
    expect(text.title).to.contain('conv1');
    expect(text.description).to.contain('7 of 8 channels changed').and.to.contain('before: 2 (4, 7); after: none');
  });

  it('draws a wide layer as lines and bands, outliers still one mark each', () => {
    const r = Array.from({ length: 2048 }, (_, c) => 1 + (c % 7) * 0.05 + (c === 100 || c === 1500 ? 20 : 0));
    const wide = layerOf(
      r.map((v) => -v / 2),
      r.map((v) => v / 2),
      'head',
    );
    const options = cleChannelPlot(
      { name: 'head', op: 'Gemm', before: wide, after: rescaled(wide, evening(wide)) },
      { width: 800 },
    );
    expect(2048).to.be.greaterThan(DENSE_CHANNELS);
    expect(mark(options, CLE_CHANNEL_MARKS.maxChange).constructor.name).to.equal('Area');
    expect(mark(options, CLE_CHANNEL_MARKS.beforeRanges).constructor.name).to.equal('Line');
    expect(mark(options, CLE_CHANNEL_MARKS.afterRanges).constructor.name).to.equal('Area');
    expect(channels(options, CLE_CHANNEL_MARKS.beforeOutliers)).to.deep.equal([100, 1500]);
    // Far fewer marks than channels: one path per series.
    expect(marks(options).length).to.be.lessThan(12);
  });
});

describe('plot: CLE across the model', () => {
  const other = layerOf([-1, -2, -3], [1, 2, 3], 'conv2');
  const flat = layerOf([0, 0], [0, 0], 'conv3'); // every channel dead: no relative range
  const report = cleReportOf('m.onnx', [before, other, flat], { conv1: after });

  it("has one entry per layer, worst first (here without SQNR: largest relative range first), with the reports' figures", () => {
    const rows = cleLayerRows(report);
    expect(rows.map((r) => r.name)).to.deep.equal(['conv1', 'conv2', 'conv3']);
    expect(rows.map((r) => [r.before, r.after])).to.deep.equal([
      [before.maxRelativeRange, after.maxRelativeRange],
      [other.maxRelativeRange, other.maxRelativeRange],
      [null, null],
    ]);
    expect(rows.map((r) => r.changed)).to.deep.equal([true, false, false]);
    expect(rows[2]!.beforeText).to.equal('—');
    const options = cleLayersPlot(report, { selected: 'conv2' });
    const data = (name: string) => (mark(options, name).data as unknown as { name: string }[]).map((d) => d.name);
    expect(data(CLE_LAYER_MARKS.before)).to.deep.equal(['conv1', 'conv2']);
    expect(data(CLE_LAYER_MARKS.after)).to.deep.equal(['conv1', 'conv2']);
    expect(data(CLE_LAYER_MARKS.change)).to.deep.equal(['conv1']);
    expect(data(CLE_LAYER_MARKS.selected)).to.deep.equal(['conv2']);
    expect((options.y as { type: string }).type).to.equal('log');
  });

  it('says which layers could not be drawn, and which is selected', () => {
    const text = cleLayersText(report, 'conv1');
    expect(text.description).to.contain('3 weight layers').and.to.contain('1 layer changed, 1 of them for the better');
    expect(text.description).to.contain('Not drawn (every channel dead): conv3');
    expect(text.description).to.contain('Selected: number 1, conv1');
  });

  it('puts the lowest INT8 per-tensor SQNR before CLE first when the reports carry it', () => {
    const sqnr = (perTensor: number | null) => {
      const figures = { perTensor, perChannel: perTensor };
      return { int8: { symmetric: figures, asymmetric: figures }, int4: { symmetric: figures, asymmetric: figures } };
    };
    const layers = [
      { ...before, quant: sqnr(40) },
      { ...other, quant: sqnr(12.5) },
      { ...flat, quant: sqnr(null) },
    ];
    const rows = cleLayerRows(cleReportOf('m.onnx', layers, {}));
    expect(
      rows.map((r) => r.name),
      'conv2 hurts most; conv3 is exact',
    ).to.deep.equal(['conv2', 'conv1', 'conv3']);
    expect(rows.map((r) => r.index)).to.deep.equal([0, 1, 2]);
    expect(rows[0]!.sqnrBeforeText).to.equal('12.50 dB');
  });
});
