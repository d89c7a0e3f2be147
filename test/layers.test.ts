// Layer discovery (which node owns which weight, channel axis, groups, BN) and the stats report, in both
// runners (Node and Chromium): every model is built in memory with the fixture builders.
import { before, describe, it } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers, type WeightLayer } from '../src/analysis/layers.js';
import { Kernels } from '../src/kernels/kernels.js';
import type { Model } from '../src/onnx/model.js';
import { openModel } from '../src/onnx/open.js';
import { computeStats, type StatsProgress } from '../src/pipeline/compute-stats.js';
import {
  DataType,
  attr,
  chainModel,
  constantNodeModel,
  convBatchNormModel,
  convModel,
  f32Tensor,
  identityWeightModel,
  outerScopeIfModel,
  qdqModel,
  rawTensor,
  type ChainLayer,
} from './fixtures/onnx-bytes.js';
import { expectChannels, reference } from './support/reference-stats.js';
import { rejects } from './support/rejects.js';

const seq = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const open = (bytes: Uint8Array, fileName = 'test.onnx') => openModel(bytes, { fileName });
const chain = (layers: ChainLayer[], overridable: string[] = []) => open(chainModel(layers, overridable), 'chain.onnx');

function onlyLayer(model: Model): WeightLayer {
  const layers = findWeightLayers(model);
  expect(layers.map((l) => l.name)).to.have.length(1);
  return layers[0]!;
}

let kernels: Kernels;
const stats = (model: Model, layer?: string) =>
  computeStats(model, { kernels, ...(layer === undefined ? {} : { layer }) });

describe('weight layers: channel axis and groups', () => {
  before(async () => {
    kernels = await Kernels.load();
  });

  it('Conv [Cout, Cin, k…]: channels on axis 0', async () => {
    const w = seq(24, (i) => ((i * 5) % 24) - 11.5); // a permutation, so each row has its own extremes
    const model = await chain([{ op: 'Conv', weight: f32Tensor('c.w', [3, 2, 2, 2], w), name: 'c' }]);
    const layer = onlyLayer(model);
    expect(layer).to.include({
      name: 'c',
      op: 'Conv',
      graph: 'main',
      channelAxis: 0,
      groups: 1,
      depthwise: false,
      overridable: false,
    });
    expect(layer.weight.name).to.equal('c.w');
    const report = (await stats(model)).layers[0]!;
    expect(report.channels.min).to.have.length(3);
    expectChannels(
      report,
      reference(w, 3, (i) => Math.floor(i / 8)),
    );
  });

  it('depthwise Conv (group = Cout, one input channel per group) is flagged; grouped Conv is not', async () => {
    const dw = onlyLayer(
      await chain([
        {
          op: 'Conv',
          weight: f32Tensor(
            'dw.w',
            [4, 1, 3, 3],
            seq(36, (i) => i),
          ),
          attributes: [attr.int('group', 4)],
        },
      ]),
    );
    expect(dw).to.include({ groups: 4, depthwise: true, channelAxis: 0 });
    const grouped = onlyLayer(
      await chain([
        {
          op: 'Conv',
          weight: f32Tensor(
            'g.w',
            [4, 2, 3, 3],
            seq(72, (i) => i),
          ),
          attributes: [attr.int('group', 2)],
        },
      ]),
    );
    expect(grouped).to.include({ groups: 2, depthwise: false, channelAxis: 0 });
    const perOutput = onlyLayer(
      await chain([
        {
          op: 'Conv',
          weight: f32Tensor(
            'p.w',
            [4, 2, 1, 1],
            seq(8, (i) => i),
          ),
          attributes: [attr.int('group', 4)],
        },
      ]),
    );
    expect(perOutput).to.include({ groups: 4, depthwise: false });
    const plain = onlyLayer(
      await chain([
        {
          op: 'Conv',
          weight: f32Tensor(
            'one.w',
            [4, 1, 3, 3],
            seq(36, (i) => i),
          ),
        },
      ]),
    );
    expect(plain).to.include({ groups: 1, depthwise: false });
  });

  it('ConvTranspose [Cin=4, Cout/g=3, 2, 2], group 2: 6 channels, channel g*3+j gathers axis 1 within group g', async () => {
    const w = seq(48, (i) => i - 20); // w[cin][j][k] = cin*12 + j*4 + k - 20
    const model = await chain([
      {
        op: 'ConvTranspose',
        weight: f32Tensor('ct.w', [4, 3, 2, 2], w),
        attributes: [attr.int('group', 2)],
        name: 'ct',
      },
    ]);
    const layer = onlyLayer(model);
    expect(layer).to.include({ op: 'ConvTranspose', channelAxis: 1, groups: 2, depthwise: false });
    const report = (await stats(model)).layers[0]!;
    // By hand: group 0 is cin 0,1 and group 1 is cin 2,3. Channel 0 = (cin 0, j 0) ∪ (cin 1, j 0) =
    // {0..3} ∪ {12..15} - 20; channel 3 = (cin 2, j 0) ∪ (cin 3, j 0) = {24..27} ∪ {36..39} - 20; …
    expect(report.channels.min).to.deep.equal([-20, -16, -12, 4, 8, 12]);
    expect(report.channels.max).to.deep.equal([-5, -1, 3, 19, 23, 27]);
    expect(report.channels.mean).to.deep.equal([-12.5, -8.5, -4.5, 11.5, 15.5, 19.5]);

    // The same layout with values that are not monotone in the index, against the definition.
    const shuffled = seq(48, (i) => ((i * 7) % 48) * 0.25 - 3);
    const again = await stats(
      await chain([
        { op: 'ConvTranspose', weight: f32Tensor('ct.w', [4, 3, 2, 2], shuffled), attributes: [attr.int('group', 2)] },
      ]),
    );
    const channelOf = (i: number) => {
      const cin = Math.floor(i / 12);
      const j = Math.floor(i / 4) % 3;
      return Math.floor(cin / 2) * 3 + j;
    };
    expectChannels(again.layers[0]!, reference(shuffled, 6, channelOf));
  });

  it('Gemm: transB=1 takes rows (axis 0), transB=0 columns (axis 1)', async () => {
    const w = [3, -1, 4, 1, -5, 9]; // as [2, 3]
    const wT = [3, 1, -1, -5, 4, 9]; // the same matrix transposed, [3, 2]
    const gemm = (values: number[], dims: number[], transB: number) =>
      chain([{ op: 'Gemm', weight: f32Tensor('fc.w', dims, values), attributes: [attr.int('transB', transB)] }]);

    const rows = await gemm(w, [2, 3], 1);
    expect(onlyLayer(rows).channelAxis).to.equal(0);
    const r = (await stats(rows)).layers[0]!;
    expect(r.channels.min).to.deep.equal([-1, -5]);
    expect(r.channels.max).to.deep.equal([4, 9]);

    const cols = await gemm(w, [2, 3], 0);
    expect(onlyLayer(cols).channelAxis).to.equal(1);
    const c = (await stats(cols)).layers[0]!;
    expect(c.channels.min).to.deep.equal([1, -5, 4]);
    expect(c.channels.max).to.deep.equal([3, -1, 9]);

    // W^T with transB=1 describes the same output channels as W with transB=0.
    const t = (await stats(await gemm(wT, [3, 2], 1))).layers[0]!;
    expect(t.channels).to.deep.equal(c.channels);
    const defaultTransB = (await stats(await chain([{ op: 'Gemm', weight: f32Tensor('fc.w', [2, 3], w) }]))).layers[0]!;
    expect(defaultTransB.channelAxis, 'transB defaults to 0').to.equal(1);
  });

  it('MatMul [in, out] and batched [2, in, out]: channels on the last axis', async () => {
    const w = [1, -2, 3, -4, 5, -6]; // [in=3, out=2]: column 0 = 1, 3, 5; column 1 = -2, -4, -6
    const mm = (await stats(await chain([{ op: 'MatMul', weight: f32Tensor('mm.w', [3, 2], w) }]))).layers[0]!;
    expect(mm).to.include({ channelAxis: 1 });
    expect(mm.channels.min).to.deep.equal([1, -6]);
    expect(mm.channels.max).to.deep.equal([5, -2]);

    const b = seq(12, (i) => ((i * 5) % 12) - 6); // [2, in=2, out=3]
    const batched = (await stats(await chain([{ op: 'MatMul', weight: f32Tensor('bmm.w', [2, 2, 3], b) }]))).layers[0]!;
    expect(batched).to.include({ channelAxis: 2 });
    expectChannels(
      batched,
      reference(b, 3, (i) => i % 3),
    );
  });

  it('a MatMul with 200 000 output channels (an LLM vocabulary head) is reported', async () => {
    const C = 200_000;
    const w = new Array<number>(2 * C);
    for (let c = 0; c < C; c++) {
      w[c] = (c % 7) - 3;
      w[C + c] = (c % 7) - 3 + 1 + (c % 5); // range of channel c: 1 + c % 5
    }
    const layer = (await stats(await chain([{ op: 'MatMul', weight: f32Tensor('lm_head', [2, C], w) }]))).layers[0]!;
    expect(layer.channels.max).to.have.length(C);
    expect(layer.minRange).to.equal(1);
    expect(layer.maxRelativeRange).to.equal(5);
    expect(layer.relativeRange[4]).to.equal(5);
  });
});

describe('weight layers: where weights come from', () => {
  it('a weight reached through Identity nodes', async () => {
    const model = await open(identityWeightModel());
    const layer = onlyLayer(model);
    expect(layer.name).to.equal('conv_id');
    expect(layer.weight).to.include({ name: 'w', origin: 'initializer' });
    const report = (await stats(model)).layers[0]!;
    expect(report.channels.min).to.deep.equal([-2, 0.5]);
    expect(report.channels.max).to.deep.equal([1, 3]);
  });

  it('a weight from a Constant node', async () => {
    const model = await open(constantNodeModel());
    const layer = onlyLayer(model);
    expect(layer.weight).to.include({ name: 'w_const', origin: 'constant' });
    const report = (await stats(model)).layers[0]!;
    expect(report).to.include({ name: 'conv_c', weight: 'w_const', graph: 'main' });
    expect(report.channels).to.deep.include({ min: [7], max: [9], mean: [8], absMax: [9] });
    expect(report.channels.std[0]).to.be.closeTo(Math.sqrt(2 / 3), 1e-12);
  });

  it('a Conv inside an If branch using a constant of the outer graph', async () => {
    const model = await open(outerScopeIfModel());
    const layer = onlyLayer(model);
    expect(layer).to.include({ name: 'inner_conv', graph: 'main/If_7.then_branch' });
    expect(layer.weight).to.include({ name: 'outer.w', graph: 'main' });
    const report = (await stats(model)).layers[0]!;
    expect(report.graph).to.equal('main/If_7.then_branch');
    expect(report.channels.min).to.deep.equal([-1, -6]);
    expect(report.channels.max).to.deep.equal([4, 8]);
  });

  it('BatchNormalization is recorded only when it alone reads the conv output', async () => {
    const sole = onlyLayer(await open(convBatchNormModel('none')));
    expect(sole.batchNorm?.name).to.equal('bn');
    expect((await stats(await open(convBatchNormModel('none')))).layers[0]!.batchNorm).to.equal('bn');
    expect(onlyLayer(await open(convBatchNormModel('relu'))).batchNorm).to.equal(undefined);
    expect(onlyLayer(await open(convBatchNormModel('graph-output'))).batchNorm).to.equal(undefined);
    expect((await stats(await open(convBatchNormModel('relu')))).layers[0]!.batchNorm).to.equal(null);
  });

  it('an initializer that is also a graph input is flagged overridable, directly and through Identity', async () => {
    const layers: ChainLayer[] = [
      { op: 'Conv', weight: f32Tensor('a.w', [1, 1, 1, 1], [1]) },
      { op: 'Conv', weight: f32Tensor('b.w', [1, 1, 1, 1], [2]) },
    ];
    const found = findWeightLayers(await chain(layers, ['b.w']));
    expect(found.map((l) => [l.weight.name, l.overridable])).to.deep.equal([
      ['a.w', false],
      ['b.w', true],
    ]);
    expect((await stats(await chain(layers, ['b.w']))).layers.map((l) => l.overridable)).to.deep.equal([false, true]);
    expect(onlyLayer(await open(identityWeightModel())).overridable).to.equal(true);
  });

  it('an int8 per-axis DequantizeLinear weight: statistics of the dequantized values', async () => {
    const q = rawTensor(
      'q',
      [2, 1, 1, 3],
      DataType.INT8,
      new Uint8Array(new Int8Array([-128, 0, 127, 10, -10, 5]).buffer),
    );
    const scale = f32Tensor('scale', [2], [0.5, 0.25]);
    const zp = rawTensor('zp', [2], DataType.INT8, new Uint8Array(new Int8Array([0, 5]).buffer));
    const report = (await stats(await open(qdqModel(q, scale, zp, [attr.int('axis', 0)])))).layers[0]!;
    // channel 0: (q - 0) * 0.5 = -64, 0, 63.5; channel 1: (q - 5) * 0.25 = 1.25, -3.75, 0
    expect(report).to.include({ name: 'conv_q', weight: 'q', dtype: 'int8' });
    expect(report.channels.min).to.deep.equal([-64, -3.75]);
    expect(report.channels.max).to.deep.equal([63.5, 1.25]);
    expect(report.channels.absMax).to.deep.equal([64, 3.75]);
    expect(report.channels.mean[0]).to.be.closeTo(-0.5 / 3, 1e-12);
    expect(report.channels.mean[1]).to.be.closeTo(-2.5 / 3, 1e-12);
  });
});

describe('stats report', () => {
  // Channel 0: 1, NaN, -2, +Inf; channel 1: all NaN; channel 2: -Inf, 0.5, 0.25, NaN.
  const nanWeights = [1, NaN, -2, Infinity, NaN, NaN, NaN, NaN, -Infinity, 0.5, 0.25, NaN];
  const nanModel = () => chain([{ op: 'Conv', weight: f32Tensor('nan.w', [3, 1, 1, 4], nanWeights), name: 'nanconv' }]);

  it('NaN/±Inf weights: counted, left out of the statistics; an all-NaN channel has null figures', async () => {
    const layer = (await stats(await nanModel())).layers[0]!;
    expect(layer.nonFiniteCounts).to.deep.equal({ nan: 6, posInf: 1, negInf: 1 });
    expect(layer.nonFinite).to.equal(8);
    expect(layer.channels).to.deep.equal({
      min: [-2, null, 0.25],
      max: [1, null, 0.5],
      mean: [-0.5, null, 0.375],
      std: [1.5, null, 0.125],
      absMax: [2, null, 0.5],
    });
    expect(layer.relativeRange).to.deep.equal([12, null, 1]);
    expect(layer.maxRelativeRange).to.equal(12);
    expect(layer.minRange).to.equal(0.25);
    expect(layer.deadChannels, 'the all-NaN channel').to.deep.equal([1]);
  });

  it("a channel of one value is dead: left out of the relative range, which stays finite; AIMET's figure is infinite", async () => {
    const layer = (
      await stats(await chain([{ op: 'Conv', weight: f32Tensor('z.w', [3, 1, 1, 2], [3, 3, -1, 1, 0, 4]) }]))
    ).layers[0]!;
    expect(layer.deadChannels).to.deep.equal([0]);
    expect(layer.minRange).to.equal(2);
    expect(layer.relativeRange).to.deep.equal([null, 1, 2]);
    expect(layer.maxRelativeRange).to.equal(2);
    expect(layer.aimetMaxRelativeRange, 'AIMET divides by the zero range').to.equal(null);
    expect(layer.outliers).to.deep.equal([]);
  });

  it('dead means a range at most 1e-4 of the largest: 1e-4 is dead, 2e-4 is live; an all-zero layer is all dead', async () => {
    // Ranges 1, 1e-4 (dead), 2e-4 (live), 1e-34 (dead, as PP-OCRv4 det's near-dead channel).
    const w = [0, 1, 0, 1e-4, 0, 2e-4, 0, 1e-34];
    const layer = (await stats(await chain([{ op: 'Conv', weight: f32Tensor('d.w', [4, 1, 1, 2], w) }]))).layers[0]!;
    const ranges = [1, Math.fround(1e-4), Math.fround(2e-4), Math.fround(1e-34)];
    expect(layer.deadChannels).to.deep.equal([1, 3]);
    expect(layer.minRange).to.equal(ranges[2]);
    expect(layer.relativeRange).to.deep.equal([1 / ranges[2]!, null, 1, null]);
    expect(layer.aimetMaxRelativeRange).to.equal(1 / ranges[3]!);
    const zeros = (await stats(await chain([{ op: 'Conv', weight: f32Tensor('zero.w', [2, 1, 1, 2], [0, 0, 0, 0]) }])))
      .layers[0]!;
    expect(zeros.deadChannels).to.deep.equal([0, 1]);
    expect(zeros.relativeRange).to.deep.equal([null, null]);
    expect(zeros.maxRelativeRange).to.equal(null);
    expect(zeros.minRange).to.equal(null);
  });

  it('layer: selects by node name, first output or weight name; an unknown name is LAYER_NOT_FOUND', async () => {
    const layers: ChainLayer[] = [
      { op: 'Conv', weight: f32Tensor('first.w', [1, 1, 1, 2], [1, 2]), name: 'first' },
      { op: 'Conv', weight: f32Tensor('second.w', [2, 1, 1, 1], [3, 4]), name: 'second' },
      { op: 'Conv', weight: f32Tensor('third.w', [1, 1, 1, 1], [5]), name: '' },
    ];
    const model = await chain(layers);
    expect((await stats(model)).layers.map((l) => l.name)).to.deep.equal(['first', 'second', 'y']);
    for (const key of ['second', 'out1', 'second.w']) {
      const report = await stats(model, key);
      expect(
        report.layers.map((l) => l.name),
        key,
      ).to.deep.equal(['second']);
      expect(report.layers[0]!.channels.max).to.deep.equal([3, 4]);
    }
    expect((await stats(model, 'y')).layers.map((l) => l.weight)).to.deep.equal(['third.w']);
    const e = await rejects(stats(model, 'conv99'), 'LAYER_NOT_FOUND');
    expect(e.message).to.contain('chain.onnx').and.contain('"conv99"');
    expect(e.file).to.equal('chain.onnx');
  });

  it('the JSON form has the documented fields and survives a JSON round trip unchanged', async () => {
    const model = await chain([
      {
        op: 'Conv',
        weight: f32Tensor('conv1.w', [3, 1, 1, 4], nanWeights),
        bias: f32Tensor('conv1.b', [3], [0, 1, 2]),
        name: 'conv1',
      },
      { op: 'Conv', weight: f32Tensor('conv2.w', [2, 1, 1, 2], [-0, -0, -0, 1]), name: 'conv2' }, // -0 extremes; range 0
      {
        op: 'Gemm',
        weight: f32Tensor(
          'fc.w',
          [2, 3],
          seq(6, (i) => i * 1.5 - 2),
        ),
        attributes: [attr.int('transB', 1)],
        name: 'fc',
      },
    ]);
    const report = await stats(model);
    expect(report.file).to.equal('chain.onnx');
    expect(report.model).to.include({
      irVersion: 9,
      producer: 'weightlens-test',
      parameters: 12 + 3 + 4 + 6,
      quantizedParameters: 0,
    });
    expect(report.model.opsets).to.deep.equal({ '': 21 });
    expect(report.layers).to.have.length(3);
    for (const layer of report.layers) {
      expect(layer).to.include.all.keys(
        'name',
        'op',
        'weight',
        'graph',
        'dtype',
        'shape',
        'channelAxis',
        'groups',
        'channels',
        'relativeRange',
        'outliers',
        'nonFinite',
      );
      expect(layer.channels).to.have.all.keys('min', 'max', 'mean', 'std', 'absMax');
    }
    expect(report.layers[0]).to.include({
      name: 'conv1',
      op: 'Conv',
      weight: 'conv1.w',
      graph: 'main',
      dtype: 'float32',
      channelAxis: 0,
      groups: 1,
      nonFinite: 8,
      bias: 'conv1.b',
    });
    expect(report.layers[0]!.shape).to.deep.equal([3, 1, 1, 4]);
    expect(report.layers[2]).to.include({ op: 'Gemm', channelAxis: 0 });
    expect(report.layers[2]!.relativeRange).to.deep.equal([1, 1]);
    const text = JSON.stringify(report);
    expect(text).to.not.match(/NaN|Infinity/);
    expect(JSON.parse(text)).to.deep.equal(report);
  });

  it('flags outlier channels above the Tukey fence', async () => {
    // ranges 1, 1, 1, 1, 1, 10 -> rel 1 … 10; Q1 = Q3 = 1, fence 1: channel 5 is the outlier
    const w = seq(12, (i) => (i % 2 === 0 ? 0 : i === 11 ? 10 : 1));
    const layer = (await stats(await chain([{ op: 'Conv', weight: f32Tensor('o.w', [6, 1, 1, 2], w) }]))).layers[0]!;
    expect(layer.relativeRange).to.deep.equal([1, 1, 1, 1, 1, 10]);
    expect(layer.outliers).to.deep.equal([5]);
  });

  it('onProgress counts layers up to done === total', async () => {
    const model = await chain(
      seq(4, (i) => ({ op: 'Conv' as const, weight: f32Tensor(`w${i}`, [2, 1, 1, 1], [i, -i]) })),
    );
    const seen: StatsProgress[] = [];
    await computeStats(model, { kernels, onProgress: (p) => seen.push({ ...p }) });
    expect(seen.length).to.be.at.least(2);
    seen.forEach((p, i) => {
      expect(p.total).to.equal(4);
      if (i > 0) expect(p.done, `step ${i}`).to.be.at.least(seen[i - 1]!.done);
    });
    expect(seen[0]!.done).to.equal(0);
    expect(seen.at(-1)!.done).to.equal(4);
  });

  it('an aborted signal is ABORTED, before the first layer and between layers', async () => {
    const model = await chain(seq(3, (i) => ({ op: 'Conv' as const, weight: f32Tensor(`w${i}`, [1, 1, 1, 1], [i]) })));
    const ac = new AbortController();
    ac.abort();
    await rejects(computeStats(model, { kernels, signal: ac.signal }), 'ABORTED');
    const later = new AbortController();
    const e = await rejects(
      computeStats(model, { kernels, signal: later.signal, onProgress: (p) => p.done === 1 && later.abort() }),
      'ABORTED',
    );
    expect(e.message).to.contain('chain.onnx');
  });

  it('computeStats loads its own kernels when none are given', async () => {
    const report = await computeStats(await open(convModel()));
    expect(report.layers[0]!.channels.max).to.deep.equal([2, 4]);
    expect(report.model.parameters).to.equal(6);
  });
});
