// QOperator models (QLinearConv, QLinearMatMul) and the integer ops (ConvInteger, MatMulInteger): weight
// layers under their own op type, statistics on the dequantized weights, the model's own scales beside them,
// QLinearConv's int32 bias dequantized with x_scale·w_scale, and CLE refused with the reason.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers } from '../src/analysis/layers.js';
import { formatStatsTable } from '../src/cli/table.js';
import { planCle } from '../src/cle/plan-cle.js';
import { decodeModel } from '../src/onnx/decode.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  DataType,
  QLINEAR_CONV,
  f32Tensor,
  intTensor,
  qlinearConvModel,
  qoperatorModel,
} from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';
import { tensorValues } from './support/tensors.js';

const { INT8, UINT8, INT32 } = DataType;
const open = (bytes: Uint8Array) => decodeModel(bytes, { fileName: 'q.onnx' });
const statsOf = async (bytes: Uint8Array) => (await computeStats(open(bytes), { quant: true })).layers;

const { weight: W, scale: W_SCALE, zeroPoint: W_ZP, activation: ACTIVATION, bias: BIAS } = QLINEAR_CONV;

describe('QOperator: QLinearConv', () => {
  it("is a weight layer: statistics on the dequantized weight, the file's scales and zero points beside them", async () => {
    const [layer] = await statsOf(qlinearConvModel());
    expect(layer).to.include({
      name: 'qop',
      op: 'QLinearConv',
      weight: 'w_q',
      dtype: 'int8',
      channelAxis: 0,
      bias: 'b_q',
    });
    expect(layer!.channels.min).to.deep.equal([-1, -1]);
    expect(layer!.channels.max).to.deep.equal([1, 3]);
    expect(layer!.modelQuantization).to.deep.equal({
      dtype: 'int8',
      mode: 'axis',
      axis: 0,
      blockSize: 0,
      scales: [0.5, 0.25],
      zeroPoints: [1, -2],
    });
    expect(layer!.quant!.int8.symmetric.perChannel).to.be.a('number');
    expect(layer!.notes).to.equal(undefined);
  });

  it('dequantizes the int32 bias with x_scale·w_scale', async () => {
    const [layer] = findWeightLayers(open(qlinearConvModel()));
    expect(await tensorValues(layer!.bias)).to.deep.equal([10 * 0.25, -40 * 0.125]);
  });

  it('leaves the bias out, with a note, when x_scale is computed at run time', async () => {
    const initializer = [W, W_SCALE, W_ZP, ...ACTIVATION.slice(1), BIAS];
    const [layer] = await statsOf(qlinearConvModel(initializer));
    expect(layer!.bias).to.equal(null);
    expect(layer!.notes).to.deep.equal([
      'bias "b_q" is not dequantized: x_scale "x_scale" is not a one-value constant',
    ]);
    expect(layer!.channels.max).to.deep.equal([1, 3]);
  });

  it('a one-value w_scale is per-tensor', async () => {
    const [layer] = await statsOf(
      qlinearConvModel([
        W,
        f32Tensor('w_scale', [], [2]),
        intTensor('w_zp', [], INT8, [0]),
        ...ACTIVATION,
        intTensor('b_q', [2], INT32, [1, 2]),
      ]),
    );
    expect(layer!.channels.max).to.deep.equal([6, 20]);
    expect(layer!.modelQuantization).to.deep.include({ mode: 'tensor', axis: null, scales: [2], zeroPoints: [0] });
  });

  it('a w_scale that fits neither form is BAD_TENSOR naming file, node, tensor and field', async () => {
    const model = open(
      qlinearConvModel([
        W,
        f32Tensor('w_scale', [3], [1, 2, 3]),
        intTensor('w_zp', [3], INT8, [0, 0, 0]),
        ...ACTIVATION,
      ]),
    );
    const e = await rejects(computeStats(model), 'BAD_TENSOR');
    expect(e.message).to.equal(
      'q.onnx: QLinearConv "qop": w_scale of "w_q" [2,1,1,3] must be a scalar or have shape [2] (axis 0), got [3]',
    );
    expect(e).to.include({ file: 'q.onnx', tensor: 'w_q', field: 'w_scale' });
  });

  it('a w_zero_point of another shape, or a bias not one per channel, is BAD_TENSOR', async () => {
    const zp = await rejects(
      computeStats(open(qlinearConvModel([W, W_SCALE, intTensor('w_zp', [], INT8, [0]), ...ACTIVATION]))),
      'BAD_TENSOR',
    );
    expect(zp.message).to.contain('w_zero_point [] must have the shape of w_scale [2]');
    const bias = await rejects(
      computeStats(open(qlinearConvModel([W, W_SCALE, W_ZP, ...ACTIVATION, intTensor('b_q', [3], INT32, [1, 2, 3])]))),
      'BAD_TENSOR',
    );
    expect(bias.message).to.equal(
      'q.onnx: QLinearConv "qop": bias "b_q" [3] must have one value per output channel [2]',
    );
    expect(bias).to.include({ tensor: 'b_q', field: 'B' });
  });

  it('CLE is refused: apply it to the float model before quantization', async () => {
    const e = await rejects(planCle(open(qlinearConvModel())), 'USAGE');
    expect(e.message).to.equal(
      'q.onnx: 1 layer has quantized weights (e.g. QLinearConv "qop" reads int8 "w_q"); apply CLE to the float model before quantization',
    );
  });
});

describe('QOperator: QLinearMatMul', () => {
  const A = [
    f32Tensor('a_scale', [], [0.1]),
    intTensor('a_zp', [], UINT8, [128]),
    f32Tensor('y_scale', [], [0.1]),
    intTensor('y_zp', [], UINT8, [128]),
  ];
  const matmul = (
    b: ReturnType<typeof intTensor>,
    scale: ReturnType<typeof f32Tensor>,
    zp: ReturnType<typeof intTensor>,
  ) =>
    qoperatorModel(
      'QLinearMatMul',
      ['a', 'a_scale', 'a_zp', 'b_q', 'b_scale', 'b_zp', 'y_scale', 'y_zp'],
      [b, scale, zp, ...A],
    );
  const B = intTensor('b_q', [2, 3], UINT8, [0, 128, 255, 10, 20, 30]);

  it('per column (b_scale [N]): channels are the columns', async () => {
    const [layer] = await statsOf(
      matmul(B, f32Tensor('b_scale', [3], [0.5, 1, 2]), intTensor('b_zp', [3], UINT8, [128, 128, 0])),
    );
    expect(layer).to.include({ op: 'QLinearMatMul', weight: 'b_q', dtype: 'uint8', channelAxis: 1, bias: null });
    // columns: (0-128)·0.5, (10-128)·0.5 | (128-128)·1, (20-128)·1 | 255·2, 30·2
    expect(layer!.channels.min).to.deep.equal([-64, -108, 60]);
    expect(layer!.channels.max).to.deep.equal([-59, 0, 510]);
    expect(layer!.modelQuantization).to.deep.equal({
      dtype: 'uint8',
      mode: 'axis',
      axis: 1,
      blockSize: 0,
      scales: [0.5, 1, 2],
      zeroPoints: [128, 128, 0],
    });
  });

  it('per tensor', async () => {
    const [layer] = await statsOf(matmul(B, f32Tensor('b_scale', [], [0.5]), intTensor('b_zp', [], UINT8, [128])));
    expect(layer!.channels.max).to.deep.equal([-59, 0, 63.5]);
    expect(layer!.modelQuantization).to.deep.include({ mode: 'tensor', axis: null, scales: [0.5] });
  });

  it('batched per column (b [D, K, N], b_scale [D, 1, N], opset 21): one block spanning K', async () => {
    const b = intTensor('b_q', [2, 2, 3], INT8, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const [layer] = await statsOf(
      matmul(
        b,
        f32Tensor('b_scale', [2, 1, 3], [1, 2, 4, 0.5, 0.25, 0.125]),
        intTensor('b_zp', [2, 1, 3], INT8, [0, 0, 0, 0, 0, 0]),
      ),
    );
    // column 0: 1, 4 | 3.5, 5; column 1: 4, 10 | 2, 2.75; column 2: 12, 24 | 1.125, 1.5
    expect(layer!.channels.min).to.deep.equal([1, 2, 1.125]);
    expect(layer!.channels.max).to.deep.equal([5, 10, 24]);
    expect(layer!.modelQuantization).to.deep.include({ mode: 'blocked', axis: 1, blockSize: 2 });
  });

  it('a b_scale that runs along rows is BAD_TENSOR', async () => {
    const e = await rejects(
      computeStats(open(matmul(B, f32Tensor('b_scale', [2], [1, 2]), intTensor('b_zp', [2], UINT8, [0, 0])))),
      'BAD_TENSOR',
    );
    expect(e.message).to.equal(
      'q.onnx: QLinearMatMul "qop": b_scale of "b_q" [2,3] must be a scalar or have shape [3] (axis 1), got [2]',
    );
  });
});

describe('ConvInteger and MatMulInteger: no weight scale', () => {
  it('ConvInteger: statistics in integer units, w - w_zero_point, said in a note; no scales', async () => {
    const w = intTensor('w_q', [2, 1, 1, 2], INT8, [5, -3, 7, 1]);
    const [layer] = await statsOf(
      qoperatorModel(
        'ConvInteger',
        ['x', 'w_q', 'x_zp', 'w_zp'],
        [w, intTensor('x_zp', [], UINT8, [128]), intTensor('w_zp', [2], INT8, [1, -1])],
      ),
    );
    expect(layer).to.include({ op: 'ConvInteger', weight: 'w_q', channelAxis: 0 });
    expect(layer!.channels.min).to.deep.equal([-4, 2]);
    expect(layer!.channels.max).to.deep.equal([4, 8]);
    expect(layer!.modelQuantization).to.deep.equal({
      dtype: 'int8',
      mode: 'axis',
      axis: 0,
      blockSize: 0,
      scales: null,
      zeroPoints: [1, -1],
    });
    expect(layer!.notes![0]).to.contain('ConvInteger carries no weight scale').and.contain('integer units');
    const table = formatStatsTable({
      file: 'q.onnx',
      model: {
        irVersion: 9,
        producer: '',
        producerVersion: '',
        opsets: { '': 21 },
        parameters: 0,
        quantizedParameters: 4,
      },
      layers: [layer!],
    });
    expect(table).to.match(/^qop +ConvInteger /m);
    expect(table.replace(/\n {2}/g, ' '), 'the note, wrapped').to.contain(`\nnote: qop: ${layer!.notes![0]}\n`);
  });

  it('MatMulInteger without zero points: the stored integers', async () => {
    const [layer] = await statsOf(
      qoperatorModel('MatMulInteger', ['a', 'b_q'], [intTensor('b_q', [2, 2], UINT8, [1, 200, 3, 4])]),
    );
    expect(layer).to.include({ op: 'MatMulInteger', channelAxis: 1 });
    expect(layer!.channels.max).to.deep.equal([3, 200]);
    expect(layer!.modelQuantization).to.deep.equal({
      dtype: 'uint8',
      mode: 'tensor',
      axis: null,
      blockSize: 0,
      scales: null,
      zeroPoints: null,
    });
  });

  it('CLE is refused for them too', async () => {
    const model = open(qoperatorModel('MatMulInteger', ['a', 'b_q'], [intTensor('b_q', [2, 2], UINT8, [1, 2, 3, 4])]));
    expect((await rejects(planCle(model), 'USAGE')).message).to.contain(
      'apply CLE to the float model before quantization',
    );
  });
});
