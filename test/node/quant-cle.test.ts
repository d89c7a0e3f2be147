// The point of the kit, on a real trained layer: where a few channels are much wider than the rest,
// per-channel INT8 beats per-tensor by a wide margin, and CLE closes part of that gap for per-tensor.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decodeModel } from '../../src/onnx/decode.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { realModel } from '../support/node-paths.js';

describe('INT8 SQNR before and after CLE on PP-OCRv4 det', () => {
  it('the equalized layer with the widest per-channel vs per-tensor gap: gap ≥ 10 dB, CLE adds ≥ 3 dB per-tensor', async () => {
    const bytes = new Uint8Array(readFileSync(realModel('ch_PP-OCRv4_det_infer.onnx')));
    const { report } = await equalizeModel(decodeModel(bytes, { fileName: 'ch_PP-OCRv4_det_infer.onnx' }));
    const equalized = new Set(report.sets.flatMap((s) => s.layers));
    const int8 = (q: (typeof report.layers)[number]['before']['quant']) => q!.int8.symmetric;
    const candidates = report.layers.filter((l) => equalized.has(l.name) && l.before.outliers.length > 0);
    const gap = (l: (typeof candidates)[number]) => int8(l.before.quant).perChannel! - int8(l.before.quant).perTensor!;
    const layer = candidates.sort((a, b) => gap(b) - gap(a))[0]!;
    const [before, after] = [int8(layer.before.quant), int8(layer.after.quant)];
    console.log(
      `${layer.name}: INT8 per-tensor ${before.perTensor!.toFixed(1)} dB, per-channel ${before.perChannel!.toFixed(1)} dB; after CLE per-tensor ${after.perTensor!.toFixed(1)} dB`,
    );
    expect(before.perChannel! - before.perTensor!).to.be.at.least(10);
    expect(after.perTensor! - before.perTensor!).to.be.at.least(3);
  });
});
