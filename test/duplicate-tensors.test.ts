// One name, one tensor; one tensor, one payload. Both runners. Duplicates and double payloads are refused
// when the model is opened, so stats, cle, report and the elements (all open through the same decoder)
// apply the one rule, and CLE can never rewrite one copy and leave another stale.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { openModel } from '../src/onnx/open.js';
import { equalizeModel } from '../src/pipeline/equalize-model.js';
import {
  DataType,
  type ITensorProto,
  attr,
  externalTensor,
  f32Bytes,
  f32Tensor,
  initializersModel,
  memorySource,
  modelBytes,
  node,
  valueInfo,
} from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';

const constantNode = (output: string, values: number[], name = `make_${output}`) =>
  node('Constant', [], [output], name, [attr.tensor('value', f32Tensor('', [values.length, 1, 1, 1], values))]);

/** Conv reading "w", with `initializer` and `nodes` declaring tensors before it. */
const convReading = (initializer: ReturnType<typeof f32Tensor>[], nodes: ReturnType<typeof node>[]) =>
  modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer,
    node: [...nodes, node('Conv', ['x', 'w'], ['y'], 'conv')],
  });

describe('duplicate tensor names', () => {
  const cases = [
    [
      'an initializer twice',
      convReading([f32Tensor('w', [2, 1, 1, 1], [1, 2]), f32Tensor('w', [2, 1, 1, 1], [3, 4])], []),
      'an initializer and an initializer',
    ],
    [
      'an initializer and a Constant output',
      convReading([f32Tensor('w', [2, 1, 1, 1], [1, 2])], [constantNode('w', [3, 4])]),
      'an initializer and Constant node "make_w"',
    ],
    [
      'two Constant outputs',
      convReading([], [constantNode('w', [1, 2], 'first'), constantNode('w', [3, 4], 'second')]),
      'Constant node "first" and Constant node "second"',
    ],
  ] as const;
  for (const [what, bytes, named] of cases) {
    it(`${what}: BAD_GRAPH naming the file, the graph, the name and both declarations`, async () => {
      const e = await rejects(openModel(bytes, { fileName: 'dup.onnx' }), 'BAD_GRAPH');
      expect(e.message).to.equal(
        `dup.onnx: graph main declares "w" twice (${named}); ONNX names are unique in a graph`,
      );
      expect(e).to.include({ file: 'dup.onnx', tensor: 'w' });
    });
  }

  it('in a subgraph too, with its path', async () => {
    const thenBranch = {
      name: 'then',
      output: [valueInfo('t')],
      initializer: [f32Tensor('v', [1], [1]), f32Tensor('v', [1], [2])],
    };
    const elseBranch = { name: 'else', output: [valueInfo('e')], node: [node('Identity', ['x'], ['e'])] };
    const bytes = modelBytes({
      input: [valueInfo('x'), valueInfo('c')],
      output: [valueInfo('y')],
      node: [
        node('If', ['c'], ['y'], 'If_1', [
          attr.graph('then_branch', thenBranch),
          attr.graph('else_branch', elseBranch),
        ]),
      ],
    });
    const e = await rejects(openModel(bytes, { fileName: 'dup.onnx' }), 'BAD_GRAPH');
    expect(e.message).to.contain('graph main/If_1.then_branch declares "v" twice');
  });

  it('a name declared once in each of two graphs is not a duplicate (a subgraph has its own scope)', async () => {
    const thenBranch = { name: 'then', output: [valueInfo('t')], initializer: [f32Tensor('conv1.bias', [1], [1])] };
    const elseBranch = { name: 'else', output: [valueInfo('e')], node: [node('Identity', ['x'], ['e'])] };
    const bytes = modelBytes({
      input: [valueInfo('x'), valueInfo('c')],
      output: [valueInfo('y')],
      initializer: [f32Tensor('conv1.bias', [1], [2])],
      node: [
        node('If', ['c'], ['y'], 'If_1', [
          attr.graph('then_branch', thenBranch),
          attr.graph('else_branch', elseBranch),
        ]),
      ],
    });
    const model = await openModel(bytes);
    expect(model.graphs.map((g) => g.constants.has('conv1.bias'))).to.deep.equal([true, true, false]);
  });
});

describe('a tensor with two payloads', () => {
  const twice: [ITensorProto, string][] = [
    [
      { name: 'w', dims: [2], dataType: DataType.FLOAT, rawData: f32Bytes([1, 2]), floatData: [1, 2] },
      'float_data and raw_data',
    ],
    [
      { name: 'w', dims: [2], dataType: DataType.FLOAT16, rawData: new Uint8Array(4), int32Data: [0, 0] },
      'int32_data and raw_data',
    ],
    [
      { name: 'w', dims: [2], dataType: DataType.FLOAT, floatData: [1, 2], int32Data: [1, 2] },
      'float_data and int32_data',
    ],
    [
      { name: 'w', dims: [2], dataType: DataType.DOUBLE, doubleData: [1, 2], int64Data: [1, 2] },
      'int64_data and double_data',
    ],
    [{ ...externalTensor('w', [2], 'w.bin', 0, 8), rawData: f32Bytes([1, 2]) }, 'raw_data and external_data'],
  ];
  for (const [tensor, fields] of twice) {
    it(`${fields}: BAD_TENSOR naming the tensor and both fields`, async () => {
      const e = await rejects(
        openModel(initializersModel([tensor]), {
          fileName: 'two.onnx',
          externalData: memorySource({ 'w.bin': f32Bytes([1, 2]) }),
        }),
        'BAD_TENSOR',
      );
      expect(e.message).to.equal(`two.onnx: "w" holds its values twice, in ${fields}; a tensor has one payload`);
      expect(e).to.include({ file: 'two.onnx', tensor: 'w', field: fields.split(' and ')[1] });
    });
  }

  it('CLE never gets to write beside a stale payload: the open refuses first', async () => {
    const w = { ...f32Tensor('w', [2, 1, 1, 1], [1, 2]), floatData: [1, 2] };
    const bytes = modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [w],
      node: [node('Conv', ['x', 'w'], ['y'], 'conv')],
    });
    await rejects(
      openModel(bytes).then((model) => equalizeModel(model)),
      'BAD_TENSOR',
    );
  });
});
