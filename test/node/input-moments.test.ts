// Node-only: the propagated per-channel moments behind bias correction without a BatchNorm right before the
// layer (src/quant/input-moments.ts), against onnxruntime running the same graph on the inputs they assume,
// and against the closed forms of the BatchNorm path; and the input distribution fitted to the first
// BatchNorm (src/quant/input-distribution.ts), checked both by construction and through onnxruntime.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../../src/onnx/decode.js';
import { openModelFile } from '../../src/node/open-file.js';
import { expectedInputs, HARD_SWISH } from '../../src/quant/bias-correction.js';
import { inputDistribution, STANDARD_NORMAL, type InputDistribution } from '../../src/quant/input-distribution.js';
import { InputMoments, type ChannelMoments } from '../../src/quant/input-moments.js';
import { clippedNormalMean } from '../../src/quant/normal.js';
import { drawInput, normals } from '../../src/quant/synthetic-inputs.js';
import { attr, f32Tensor, modelBytes, node, type INodeProto, type ITensorProto } from '../fixtures/onnx-bytes.js';
import { randomWeights } from '../support/random.js';
import { realModel } from '../support/node-paths.js';

const typed = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });

function model(nodes: INodeProto[], initializer: ITensorProto[], outputs: string[], opset = 13) {
  return modelBytes({ input: [typed('x')], output: outputs.map(typed), initializer, node: nodes }, opset);
}

async function propagate(bytes: Uint8Array, drawn?: InputDistribution) {
  const m = decodeModel(bytes, { fileName: 'm.onnx' });
  return InputMoments.propagate(m, drawn ?? (await inputDistribution(m)));
}

const moments = (im: InputMoments, value: string, channels: number): ChannelMoments => {
  const m = im.of('main', value, channels);
  if ('reason' in m) throw new Error(m.reason);
  return m;
};

/** Per-channel mean and variance of NCHW outputs over samples and positions, from onnxruntime. */
async function empirical(
  bytes: Uint8Array,
  dims: number[],
  outputs: string[],
  runs: number,
  drawn?: InputDistribution,
) {
  const session = await ort.InferenceSession.create(bytes);
  const sums = new Map<string, { s: Float64Array; s2: Float64Array; n: number }>();
  for (let run = 0; run < runs; run++) {
    const x = drawInput(dims, drawn, normals(100 + run));
    const out = await session.run({ x: new ort.Tensor('float32', x, dims) }, outputs);
    for (const name of outputs) {
      const t = out[name]!;
      const [n, c] = [t.dims[0]!, t.dims[1]!];
      const plane = t.data.length / (n * c);
      const acc = sums.get(name) ?? { s: new Float64Array(c), s2: new Float64Array(c), n: 0 };
      const data = t.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        const ch = Math.floor(i / plane) % c;
        acc.s[ch] = acc.s[ch]! + data[i]!;
        acc.s2[ch] = acc.s2[ch]! + data[i]! * data[i]!;
      }
      acc.n += n * plane;
      sums.set(name, acc);
    }
  }
  return new Map(
    [...sums].map(([name, a]) => {
      const mean = Array.from(a.s, (v) => v / a.n);
      return [name, { mean, variance: Array.from(a.s2, (v, c) => v / a.n - mean[c]! ** 2), n: a.n }];
    }),
  );
}

describe('propagated input moments', () => {
  // x (N(0,1)) → Conv (no padding: every output a normal of known variance) → one elementwise function each.
  const W = randomWeights(6 * 4 * 9, 7, 0, 0.6);
  const B = [0.5, -0.3, 1.2, 0, -1, 2];
  const initializer = [
    f32Tensor('w', [6, 4, 3, 3], [...W]),
    f32Tensor('b', [6], B),
    f32Tensor('lo', [], [0]),
    f32Tensor('hi', [], [6]),
    f32Tensor('three', [], [3]),
    f32Tensor('six', [], [6]),
  ];
  const nodes = [
    node('Conv', ['x', 'w', 'b'], ['y'], 'conv'),
    node('Clip', ['y', 'lo', 'hi'], ['relu6'], 'relu6'),
    node('Sigmoid', ['y'], ['s'], 'sigmoid'),
    node('Mul', ['y', 's'], ['swish'], 'swish'),
    node('Add', ['y', 'three'], ['y3'], 'add3'),
    node('Clip', ['y3', 'lo', 'hi'], ['gate'], 'gate'),
    node('Mul', ['y', 'gate'], ['yg'], 'mul'),
    node('Div', ['yg', 'six'], ['hswish'], 'hswish'),
  ];
  const bytes = model(nodes, initializer, ['y', 'relu6', 'swish', 'hswish']);

  it('through one Conv and an elementwise function (Clip, x·Sigmoid(x), HardSwish spelled out): onnxruntime agrees', async () => {
    const im = await propagate(bytes);
    const seen = await empirical(bytes, [8, 4, 34, 34], ['y', 'relu6', 'swish', 'hswish'], 4);
    for (const name of ['y', 'relu6', 'swish', 'hswish']) {
      const m = moments(im, name, 6);
      const e = seen.get(name)!;
      for (let c = 0; c < 6; c++) {
        // Neighbouring outputs share inputs: allow 5 standard errors of a sample a ninth as large.
        const tolerance = 5 * Math.sqrt(e.variance[c]! / (e.n / 9));
        expect(m.mean[c], `${name}[${c}] mean`).to.be.closeTo(e.mean[c]!, tolerance);
        expect(m.variance[c], `${name}[${c}] variance`).to.be.closeTo(e.variance[c]!, 0.05 * e.variance[c]! + 1e-6);
      }
      expect(m.origin).to.equal('the model input (N(0, 1))');
    }
    // The spelled-out HardSwish is recognised as one function of y, not a product of independent values.
    expect(moments(im, 'hswish', 6).nodes).to.equal(moments(im, 'y', 6).nodes + 4);
  });

  it('a BatchNorm restarts the moments at N(β, γ²); its activation means are the BatchNorm path’s closed forms', async () => {
    const gamma = [1.5, -0.5, 2];
    const beta = [0.2, -1, 3];
    const im = await propagate(
      model(
        [
          node('BatchNormalization', ['x', 'g', 'be', 'mu', 'var'], ['n'], 'bn'),
          node('Relu', ['n'], ['r'], 'relu'),
          node('Add', ['n', 'three'], ['n3']),
          node('Clip', ['n3', 'lo', 'hi'], ['c']),
          node('Mul', ['n', 'c'], ['nc']),
          node('Div', ['nc', 'six'], ['hs']),
        ],
        [
          f32Tensor('g', [3], gamma),
          f32Tensor('be', [3], beta),
          f32Tensor('mu', [3], [9, 9, 9]),
          f32Tensor('var', [3], [4, 4, 4]),
          f32Tensor('lo', [], [0]),
          f32Tensor('hi', [], [6]),
          f32Tensor('three', [], [3]),
          f32Tensor('six', [], [6]),
        ],
        ['r', 'hs'],
      ),
    );
    const n = moments(im, 'n', 3);
    expect([...n.mean]).to.deep.equal(beta.map(Math.fround));
    expect(n.origin).to.equal('BatchNormalization "bn"');
    const relu = moments(im, 'r', 3);
    const swish = moments(im, 'hs', 3);
    const closedSwish = expectedInputs(Float32Array.from(gamma), Float32Array.from(beta), HARD_SWISH);
    for (let c = 0; c < 3; c++) {
      expect(relu.mean[c]).to.be.closeTo(clippedNormalMean(Math.fround(beta[c]!), Math.fround(gamma[c]!), 0), 1e-7);
      expect(swish.mean[c]).to.be.closeTo(closedSwish[c]!, 1e-7);
    }
  });

  it('products of two tensors, per-channel constants, pooling, Concat and a flattened GlobalAveragePool', async () => {
    const im = await propagate(
      model(
        [
          node('BatchNormalization', ['x', 'g', 'be', 'mu', 'var'], ['n'], 'bn'),
          node('GlobalAveragePool', ['n'], ['gap'], 'gap'),
          node('HardSigmoid', ['gap'], ['gate'], 'hsig'),
          node('Mul', ['n', 'gate'], ['se'], 'se'),
          node('Mul', ['n', 'k'], ['scaled'], 'scale'),
          node('Sub', ['k', 'n'], ['flipped'], 'flip'),
          node('MaxPool', ['n'], ['pooled'], 'pool', [attr.ints('kernel_shape', [2, 2])]),
          node('Concat', ['n', 'scaled'], ['both'], 'cat', [attr.int('axis', 1)]),
          node('Flatten', ['gap'], ['flat'], 'flatten'),
        ],
        [
          f32Tensor('g', [2], [1, 2]),
          f32Tensor('be', [2], [0.5, -1]),
          f32Tensor('mu', [2], [0, 0]),
          f32Tensor('var', [2], [1, 1]),
          f32Tensor('k', [1, 2, 1, 1], [3, -2]),
        ],
        ['se', 'flipped', 'pooled', 'both', 'flat'],
      ),
    );
    const gate = (m: number) => Math.min(Math.max(0.2 * m + 0.5, 0), 1);
    const se = moments(im, 'se', 2);
    expect(se.mean[0]).to.be.closeTo(0.5 * gate(0.5), 1e-6);
    expect(se.mean[1]).to.be.closeTo(-1 * gate(-1), 1e-6);
    expect(se.variance[1]).to.be.closeTo(4 * gate(-1) ** 2, 1e-6); // (v1 + m1²)·m2² − m1²·m2² with v2 = 0
    expect([...moments(im, 'flipped', 2).mean]).to.deep.equal([3 - 0.5, -2 + 1]);
    expect([...moments(im, 'flipped', 2).variance]).to.deep.equal([1, 4]);
    const pooled = moments(im, 'pooled', 2);
    expect(pooled.mean[0]).to.be.closeTo(0.5 + 1.0293753730039641, 1e-4); // E[max of 4 standard normals]
    expect(moments(im, 'both', 4).mean).to.deep.equal(new Float64Array([0.5, -1, 1.5, 2]));
    expect(moments(im, 'flat', 2).mean).to.deep.equal(new Float64Array([0.5, -1]));
  });

  it('says which op it stops at, and never reads past it until a BatchNorm', async () => {
    const im = await propagate(
      model(
        [
          node('Transpose', ['x'], ['t'], 'transpose', [attr.ints('perm', [0, 1, 3, 2])]),
          node('Relu', ['t'], ['r'], 'relu'),
          node('Conv', ['r', 'w'], ['y'], 'conv'),
          node('BatchNormalization', ['y', 'g', 'be', 'mu', 'var'], ['n'], 'bn'),
          node('Div', ['n', 'y'], ['ratio'], 'ratio'),
        ],
        [
          f32Tensor('w', [2, 2, 1, 1], [1, 2, 3, 4]),
          f32Tensor('g', [2], [1, 1]),
          f32Tensor('be', [2], [0, 0]),
          f32Tensor('mu', [2], [0, 0]),
          f32Tensor('var', [2], [1, 1]),
        ],
        ['ratio'],
      ),
    );
    expect(im.of('main', 'y', 2)).to.deep.equal({
      reason: 'its input passes through Transpose "transpose", which the propagation does not model',
    });
    expect(moments(im, 'n', 2).origin).to.equal('BatchNormalization "bn"');
    expect(im.of('main', 'ratio', 2))
      .to.have.property('reason')
      .that.matches(/Transpose "transpose"/);
    expect(im.of('main', 'n', 3)).to.deep.equal({
      reason: '"n" has 2 channels propagated, the layer 3 input channels',
    });
    expect(im.of('main/If.then_branch', 'n', 2))
      .to.have.property('reason')
      .that.matches(/subgraph/);
  });
});

describe('the input distribution fitted to the first BatchNorm', () => {
  const cin = 3;
  const cout = 16;
  const w = randomWeights(cout * cin * 9, 11, 0.05, 0.8);
  const b = randomWeights(cout, 12, 0, 0.5);
  const truth = { mean: [0.4, -0.2, 0.1], smooth: 0.6, white: 0.15 };
  // The running statistics this distribution gives the Conv's output (the fit's own model of it).
  const s = (o: number, c: number) => w.slice((o * cin + c) * 9, (o * cin + c + 1) * 9).reduce((a, v) => a + v, 0);
  const q = (o: number) => w.slice(o * cin * 9, (o + 1) * cin * 9).reduce((a, v) => a + v * v, 0);
  const mu = Array.from({ length: cout }, (_, o) => b[o]! + truth.mean.reduce((a, m, c) => a + s(o, c) * m, 0));
  const variance = Array.from(
    { length: cout },
    (_, o) => truth.smooth * [0, 1, 2].reduce((a, c) => a + s(o, c), 0) ** 2 + truth.white * q(o),
  );
  const bytes = modelBytes(
    {
      input: [typed('x')],
      output: [typed('y')],
      initializer: [
        f32Tensor('w', [cout, cin, 3, 3], [...w]),
        f32Tensor('b', [cout], [...b]),
        f32Tensor('g', [cout], new Array(cout).fill(1)),
        f32Tensor('be', [cout], new Array(cout).fill(0)),
        f32Tensor('mu', [cout], mu),
        f32Tensor('var', [cout], variance),
      ],
      node: [
        node('Conv', ['x', 'w', 'b'], ['y'], 'conv'),
        node('BatchNormalization', ['y', 'g', 'be', 'mu', 'var'], ['n'], 'bn'),
      ],
    },
    13,
  );

  it('recovers the per-channel means and the smooth and white variances', async () => {
    const fitted = await inputDistribution(decodeModel(bytes, { fileName: 'm.onnx' }));
    expect(fitted.source).to.equal('fitted to BatchNormalization "bn"');
    expect(fitted.input).to.equal('x');
    for (let c = 0; c < cin; c++) expect(fitted.mean[c]).to.be.closeTo(truth.mean[c]!, 1e-4);
    expect(fitted.smooth).to.be.closeTo(truth.smooth, 1e-4);
    expect(fitted.white).to.be.closeTo(truth.white, 1e-4);
  });

  it('inputs drawn from it give the Conv the BatchNorm’s running statistics (onnxruntime)', async () => {
    const fitted = await inputDistribution(decodeModel(bytes, { fileName: 'm.onnx' }));
    const seen = (await empirical(bytes, [4, cin, 64, 64], ['y'], 8, fitted)).get('y')!;
    for (let o = 0; o < cout; o++) {
      expect(seen.mean[o], `mean ${o}`).to.be.closeTo(mu[o]!, 0.1 * Math.sqrt(variance[o]!));
      expect(seen.variance[o]! / variance[o]!, `variance ${o}`).to.be.within(0.8, 1.2);
    }
  });

  it('is N(0, 1) when the input does not feed a Conv and BatchNorm', async () => {
    const plain = decodeModel(model([node('Relu', ['x'], ['y'])], [], ['y']), { fileName: 'm.onnx' });
    expect(await inputDistribution(plain)).to.deep.equal(STANDARD_NORMAL('x'));
  });

  it('PaddleOCR det: the fitted inputs are image-like (a smooth part larger than the noise)', async () => {
    const det = await inputDistribution(await openModelFile(realModel('ch_PP-OCRv4_det_infer.onnx')));
    expect(det.source).to.match(/^fitted to BatchNormalization/);
    expect(det.mean).to.have.length(3);
    expect(det.smooth).to.be.greaterThan(det.white);
  });
});
