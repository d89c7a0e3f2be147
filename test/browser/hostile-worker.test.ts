// Hostile files and bugs as the page sees them, in Chromium: deep nesting has the same limit in the Worker
// as in Node (a typed error, not a stack overflow in the Worker's smaller stack), and a failure that is not
// a WeightlensError arrives as INTERNAL naming the file — never as IO.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { WeightlensError } from '../../src/errors.js';
import { ModelHandle } from '../../src/binding/model-handle.js';
import { type Analyzer } from '../../src/pipeline/analyzer.js';
import { acquireUrlModel, releaseUrlModel } from '../../src/binding/shared-models.js';
import { analyzeInWorker, analyzeOnThisThread } from '../../src/worker/client.js';
import { deserializeError, serializeError, type WorkerReply } from '../../src/worker/protocol.js';
import { WORKER_SOURCE } from '../../src/worker/worker-source.generated.js';
import { convModel, f32Tensor, modelBytes, nestedIfModel, node, valueInfo } from '../fixtures/onnx-bytes.js';
import { ElementHarness } from '../harness/element-harness.js';
import { ModelSource } from '../../src/components/model-source/model-source.js';
import { WeightRangePlot } from '../../src/components/weight-range-plot/weight-range-plot.js';
import { rejects } from '../support/rejects.js';

ModelSource.define('model-source');
WeightRangePlot.define('weight-range-plot');

/** Conv over two initializers both named "w". */
const duplicateModel = () =>
  modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer: [f32Tensor('w', [1, 1, 1, 1], [1]), f32Tensor('w', [1, 1, 1, 1], [2])],
    node: [node('Conv', ['x', 'w'], ['y'], 'conv')],
  });

const options = () => ({ signal: new AbortController().signal, onProgress: () => {} });
/** The model's own bytes (an encoder's output may be a view into a larger pool). */
const bytesInput = (bytes: Uint8Array, name: string) => ({ kind: 'bytes' as const, bytes: bytes.slice().buffer, name });

describe('deep nesting in Chromium', () => {
  it('in the Worker: 32 levels of subgraphs are read; 33 and 3000 are BAD_GRAPH naming the file', async () => {
    const report = await analyzeInWorker(bytesInput(nestedIfModel(32), 'deep32.onnx'), options());
    expect(report.layers.map((l) => l.name)).to.deep.equal(['deep_conv']);
    for (const levels of [33, 3000]) {
      const e = await rejects(
        analyzeInWorker(bytesInput(nestedIfModel(levels), `deep${levels}.onnx`), options()),
        'BAD_GRAPH',
      );
      expect(e.file).to.equal(`deep${levels}.onnx`);
      expect(e.message).to.contain(`${levels} levels of subgraphs`);
    }
  });

  it('on the page thread (the fallback): the same limit', async () => {
    const report = await analyzeOnThisThread(bytesInput(nestedIfModel(32), 'deep32.onnx'), options());
    expect(report.layers.length).to.equal(1);
    await rejects(analyzeOnThisThread(bytesInput(nestedIfModel(3000), 'deep3000.onnx'), options()), 'BAD_GRAPH');
  });
});

describe('hostile files in the elements', () => {
  for (const [name, bytes, code, says] of [
    ['deep.onnx', nestedIfModel(3000), 'BAD_GRAPH', '3000 levels of subgraphs'],
    ['dup.onnx', duplicateModel(), 'BAD_GRAPH', 'declares "w" twice'],
  ] as const) {
    it(`${name}: the source's alert names the file, wl-error ${code}`, async () => {
      const source = ElementHarness.mount('model-source', { id: `source-${name}` });
      const h = ElementHarness.mount('weight-range-plot', { attributes: { model: `source-${name}` } });
      await h.settled();
      const event = h.nextEvent('wl-error');
      void source.element.handle.load({ kind: 'files', files: [new File([bytes.slice()], name)] });
      expect((await event).detail.error).to.include({ code, file: name });
      await h.ready('error');
      await source.ready('error');
      expect(source.alert()).to.contain(name).and.contain(says);
      expect(h.alert(), 'the source alone shows the error').to.equal(null);
      ElementHarness.cleanup();
    });
  }

  it('the Worker reads duplicate names the same way: BAD_GRAPH', async () => {
    const e = await rejects(analyzeInWorker(bytesInput(duplicateModel(), 'dup.onnx'), options()), 'BAD_GRAPH');
    expect(e.message).to.contain('dup.onnx: graph main declares "w" twice');
  });
});

describe('INTERNAL, not IO', () => {
  it('an untyped error crosses from the Worker as INTERNAL with the file and the original message', () => {
    const crossed = deserializeError(
      structuredClone(serializeError(new RangeError('Maximum call stack size exceeded'), 'm.onnx')),
    );
    expect(crossed).to.be.instanceOf(WeightlensError);
    expect(crossed).to.include({
      code: 'INTERNAL',
      file: 'm.onnx',
      message: 'm.onnx: internal error: RangeError: Maximum call stack size exceeded',
    });
    const typed = new WeightlensError('BAD_TENSOR', 'm.onnx: bad', { file: 'm.onnx', tensor: 'w' });
    expect(deserializeError(structuredClone(serializeError(typed, 'other.onnx')))).to.include({
      code: 'BAD_TENSOR',
      file: 'm.onnx',
      tensor: 'w',
    });
  });

  it('a real Worker: a request it cannot handle comes back INTERNAL naming the kept model', async () => {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    const replies: WorkerReply[] = [];
    const next = () =>
      new Promise<WorkerReply>((resolve) => {
        worker.onmessage = (e: MessageEvent<WorkerReply>) => {
          if (e.data.type !== 'progress') resolve(e.data);
        };
      });
    try {
      replies.push(await next()); // ready
      const input = bytesInput(convModel(), 'conv.onnx');
      const analysed = next();
      worker.postMessage({ type: 'analyze', id: 1, input, session: 5 }, [input.bytes]);
      replies.push(await analysed);
      const failed = next();
      worker.postMessage({ type: 'histogram', id: 2, session: 5, request: null }); // a page bug: no request
      const reply = await failed;
      expect(
        replies.map((r) => r.type),
        JSON.stringify(replies),
      ).to.deep.equal(['ready', 'result']);
      expect(reply).to.include({ type: 'error', id: 2, code: 'INTERNAL', file: 'conv.onnx' });
      expect((reply as { message: string }).message).to.match(/^conv\.onnx: internal error: TypeError: /);
    } finally {
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('an element bound to a model whose analysis hits a bug: an alert saying internal error and the file, wl-error INTERNAL', async () => {
    const url = `${location.origin}/buggy-${Date.now()}.onnx`;
    const later: Analyzer = () =>
      new Promise((_, reject) => setTimeout(() => reject(new RangeError('Invalid array length')), 100));
    const handle = acquireUrlModel(url, later); // the page-wide cache: the element below shares this handle
    try {
      const h = ElementHarness.mount('weight-range-plot', { attributes: { src: url } });
      const event = h.nextEvent('wl-error');
      expect((await event).detail.error).to.include({ code: 'INTERNAL', file: url.split('/').pop() });
      await h.ready('error');
      expect(h.alert()).to.contain(`${url.split('/').pop()}: internal error: RangeError: Invalid array length`);
      expect(handle.error?.code).to.equal('INTERNAL');
    } finally {
      ElementHarness.cleanup();
      releaseUrlModel(url);
    }
  });

  it('a ModelHandle whose analyzer fails with a plain error shows INTERNAL naming the file', async () => {
    const failing: Analyzer = () => Promise.reject(new RangeError('Invalid typed array length: -9'));
    const handle = new ModelHandle(failing);
    await handle.load({ kind: 'url', url: '/models/broken%20net.onnx?v=2' });
    expect(handle.status).to.equal('error');
    expect(handle.error).to.include({
      code: 'INTERNAL',
      file: 'broken net.onnx',
      message: 'broken net.onnx: internal error: RangeError: Invalid typed array length: -9',
    });
  });
});
