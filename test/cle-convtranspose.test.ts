// ConvTranspose with Cin ≠ Cout (the case AIMET writes back wrongly) and every other layout CLE rewrites,
// proven on the function itself: a tiny direct interpreter (test/support/cle-graph.ts) runs the model as
// written and as the ExportPlan leaves it, on random inputs; outputs agree within 1e-5 relative. The
// equalized per-channel ranges are computed from each op's definition, not from the code under test.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { planCle, type CleResult } from '../src/cle/plan-cle.js';
import type { Model } from '../src/onnx/model.js';
import {
  attr,
  channelRanges,
  CleGraph,
  randomInput,
  relativeDifference,
  run,
  type Tensor,
  inMemory,
} from './support/cle-graph.js';

async function preserved(model: Model, result: CleResult, input: Tensor, output: string): Promise<number> {
  const before = (await run(model, input)).get(output)!;
  const after = (await run(model, input, result.plan)).get(output)!;
  return relativeDifference(before, after);
}

const weightAfter = (r: CleResult, name: string) =>
  inMemory(r.plan.tensors.find((t) => t.tensor.name === name)!.values);

function expectEqual(a: number[], b: number[], what: string, tolerance = 1e-4) {
  expect(a.length, what).to.equal(b.length);
  a.forEach((v, i) =>
    expect(Math.abs(v - b[i]!), `${what}, channel ${i}: ${v} vs ${b[i]}`).to.be.at.most(tolerance * Math.max(v, b[i]!)),
  );
}

describe('CLE: ConvTranspose with Cin ≠ Cout', () => {
  for (const group of [1, 2]) {
    it(`Conv -> ConvTranspose [4, 6, 3, 3] group ${group} (Cout ${6 * group}) -> Conv: ranges equalized, function preserved`, async () => {
      const cout = 6 * group;
      const g = new CleGraph(10 + group);
      let x = g.node(
        'Conv',
        'conv_a',
        ['x', g.uneven('conv_a.w', [4, 3, 3, 3], 0), g.tensor('conv_a.b', [4])],
        [attr.ints('pads', [1, 1, 1, 1])],
      );
      x = g.node('Relu', 'relu_a', [x]);
      // Uneven along axis 1: the output channels (axis 0 would be the input channels).
      x = g.node(
        'ConvTranspose',
        'convT',
        [x, g.uneven('convT.w', [4, 6, 3, 3], 1), g.tensor('convT.b', [cout])],
        [attr.int('group', group), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])],
      );
      x = g.node('LeakyRelu', 'leaky', [x], [attr.float('alpha', 0.2)]);
      g.node('Conv', 'conv_b', [x, g.uneven('conv_b.w', [5, cout, 3, 3], 1), g.tensor('conv_b.b', [5])]);
      const model = g.model();
      const r = await planCle(model);
      expect(r.sets.map((s) => s.layers.join(','))).to.deep.equal(['conv_a,convT', 'convT,conv_b']);
      expect(r.chains[0]!.sweeps).to.be.greaterThan(1);

      const a = channelRanges('Conv', [4, 3, 3, 3], weightAfter(r, 'conv_a.w'));
      const t = channelRanges('ConvTranspose', [4, 6, 3, 3], weightAfter(r, 'convT.w'), group);
      const b = channelRanges('Conv', [5, cout, 3, 3], weightAfter(r, 'conv_b.w'));
      expect(t.in).to.have.length(4);
      expect(t.out).to.have.length(cout);
      expectEqual(a.out, t.in, 'conv_a outputs vs convT inputs (axis 0)');
      expectEqual(t.out, b.in, 'convT outputs (axis 1 within each group) vs conv_b inputs');
      // Equalization did something: before it, the ranges were far apart.
      const t0 = channelRanges('ConvTranspose', [4, 6, 3, 3], await readWeight(model, 'convT.w'), group);
      const b0 = channelRanges('Conv', [5, cout, 3, 3], await readWeight(model, 'conv_b.w'));
      expect(Math.max(...t0.out.map((v, i) => Math.abs(Math.log(v / b0.in[i]!))))).to.be.greaterThan(0.5);

      expect(await preserved(model, r, randomInput([1, 3, 5, 5]), 'conv_b')).to.be.below(1e-5);
    });
  }

  it('BatchNorm folded into a grouped ConvTranspose scales its output channels (axis 1 within each group)', async () => {
    // Hand case: W [Cin 2, Cout/g 2, 1, 1] = 1, group 2 -> Cout 4: input 0 feeds outputs 0, 1; input 1 feeds 2, 3.
    // γ/σ = [1, 2, 0.5, 4] (var 0, ε 1): W' = [1, 2, 0.5, 4] (axis 0 would give [1, 1, 2, 2]); b' = β − μ·γ/σ.
    const g = new CleGraph();
    const t = g.node(
      'ConvTranspose',
      'convT',
      ['x', g.tensor('convT.w', [2, 2, 1, 1], [1, 1, 1, 1])],
      [attr.int('group', 2)],
    );
    const bn = g.node(
      'BatchNormalization',
      'bn',
      [
        t,
        g.tensor('bn.scale', [4], [1, 2, 0.5, 4]),
        g.tensor('bn.bias', [4], [0, 1, 0, -1]),
        g.tensor('bn.mean', [4], [1, 1, 1, 1]),
        g.tensor('bn.var', [4], [0, 0, 0, 0]),
      ],
      [attr.float('epsilon', 1)],
    );
    const model = g.output(bn).model();
    const r = await planCle(model);
    expect(Array.from(weightAfter(r, 'convT.w'))).to.deep.equal([1, 2, 0.5, 4]);
    expect(r.plan.addInitializers.map((i) => [i.name, Array.from(i.values)])).to.deep.equal([
      ['convT.bias_folded', [-1, -1, -0.5, -5]],
    ]);
    expect(r.plan.renameOutputs.map((o) => [o.node.name, o.name])).to.deep.equal([['convT', 'bn']]);
    expect(await preserved(model, r, randomInput([1, 2, 3, 3]), 'bn')).to.be.below(1e-6);
  });
});

async function readWeight(model: Model, name: string): Promise<Float32Array> {
  const t = model.main.constants.get(name)!;
  const out = new Float32Array(t.size);
  await t.readFloat32Into(out);
  return out;
}

describe('CLE: function preserved through BN folding, triplets, chains and Gemm', () => {
  it('MobileNet-like block: Conv-BN-Relu -> DW-BN-Relu -> Conv-BN -> Conv (PRelu), with ConvTranspose-BN at the end', async () => {
    const g = new CleGraph(5);
    const pads = attr.ints('pads', [1, 1, 1, 1]);
    let x = g.node('Conv', 'expand', ['x', g.uneven('expand.w', [8, 3, 3, 3], 0)], [pads]);
    x = g.node('Relu', 'r0', [g.bn('bn0', x, 8)]);
    x = g.node('Conv', 'dw', [x, g.uneven('dw.w', [8, 1, 3, 3], 0)], [attr.int('group', 8), pads]);
    x = g.node('Relu', 'r1', [g.bn('bn1', x, 8)]);
    x = g.node('Conv', 'project', [x, g.uneven('project.w', [6, 8, 1, 1], 0)]);
    x = g.bn('bn2', x, 6);
    x = g.node('Conv', 'conv3', [x, g.uneven('conv3.w', [7, 6, 3, 3], 0), g.tensor('conv3.b', [7])], [pads]);
    x = g.node('PRelu', 'prelu', [x, g.tensor('slope', [7, 1, 1], (i) => 0.1 * (i + 1))]);
    x = g.node('ConvTranspose', 'up', [x, g.uneven('up.w', [7, 2, 2, 2], 1)], [attr.ints('strides', [2, 2])]);
    g.bn('bn4', x, 2);
    const model = g.model();
    const r = await planCle(model, { biasAbsorption: false });
    expect(r.folded.map((f) => f.into)).to.deep.equal(['expand', 'dw', 'project', 'up']);
    expect(r.sets.map((s) => `${s.kind}:${s.layers.join(',')}`)).to.deep.equal([
      'triplet:expand,dw,project',
      'pair:project,conv3',
      'pair:conv3,up',
    ]);
    expect(r.chains[0]!.sweeps).to.be.greaterThan(1);

    const ranges = {
      expand: channelRanges('Conv', [8, 3, 3, 3], weightAfter(r, 'expand.w')),
      dw: channelRanges('Conv', [8, 1, 3, 3], weightAfter(r, 'dw.w'), 8),
      project: channelRanges('Conv', [6, 8, 1, 1], weightAfter(r, 'project.w')),
      conv3: channelRanges('Conv', [7, 6, 3, 3], weightAfter(r, 'conv3.w')),
      up: channelRanges('ConvTranspose', [7, 2, 2, 2], weightAfter(r, 'up.w')),
    };
    // Triplet: all three ranges equal (∛(r0·r1·r2) of the ranges before, see cle-equalize.test.ts).
    expectEqual(ranges.expand.out, ranges.dw.out, 'expand vs dw');
    expectEqual(ranges.dw.out, ranges.project.in, 'dw vs project');
    expectEqual(ranges.project.out, ranges.conv3.in, 'project vs conv3');
    expectEqual(ranges.conv3.out, ranges.up.in, 'conv3 vs up');
    expect(await preserved(model, r, randomInput([1, 3, 6, 6]), 'bn4')).to.be.below(1e-5);
  });

  for (const transB of [0, 1]) {
    it(`Gemm (transB=${transB}) -> BN -> Relu -> Gemm -> BN: BN folded on the channel axis, pair equalized`, async () => {
      const g = new CleGraph(20 + transB);
      const shape = (k: number, n: number) => (transB ? [n, k] : [k, n]);
      const t = [attr.int('transB', transB)];
      let x = g.node('Gemm', 'fc0', ['x', g.uneven('fc0.w', shape(5, 6), transB ? 0 : 1), g.tensor('fc0.b', [6])], t);
      x = g.node('Relu', 'relu', [g.bn('bn0', x, 6)]);
      x = g.node('Gemm', 'fc1', [x, g.uneven('fc1.w', shape(6, 3), transB ? 1 : 0)], t);
      g.bn('bn1', x, 3);
      const model = g.model();
      const r = await planCle(model, { biasAbsorption: false });
      expect(r.folded.map((f) => f.into)).to.deep.equal(['fc0', 'fc1']);
      const a = channelRanges('Gemm', shape(5, 6), weightAfter(r, 'fc0.w'), 1, transB);
      const b = channelRanges('Gemm', shape(6, 3), weightAfter(r, 'fc1.w'), 1, transB);
      expectEqual(a.out, b.in, 'fc0 outputs vs fc1 inputs');
      expect(await preserved(model, r, randomInput([4, 5]), 'bn1')).to.be.below(1e-5);
    });
  }

  it('Gemm BN fold by hand: W·γ/σ per output column, β + (b − μ)·γ/σ', async () => {
    // W [K 2, N 3] = [[1, 2, 3], [4, 5, 6]], b = 1; σ = sqrt(var + 1) = [2, 1, 4], γ/σ = [1, 1, 0.125].
    const g = new CleGraph();
    const y = g.node('Gemm', 'fc', [
      'x',
      g.tensor('fc.w', [2, 3], [1, 2, 3, 4, 5, 6]),
      g.tensor('fc.b', [3], [1, 1, 1]),
    ]);
    g.node(
      'BatchNormalization',
      'bn',
      [
        y,
        g.tensor('bn.scale', [3], [2, 1, 0.5]),
        g.tensor('bn.bias', [3], [0, 1, 2]),
        g.tensor('bn.mean', [3], [1, 0, -2]),
        g.tensor('bn.var', [3], [3, 0, 15]),
      ],
      [attr.float('epsilon', 1)],
    );
    const r = await planCle(g.model());
    expect(Array.from(weightAfter(r, 'fc.w'))).to.deep.equal([1, 2, 0.375, 4, 5, 0.75]);
    expect(Array.from(weightAfter(r, 'fc.b'))).to.deep.equal([0, 2, 2.375]);
    expect(r.plan.addInitializers).to.deep.equal([]);
  });

  it('relu6ToRelu: the rewritten model equals the original wherever activations stay below 6', async () => {
    const g = new CleGraph(8);
    let x = g.node('Conv', 'conv_a', ['x', g.uneven('conv_a.w', [4, 2, 1, 1], 0, 3)]);
    x = g.node('Clip', 'relu6', [x, g.tensor('lo', [], [0]), g.tensor('hi', [], [6])]);
    g.node('Conv', 'conv_b', [x, g.uneven('conv_b.w', [3, 4, 1, 1], 1, 10)]);
    const model = g.model();
    const r = await planCle(model, { relu6ToRelu: true });
    expect(r.clipRewrites.map((n) => n.name)).to.deep.equal(['relu6']);
    expect(r.plan.rewriteNodes).to.deep.equal([
      { node: r.clipRewrites[0], opType: 'Relu', inputs: ['conv_a'], removeAttributes: ['min', 'max'] },
    ]);
    // |x| ≤ 1 and conv_a's weights are below 6 / 2 in magnitude: no activation reaches 6.
    expect(await preserved(model, r, randomInput([1, 2, 3, 3]), 'conv_b')).to.be.below(1e-5);
  });
});
