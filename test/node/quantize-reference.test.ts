// The SQNR `weightlens quantize` reports for each stored weight agrees within 0.01 dB with numpy
// (test/reference/quantized_sqnr.py), which evaluates the exported DequantizeLinear nodes itself, on the
// real PaddleOCR models: per tensor and per channel, symmetric int8 and asymmetric uint8, min-max and the
// clipping search (the opset-13 forms Debian's onnx 1.12 reads).
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { quantizeModel } from '../../src/pipeline/quantize-model.js';
import type { QuantScheme } from '../../src/quant/scheme.js';
import { PYTHON, ROOT, realModel } from '../support/node-paths.js';

const SCHEMES: QuantScheme[] = [
  { bits: 8, symmetric: true, granularity: 'tensor' },
  { bits: 8, symmetric: false, granularity: 'tensor' },
  { bits: 8, symmetric: true, granularity: 'channel' },
  { bits: 8, symmetric: false, granularity: 'channel', method: 'clip' },
];

describe('quantize: stored-weight SQNR agrees with numpy (0.01 dB)', () => {
  for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) {
    for (const scheme of SCHEMES) {
      it(`${file}: ${scheme.bits} bits ${scheme.symmetric ? 'sym' : 'asym'} ${scheme.granularity} ${scheme.method ?? ''}`, async () => {
        const path = realModel(file);
        const { bytes, report } = await quantizeModel(await openModelFile(path), { plan: { default: scheme } });
        const dir = mkdtempSync(join(tmpdir(), 'weightlens-qref-'));
        try {
          writeFileSync(join(dir, 'q.onnx'), bytes);
          const script = join(ROOT, 'test/reference/quantized_sqnr.py');
          const numpy = JSON.parse(
            execFileSync(PYTHON, [script, path, join(dir, 'q.onnx')], { encoding: 'utf8' }),
          ) as Record<string, number | null>;
          expect(Object.keys(numpy).sort()).to.deep.equal(report.layers.map((l) => l.weight).sort());
          for (const l of report.layers) {
            const reference = numpy[l.weight];
            if (reference === null) expect(l.sqnr, l.weight).to.equal(null);
            else expect(l.sqnr!, l.weight).to.be.closeTo(reference!, 0.01);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
});
