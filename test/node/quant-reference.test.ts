// SQNR of fake-quantized weights (INT8/INT4, symmetric/asymmetric, per-tensor/per-channel) agrees with the
// independent numpy implementation in test/reference/channel_stats.py --quant within 0.01 dB, on the real
// PaddleOCR models.
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/report/stats-report.js';
import type { QuantReport } from '../../src/report/quant-error.js';
import { PYTHON, realModel } from '../support/node-paths.js';

const MODELS = ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'];

describe('quantization error agrees with numpy (0.01 dB)', () => {
  for (const file of MODELS) {
    it(file, async () => {
      const path = realModel(file);
      const [ours, reference] = await Promise.all([
        openModelFile(path).then((m) => computeStats(m, { quant: true })),
        promisify(execFile)(PYTHON, ['test/reference/channel_stats.py', path, '--quant'], { maxBuffer: 256 << 20 })
          .then(({ stdout }) => (JSON.parse(stdout) as { layers: { name: string; quant: QuantReport | null }[] }).layers),
      ]);
      expect(ours.layers.map((l) => l.name)).to.deep.equal(reference.map((l) => l.name));
      let compared = 0;
      ours.layers.forEach((layer, i) => {
        const ref = reference[i]!.quant;
        if (ref === null) return void expect(layer.quant, layer.name).to.equal(null);
        for (const bits of ['int8', 'int4'] as const) {
          for (const mode of ['symmetric', 'asymmetric'] as const) {
            for (const granularity of ['perTensor', 'perChannel'] as const) {
              const [a, b] = [layer.quant![bits][mode][granularity], ref[bits][mode][granularity]];
              const where = `${layer.name} ${bits} ${mode} ${granularity}`;
              if (b === null) expect(a, where).to.equal(null);
              else {
                expect(a, where).to.be.a('number');
                expect(Math.abs(a! - b), where).to.be.at.most(0.01);
                compared++;
              }
            }
          }
        }
      });
      expect(compared).to.be.greaterThan(8 * 10);
    });
  }
});
