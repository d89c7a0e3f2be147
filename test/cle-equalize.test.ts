// Equalization itself (src/cle/equalize-chain.ts, src/cle/plan-cle.ts): AIMET's reference vectors exactly
// (pairs and closed-form triplets), chains where one pass is not enough (sweeps until the ranges agree
// within 1e-4), zero and non-finite scales, BatchNorm folding and high-bias absorption by hand, progress.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { equalizeChain, MAX_SWEEPS, SCALE_TOLERANCE, type LayerMatrix } from '../src/cle/equalize-chain.js';
import { planCle, type CleResult } from '../src/cle/plan-cle.js';
import type { Model } from '../src/onnx/model.js';
import { attr, channelRanges, CleGraph, randomInput, relativeDifference, run, inMemory } from './support/cle-graph.js';

const seq = <T>(n: number, f: (k: number) => T): T[] => Array.from({ length: n }, (_, k) => f(k));
const W1 = seq(12, (k) => k + 1); // [2, 2, 3, 1]
const W2 = seq(12, (k) => 2 * k + 1);
const weightAfter = (r: CleResult, name: string) =>
  inMemory(r.plan.tensors.find((t) => t.tensor.name === name)!.values);

/** [Cout, Cin] kernel-wise absmax of a Conv weight [Cout, Cin, k…], written out by hand in the tests. */
const matrix = (m: number[][], depthwise = false): LayerMatrix => ({
  m: Float64Array.from(m.flat()),
  cout: m.length,
  cin: m[0]!.length,
  depthwise,
});

function expectRelative(actual: number[], expected: number[], tolerance: number, what: string) {
  actual.forEach((v, i) =>
    expect(Math.abs(v - expected[i]!), `${what} [${i}]: ${v} vs ${expected[i]}`).to.be.at.most(
      tolerance * Math.abs(expected[i]!),
    ),
  );
}

describe('CLE: AIMET reference vectors, exactly', () => {
  // W1 = 1..12 as [2, 2, 3, 1]: kernel maxima [[3, 6], [9, 12]]; W2 = 2k+1: [[5, 11], [17, 23]].
  const m1 = matrix([
    [3, 6],
    [9, 12],
  ]);
  const m2 = matrix([
    [5, 11],
    [17, 23],
  ]);

  it('pair on the absmax matrices: s = [0.59408853, 0.72231512] in one sweep', () => {
    const { scales, sweeps } = equalizeChain([m1, m2]);
    expectRelative(Array.from(scales[0]!), [0.59408853, 0.72231512], 1e-8, 's');
    expect(sweeps).to.equal(1);
  });

  it('depthwise triplet in closed form: s12 = [0.71376586, 0.80504064], s23 = [0.93401311, 1.24217332] in one sweep', () => {
    // The depthwise layer holds W2's values per output channel: ranges [11, 23] on the diagonal.
    const { scales, sweeps } = equalizeChain([
      m1,
      matrix(
        [
          [11, 0],
          [0, 23],
        ],
        true,
      ),
      m1,
    ]);
    expectRelative(Array.from(scales[0]!), [0.71376586, 0.80504064], 1e-7, 's12');
    expectRelative(Array.from(scales[1]!), [0.93401311, 1.24217332], 1e-7, 's23');
    expect(sweeps).to.equal(1);
  });

  it('through planCle on float32 models: the same factors, and the ranges √(r1·r2) and ∛(r0·r1·r2)', async () => {
    const pairModel = new CleGraph();
    pairModel.node('Conv', 'c2', [
      pairModel.node('Relu', 'r', [pairModel.node('Conv', 'c0', ['x', pairModel.tensor('c0.w', [2, 2, 3, 1], W1)])]),
      pairModel.tensor('c2.w', [2, 2, 3, 1], W2),
    ]);
    const pair = await planCle(pairModel.model(), { biasAbsorption: false });
    const a = weightAfter(pair, 'c0.w');
    expectRelative([W1[0]! / a[0]!, W1[6]! / a[6]!], [0.59408853, 0.72231512], 3e-7, 's');
    const ranges = [Math.sqrt(6 * 17), Math.sqrt(12 * 23)];
    expectRelative(channelRanges('Conv', [2, 2, 3, 1], a).out, ranges, 1e-6, 'c0 outputs');
    expectRelative(channelRanges('Conv', [2, 2, 3, 1], weightAfter(pair, 'c2.w')).in, ranges, 1e-6, 'c2 inputs');

    const g = new CleGraph();
    let x = g.node('Conv', 'c0', ['x', g.tensor('c0.w', [2, 2, 3, 1], W1)]);
    x = g.node('Conv', 'dw', [g.node('Relu', 'r0', [x]), g.tensor('dw.w', [2, 1, 6, 1], W2)], [attr.int('group', 2)]);
    g.node('Conv', 'c2', [g.node('Relu', 'r1', [x]), g.tensor('c2.w', [2, 2, 3, 1], W1)]);
    const triplet = await planCle(g.model(), { biasAbsorption: false });
    const [t0, dw, t2] = ['c0.w', 'dw.w', 'c2.w'].map((n) => weightAfter(triplet, n));
    expectRelative([W1[0]! / t0![0]!, W1[6]! / t0![6]!], [0.71376586, 0.80504064], 3e-7, 's12');
    expectRelative([t2![0]! / W1[0]!, t2![3]! / W1[3]!], [0.93401311, 1.24217332], 3e-7, 's23');
    const p = [Math.cbrt(6 * 11 * 9), Math.cbrt(12 * 23 * 12)];
    expectRelative(channelRanges('Conv', [2, 2, 3, 1], t0!).out, p, 1e-6, 'c0 outputs');
    expectRelative(channelRanges('Conv', [2, 1, 6, 1], dw!, 2).out, p, 1e-6, 'dw outputs');
    expectRelative(channelRanges('Conv', [2, 2, 3, 1], t2!).in, p, 1e-6, 'c2 inputs');
    expect(triplet.sets).to.deep.equal([{ kind: 'triplet', layers: ['c0', 'dw', 'c2'], between: ['Relu', 'Relu'] }]);
    expect(triplet.chains).to.deep.equal([
      { layers: ['c0', 'dw', 'c2'], sweeps: 1, maxScaleDeviation: triplet.chains[0]!.maxScaleDeviation },
    ]);
  });
});

/** A chain conv0 -> Relu -> conv1 -> … with uneven random weights; `depthwise` marks layers to make depthwise. */
function chainModel(channels: number[], depthwise: number[] = [], seed = 3): { model: Model; shapes: number[][] } {
  const g = new CleGraph(seed);
  const shapes: number[][] = [];
  let x = 'x';
  for (let k = 0; k + 1 < channels.length; k++) {
    const [cin, cout] = [channels[k]!, channels[k + 1]!];
    const dw = depthwise.includes(k);
    const shape = [cout, dw ? 1 : cin, 3, 3];
    shapes.push(shape);
    // Uneven along both axes, so every interface has work to do and neighbours disturb each other.
    const w = g.uneven(`conv${k}.w`, shape, k % 2);
    x = g.node(
      'Conv',
      `conv${k}`,
      [x, w, g.tensor(`conv${k}.b`, [cout])],
      [attr.ints('pads', [1, 1, 1, 1]), ...(dw ? [attr.int('group', cout)] : [])],
    );
    if (k + 2 < channels.length) x = g.node('Relu', `relu${k}`, [x]);
  }
  return { model: g.model(), shapes };
}

describe('CLE: chains need more than one pass', () => {
  it('a chain of 6 convs: sweeps > 1, and every interface equal within 1e-4 afterwards', async () => {
    const channels = [3, 6, 5, 8, 4, 7, 2];
    const { model, shapes } = chainModel(channels);
    const r = await planCle(model, { biasAbsorption: false });
    expect(r.chains).to.have.length(1);
    const { sweeps, maxScaleDeviation } = r.chains[0]!;
    expect(sweeps).to.be.greaterThan(1).and.below(MAX_SWEEPS);
    expect(maxScaleDeviation).to.be.below(SCALE_TOLERANCE / 2);
    const ranges = shapes.map((s, k) => channelRanges('Conv', s, weightAfter(r, `conv${k}.w`)));
    for (let k = 0; k + 1 < ranges.length; k++)
      expectRelative(ranges[k]!.out, ranges[k + 1]!.in, 1e-4, `interface ${k}`);
    const input = randomInput([1, 3, 4, 4]);
    const [before, after] = [(await run(model, input)).get('conv5')!, (await run(model, input, r.plan)).get('conv5')!];
    expect(relativeDifference(before, after)).to.be.below(1e-5);
  });

  it('one AIMET-style pass over the same chain leaves the first interfaces unequal', () => {
    // On random [Cout, Cin] matrices: pair by pair, once, in order.
    const dims = [4, 6, 5, 7, 3];
    let seed = 11;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const ms = dims
      .slice(1)
      .map((cout, k) => matrix(seq(cout, () => seq(dims[k]!, () => rand() * 10 ** (2 * rand() - 1)))));
    const cur = ms.map((m) => Float64Array.from(m.m!));
    for (let k = 0; k + 1 < ms.length; k++) {
      const [a, b] = [ms[k]!, ms[k + 1]!];
      for (let i = 0; i < a.cout; i++) {
        const r1 = Math.max(...seq(a.cin, (j) => cur[k]![i * a.cin + j]!));
        const r2 = Math.max(...seq(b.cout, (o) => cur[k + 1]![o * b.cin + i]!));
        const s = Math.sqrt(r1 / r2);
        for (let j = 0; j < a.cin; j++) cur[k]![i * a.cin + j]! /= s;
        for (let o = 0; o < b.cout; o++) cur[k + 1]![o * b.cin + i]! *= s;
      }
    }
    const r1 = seq(ms[0]!.cout, (i) => Math.max(...seq(ms[0]!.cin, (j) => cur[0]![i * ms[0]!.cin + j]!)));
    const r2 = seq(ms[1]!.cin, (i) => Math.max(...seq(ms[1]!.cout, (o) => cur[1]![o * ms[1]!.cin + i]!)));
    const worst = Math.max(...r1.map((v, i) => Math.abs(v / r2[i]! - 1)));
    expect(worst).to.be.greaterThan(1e-2);
    // The sweeps bring the same matrices together.
    const { scales, sweeps } = equalizeChain(ms);
    expect(sweeps).to.be.greaterThan(1);
    const eq0 = seq(
      ms[0]!.cout,
      (i) => Math.max(...seq(ms[0]!.cin, (j) => ms[0]!.m![i * ms[0]!.cin + j]!)) / scales[0]![i]!,
    );
    const eq1 = seq(ms[1]!.cin, (i) =>
      Math.max(...seq(ms[1]!.cout, (o) => (ms[1]!.m![o * ms[1]!.cin + i]! * scales[0]![i]!) / scales[1]![o]!)),
    );
    expectRelative(eq0, eq1, 1e-4, 'interface 0 after sweeping');
  });

  it('a triplet inside a chain (conv, conv, DW, conv, conv): pairs equal, the triplet three ways', async () => {
    const channels = [3, 5, 6, 6, 4, 3];
    const { model, shapes } = chainModel(channels, [2], 9);
    const r = await planCle(model, { biasAbsorption: false });
    expect(r.sets.map((s) => `${s.kind}:${s.layers.join(',')}`)).to.deep.equal([
      'pair:conv0,conv1',
      'triplet:conv1,conv2,conv3',
      'pair:conv3,conv4',
    ]);
    expect(r.chains[0]!.sweeps).to.be.greaterThan(1);
    const ranges = shapes.map((s, k) => channelRanges('Conv', s, weightAfter(r, `conv${k}.w`), k === 2 ? 6 : 1));
    expectRelative(ranges[0]!.out, ranges[1]!.in, 1e-4, 'conv0 | conv1');
    expectRelative(ranges[1]!.out, ranges[2]!.out, 1e-4, 'conv1 | dw');
    expectRelative(ranges[2]!.out, ranges[3]!.in, 1e-4, 'dw | conv3');
    expectRelative(ranges[3]!.out, ranges[4]!.in, 1e-4, 'conv3 | conv4');
    const input = randomInput([1, 3, 4, 4]);
    const [before, after] = [(await run(model, input)).get('conv4')!, (await run(model, input, r.plan)).get('conv4')!];
    expect(relativeDifference(before, after)).to.be.below(1e-5);
  });
});

describe('CLE: zero and non-finite scales become 1', () => {
  it('a dead output channel, a dead input column and an infinite weight leave their channels alone', () => {
    // Channel 0: r1 = 0 (s = 0); channel 1: r2 = 0 (s = ∞); channel 2: r1 = ∞; channel 3: normal.
    const { scales } = equalizeChain([
      matrix([
        [0, 0],
        [2, 1],
        [Infinity, 1],
        [4, 1],
      ]),
      matrix([
        [1, 0, 1, 1],
        [2, 0, 3, 9],
      ]),
    ]);
    expect(Array.from(scales[0]!.subarray(0, 3))).to.deep.equal([1, 1, 1]);
    expect(scales[0]![3]).to.be.closeTo(Math.sqrt(4 / 9), 1e-12);
  });

  it('through planCle: the dead channel keeps its weights', async () => {
    const g = new CleGraph();
    const a = g.node('Conv', 'c0', ['x', g.tensor('c0.w', [2, 2, 1, 1], [0, 0, 3, 1])]);
    g.node('Conv', 'c1', [a, g.tensor('c1.w', [1, 2, 1, 1], [5, 4])]);
    const r = await planCle(g.model());
    const inv = Math.fround(1 / Math.sqrt(3 / 4)); // output channels are divided by multiplying with float32(1/s)
    expect(Array.from(weightAfter(r, 'c0.w'))).to.deep.equal([0, 0, Math.fround(3 * inv), Math.fround(1 * inv)]);
    expect(weightAfter(r, 'c1.w')[0]).to.equal(5);
  });
});

describe('CLE: BatchNorm folding and high-bias absorption by hand', () => {
  it('conv0 -> BN -> Relu -> conv3 (3-wide kernels): c = max(0, β/s − 3|γ/s|), b1 −= c, b2 += Σ_kernel W2 · c', async () => {
    // conv0: W [2, 1, 1, 1] = [1, 1]; BN γ = [1, 1], β = [4, 0.5], μ = 0, var = 1, ε = 0: W' = W, b' = β.
    // conv3: W2 [2, 2, 1, 3]; every input column's max |w| is 1 = conv0's output ranges, so s = 1.
    //   Σ_kernel W2: out 0: in 0 → 1 + 0.5 − 0.5 = 1, in 1 → 0.25 − 1 + 0 = −0.75; out 1: in 0 → −0.5, in 1 → 2.
    // c = [max(0, 4 − 3), max(0, 0.5 − 3)] = [1, 0]: b1 = [3, 0.5], b2 = [0.25 + 1, −0.25 − 0.5].
    const g = new CleGraph();
    let x = g.node('Conv', 'conv0', ['x', g.tensor('conv0.w', [2, 1, 1, 1], [1, 1])]);
    x = g.node(
      'BatchNormalization',
      'bn',
      [
        x,
        g.tensor('bn.scale', [2], [1, 1]),
        g.tensor('bn.bias', [2], [4, 0.5]),
        g.tensor('bn.mean', [2], [0, 0]),
        g.tensor('bn.var', [2], [1, 1]),
      ],
      [attr.float('epsilon', 0)],
    );
    x = g.node('Relu', 'relu', [x]);
    g.node(
      'Conv',
      'conv3',
      [
        x,
        g.tensor('conv3.w', [2, 2, 1, 3], [1, 0.5, -0.5, 0.25, -1, 0, -1, 0.25, 0.25, 1, 0.5, 0.5]),
        g.tensor('conv3.b', [2], [0.25, -0.25]),
      ],
      [attr.ints('pads', [0, 1, 0, 1])],
    );
    const model = g.model();
    const r = await planCle(model);
    expect(r.chains[0]!.sweeps).to.equal(0); // already equalized: every factor is 1
    expect(Array.from(r.plan.addInitializers[0]!.values)).to.deep.equal([3, 0.5]);
    expect(r.plan.addInitializers[0]!.name).to.equal('conv0.bias_folded');
    expect(Array.from(weightAfter(r, 'conv3.b'))).to.deep.equal([1.25, -0.75]);
    expect(r.biasAbsorbed).to.deep.equal([{ from: 'conv0', to: 'conv3', channels: 1 }]);
    // Exact where the pre-activations stay above β − 3γ and no zero padding is read.
    const input = { shape: [1, 1, 1, 4], data: Float64Array.from([0.5, -0.25, 0.75, 0]) };
    const before = (await run(model, input)).get('conv3')!,
      after = (await run(model, input, r.plan)).get('conv3')!;
    // Interior columns (1, 2) read no padding: equal there. Padding makes the edges differ by W2·c of the
    // padded taps, the known limit of data-free absorption (Nagel et al.).
    for (const o of [0, 1])
      for (const col of [1, 2]) expect(after.data[o * 4 + col]).to.be.closeTo(before.data[o * 4 + col]!, 1e-6);
    const none = await planCle(model, { biasAbsorption: false });
    expect(none.biasAbsorbed).to.deep.equal([]);
    expect(Array.from(weightAfter(none, 'conv3.b'))).to.deep.equal([0.25, -0.25]);
  });

  it('no absorption across LeakyRelu (only Relu clips at zero as the formula assumes)', async () => {
    const g = new CleGraph();
    let x = g.node('Conv', 'conv0', ['x', g.tensor('conv0.w', [2, 1, 1, 1], [1, 1])]);
    x = g.node(
      'BatchNormalization',
      'bn',
      [
        x,
        g.tensor('bn.scale', [2], [1, 1]),
        g.tensor('bn.bias', [2], [4, 4]),
        g.tensor('bn.mean', [2], [0, 0]),
        g.tensor('bn.var', [2], [1, 1]),
      ],
      [attr.float('epsilon', 0)],
    );
    g.node('Conv', 'conv2', [g.node('LeakyRelu', 'leaky', [x]), g.tensor('conv2.w', [2, 2, 1, 1], [1, 1, 1, 1])]);
    const r = await planCle(g.model());
    expect(r.sets).to.have.length(1);
    expect(r.biasAbsorbed).to.deep.equal([]);
  });
});

describe('CLE: progress and cancellation', () => {
  it('reports the weight elements of every pass, up to the total, and stops on abort', async () => {
    const { model } = chainModel([3, 4, 5, 2]);
    const seen: string[] = [];
    await planCle(model, { onProgress: ({ done, total, phase }) => seen.push(`${phase} ${done}/${total}`) });
    // Three layers of 108, 180 and 90 weights: read for their ranges, then written.
    expect(seen).to.deep.equal([
      'equalize 108/756',
      'equalize 288/756',
      'equalize 378/756',
      'equalize 486/756',
      'equalize 666/756',
      'equalize 756/756',
    ]);
    const controller = new AbortController();
    controller.abort();
    let error: unknown;
    try {
      await planCle(model, { signal: controller.signal });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
  });
});
