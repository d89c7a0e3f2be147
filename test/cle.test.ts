// Cross Layer Equalization on small hand-made models: AIMET's reference vectors, equal ranges after
// equalization (pairs, triplets, long chains), BN folding and high-bias absorption by hand, and every
// reason a candidate is skipped. Function preservation on real models: test/node/cle-function.test.ts.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { planCle, type CleResult } from '../src/cle/plan-cle.js';
import { decodeModel } from '../src/onnx/decode.js';
import { equalizeModel } from '../src/pipeline/equalize-model.js';
import type { Model } from '../src/onnx/model.js';
import { attr, f32Tensor, modelBytes, node, valueInfo } from './fixtures/onnx-bytes.js';
import { seededRandom } from './support/random.js';
import { inMemory } from './support/cle-graph.js';

type Step = {
  op: string;
  weight?: [number[], number[]];
  bias?: number[];
  attributes?: ReturnType<typeof attr.int>[];
  bn?: [number[], number[], number[], number[]];
};

/** x -> step -> step -> … -> y; weight steps get initializers `<name>.w` / `.b`, BN params `<name>.bn_*`. */
function sequence(steps: Step[], extra: { inputs?: string[] } = {}): Model {
  const nodes: ReturnType<typeof node>[] = [];
  const initializer: ReturnType<typeof f32Tensor>[] = [];
  let x = 'x';
  steps.forEach((s, i) => {
    const name = `${s.op.toLowerCase()}${i}`;
    const inputs = [x];
    if (s.weight) {
      initializer.push(f32Tensor(`${name}.w`, s.weight[0], s.weight[1]));
      inputs.push(`${name}.w`);
    }
    if (s.bias) {
      initializer.push(f32Tensor(`${name}.b`, [s.bias.length], s.bias));
      inputs.push(`${name}.b`);
    }
    if (s.bn) {
      for (const [k, values] of ['scale', 'bias', 'mean', 'var'].map((k, j) => [k, s.bn![j]!] as const)) {
        initializer.push(f32Tensor(`${name}.bn_${k}`, [values.length], values));
        inputs.push(`${name}.bn_${k}`);
      }
    }
    const out = i === steps.length - 1 ? 'y' : `${name}.out`;
    nodes.push(node(s.op, inputs, [out], name, s.attributes ?? []));
    x = out;
  });
  const bytes = modelBytes({
    input: ['x', ...(extra.inputs ?? [])].map(valueInfo),
    output: [valueInfo('y')],
    initializer,
    node: nodes,
  });
  return decodeModel(bytes, { fileName: 'cle-test.onnx' });
}

const range = (n: number, f: (k: number) => number) => Array.from({ length: n }, (_, k) => f(k));
const edited = (r: CleResult, tensor: string) => {
  const values = r.plan.tensors.find((t) => t.tensor.name === tensor)?.values;
  return values && inMemory(values);
};

/** max |w| per output channel (axis 0) and per input channel (axis 1) of a [O, I, k…] weight. */
function outRanges(w: Float32Array, o: number): number[] {
  const k = w.length / o;
  return range(o, (c) => Math.max(...Array.from(w.subarray(c * k, (c + 1) * k), Math.abs)));
}
function inRanges(w: Float32Array, o: number, i: number): number[] {
  const k = w.length / (o * i);
  return range(i, (c) =>
    Math.max(...range(o, (r) => Math.max(...Array.from(w.subarray((r * i + c) * k, (r * i + c + 1) * k), Math.abs)))),
  );
}

describe('CLE: AIMET reference vectors (docs/definitions.md)', () => {
  const w1: [number[], number[]] = [[2, 2, 3, 1], range(12, (k) => k + 1)];
  const w2: [number[], number[]] = [[2, 2, 3, 1], range(12, (k) => 2 * k + 1)];

  it('conv pair: s = [0.59408853, 0.72231512], both ranges become sqrt(r1·r2)', async () => {
    const r = await planCle(sequence([{ op: 'Conv', weight: w1 }, { op: 'Relu' }, { op: 'Conv', weight: w2 }]), {
      biasAbsorption: false,
    });
    const a = edited(r, 'conv0.w')!,
      b = edited(r, 'conv2.w')!;
    const s = [0, 1].map((i) => w1[1][i * 6]! / a[i * 6]!);
    expect(s[0]).to.be.closeTo(0.59408853, 1e-7);
    expect(s[1]).to.be.closeTo(0.72231512, 1e-7);
    const expected = [Math.sqrt(6 * 17), Math.sqrt(12 * 23)];
    outRanges(a, 2).forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-4));
    inRanges(b, 2, 2).forEach((v, i) => expect(v).to.be.closeTo(expected[i]!, 1e-4));
    expect(r.sets).to.deep.equal([{ kind: 'pair', layers: ['conv0', 'conv2'], between: ['Relu'] }]);
    expect(r.chains[0]!.sweeps).to.equal(1);
  });

  it('equalizeModel: "after" of a layer CLE left alone is its "before" (not measured again); rewritten ones are new', async () => {
    // conv0 -> Relu -> conv2 is a pair; conv4 after a Sigmoid is no CLE candidate.
    const model = sequence([
      { op: 'Conv', weight: w1 },
      { op: 'Relu' },
      { op: 'Conv', weight: w2 },
      { op: 'Sigmoid' },
      {
        op: 'Conv',
        weight: [
          [1, 2, 1, 1],
          [0.5, -2],
        ],
      },
    ]);
    const { report } = await equalizeModel(model, { biasAbsorption: false });
    const byName = new Map(report.layers.map((l) => [l.name, l]));
    expect(byName.get('conv4')!.after).to.equal(byName.get('conv4')!.before);
    for (const name of ['conv0', 'conv2']) {
      const { before, after } = byName.get(name)!;
      expect(after, name).to.not.equal(before);
      expect(after.channels.max, name).to.not.deep.equal(before.channels.max);
    }
  });

  it('depthwise triplet: s12 = [0.71376586, 0.80504064], s23 = [0.93401311, 1.24217332], all ranges ∛(r0·r1·r2)', async () => {
    // The middle layer is depthwise [2, 1, 6, 1] holding W2's values per output channel (same ranges).
    const dw: [number[], number[]] = [[2, 1, 6, 1], range(12, (k) => 2 * k + 1)];
    const r = await planCle(
      sequence([
        { op: 'Conv', weight: w1 },
        { op: 'Relu' },
        { op: 'Conv', weight: dw, attributes: [attr.int('group', 2)] },
        { op: 'Relu' },
        { op: 'Conv', weight: w1 },
      ]),
      { biasAbsorption: false },
    );
    const a = edited(r, 'conv0.w')!,
      m = edited(r, 'conv2.w')!,
      c = edited(r, 'conv4.w')!;
    const s12 = [0, 1].map((i) => w1[1][i * 6]! / a[i * 6]!);
    const s23 = [0, 1].map((i) => c[i * 3]! / w1[1][i * 3]!);
    [0.71376586, 0.80504064].forEach((v, i) => expect(s12[i]).to.be.closeTo(v, 2e-4 * v));
    [0.93401311, 1.24217332].forEach((v, i) => expect(s23[i]).to.be.closeTo(v, 2e-4 * v));
    const p = [Math.cbrt(6 * 11 * 9), Math.cbrt(12 * 23 * 12)];
    for (const ranges of [outRanges(a, 2), outRanges(m, 2), inRanges(c, 2, 2)])
      ranges.forEach((v, i) => expect(v).to.be.closeTo(p[i]!, 2e-4 * p[i]!));
    expect(r.sets.map((s) => s.kind)).to.deep.equal(['triplet']);
  });
});

describe('CLE: chains', () => {
  it('sweeps a chain of 5 convs until every interface is equalized (one pass is not enough)', async () => {
    const rand = seededRandom(3);
    const channels = [3, 6, 5, 7, 4, 2];
    const steps: Step[] = [];
    for (let k = 0; k + 1 < channels.length; k++) {
      const [cin, cout] = [channels[k]!, channels[k + 1]!];
      steps.push({
        op: 'Conv',
        weight: [
          [cout, cin, 2, 2],
          range(cout * cin * 4, (e) => (rand() - 0.5) * 10 ** (Math.floor(e / (cin * 4)) % 3)),
        ],
      });
      if (k + 2 < channels.length) steps.push({ op: 'Relu' });
    }
    const r = await planCle(sequence(steps), { biasAbsorption: false });
    expect(r.chains).to.have.length(1);
    expect(r.chains[0]!.sweeps).to.be.greaterThan(1);
    expect(r.chains[0]!.maxScaleDeviation).to.be.below(1e-4);
    for (let k = 0; k + 2 < channels.length; k++) {
      const a = edited(r, `conv${2 * k}.w`)!,
        b = edited(r, `conv${2 * k + 2}.w`)!;
      const r1 = outRanges(a, channels[k + 1]!),
        r2 = inRanges(b, channels[k + 2]!, channels[k + 1]!);
      r1.forEach((v, i) => expect(v, `interface ${k}, channel ${i}`).to.be.closeTo(r2[i]!, 2e-4 * v));
    }
  });
});

describe('CLE: BatchNorm folding and high-bias absorption by hand', () => {
  const gamma = [1, 2],
    beta = [0.5, 4],
    mean = [1, -1],
    variance = [3, 0.25];
  const eps = 1e-5;

  it('folds W·γ/σ and β + (b − μ)·γ/σ into a conv without bias, which gains one', async () => {
    const model = sequence([
      {
        op: 'Conv',
        weight: [
          [2, 1, 1, 1],
          [2, -4],
        ],
      },
      { op: 'BatchNormalization', bn: [gamma, beta, mean, variance], attributes: [attr.float('epsilon', eps)] },
    ]);
    const r = await planCle(model, { biasAbsorption: false });
    const f = range(2, (o) => gamma[o]! / Math.sqrt(variance[o]! + eps));
    expect(Array.from(edited(r, 'conv0.w')!)).to.deep.equal([Math.fround(2 * f[0]!), Math.fround(-4 * f[1]!)]);
    const bias = r.plan.addInitializers[0]!;
    expect(Array.from(bias.values)).to.deep.equal(range(2, (o) => Math.fround(beta[o]! - mean[o]! * f[o]!)));
    expect(r.plan.appendInputs[0]!.name).to.equal(bias.name);
    expect(r.plan.removeNodes.map((n) => n.name)).to.deep.equal(['batchnormalization1']);
    expect(r.plan.renameOutputs[0]!.name).to.equal('y');
    expect(r.folded).to.deep.equal([{ batchNorm: 'batchnormalization1', into: 'conv0' }]);
  });

  it('absorbs c = max(0, β/s − 3|γ/s|) from the first layer into the second across a Relu', async () => {
    // conv0 -> BN -> Relu -> conv3; channel 1 has β = 4 > 3|γ| = ... after scaling, so c > 0 there.
    const w2 = [1, 2, -3, 0.5];
    const steps: Step[] = [
      {
        op: 'Conv',
        weight: [
          [2, 1, 1, 1],
          [1, 1],
        ],
        bias: [0, 0],
      },
      {
        op: 'BatchNormalization',
        bn: [
          [1, 0.5],
          [0.5, 4],
          [0, 0],
          [1, 1],
        ],
        attributes: [attr.float('epsilon', 0)],
      },
      { op: 'Relu' },
      { op: 'Conv', weight: [[2, 2, 1, 1], w2], bias: [0.25, -0.25] },
    ];
    const without = await planCle(sequence(steps), { biasAbsorption: false });
    const withAbs = await planCle(sequence(steps), { biasAbsorption: true });
    const s = range(2, (i) =>
      Array.from(edited(without, 'conv0.w')!)[i]! === 0 ? 1 : [1, 0.5][i]! / edited(without, 'conv0.w')![i]!,
    );
    const c = range(2, (i) => Math.max(0, [0.5, 4][i]! / s[i]! - 3 * Math.abs([1, 0.5][i]! / s[i]!)));
    expect(c[1]).to.be.greaterThan(0);
    const b1 = edited(without, 'conv0.b')!,
      b1abs = edited(withAbs, 'conv0.b')!;
    [0, 1].forEach((i) => expect(b1abs[i]).to.be.closeTo(b1[i]! - c[i]!, 1e-5));
    const w2eq = edited(without, 'conv3.w')!,
      b2 = edited(without, 'conv3.b')!,
      b2abs = edited(withAbs, 'conv3.b')!;
    [0, 1].forEach((o) =>
      expect(b2abs[o]).to.be.closeTo(b2[o]! + w2eq[o * 2]! * c[0]! + w2eq[o * 2 + 1]! * c[1]!, 1e-5),
    );
    expect(withAbs.biasAbsorbed).to.deep.equal([{ from: 'conv0', to: 'conv3', channels: 1 }]);
  });
});

describe('CLE: what is left alone, and why', () => {
  const conv = (cin: number, cout: number, group = 1): Step => ({
    op: 'Conv',
    weight: [[cout, cin / group, 1, 1], range((cout * cin) / group, (k) => k + 1)],
    ...(group > 1 ? { attributes: [attr.int('group', group)] } : {}),
  });
  const reasons = async (steps: Step[], options = {}, extra = {}) =>
    (await planCle(sequence(steps, extra), { biasAbsorption: false, ...options })).skipped.map((s) => s.reason);

  it('HardSwish is not scale-equivariant', async () => {
    expect(await reasons([conv(2, 2), { op: 'HardSwish' }, conv(2, 2)])).to.deep.equal([
      'HardSwish between conv0 and conv2 is not scale-equivariant',
    ]);
  });

  it('Relu6 (Clip 0..6) is crossed only with relu6ToRelu, which records the rewrite', async () => {
    const clip: Step = { op: 'Clip', attributes: [attr.float('min', 0), attr.float('max', 6)] };
    expect((await reasons([conv(2, 2), clip, conv(2, 2)]))[0]).to.match(
      /^Relu6 \(Clip 0\.\.6\) between conv0 and conv2 is not scale-equivariant/,
    );
    const r = await planCle(sequence([conv(2, 2), clip, conv(2, 2)]), { biasAbsorption: false, relu6ToRelu: true });
    expect(r.sets).to.have.length(1);
    expect(r.clipRewrites.map((n) => n.name)).to.deep.equal(['clip1']);
    expect(r.plan.rewriteNodes![0]).to.include({ opType: 'Relu' });
  });

  it('Add, grouped (not depthwise) convs and graph-input weights break the chain', async () => {
    expect((await reasons([conv(2, 2), { op: 'Add', bias: [1, 1] }, conv(2, 2)]))[0]).to.equal(
      'Add with a constant between conv0 and conv2 breaks the chain',
    );
    expect((await reasons([conv(4, 4), { op: 'Relu' }, conv(4, 4, 2)]))[0]).to.equal(
      'conv2 is a grouped convolution (group 2) that is not depthwise',
    );
    expect((await reasons([conv(2, 2), { op: 'Relu' }, conv(2, 2)], {}, { inputs: ['conv2.w'] }))[0]).to.equal(
      `conv2's weight "conv2.w" is a graph input a runtime may replace`,
    );
  });
});
