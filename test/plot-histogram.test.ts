// <weight-histogram>'s chart logic without elements: the overlaid quantizer from a layer's statistics,
// bins and edges, when grid levels are drawn and what the header says when they are not.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import type { LayerReport } from '../src/report/stats-report.js';
import type { LayerHistogram } from '../src/report/weight-histogram.js';
import {
  WEIGHT_HISTOGRAM_MARKS,
  gridLevels,
  histogramBins,
  quantOverlay,
  weightHistogramPlot,
  weightHistogramText,
} from '../src/plot/index.js';
import { gridText, histogramDomain } from '../src/plot/weight-histogram.js';

/** Two channels: [−0.5, 0.25] and [0.1, 2]; a third with nothing finite. */
const layer = {
  name: 'conv',
  weight: 'conv.weight',
  shape: [3, 4],
  op: 'Conv',
  channels: {
    min: [-0.5, 0.1, null],
    max: [0.25, 2, null],
    absMax: [0.5, 2, null],
    mean: [0, 1, null],
    std: [0.1, 0.5, null],
  },
} as unknown as LayerReport;

const histogram = (over: Partial<LayerHistogram> = {}): LayerHistogram => ({
  file: 'toy.onnx',
  layer: 'conv',
  weight: 'conv.weight',
  channel: null,
  lo: -0.5,
  hi: 2,
  counts: [3, 1, 0, 2, 1],
  elements: 12,
  nonFinite: 5,
  below: 0,
  above: 0,
  zoomed: false,
  ...over,
});

const markData = (options: { marks?: unknown[] }, name: string) =>
  (options.marks as { ariaDescription?: string; data?: unknown }[]).find((m) => m.ariaDescription === name)?.data as
    unknown[] | undefined;

describe('weight histogram overlay', () => {
  it('symmetric: ±max|w| of the tensor, or of the channel for a per-channel grid; level q at q·scale', () => {
    const t = quantOverlay(layer, 0, { bits: 8, scheme: 'symmetric', grid: 'tensor' })!;
    expect(t).to.deep.include({ lo: -2, hi: 2, zeroPoint: 0, qmin: -127, qmax: 127, scale: Math.fround(2 / 127) });
    const c = quantOverlay(layer, 0, { bits: 4, scheme: 'symmetric', grid: 'channel' })!;
    expect(c).to.deep.include({ lo: -0.5, hi: 0.5, qmin: -7, qmax: 7 });
    expect(gridLevels(c)).to.have.length(15);
    expect(gridLevels(c)[14]).to.be.closeTo(0.5, 1e-7);
  });

  it('asymmetric: [min, max] widened to include 0, 2^b levels from the zero point', () => {
    const t = quantOverlay(layer, null, { bits: 8, scheme: 'asymmetric', grid: 'tensor' })!;
    expect(t).to.deep.include({ lo: -0.5, hi: 2, qmin: 0, qmax: 255 });
    const c = quantOverlay(layer, 1, { bits: 4, scheme: 'asymmetric', grid: 'channel' })!;
    expect([c.lo, c.hi]).to.deep.equal([0, 2]); // 0 joins the range of a positive channel
    expect(c.zeroPoint).to.equal(0);
    expect(gridLevels(c)).to.have.length(16);
  });

  it('none for a per-channel grid over the whole tensor, or a channel with nothing finite', () => {
    expect(quantOverlay(layer, null, { bits: 8, scheme: 'symmetric', grid: 'channel' })).to.equal(null);
    expect(quantOverlay(layer, 2, { bits: 8, scheme: 'symmetric', grid: 'channel' })).to.equal(null);
  });
});

describe('weight histogram chart', () => {
  it('bins cover [lo, hi] exactly, hi closing the last; empty bins are not drawn', () => {
    const bins = histogramBins(histogram());
    expect(bins.map((b) => [b.x1, b.x2])).to.deep.equal([
      [-0.5, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1.5],
      [1.5, 2],
    ]);
    const options = weightHistogramPlot(histogram(), null);
    expect(markData(options, WEIGHT_HISTOGRAM_MARKS.bins)).to.have.length(4);
    expect(markData(options, WEIGHT_HISTOGRAM_MARKS.clipBounds)).to.equal(undefined);
  });

  it('the x axis spans the histogram and the clipping range; a single value still gets a width', () => {
    const o = quantOverlay(layer, 0, { bits: 8, scheme: 'symmetric', grid: 'tensor' })!;
    expect(histogramDomain(histogram(), o)).to.deep.equal([-2, 2]);
    const [lo, hi] = histogramDomain(histogram({ lo: 3, hi: 3 }), null);
    expect(lo).to.be.below(3);
    expect(hi).to.be.above(3);
  });

  it('draws INT4 levels one by one; says how many bins an INT8 step spans', () => {
    const h = histogram({ counts: new Array(100).fill(1), lo: -2, hi: 2 });
    const int4 = quantOverlay(layer, null, { bits: 4, scheme: 'symmetric', grid: 'tensor' })!;
    expect(markData(weightHistogramPlot(h, int4, { width: 640 }), WEIGHT_HISTOGRAM_MARKS.levels)).to.have.length(15);
    expect(gridText(h, int4, 640))
      .to.contain('15 levels')
      .and.contain('each drawn');
    const int8 = quantOverlay(layer, null, { bits: 8, scheme: 'symmetric', grid: 'tensor' })!;
    expect(markData(weightHistogramPlot(h, int8, { width: 640 }), WEIGHT_HISTOGRAM_MARKS.levels)).to.have.length(0);
    // step 2/127 over bins of 4/100: 0.394 bins a step
    expect(gridText(h, int8, 640))
      .to.contain('255 levels')
      .and.contain('too dense to draw, one step spans 0.394 histogram bins');
  });

  it('zoomed: the axis is the zoomed range, INT8 levels inside it drawn one by one, the text says what lies outside', () => {
    const int8 = quantOverlay(layer, null, { bits: 8, scheme: 'symmetric', grid: 'tensor' })!; // step 2/127
    const h = histogram({ counts: new Array(100).fill(1), lo: 0, hi: 0.25, zoomed: true, below: 40, above: 7 });
    expect(histogramDomain(h, int8)).to.deep.equal([0, 0.25]); // not widened to the clipping range
    const levels = markData(weightHistogramPlot(h, int8, { width: 640 }), WEIGHT_HISTOGRAM_MARKS.levels) as number[];
    expect(levels).to.deep.equal(gridLevels(int8).filter((v) => v >= 0 && v <= 0.25)); // 0 … 15 steps
    expect(levels).to.have.length(16);
    expect(markData(weightHistogramPlot(h, int8, { width: 640 }), WEIGHT_HISTOGRAM_MARKS.clipBounds)).to.deep.equal([]); // ±2 are out of view
    expect(gridText(h, int8, 640)).to.contain('each drawn');
    expect(weightHistogramText(h, int8).description).to.contain(
      'Zoomed: 40 weights below and 7 above the range shown.',
    );
  });

  it('log counts use a symlog axis (bins of one weight stay visible)', () => {
    const options = weightHistogramPlot(histogram(), null, { scale: 'log' }) as {
      y: { type?: string; label?: string };
    };
    expect(options.y.type).to.equal('symlog');
    expect(options.y.label).to.contain('log');
  });

  it('its text alternative names the layer, the selection, the clipping range and the non-finite weights', () => {
    const o = quantOverlay(layer, 1, { bits: 8, scheme: 'asymmetric', grid: 'channel' })!;
    const text = weightHistogramText(histogram({ channel: 1 }), o);
    expect(text.title).to.equal('Weight histogram of conv, output channel 1');
    expect(text.description)
      .to.contain('12 weights of conv.weight in 5 equal bins')
      .and.contain('INT8 asymmetric, per-channel grid')
      .and.contain('[0, 2]')
      .and.contain('5 NaN or infinite weights are in no bin');
  });
});
