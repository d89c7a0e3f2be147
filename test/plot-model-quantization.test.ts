// A quantized model's own scales per output channel (src/plot/model-quantization.ts) and how
// <weight-range-plot>'s chart draws them: each layout of scales (per-tensor, per-axis on and off the
// output-channel axis, blocked) mapped onto channels, checked against hand-computed ranges.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { modelGrid } from '../src/plot/model-quantization.js';
import { WEIGHT_RANGE_MARKS, weightRangePlot, weightRangeText } from '../src/plot/weight-ranges.js';
import { decodeModel } from '../src/onnx/decode.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import { type LayerReport, type ModelQuantization } from '../src/report/stats-report.js';
import { DataType, attr, f32Tensor, qdqModel, rawTensor } from './fixtures/onnx-bytes.js';
import { layerOf } from './support/layer-fixture.js';

/** A Conv weight [C, 2, 1, 1] (channel axis 0) with the given per-channel min/max and the model's quantization. */
function layer(min: number[], max: number[], q?: ModelQuantization): LayerReport {
  const C = min.length;
  return {
    ...layerOf(min, max, 'conv'),
    weight: 'w',
    dtype: q?.dtype ?? 'float32',
    shape: [C, 2, 1, 1],
    parameters: 2 * C,
    ...(q ? { modelQuantization: q } : {}),
  };
}

const q = (over: Partial<ModelQuantization>): ModelQuantization => ({
  dtype: 'int8',
  mode: 'tensor',
  axis: null,
  blockSize: 0,
  scales: [0.01],
  zeroPoints: [0],
  ...over,
});

describe("plot: the model's own quantization per channel", () => {
  it('is null for a float weight, and for integer weights without a scale (ConvInteger: integer units)', () => {
    expect(modelGrid(layer([-1], [1]))).to.equal(null);
    expect(modelGrid(layer([-3], [4], q({ scales: null, zeroPoints: [2] })))).to.equal(null);
  });

  it('per-tensor: every channel the same range (qmin − zp)·s .. (qmax − zp)·s; ours per-tensor', () => {
    const grid = modelGrid(layer([-1, -0.5], [0.5, 1.27], q({ scales: [0.01], zeroPoints: [0] })))!;
    expect(grid.granularity).to.equal('per-tensor');
    expect(grid.oneScalePerChannel).to.equal(true);
    expect(grid.ours).to.equal('INT8 symmetric per-tensor');
    for (const g of grid.channels) {
      expect(g).to.include({ scale: 0.01, zeroPoint: 0 });
      expect(g.lo).to.be.closeTo(-1.28, 1e-12);
      expect(g.hi).to.be.closeTo(1.27, 1e-12);
      expect(g.ours).to.be.closeTo(1.27 / 127, 1e-12);
    }
  });

  it('per-axis on the output-channel axis: one scale and zero point per channel; uint8 with zero points → ours asymmetric', () => {
    const grid = modelGrid(
      layer(
        [-1, 0],
        [1, 2],
        q({ dtype: 'uint8', mode: 'axis', axis: 0, scales: [2 / 255, 2 / 255], zeroPoints: [128, 0] }),
      ),
    )!;
    expect(grid.granularity).to.equal('per output channel (axis 0)');
    expect(grid.ours).to.equal('INT8 asymmetric per-channel');
    const [a, b] = grid.channels;
    expect(a!.lo).to.be.closeTo(-128 * (2 / 255), 1e-12);
    expect(a!.hi).to.be.closeTo(127 * (2 / 255), 1e-12);
    expect(b!.lo).to.equal(0);
    expect(b!.hi).to.be.closeTo(2, 1e-12);
    expect(a!.ours).to.be.closeTo(2 / 255, 1e-12);
    expect(b!.ours).to.be.closeTo(2 / 255, 1e-12);
  });

  it('per-axis on the channel axis of a bidirectional recurrent weight: index j is channel j of each direction', () => {
    // LSTM-like W [2, 4, 3] (2 directions × 4 rows): channels 0..7, scales along axis 1 (4 of them).
    const w: LayerReport = {
      ...layer([-1, -1, -1, -1, -1, -1, -1, -1], [1, 1, 1, 1, 1, 1, 1, 1]),
      op: 'LSTM',
      shape: [2, 4, 3],
      channelAxis: 1,
      modelQuantization: q({ mode: 'axis', axis: 1, scales: [1, 2, 3, 4], zeroPoints: [0, 0, 0, 0] }),
    };
    const grid = modelGrid(w)!;
    expect(grid.oneScalePerChannel).to.equal(true);
    expect(grid.channels.map((c) => c.scale)).to.deep.equal([1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('per-axis on another axis: each channel gets the envelope of all the scales', () => {
    const grid = modelGrid(
      layer([-1, -1], [1, 1], q({ mode: 'axis', axis: 1, scales: [0.01, 0.02], zeroPoints: [0, 0] })),
    )!;
    expect(grid.granularity).to.equal('per-axis on axis 1, not the output-channel axis');
    expect(grid.oneScalePerChannel).to.equal(false);
    for (const g of grid.channels) {
      expect(g).to.include({ scale: null, zeroPoint: null });
      expect(g.lo).to.be.closeTo(-2.56, 1e-12);
      expect(g.hi).to.be.closeTo(2.54, 1e-12);
    }
  });

  it('blocked along another axis: a channel has its own blocks; along the channel axis: a block spans channels', () => {
    // shape [3, 2, 1, 1], blocks of 1 along axis 1: scales [3, 2, 1, 1] in row-major order
    const across = modelGrid(
      layer(
        [-1, -1, -1],
        [1, 1, 1],
        q({ mode: 'blocked', axis: 1, blockSize: 1, scales: [1, 2, 3, 4, 5, 6], zeroPoints: null }),
      ),
    )!;
    expect(across.granularity).to.equal('blocks of 1 along axis 1');
    expect(across.channels.map((g) => [g.lo, g.hi])).to.deep.equal([
      [-128 * 2, 127 * 2],
      [-128 * 4, 127 * 4],
      [-128 * 6, 127 * 6],
    ]);
    // blocks of 2 along axis 0 (the channels): scales [2, 2, 1, 1]; channel 2 is the short last block
    const along = modelGrid(
      layer(
        [-1, -1, -1],
        [1, 1, 1],
        q({ mode: 'blocked', axis: 0, blockSize: 2, scales: [1, 2, 3, 4], zeroPoints: null }),
      ),
    )!;
    expect(along.channels.map((g) => g.hi)).to.deep.equal([127 * 2, 127 * 2, 127 * 4]);
  });

  it("draws a rule at each channel's lowest and highest value, and says which channels fall outside", () => {
    const l = layer([-1, -2], [1, 1], q({ mode: 'axis', axis: 0, scales: [0.01, 0.01], zeroPoints: [0, 0] }));
    const options = weightRangePlot(l, { width: 400 });
    const mark = (options.marks as { ariaDescription?: string; data?: { channel: number; y: number }[] }[]).find(
      (m) => m.ariaDescription === WEIGHT_RANGE_MARKS.modelRange,
    )!;
    expect(mark.data!.map((d) => [d.channel, Math.round(d.y * 100)])).to.deep.equal([
      [0, -128],
      [0, 127],
      [1, -128],
      [1, 127],
    ]);
    expect(weightRangeText(l).description)
      .to.contain('stores this weight as int8, per output channel (axis 0)')
      .and.contain('channels outside it: 1.');
    expect(
      weightRangePlot(layer([-1], [1]), { width: 400 }).marks!.some(
        (m: unknown) => (m as { ariaDescription?: string }).ariaDescription === WEIGHT_RANGE_MARKS.modelRange,
      ),
    ).to.equal(false);
  });

  it('from a QDQ model end to end: the dequantized weights sit inside the range the model can represent', async () => {
    const w = rawTensor('w_q', [2, 1, 1, 3], DataType.INT8, new Uint8Array(Int8Array.of(3, -1, 1, 10, -6, -2).buffer));
    const zp = rawTensor('w_zp', [2], DataType.INT8, new Uint8Array(Int8Array.of(1, -2).buffer));
    const model = decodeModel(qdqModel(w, f32Tensor('w_scale', [2], [0.5, 0.25]), zp, [attr.int('axis', 0)]), {
      fileName: 'qdq.onnx',
    });
    const [report] = (await computeStats(model)).layers;
    const grid = modelGrid(report!)!;
    expect(grid.channels.map((g) => [g.scale, g.zeroPoint, g.lo, g.hi])).to.deep.equal([
      [0.5, 1, -64.5, 63],
      [0.25, -2, -31.5, 32.25],
    ]);
    grid.channels.forEach((g, c) => {
      expect(report!.channels.min[c]).to.be.at.least(g.lo);
      expect(report!.channels.max[c]).to.be.at.most(g.hi);
    });
    expect(grid.ours).to.equal('INT8 asymmetric per-channel'); // non-zero zero points
  });
});
