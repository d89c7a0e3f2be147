// No weight layer is left out of CLE silently: on every real model of the suite, each layer the kit finds
// is either in an equalized set or named in `skipped` with a reason.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { planCle } from '../../src/cle/plan-cle.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { realModel, ROOT } from '../support/node-paths.js';

const MODELS = [
  realModel('ch_PP-OCRv4_det_infer.onnx'),
  realModel('ch_PP-OCRv4_rec_infer.onnx'),
  realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  ...['silero_vad_legacy.onnx', 'silero_vad_v5.onnx', 'silero_vad_v6.onnx'].map((f) =>
    join(ROOT, 'node_modules/@ricky0123/vad-web/dist', f),
  ),
];

describe('CLE accounts for every weight layer of the real models', () => {
  for (const path of MODELS) {
    const file = path.split('/').pop()!;
    it(file, async () => {
      const model = decodeModel(new Uint8Array(readFileSync(path)), { fileName: file });
      const layers = findWeightLayers(model);
      const result = await planCle(model);
      const equalized = new Set(result.sets.flatMap((s) => s.layers));
      const named = new Set(result.skipped.flatMap((s) => s.layers));
      expect(layers.length, 'weight layers').to.be.greaterThan(0);
      expect(
        layers.filter((l) => !equalized.has(l.name) && !named.has(l.name)).map((l) => `${l.op} ${l.name}`),
      ).to.deep.equal([]);
      for (const s of result.skipped) expect(s.reason, s.layers.join(', ')).to.match(/\S/);
      const matmuls = layers.filter((l) => l.op === 'MatMul').map((l) => l.name);
      if (file.startsWith('ch_PP-OCRv4_rec'))
        expect(matmuls, 'the SVTR neck holds MatMul layers').to.have.length.greaterThan(5);
    });
  }
});
