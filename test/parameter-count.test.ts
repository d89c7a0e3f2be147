// What `model.parameters` and `model.quantizedParameters` count, on float, QDQ and QOperator models.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { countParameters } from '../src/analysis/parameter-count.js';
import { openModel } from '../src/onnx/open.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  DataType,
  attr,
  f32Tensor,
  intTensor,
  modelBytes,
  node,
  qlinearConvModel,
  valueInfo,
} from './fixtures/onnx-bytes.js';

const open = (bytes: Uint8Array) => openModel(bytes, { fileName: 'p.onnx' });

describe('parameter counts', () => {
  it('a float model: every float constant, in every graph, once; integer constants are not parameters', async () => {
    const thenBranch = {
      name: 'then',
      output: [valueInfo('t')],
      initializer: [f32Tensor('then.w', [2, 1, 1, 1], [1, 2])],
      node: [node('Conv', ['x', 'then.w'], ['t'], 'c_then')],
    };
    const elseBranch = {
      name: 'else',
      output: [valueInfo('e')],
      node: [node('Conv', ['x', 'outer.w'], ['e'], 'c_else')],
    };
    const model = await open(
      modelBytes({
        input: [valueInfo('x'), valueInfo('cond')],
        output: [valueInfo('y')],
        initializer: [
          f32Tensor('outer.w', [2, 1, 1, 3], [1, 2, 3, 4, 5, 6]),
          f32Tensor('clip.max', [], [6]),
          intTensor('shape', [2], DataType.INT32, [1, -1]),
        ],
        node: [
          node('If', ['cond'], ['y'], 'if', [
            attr.graph('then_branch', thenBranch),
            attr.graph('else_branch', elseBranch),
          ]),
        ],
      }),
    );
    expect(countParameters(model)).to.deep.equal({ parameters: 6 + 1 + 2, quantizedParameters: 0 });
  });

  it('a QDQ model: int8 weights and int32 biases are quantized parameters; scales and zero points count nowhere', async () => {
    const model = await open(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [
          intTensor('w_q', [2, 1, 1, 3], DataType.INT8, [1, 2, 3, 4, 5, 6]),
          f32Tensor('w_scale', [2], [0.5, 0.25]),
          intTensor('w_zp', [2], DataType.INT8, [0, 0]),
          intTensor('b_q', [2], DataType.INT32, [7, -7]),
          f32Tensor('b_scale', [2], [0.1, 0.2]),
          f32Tensor('y_scale', [], [0.05]),
          intTensor('y_zp', [], DataType.UINT8, [128]),
          f32Tensor('gamma', [2], [1, 2]), // a float weight the model does not quantize
        ],
        node: [
          node('DequantizeLinear', ['w_q', 'w_scale', 'w_zp'], ['w'], 'dq_w', [attr.int('axis', 0)]),
          node('DequantizeLinear', ['b_q', 'b_scale'], ['b'], 'dq_b', [attr.int('axis', 0)]),
          node('Conv', ['x', 'w', 'b'], ['c'], 'conv'),
          node('Mul', ['c', 'gamma'], ['m'], 'mul'),
          node('QuantizeLinear', ['m', 'y_scale', 'y_zp'], ['q'], 'q_y'),
          node('DequantizeLinear', ['q', 'y_scale', 'y_zp'], ['y'], 'dq_y'),
        ],
      }),
    );
    const report = await computeStats(model);
    expect(report.model).to.include({ parameters: 2, quantizedParameters: 6 + 2 });
    expect(report.layers.map((l) => [l.name, l.parameters])).to.deep.equal([['conv', 6 + 2]]);
  });

  it('a QOperator model: QLinearConv w and its int32 bias are quantized parameters, its six scales and zero points are neither', async () => {
    expect(countParameters(await open(qlinearConvModel()))).to.deep.equal({
      parameters: 0,
      quantizedParameters: 6 + 2,
    });
  });
});
