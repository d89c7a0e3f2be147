// SQNR of fake-quantized weights (INT8/INT4, symmetric/asymmetric, per-tensor/per-channel) agrees with the
// independent numpy implementation in test/reference/channel_stats.py --quant within 0.01 dB, on the real
// PaddleOCR models.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { realModel } from '../support/node-paths.js';
import { expectSameSqnr, numpyStats } from '../support/numpy-compare.js';

const MODELS = ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'];

describe('quantization error agrees with numpy (0.01 dB)', () => {
  for (const file of MODELS) {
    it(file, async () => {
      const path = realModel(file);
      const [ours, reference] = await Promise.all([
        openModelFile(path).then((m) => computeStats(m, { quant: true })),
        numpyStats(path, true),
      ]);
      expect(ours.layers.map((l) => l.name)).to.deep.equal(reference.map((l) => l.name));
      let compared = 0;
      ours.layers.forEach((layer, i) => (compared += expectSameSqnr(layer, reference[i]!.quant ?? null, layer.name)));
      expect(compared).to.be.greaterThan(8 * 10);
    });
  }
});
