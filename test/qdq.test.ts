// Quantized (QDQ) models: statistics and SQNR on the dequantized weights, the model's own scales reported
// beside them, and CLE refused with the reason.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { planCle } from '../src/cle/plan-cle.js';
import { decodeModel } from '../src/onnx/decode.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import { DataType, attr, f32Tensor, qdqModel, rawTensor } from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';

// int8 weight [2, 1, 1, 3] per-axis (axis 0): channel 0 scale 0.5 zp 1, channel 1 scale 0.25 zp -2.
const q = rawTensor('w_q', [2, 1, 1, 3], DataType.INT8, new Uint8Array(Int8Array.of(3, -1, 1, 10, -6, -2).buffer));
const zp = rawTensor('w_zp', [2], DataType.INT8, new Uint8Array(Int8Array.of(1, -2).buffer));
const model = () =>
  decodeModel(qdqModel(q, f32Tensor('w_scale', [2], [0.5, 0.25]), zp, [attr.int('axis', 0)]), { fileName: 'qdq.onnx' });

describe('QDQ models', () => {
  it("statistics on dequantized weights, with the file's scales and zero points beside them", async () => {
    const report = await computeStats(model(), { quant: true });
    const layer = report.layers[0]!;
    // (q - zp) * scale: channel 0 -> [1, -1, 0], channel 1 -> [3, -1, 0]
    expect(layer.channels.min).to.deep.equal([-1, -1]);
    expect(layer.channels.max).to.deep.equal([1, 3]);
    expect(layer.dtype).to.equal('int8');
    expect(layer.modelQuantization).to.deep.equal({
      dtype: 'int8',
      mode: 'axis',
      axis: 0,
      blockSize: 0,
      scales: [0.5, 0.25],
      zeroPoints: [1, -2],
    });
    expect(layer.quant!.int8.symmetric.perTensor).to.be.a('number');
  });

  it('CLE is refused: apply it to the float model before quantization', async () => {
    const error = await rejects(planCle(model()), 'USAGE');
    expect(error.message).to.contain('apply CLE to the float model before quantization').and.contain('qdq.onnx');
  });
});
