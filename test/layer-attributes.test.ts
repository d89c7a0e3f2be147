// Attributes that decide how a weight is read (Conv/ConvTranspose group and window, Gemm transA/transB)
// are checked where layers are found: a value no valid model has is BAD_GRAPH naming the file, the node and
// the attribute, in stats and CLE alike, before anything an attribute could size is allocated.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers } from '../src/analysis/layers.js';
import type { WeightlensError } from '../src/errors.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import { equalizeModel } from '../src/pipeline/equalize-model.js';
import { convPair, gemmPair } from './fixtures/bad-attributes.js';
import type { IAttributeProto } from './fixtures/onnx-bytes.js';
import { attr, CleGraph } from './support/cle-graph.js';
import { rejects } from './support/rejects.js';

const FILE = 'bad.onnx';
const pads = attr.ints('pads', [1, 1, 1, 1]);

/** The BAD_GRAPH error findWeightLayers throws for the model; its message and fields are checked by the caller. */
function badGraph(graph: CleGraph): WeightlensError {
  const model = graph.model(17, FILE);
  try {
    findWeightLayers(model);
  } catch (e) {
    expect((e as WeightlensError).code, String(e)).to.equal('BAD_GRAPH');
    return e as WeightlensError;
  }
  throw new Error('expected BAD_GRAPH, the layers were read');
}

const conv1 = (...attributes: IAttributeProto[]) => convPair({ c1Attributes: [pads, ...attributes] });

/** x -> ConvTranspose ct (w [4, 3, 2, 2]) -> Relu -> Conv. */
function convTranspose(...attributes: IAttributeProto[]): CleGraph {
  const g = new CleGraph();
  const x = g.node('ConvTranspose', 'ct', ['x', g.tensor('ct.w', [4, 3, 2, 2])], attributes);
  g.node('Conv', 'after', [g.node('Relu', 'r', [x]), g.tensor('after.w', [2, 6, 1, 1])]);
  return g;
}

describe('weight layer attributes: invalid values are BAD_GRAPH', () => {
  const cases: { what: string; graph: () => CleGraph; field: string; says: string }[] = [
    {
      what: 'Conv group 0',
      graph: () => conv1(attr.int('group', 0)),
      field: 'group',
      says: 'attribute group=0 must be at least 1',
    },
    {
      what: 'Conv group -3',
      graph: () => conv1(attr.int('group', -3)),
      field: 'group',
      says: 'attribute group=-3 must be at least 1',
    },
    {
      what: 'Conv group 3 on 4 output channels',
      graph: () => conv1(attr.int('group', 3)),
      field: 'group',
      says: 'group=3 does not divide the 4 output channels of weight "w1" [4,4,3,3]',
    },
    {
      what: 'Conv group 2^31 on a tiny model',
      graph: () => conv1(attr.int('group', 2 ** 31)),
      field: 'group',
      says: 'group=2147483648 does not divide the 4 output channels',
    },
    {
      what: 'Conv group 2^28 with a BatchNorm to fold',
      graph: () => convPair({ c1Attributes: [attr.int('group', 2 ** 28)], bn: {} }),
      field: 'group',
      says: 'group=268435456 does not divide',
    },
    {
      what: 'Conv group given as a float',
      graph: () => conv1(attr.float('group', 2)),
      field: 'group',
      says: 'attribute group is of type float, not int',
    },
    {
      what: 'ConvTranspose group 3 on 4 input channels',
      graph: () => convTranspose(attr.int('group', 3)),
      field: 'group',
      says: 'does not divide the 4 input channels of weight "ct.w"',
    },
    {
      what: 'ConvTranspose group 0',
      graph: () => convTranspose(attr.int('group', 0)),
      field: 'group',
      says: 'group=0 must be at least 1',
    },
    {
      what: 'kernel_shape of another size',
      graph: () => conv1(attr.ints('kernel_shape', [5, 5])),
      field: 'kernel_shape',
      says: 'kernel_shape=[5,5] does not match weight "w1" [4,4,3,3]',
    },
    {
      what: 'kernel_shape of another rank',
      graph: () => conv1(attr.ints('kernel_shape', [3, 3, 3])),
      field: 'kernel_shape',
      says: 'has 3 values, weight "w1" [4,4,3,3] needs 2',
    },
    {
      what: 'strides of rank 1 on a 2-D kernel',
      graph: () => conv1(attr.ints('strides', [2])),
      field: 'strides',
      says: 'strides=[2] has 1 values',
    },
    {
      what: 'dilations 0',
      graph: () => conv1(attr.ints('dilations', [1, 0])),
      field: 'dilations',
      says: 'dilations=[1,0] must all be at least 1',
    },
    {
      what: 'pads of the wrong length',
      graph: () => convPair({ c1Attributes: [attr.ints('pads', [1, 1])] }),
      field: 'pads',
      says: 'pads=[1,1] has 2 values, weight "w1" [4,4,3,3] needs 4',
    },
    {
      what: 'negative pads',
      graph: () => convPair({ c1Attributes: [attr.ints('pads', [1, -1, 1, 1])] }),
      field: 'pads',
      says: 'must all be at least 0',
    },
    {
      what: 'ConvTranspose strides 0',
      graph: () => convTranspose(attr.ints('strides', [0, 1])),
      field: 'strides',
      says: 'strides=[0,1] must all be at least 1',
    },
    {
      what: 'Gemm transB=7',
      graph: () => gemmPair([attr.int('transB', 7)]),
      field: 'transB',
      says: 'Gemm "g1" attribute transB=7 must be 0 or 1',
    },
    {
      what: 'Gemm transA=-1',
      graph: () => gemmPair([attr.int('transA', -1), attr.int('transB', 1)]),
      field: 'transA',
      says: 'attribute transA=-1 must be 0 or 1',
    },
  ];
  for (const c of cases) {
    it(`${c.what}: names the file, the node and the attribute`, () => {
      const e = badGraph(c.graph());
      expect(e.message)
        .to.match(new RegExp(`^${FILE}: (Conv|ConvTranspose|Gemm) "(c1|ct|g1)" attribute `))
        .and.contain(c.says);
      expect(e.file).to.equal(FILE);
      expect(e.field).to.equal(c.field);
    });
  }

  it('stats and CLE refuse the same file the same way (group 2^31): BAD_GRAPH, nothing allocated by the attribute', async () => {
    const model = conv1(attr.int('group', 2 ** 31)).model(17, FILE);
    const fromStats = await rejects(computeStats(model), 'BAD_GRAPH');
    const fromCle = await rejects(equalizeModel(model), 'BAD_GRAPH');
    expect(fromCle.message).to.equal(fromStats.message);
  });

  it('valid attributes are read as before: group 2 of [4, 2, 3, 3], kernel_shape, strides, dilations, pads; Gemm transB 1', () => {
    const g = new CleGraph();
    g.node(
      'Conv',
      'c',
      ['x', g.tensor('c.w', [4, 2, 3, 3])],
      [
        attr.int('group', 2),
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('strides', [2, 1]),
        attr.ints('dilations', [1, 2]),
        attr.ints('pads', [0, 1, 0, 1]),
      ],
    );
    const [conv] = findWeightLayers(g.model());
    expect(conv).to.include({ groups: 2, depthwise: false });
    const [gemm] = findWeightLayers(gemmPair().model());
    expect(gemm).to.include({ op: 'Gemm', channelAxis: 0 });
  });
});
