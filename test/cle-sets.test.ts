// Graph analysis for CLE (src/analysis/cle-sets.ts): which BatchNorms fold, which layers form pairs,
// triplets and chains, and the reason for every candidate left alone. No weights are read.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import {
  chainSets,
  findBatchNormFolds,
  findCleChains,
  findCleSets,
  readScalarInputs,
} from '../src/analysis/cle-sets.js';
import { findWeightLayers, type WeightLayer } from '../src/analysis/layers.js';
import type { Model } from '../src/onnx/model.js';
import { attr, CleGraph } from './support/cle-graph.js';

/** conv(name, x, cin, cout): a 1×1 Conv with weight `${name}.w`. */
function conv(g: CleGraph, name: string, x: string, cin: number, cout: number, group = 1): string {
  const w = g.tensor(`${name}.w`, [cout, cin / group, 1, 1]);
  return g.node('Conv', name, [x, w], group > 1 ? [attr.int('group', group)] : []);
}

async function analyse(model: Model, relu6ToRelu = false) {
  const layers = findWeightLayers(model);
  const { folds, skipped: foldSkips } = findBatchNormFolds(model, layers);
  const found = findCleSets(model, layers, folds, { relu6ToRelu, clipBounds: await readScalarInputs(model) });
  return {
    folds: folds.map((f) => `${f.bn.name}->${f.layer.name}`),
    foldSkips: foldSkips.map((s) => s.reason),
    sets: found.sets.map(
      (s) => `${s.kind}:${s.layers.map((l) => l.name).join(',')}[${s.between.map((n) => n.opType).join(',')}]`,
    ),
    chains: found.chains.map((c) => c.layers.map((l) => l.name).join(',')),
    reasons: found.skipped.map((s) => s.reason),
    skipped: found.skipped,
    clipRewrites: found.clipRewrites.map((n) => n.name),
  };
}

/** conv_a -> (ops) -> conv_b, for one op between. */
async function between(
  op: string,
  inputs: (g: CleGraph) => string[] = () => [],
  attributes = [] as ReturnType<typeof attr.int>[],
) {
  const g = new CleGraph();
  const a = conv(g, 'conv_a', 'x', 2, 2);
  const mid = g.node(op, 'mid', [a, ...inputs(g)], attributes);
  conv(g, 'conv_b', mid, 2, 2);
  return analyse(g.model());
}

describe('CLE sets: BatchNorm folding candidates', () => {
  it('folds BN after Conv, ConvTranspose and Gemm (findBatchNormFolds(model) finds the layers itself)', async () => {
    const g = new CleGraph();
    let x = conv(g, 'conv', 'x', 2, 4);
    x = g.bn('bn0', x, 4);
    x = g.node('ConvTranspose', 'convT', [x, g.tensor('convT.w', [4, 3, 2, 2])], [attr.int('group', 2)]);
    x = g.bn('bn1', x, 6);
    x = g.node('Flatten', 'flat', [x]);
    x = g.node('Gemm', 'fc', [x, g.tensor('fc.w', [5, 6]), g.tensor('fc.b', [5])], [attr.int('transB', 1)]);
    g.bn('bn2', x, 5);
    const model = g.model();
    const { folds, skipped } = findBatchNormFolds(model);
    expect(folds.map((f) => [f.bn.name, f.layer.name])).to.deep.equal([
      ['bn0', 'conv'],
      ['bn1', 'convT'],
      ['bn2', 'fc'],
    ]);
    expect(folds[0]!.epsilon).to.be.closeTo(1e-3, 1e-9);
    expect(skipped).to.deep.equal([]);
  });

  it('does not fold a BN that is not the sole consumer, and says why for weights it may not rewrite', async () => {
    const g = new CleGraph();
    const a = conv(g, 'conv_a', 'x', 2, 2);
    g.bn('bn_a', a, 2);
    g.node('Relu', 'side', [a]); // conv_a's output has a second reader: no fold, no candidate
    const b = g.node('Conv', 'conv_b', ['x', g.tensor('conv_b.w', [2, 2, 1, 1])]);
    g.bn('bn_b', b, 2);
    const c = g.node('Conv', 'conv_c', ['x', 'conv_b.w']); // shares conv_b's weight
    g.bn('bn_c', c, 2);
    const d = g.node('Conv', 'conv_d', ['x', g.tensor('conv_d.w', [2, 2, 1, 1])]);
    g.bn('bn_d', d, 2);
    g.graphInput('conv_d.w');
    const e = g.node('Conv', 'conv_e', ['x', g.tensor('conv_e.w', [2, 2, 1, 1])]);
    g.node('BatchNormalization', 'bn_e', [e, 'bn_d.scale', 'bn_d.bias', 'bn_d.mean', 'running_var']);
    g.graphInput('running_var');
    const r = await analyse(g.model());
    expect(r.folds).to.deep.equal([]);
    expect(r.foldSkips).to.deep.equal([
      `bn_b not folded: conv_b's weight "conv_b.w" is shared with other nodes`,
      `bn_c not folded: conv_c's weight "conv_b.w" is shared with other nodes`,
      `bn_d not folded: conv_d's weight "conv_d.w" is a graph input a runtime may replace`,
      'bn_e not folded: its scale, bias, mean and variance are not all constants',
    ]);
  });

  it('refuses Gemm forms where per-channel scaling is not exact (transA, alpha/beta ≠ 1)', async () => {
    const g = new CleGraph();
    const a = g.node('Gemm', 'fc_a', ['x', g.tensor('fc_a.w', [3, 4])], [attr.int('transA', 1)]);
    g.bn('bn_a', a, 4);
    const b = g.node(
      'Gemm',
      'fc_b',
      ['x', g.tensor('fc_b.w', [3, 4]), g.tensor('fc_b.c', [4])],
      [attr.float('beta', 0.5)],
    );
    g.bn('bn_b', b, 4);
    const r = await analyse(g.model());
    expect(r.foldSkips).to.deep.equal([
      "bn_a not folded: fc_a is a Gemm with transA=1 (its input channels are not the previous layer's outputs)",
      'bn_b not folded: fc_b is a Gemm with alpha or beta other than 1',
    ]);
  });
});

describe('CLE sets: what a chain may cross', () => {
  for (const [op, inputs, attributes] of [
    ['Relu', undefined, []],
    ['LeakyRelu', undefined, [attr.float('alpha', 0.1)]],
    ['PRelu', (g: CleGraph) => [g.tensor('slope', [2, 1, 1], [0.1, 0.3])], []],
    ['Identity', undefined, []],
  ] as const) {
    it(`${op} is scale-equivariant: conv_a and conv_b form a pair`, async () => {
      const r = await between(op, inputs, [...attributes]);
      expect(r.sets).to.deep.equal([`pair:conv_a,conv_b[${op}]`]);
      expect(r.reasons).to.deep.equal([]);
    });
  }

  it('a folded BN is transparent; Relu after it is what the set records', async () => {
    const g = new CleGraph();
    let x = conv(g, 'conv_a', 'x', 2, 3);
    x = g.node('Relu', 'relu', [g.bn('bn', x, 3)]);
    conv(g, 'conv_b', x, 3, 2);
    const r = await analyse(g.model());
    expect(r.folds).to.deep.equal(['bn->conv_a']);
    expect(r.sets).to.deep.equal(['pair:conv_a,conv_b[Relu]']);
  });

  it('Conv -> DW -> Conv is a triplet; a chain of 5 splits into a triplet and pairs', async () => {
    const g = new CleGraph();
    let x = conv(g, 'c0', 'x', 2, 4);
    x = g.node('Relu', 'r0', [x]);
    x = conv(g, 'dw', x, 4, 4, 4);
    x = g.node('Relu', 'r1', [x]);
    x = conv(g, 'c2', x, 4, 3);
    x = g.node('Relu', 'r2', [x]);
    x = conv(g, 'c3', x, 3, 5);
    conv(g, 'c4', x, 5, 2);
    const r = await analyse(g.model());
    expect(r.chains).to.deep.equal(['c0,dw,c2,c3,c4']);
    expect(r.sets).to.deep.equal(['triplet:c0,dw,c2[Relu,Relu]', 'pair:c2,c3[Relu]', 'pair:c3,c4[]']);
    expect(chainSets([{}, { depthwise: true }, {}, {}, { depthwise: true }])).to.deep.equal([
      { kind: 'triplet', first: 0 },
      { kind: 'pair', first: 2 },
      { kind: 'pair', first: 3 },
    ]);
  });

  it('Gemm -> Relu -> Gemm -> Relu -> MatMul: Gemm (both weight layouts) and MatMul chain together', async () => {
    const g = new CleGraph();
    let x = g.node('Gemm', 'fc0', ['x', g.tensor('fc0.w', [3, 4])]);
    x = g.node('Relu', 'r0', [x]);
    x = g.node('Gemm', 'fc1', [x, g.tensor('fc1.w', [5, 4])], [attr.int('transB', 1)]);
    x = g.node('Relu', 'r1', [x]);
    g.node('MatMul', 'mm', [x, g.tensor('mm.w', [5, 2])]);
    const r = await analyse(g.model());
    expect(r.sets).to.deep.equal(['pair:fc0,fc1[Relu]', 'pair:fc1,mm[Relu]']);
    expect(r.reasons).to.deep.equal([]); // mm ends the model, but it is equalized: nothing to report
  });

  it('MatMul + Add of a constant [out] or [1, out] is a Linear layer: the Add is its bias, and the chain goes on after it', async () => {
    const g = new CleGraph();
    let x = g.node('MatMul', 'mm0', ['x', g.tensor('mm0.w', [6, 4])]);
    x = g.node('Add', 'mm0_bias', [x, g.tensor('mm0.b', [4])]);
    x = g.node('Relu', 'r0', [x]);
    x = g.node('MatMul', 'mm1', [x, g.tensor('mm1.w', [4, 3])]);
    x = g.node('Add', 'mm1_bias', [g.tensor('mm1.b', [1, 3]), x]);
    x = g.node('Relu', 'r1', [x]);
    x = g.node('MatMul', 'mm2', [x, g.tensor('mm2.w', [3, 2])]);
    g.node('Add', 'not_a_bias', [x, g.tensor('row', [3, 2])]); // one value per element, not per channel
    const model = g.model();
    const layers = findWeightLayers(model);
    const { chains, linearBiases, skipped } = findCleChains(model, layers, [], new Map());
    expect(chains.map((c) => c.layers.map((l) => l.name))).to.deep.equal([['mm0', 'mm1', 'mm2']]);
    expect(chains[0]!.between.map((ops) => ops.map((n) => n.opType))).to.deep.equal([['Relu'], ['Relu']]);
    expect([...linearBiases].map(([l, b]) => [l.name, b.add.name, b.bias.name])).to.deep.equal([
      ['mm0', 'mm0_bias', 'mm0.b'],
      ['mm1', 'mm1_bias', 'mm1.b'],
    ]);
    expect(skipped.map((s) => s.reason)).to.deep.equal(['Add with a constant after mm2 breaks the chain']);
  });

  for (const [op, attributes] of [
    ['MaxPool', [attr.ints('kernel_shape', [2, 2])]],
    [
      'AveragePool',
      [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1]), attr.int('count_include_pad', 1)],
    ],
    ['GlobalAveragePool', []],
    ['GlobalMaxPool', []],
  ] as const) {
    it(`${op} pools each channel on its own: conv_a and conv_b form a pair across it`, async () => {
      const r = await between(op, undefined, [...attributes]);
      expect(r.sets).to.deep.equal([`pair:conv_a,conv_b[${op}]`]);
      expect(r.reasons).to.deep.equal([]);
    });
  }

  it('Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm: a classifier head is a pair', async () => {
    const g = new CleGraph();
    let x = conv(g, 'conv', 'x', 2, 4);
    x = g.node('Relu', 'relu', [x]);
    x = g.node('GlobalAveragePool', 'gap', [x]);
    x = g.node('Flatten', 'flat', [x]);
    g.node('Gemm', 'fc', [x, g.tensor('fc.w', [3, 4]), g.tensor('fc.b', [3])], [attr.int('transB', 1)]);
    const r = await analyse(g.model());
    expect(r.sets).to.deep.equal(['pair:conv,fc[Relu,GlobalAveragePool,Flatten]']);
  });

  it('channels must be where the next layer reads them: Conv (axis 1) into MatMul (last axis), MatMul into pooling', async () => {
    const g = new CleGraph();
    let x = conv(g, 'conv', 'x', 2, 4);
    x = g.node('Relu', 'relu', [x]);
    x = g.node('MatMul', 'mm', [x, g.tensor('mm.w', [4, 4])]); // contracts the image's width, not its channels
    x = g.node('MaxPool', 'pool', [x], [attr.ints('kernel_shape', [2, 2])]);
    conv(g, 'conv_b', x, 4, 2);
    const r = await analyse(g.model());
    expect(r.sets).to.deep.equal([]);
    expect(r.reasons).to.deep.equal([
      'conv puts its channels on axis 1, but MatMul mm reads its input channels on the last axis',
      'MaxPool between mm and conv_b pools along the axes where mm puts its channels',
    ]);
  });
});

describe('CLE sets: every candidate left alone has a reason', () => {
  it('declines any weight op it does not scale by name (here an LSTM, two layers: W and R), and the layer that feeds it', async () => {
    const g = new CleGraph();
    const x = g.node('Relu', 'relu', [conv(g, 'conv', 'x', 2, 4)]);
    g.node(
      'LSTM',
      'lstm',
      [x, g.tensor('lstm.W', [1, 12, 4]), g.tensor('lstm.R', [1, 12, 3])],
      [attr.int('hidden_size', 3)],
    );
    const model = g.model();
    const [convLayer] = findWeightLayers(model);
    const lstmNode = model.main.nodes.find((n) => n.opType === 'LSTM')!;
    // As a reader of recurrent weights lists them: one layer per weight of the node.
    const recurrent = ['lstm.W', 'lstm.R'].map((w) => ({
      ...convLayer!,
      name: 'lstm',
      op: 'LSTM' as unknown as WeightLayer['op'],
      node: lstmNode,
      weight: model.main.constants.get(w)!,
      bias: undefined,
      batchNorm: undefined,
    }));
    const { chains, skipped } = findCleChains(model, [convLayer!, ...recurrent], [], new Map());
    expect(chains).to.deep.equal([]);
    expect(skipped).to.deep.equal([
      {
        layers: ['conv', 'lstm'],
        reason: `LSTM lstm reads conv's output: CLE equalizes Conv, ConvTranspose, Gemm and MatMul layers only`,
      },
      {
        layers: ['lstm'],
        reason: 'lstm ("lstm.W") is a weight of LSTM: CLE equalizes Conv, ConvTranspose, Gemm and MatMul layers only',
      },
      {
        layers: ['lstm'],
        reason: 'lstm ("lstm.R") is a weight of LSTM: CLE equalizes Conv, ConvTranspose, Gemm and MatMul layers only',
      },
    ]);
  });

  it('a batched MatMul weight (rank 3) is declined with its rank', async () => {
    const g = new CleGraph();
    const x = g.node('Relu', 'relu', [g.node('MatMul', 'mm0', ['x', g.tensor('mm0.w', [2, 3, 4])])]);
    g.node('MatMul', 'mm1', [x, g.tensor('mm1.w', [2, 4, 5])]);
    expect((await analyse(g.model())).reasons).to.deep.equal([
      `mm0's weight "mm0.w" has rank 3: CLE equalizes MatMul layers with an [in, out] matrix only`,
      `mm1's weight "mm1.w" has rank 3: CLE equalizes MatMul layers with an [in, out] matrix only`,
    ]);
  });

  for (const op of ['HardSwish', 'Sigmoid', 'Tanh', 'HardSigmoid']) {
    it(`${op} is not scale-equivariant`, async () => {
      const r = await between(op);
      expect(r.reasons).to.deep.equal([`${op} between conv_a and conv_b is not scale-equivariant`]);
      expect(r.skipped[0]!.layers).to.deep.equal(['conv_a', 'conv_b']);
      expect(r.sets).to.deep.equal([]);
    });
  }

  for (const [op, reason, inputs] of [
    ['Add', 'Add of two activations between conv_a and conv_b breaks the chain', () => ['x']],
    [
      'Mul',
      'Mul with a constant between conv_a and conv_b breaks the chain',
      (g: CleGraph) => [g.tensor('k', [], [2])],
    ],
    ['Concat', `Concat between conv_a and conv_b joins other tensors to conv_a's channels`, () => ['x']],
    [
      'Softmax',
      'Softmax between conv_a and conv_b normalizes its input, so a scale does not pass through it',
      undefined,
    ],
    [
      'LayerNormalization',
      'LayerNormalization between conv_a and conv_b normalizes its input, so a scale does not pass through it',
      (g: CleGraph) => [g.tensor('ln.scale', [1], [1])],
    ],
    ['ReduceMean', 'ReduceMean between conv_a and conv_b is a reduction that CLE does not follow', undefined],
    ['Gelu', 'Gelu between conv_a and conv_b is not scale-equivariant', undefined],
    [
      'Reshape',
      'Reshape between conv_a and conv_b moves or selects elements, so channels cannot be followed through it',
      (g: CleGraph) => [g.tensor('shape', [4], [1, 2, 1, 1])],
    ],
    [
      'Transpose',
      'Transpose between conv_a and conv_b moves or selects elements, so channels cannot be followed through it',
      undefined,
    ],
    ['Resize', 'Resize between conv_a and conv_b breaks the chain', undefined],
  ] as const) {
    it(`${op} ends the chain, and says why`, async () => {
      const r = await between(op, inputs);
      expect(r.reasons).to.deep.equal([reason]);
      expect(r.skipped[0]!.layers).to.deep.equal(['conv_a', 'conv_b']);
    });
  }

  it('Relu6 (Clip 0..6): refused with a pointer to relu6ToRelu; crossed and recorded with it (inputs and attribute forms)', async () => {
    const withInputs = () => {
      const g = new CleGraph();
      const a = conv(g, 'conv_a', 'x', 2, 2);
      const c = g.node('Clip', 'relu6', [a, g.tensor('lo', [], [0]), g.tensor('hi', [], [6])]);
      conv(g, 'conv_b', c, 2, 2);
      return g.model();
    };
    const refused = await analyse(withInputs());
    expect(refused.reasons).to.deep.equal([
      'Relu6 (Clip 0..6) between conv_a and conv_b is not scale-equivariant (--relu6-to-relu would allow it, changing the model)',
    ]);
    const rewritten = await analyse(withInputs(), true);
    expect(rewritten.sets).to.deep.equal(['pair:conv_a,conv_b[Clip]']);
    expect(rewritten.clipRewrites).to.deep.equal(['relu6']);

    const g = new CleGraph();
    const a = conv(g, 'conv_a', 'x', 2, 2);
    const c = g.node('Clip', 'relu6', [a], [attr.float('min', 0), attr.float('max', 6)]);
    conv(g, 'conv_b', c, 2, 2);
    const old = g.model(10);
    const layers = findWeightLayers(old);
    const pure = findCleSets(old, layers, [], { relu6ToRelu: true }); // no clipBounds needed for attributes
    expect(pure.clipRewrites.map((n) => n.name)).to.deep.equal(['relu6']);
    // Clip(0, 1) is no Relu6: never crossed.
    const other = await between('Clip', (gr) => [gr.tensor('lo', [], [0]), gr.tensor('hi', [], [1])]);
    expect(other.reasons).to.deep.equal(['Clip between conv_a and conv_b is not scale-equivariant']);
  });

  it('fan-out: an output read twice is never equalized', async () => {
    const g = new CleGraph();
    const a = conv(g, 'conv_a', 'x', 2, 2);
    const r = g.node('Relu', 'relu', [a]);
    conv(g, 'conv_b', r, 2, 2);
    conv(g, 'conv_c', r, 2, 2);
    g.output('conv_b').output('conv_c');
    expect((await analyse(g.model())).reasons).to.deep.equal([
      `conv_a's output "relu" is read by 2 nodes (fan-out)`,
      `conv_b's output "conv_b" is a graph output, with no weight layer after it`,
      `conv_c's output "conv_c" is a graph output, with no weight layer after it`,
    ]);
  });

  it('an output that is also a graph output is not equalized', async () => {
    const g = new CleGraph();
    const a = conv(g, 'conv_a', 'x', 2, 2);
    conv(g, 'conv_b', a, 2, 2);
    g.output('conv_a').output('conv_b');
    expect((await analyse(g.model())).reasons).to.deep.equal([
      `conv_a's output "conv_a" is a graph output`,
      `conv_b's output "conv_b" is a graph output, with no weight layer after it`,
    ]);
  });

  it('grouped (not depthwise) convs, graph-input and shared weights, and channel mismatches', async () => {
    const grouped = new CleGraph();
    conv(grouped, 'conv_b', grouped.node('Relu', 'r', [conv(grouped, 'conv_a', 'x', 4, 4)]), 4, 4, 2);
    expect((await analyse(grouped.model())).reasons).to.deep.equal([
      'conv_b is a grouped convolution (group 2) that is not depthwise',
    ]);

    const input = new CleGraph();
    conv(input, 'conv_b', conv(input, 'conv_a', 'x', 2, 2), 2, 2);
    input.graphInput('conv_a.w');
    expect((await analyse(input.model())).reasons).to.deep.equal([
      `conv_a's weight "conv_a.w" is a graph input a runtime may replace`,
    ]);

    const shared = new CleGraph();
    const a = conv(shared, 'conv_a', 'x', 2, 2);
    shared.node('Conv', 'conv_b', [a, 'conv_a.w']);
    const r = await analyse(shared.model());
    expect(r.reasons).to.deep.equal([`conv_a's weight "conv_a.w" is shared with other nodes`]);
    expect(r.skipped[0]!.layers).to.deep.equal(['conv_a', 'conv_b']);

    const mismatch = new CleGraph();
    conv(mismatch, 'conv_b', conv(mismatch, 'conv_a', 'x', 2, 3), 4, 2);
    expect((await analyse(mismatch.model())).reasons).to.deep.equal([
      'conv_a has 3 output channels but conv_b reads 4',
    ]);
  });

  it('ConvTranspose channel counts: Cout = (Cout/g)·g on axis 1, Cin on axis 0', async () => {
    const g = new CleGraph();
    let x = conv(g, 'conv_a', 'x', 2, 4);
    x = g.node('ConvTranspose', 'convT', [x, g.tensor('convT.w', [4, 6, 1, 1])], [attr.int('group', 2)]);
    conv(g, 'conv_b', x, 12, 3);
    expect((await analyse(g.model())).sets).to.deep.equal(['pair:conv_a,convT[]', 'pair:convT,conv_b[]']);
  });
});
