// Analytic bias correction (src/quant/bias-correction.ts, docs/definitions.md "Bias correction"):
// (a) AIMET's asserted BN-based correction vectors, from the same inputs; (b) on the MobileNetV2-shaped
// model quantized INT8 per-tensor, each corrected layer run alone under onnxruntime-node on inputs drawn
// from its BatchNorm's N(β, γ²) through its activation: the mean per-channel output error drops at least 5x;
// (c) E[x], shifts and the exported biases against test/reference/bias_correction.py (math.erfc, numpy)
// within 1e-6 relative; (d) the corrected export runs under onnxruntime-node.
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { connectivity, type Connectivity } from '../../src/cle/weights.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { quantizeModel, type QuantizeOutcome } from '../../src/pipeline/quantize-model.js';
import {
  expectedInputs,
  NO_ACTIVATION,
  outputShift,
  RELU,
  type CorrectedLayer,
  type InputActivation,
} from '../../src/quant/bias-correction.js';
import { clippedNormalMean, erfc, hardSwishNormalMean, normalCdf } from '../../src/quant/normal.js';
import { openModelFile } from '../../src/node/open-file.js';
import { realModel } from '../support/node-paths.js';
import { mobilenetV2Bytes } from '../fixtures/mobilenetv2.js';
import { attr, f32Tensor, modelBytes, node } from '../fixtures/onnx-bytes.js';
import { PYTHON } from '../support/node-paths.js';
import { seededRandom } from '../support/random.js';

const { onnx } = pkg;
type TensorProto = pkg.onnx.ITensorProto;

const INT8_TENSOR = { bits: 8, symmetric: true, granularity: 'tensor' } as const;

/** AIMET's CorrectBiasBNParams inputs: W[3, 2, 3, 1] = 0..17, W_q = W + 1, γ = [1, 3], β = [-2, 1], b = 5. */
function aimetCase() {
  const w = Float64Array.from({ length: 18 }, (_, i) => i);
  const wq = Float64Array.from(w, (x) => x + 1);
  const conn: Connectivity = { cout: 3, cin: 2, k: 3, rows: 3, grid: { rows: 3, cols: 2, rowsAreOutputs: true } };
  return { w, wq, conn, gamma: [1, 3], beta: [-2, 1] };
}

const f32Close = (actual: number, expected: number) =>
  expect(Math.abs(Math.fround(actual) - expected), `${actual} vs ${expected}`).to.be.at.most(
    4 * 2 ** -23 * Math.abs(expected),
  );

describe('bias correction: AIMET vectors', () => {
  // quic/aimet ModelOptimizations/DlEqualization/test/TestBiasCorrection.cpp, TEST(TestBiasCorrection,
  // CorrectBiasBNParams) and CorrectBiasBNParamsNoActivation: EXPECT_FLOAT_EQ(bias[1], bias[2]) against
  // -0.3135972 (Relu) and 8 (no activation).
  for (const [activation, expected] of [
    [RELU, -0.3135972],
    [NO_ACTIVATION, 8],
  ] as const) {
    it(`reproduces AIMET's ${activation.op} vector`, () => {
      const { w, wq, conn, gamma, beta } = aimetCase();
      const delta = wq.map((x, i) => x - w[i]!);
      const shift = outputShift(delta, conn, expectedInputs(gamma, beta, activation));
      const bias = [...shift].map((s) => 5 - s);
      for (const b of bias) f32Close(b, expected);
    });
  }
});

describe('bias correction: the normal distribution', () => {
  it('the clipped-normal mean has the limits it should', () => {
    // γ → 0: the activation of β itself; negative γ is the same distribution.
    expect(clippedNormalMean(-0.5, 0, 0, 6)).to.equal(0);
    expect(clippedNormalMean(7, 0, 0, 6)).to.equal(6);
    expect(clippedNormalMean(1.5, -2, 0, 6)).to.equal(clippedNormalMean(1.5, 2, 0, 6));
    expect(clippedNormalMean(0.3, 1e-300, 0, Infinity)).to.be.closeTo(0.3, 1e-15);
    // Unclipped: the mean; Relu of N(0, 1): 1/√(2π); a far tail is 0, not NaN.
    expect(clippedNormalMean(0.7, 3)).to.be.closeTo(0.7, 1e-15);
    expect(clippedNormalMean(0, 1, 0)).to.be.closeTo(1 / Math.sqrt(2 * Math.PI), 1e-16);
    expect(clippedNormalMean(-60, 1, 0, 6)).to.equal(0);
    expect(clippedNormalMean(60, 1, 0, 6)).to.equal(6);
    // Monte Carlo of Clip(-1, 2) of N(0.4, 1.7²) (2·10^5 samples: ±0.01).
    const rand = seededRandom(5);
    let sum = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) sum += Math.min(Math.max(0.4 + 1.7 * gaussian(rand), -1), 2);
    expect(clippedNormalMean(0.4, 1.7, -1, 2)).to.be.closeTo(sum / n, 0.01);
  });
});

const quantiles = new Map<number, Float64Array>();

/**
 * n standard normal samples, stratified: the midpoints Φ⁻¹((j + 1/2)/n) of n equally likely intervals (Φ
 * inverted by bisection, once per n), in random order. Each input channel then follows its distribution
 * closely enough that the noise of a finite sample does not hide the shift the correction removes.
 */
function stratifiedNormal(n: number, rand: () => number): Float64Array {
  let sorted = quantiles.get(n);
  if (!sorted) {
    sorted = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const p = (j + 0.5) / n;
      let [lo, hi] = [-40, 40];
      for (let k = 0; k < 64; k++) {
        const mid = (lo + hi) / 2;
        if (normalCdf(mid) < p) lo = mid;
        else hi = mid;
      }
      sorted[j] = (lo + hi) / 2;
    }
    quantiles.set(n, sorted);
  }
  const z = sorted.slice();
  for (let j = n - 1; j > 0; j--) {
    const k = Math.floor(rand() * (j + 1));
    [z[j], z[k]] = [z[k]!, z[j]!];
  }
  return z;
}

/** A standard normal sample (Box-Muller). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

async function python(script: string, input: unknown): Promise<unknown> {
  const run = promisify(execFile)(PYTHON, [script], { maxBuffer: 256 << 20 });
  run.child.stdin!.end(JSON.stringify(input));
  return JSON.parse((await run).stdout) as unknown;
}

interface ReferenceCase {
  w: number[];
  wq: number[];
  shape: number[];
  op: 'Conv' | 'Gemm';
  group?: number;
  transB?: number;
  bias: number[] | null;
  gamma: number[];
  beta: number[];
  act: 'none' | 'clip';
  lo: number | null;
  hi: number | null;
}
interface ReferenceResult {
  ex: number[];
  shift: number[];
  bias: number[];
}

const bound = (x: number) => (Number.isFinite(x) ? x : null);
const refCase = (a: InputActivation): Pick<ReferenceCase, 'act' | 'lo' | 'hi'> =>
  a.op === 'none' ? { act: 'none', lo: null, hi: null } : { act: 'clip', lo: bound(a.lo), hi: bound(a.hi) };

function expectRelative(ours: ArrayLike<number>, ref: number[], what: string, tolerance = 1e-6) {
  expect(ours.length, what).to.equal(ref.length);
  for (let i = 0; i < ref.length; i++)
    expect(Math.abs(ours[i]! - ref[i]!), `${what}[${i}]: ${ours[i]} vs ${ref[i]}`).to.be.at.most(
      tolerance * Math.abs(ref[i]!),
    );
}

/** The layouts and activations the reference checks: Conv, grouped and depthwise Conv, Gemm both ways. */
function syntheticCases(): { case: ReferenceCase; conn: Connectivity; activation: InputActivation }[] {
  const rand = seededRandom(11);
  const values = (n: number, scale: number) => Array.from({ length: n }, () => Math.fround((rand() - 0.5) * scale));
  const activations: InputActivation[] = [
    NO_ACTIVATION,
    RELU,
    { op: 'Clip', lo: 0, hi: 6 },
    { op: 'Clip', lo: -1, hi: 2 },
    { op: 'Clip', lo: -Infinity, hi: 0.5 },
  ];
  const layouts: { op: 'Conv' | 'Gemm'; shape: number[]; group?: number; transB?: number }[] = [
    { op: 'Conv', shape: [6, 4, 3, 3], group: 1 },
    { op: 'Conv', shape: [6, 2, 3, 1], group: 3 },
    { op: 'Conv', shape: [8, 1, 3, 3], group: 8 },
    { op: 'Gemm', shape: [5, 7], transB: 1 },
    { op: 'Gemm', shape: [7, 5], transB: 0 },
  ];
  return layouts.flatMap((layout, l) =>
    activations.map((activation, a) => {
      const size = layout.shape.reduce((x, y) => x * y, 1);
      const conn = connectivityOf(layout);
      const w = values(size, 2);
      const wq = w.map((x) => Math.fround(x + (rand() - 0.5) * 0.05));
      // γ: tiny, negative and ordinary; β: far in both tails and ordinary.
      const gamma = values(conn.cin, 4).map((g, i) => (i === 0 ? 1e-30 : i === 1 ? -Math.abs(g) : g));
      const beta = values(conn.cin, 6).map((b, i) => (i === 2 ? -9 : i === 3 ? 9 : b));
      const bias = (l + a) % 2 ? values(conn.cout, 1) : null;
      return {
        case: { ...layout, w, wq, bias, gamma, beta, ...refCase(activation) },
        conn,
        activation,
      };
    }),
  );
}

/** connectivity() of a layer of this op and shape, without a model. */
function connectivityOf(layout: { op: 'Conv' | 'Gemm'; shape: number[]; group?: number; transB?: number }) {
  const { op, shape } = layout;
  const fake = {
    op,
    weight: { shape },
    groups: layout.group ?? 1,
    channelAxis: op === 'Conv' || layout.transB ? 0 : 1,
  };
  return connectivity(fake as unknown as Parameters<typeof connectivity>[0]);
}

describe('bias correction through HardSwish', () => {
  /** E[hardswish(X)] by Simpson's rule over mu ± 12σ (an independent check of the closed form). */
  const integrated = (mu: number, sigma: number) => {
    const n = 200000;
    const [lo, hi] = [mu - 12 * sigma, mu + 12 * sigma];
    const h = (hi - lo) / n;
    const f = (x: number) =>
      ((x * Math.min(Math.max(x + 3, 0), 6)) / 6) *
      (Math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI)));
    let sum = f(lo) + f(hi);
    for (let i = 1; i < n; i++) sum += f(lo + i * h) * (i % 2 ? 4 : 2);
    return (sum * h) / 3;
  };

  it('the HardSwish-of-a-normal mean agrees with numerical integration, and its limits', () => {
    for (const [mu, sigma] of [
      [0, 1],
      [-2, 0.5],
      [1.5, 2],
      [4, 0.3],
      [-5, 1],
      [0.2, 0.01],
      [10, 3],
      [-1, -1.5],
    ] as const)
      expect(hardSwishNormalMean(mu, sigma), `${mu}, ${sigma}`).to.be.closeTo(
        integrated(mu, Math.abs(sigma)),
        1e-9 * (1 + Math.abs(mu)),
      );
    expect(hardSwishNormalMean(1, 0)).to.equal((1 * 4) / 6);
    expect(hardSwishNormalMean(-4, 0)).to.equal(-0);
  });

  it('PaddleOCR cls: layers fed by BatchNorm → HardSwish (spelled out) are corrected; the export runs', async () => {
    const model = await openModelFile(realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const outcome = await quantizeModel(model, {
      plan: { default: { bits: 4, symmetric: true, granularity: 'channel' } },
      biasCorrection: true,
    });
    const corrected = outcome.report.biasCorrection!.layers;
    expect(corrected.filter((l) => fromBatchNorm(l)?.activation === 'HardSwish').length).to.be.at.least(9);
    expect(corrected.length).to.be.at.least(18); // 9 without HardSwish
    expect(corrected.every((l) => l.meanShift.after < l.meanShift.before * 1e-3)).to.equal(true);
    await ort.InferenceSession.create(outcome.bytes);
  });
});

describe('bias correction against the python reference', () => {
  it('erfc agrees with math.erfc across both tails', async () => {
    const xs = [-6, -3, -1, -0.3, 0, 1e-7, 0.2, 0.5, 0.9999, 1, 1.0001, 1.5, 2, 2.5, 3, 5, 8, 12, 20, 26.5];
    const script = 'test/reference/erfc.py';
    const ref = (await python(script, xs)) as number[];
    expectRelative(
      xs.map((x) => erfc(x)),
      ref,
      'erfc',
      1e-14,
    );
  });

  it('E[x], the output shift and the corrected bias, on every layout and activation', async () => {
    const cases = syntheticCases();
    const { cases: ref } = (await python('test/reference/bias_correction.py', { cases: cases.map((c) => c.case) })) as {
      cases: ReferenceResult[];
    };
    cases.forEach(({ case: c, conn, activation }, k) => {
      const where = `${c.op} [${c.shape}] ${c.act} [${c.lo}, ${c.hi}]`;
      const ex = expectedInputs(c.gamma, c.beta, activation);
      expectRelative(ex, ref[k]!.ex, `${where} E[x]`);
      const shift = outputShift(
        c.wq.map((x, i) => x - c.w[i]!),
        conn,
        ex,
      );
      expectRelative(shift, ref[k]!.shift, `${where} shift`);
      const bias = [...shift].map((s, o) => (c.bias?.[o] ?? 0) - s);
      expectRelative(bias, ref[k]!.bias, `${where} bias`);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The MobileNetV2-shaped model, INT8 per-tensor.

const initializerValues = (t: TensorProto) =>
  t.rawData && t.rawData.length > 0
    ? new Float32Array(Uint8Array.from(t.rawData).buffer)
    : Float32Array.from(t.floatData ?? []);

function valueInfo(name: string, dims?: number[]) {
  return {
    name,
    type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
  };
}

/** `node` of the model alone (with the DequantizeLinear nodes and initializers it reads), fed `input`. */
function layerAlone(bytes: Uint8Array, nodeName: string, inputDims: number[]): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const node = graph.node!.find((n) => n.name === nodeName)!;
  const dqs = graph.node!.filter((n) => n.opType === 'DequantizeLinear' && node.input!.includes(n.output![0]!));
  const read = new Set([...node.input!, ...dqs.flatMap((n) => n.input!)]);
  graph.node = [...dqs, node];
  graph.initializer = graph.initializer!.filter((t) => read.has(t.name!));
  graph.input = [valueInfo(node.input![0]!, inputDims)];
  graph.output = [valueInfo(node.output![0]!)];
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

async function run(bytes: Uint8Array, input: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
  const y = out[session.outputNames[0]!]!;
  return { data: y.data as Float32Array, dims: y.dims as number[] };
}

/** Mean over output channels of |mean over batch and positions of (q − f)|, channels on axis 1. */
function meanChannelError(q: Float32Array, f: Float32Array, dims: number[]): number {
  const [n, c] = [dims[0]!, dims[1]!];
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  let total = 0;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++)
      for (let p = 0; p < inner; p++) {
        const i = (b * c + ch) * inner + p;
        s += q[i]! - f[i]!;
      }
    total += Math.abs(s / (n * inner));
  }
  return total / c;
}

/** The BatchNorm a layer's E[x] came from, when it came from one right before it. */
const fromBatchNorm = (l: CorrectedLayer) => (l.expectedInput.kind === 'batchnorm' ? l.expectedInput : undefined);

function parseActivation(text: string): InputActivation {
  if (text === 'none') return NO_ACTIVATION;
  if (text === 'Relu') return RELU;
  const [lo, hi] = /^Clip\((.*), (.*)\)$/.exec(text)!.slice(1).map(Number);
  return { op: 'Clip', lo: lo!, hi: hi! };
}

const MOBILENET = mobilenetV2Bytes({ width: 0.25, resolution: 32 });

let quantized: Promise<{ plain: QuantizeOutcome; corrected: QuantizeOutcome }> | undefined;
/** The fixture quantized INT8 per-tensor, without and with bias correction (once for every test). */
function quantizedMobilenet() {
  quantized ??= (async () => {
    const model = () => decodeModel(MOBILENET.bytes, { fileName: 'mobilenetv2.onnx' });
    const plan = { default: INT8_TENSOR };
    return {
      plain: await quantizeModel(model(), { plan }),
      corrected: await quantizeModel(model(), { plan, biasCorrection: true }),
    };
  })();
  return quantized;
}

describe('bias correction on the MobileNetV2-shaped model (INT8 per-tensor)', () => {
  it('corrects every layer: from the BatchNorm right before it where there is one, else from propagated moments', async () => {
    const { corrected } = await quantizedMobilenet();
    const bc = corrected.report.biasCorrection!;
    const layers = findWeightLayers(decodeModel(MOBILENET.bytes, { fileName: 'mobilenetv2.onnx' }));
    expect(bc.skipped).to.deep.equal([]);
    expect(bc.layers.map((l) => l.name)).to.deep.equal(layers.map((l) => l.name));
    for (const l of bc.layers) {
      expect(l.newBias, l.name).to.equal(l !== bc.layers.at(-1)); // the Gemm has a bias
      expect(l.delta, l.name).to.be.greaterThan(0);
      expect(l.meanShift.after, l.name).to.be.below(l.meanShift.before / 100);
    }
    const fromBn = bc.layers.filter((l) => fromBatchNorm(l));
    expect(fromBn.length).to.be.greaterThan(30);
    expect(new Set(fromBn.map((l) => fromBatchNorm(l)!.activation))).to.deep.equal(new Set(['none', 'Clip(0, 6)']));
    // The first Conv reads the graph input (fitted to the BatchNorm after it); the Gemm a flattened
    // GlobalAveragePool; expand Convs a residual Add.
    const propagated = new Map(bc.layers.flatMap((l) => (fromBatchNorm(l) ? [] : [[l.name, l.expectedInput]])));
    expect(propagated.get(layers[0]!.name)).to.deep.include({ kind: 'propagated', nodes: 0 });
    expect((propagated.get(layers[0]!.name) as { origin: string }).origin).to.match(
      /model input \(fitted to BatchNormalization/,
    );
    expect(propagated.get(layers.at(-1)!.name)).to.deep.include({ kind: 'propagated' });
  });

  it('each corrected layer, run alone on BatchNorm-matched inputs: mean channel error down at least 5x', async () => {
    const { plain, corrected } = await quantizedMobilenet();
    const float = onnx.ModelProto.decode(MOBILENET.bytes).graph!;
    const init = new Map(float.initializer!.map((t) => [t.name!, initializerValues(t)]));
    const rand = seededRandom(3);
    const ratios: number[] = [];
    for (const l of corrected.report.biasCorrection!.layers.filter(fromBatchNorm)) {
      const bn = float.node!.find((n) => n.name === fromBatchNorm(l)!.batchNorm)!;
      const [gamma, beta] = [init.get(bn.input![1]!)!, init.get(bn.input![2]!)!];
      const { lo, hi } = parseActivation(fromBatchNorm(l)!.activation);
      const dims = [2, gamma.length, 40, 40];
      const plane = dims[2]! * dims[3]!;
      const x = new Float32Array(dims.reduce((a, b) => a * b, 1));
      for (let c = 0; c < gamma.length; c++) {
        const z = stratifiedNormal(dims[0]! * plane, rand);
        for (let b = 0; b < dims[0]!; b++)
          for (let p = 0; p < plane; p++) {
            const v = beta[c]! + Math.abs(gamma[c]!) * z[b * plane + p]!;
            x[(b * gamma.length + c) * plane + p] = Math.min(Math.max(v, lo), hi);
          }
      }
      const y = await run(layerAlone(MOBILENET.bytes, l.name, dims), x, dims);
      const yPlain = await run(layerAlone(plain.bytes, l.name, dims), x, dims);
      const yCorrected = await run(layerAlone(corrected.bytes, l.name, dims), x, dims);
      const before = meanChannelError(yPlain.data, y.data, y.dims);
      const after = meanChannelError(yCorrected.data, y.data, y.dims);
      ratios.push(before / after);
      expect(before / after, `${l.name}: ${before} -> ${after}`).to.be.at.least(5);
    }
    ratios.sort((a, b) => a - b);
    console.log(
      `bias correction, ${ratios.length} layers: error reduction min ${ratios[0]!.toFixed(1)}x, median ${ratios[ratios.length >> 1]!.toFixed(1)}x`,
    );
  });

  it('the exported biases match the python reference (W from the float model, W_q as onnxruntime dequantizes)', async () => {
    const { corrected } = await quantizedMobilenet();
    const float = onnx.ModelProto.decode(MOBILENET.bytes).graph!;
    const floatInit = new Map(float.initializer!.map((t) => [t.name!, initializerValues(t)]));
    const exported = onnx.ModelProto.decode(corrected.bytes);
    const exportedInit = new Map(exported.graph!.initializer!.map((t) => [t.name!, initializerValues(t)]));
    const layers = corrected.report.biasCorrection!.layers.filter(fromBatchNorm);
    const cases: ReferenceCase[] = [];
    const stored: Float32Array[] = [];
    for (const l of layers) {
      const node = float.node!.find((n) => n.name === l.name)!;
      const weight = float.initializer!.find((t) => t.name === node.input![1])!;
      const shape = weight.dims!.map(Number);
      const bn = float.node!.find((n) => n.name === fromBatchNorm(l)!.batchNorm)!;
      const wq = await dequantized(corrected.bytes, node.input![1]!);
      const group = node.attribute!.find((a) => a.name === 'group');
      const exportedNode = exported.graph!.node!.find((n) => n.name === l.name)!;
      stored.push(exportedInit.get(exportedNode.input![2]!)!);
      cases.push({
        w: [...floatInit.get(weight.name!)!],
        wq: [...wq],
        shape,
        op: 'Conv',
        group: group ? Number(group.i) : 1,
        bias: null,
        gamma: [...floatInit.get(bn.input![1]!)!],
        beta: [...floatInit.get(bn.input![2]!)!],
        ...refCase(parseActivation(fromBatchNorm(l)!.activation)),
      });
    }
    const { cases: ref } = (await python('test/reference/bias_correction.py', { cases })) as {
      cases: ReferenceResult[];
    };
    layers.forEach((l, k) => expectRelative(stored[k]!, ref[k]!.bias, `${l.name} bias`));
  });

  it('the corrected export runs under onnxruntime, close to the float model', async () => {
    const { corrected } = await quantizedMobilenet();
    const dims = MOBILENET.inputShape;
    const rand = seededRandom(9);
    const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
    const y = await run(MOBILENET.bytes, x, dims);
    const yq = await run(corrected.bytes, x, dims);
    expect(yq.dims).to.deep.equal([1, 1000]);
    expect(yq.data.every(Number.isFinite)).to.equal(true);
    let diff = 0,
      norm = 0;
    y.data.forEach((v, i) => {
      diff += (yq.data[i]! - v) ** 2;
      norm += v * v;
    });
    expect(Math.sqrt(diff / norm)).to.be.below(0.5);
  });
});

/** The weight `name` of an exported QDQ model as onnxruntime dequantizes it. */
async function dequantized(bytes: Uint8Array, name: string): Promise<Float32Array> {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const dq = graph.node!.find((n) => n.opType === 'DequantizeLinear' && n.output![0] === name)!;
  const read = new Set(dq.input!);
  graph.node = [dq];
  graph.initializer = graph.initializer!.filter((t) => read.has(t.name!));
  graph.input = [];
  graph.output = [valueInfo(name)];
  graph.valueInfo = [];
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const out = await session.run({});
  return out[name]!.data as Float32Array;
}

// ---------------------------------------------------------------------------------------------------------
// A small model with what the MobileNetV2 fixture lacks: existing biases (an initializer, a Constant node),
// a grouped Conv, a Gemm after a BatchNorm of a matrix, Clip with a negative γ and bounds (-1, 2), and the
// other bit widths and granularities (4-bit codes and per-group scales in the dequantized weight).

/** x[1,4,5,5] → BN → Clip(-1, 2) → Conv(+b) → BN → Relu → Conv g=2 (+Constant b) → BN → pool → BN → Gemm(+C). */
function smallModel(): Uint8Array {
  const rand = seededRandom(21);
  const values = (n: number, scale: number, offset = 0) =>
    Array.from({ length: n }, () => Math.fround(offset + (rand() - 0.5) * scale));
  const bn = (name: string, input: string, output: string, c: number, gamma = values(c, 1, 1)) => ({
    node: node('BatchNormalization', [input, `${name}.g`, `${name}.b`, `${name}.m`, `${name}.v`], [output], name),
    initializer: [
      f32Tensor(`${name}.g`, [c], gamma),
      f32Tensor(`${name}.b`, [c], values(c, 1)),
      f32Tensor(`${name}.m`, [c], values(c, 0.5)),
      f32Tensor(`${name}.v`, [c], values(c, 0.5, 1)),
    ],
  });
  const bns = [
    bn('bn0', 'x', 'n0', 4, [1.2, -0.7, 0.4, 2]),
    bn('bn1', 'a', 'n1', 6),
    bn('bn2', 'g', 'n2', 6),
    bn('bn3', 'f', 'n3', 6),
  ];
  return modelBytes(
    {
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: [1, 4, 5, 5].map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [valueInfo('y')],
      initializer: [
        ...bns.flatMap((b) => b.initializer),
        f32Tensor('clip.lo', [], [-1]),
        f32Tensor('clip.hi', [], [2]),
        f32Tensor('conv_a.w', [6, 4, 3, 3], values(216, 1)),
        f32Tensor('conv_a.b', [6], values(6, 0.4)),
        f32Tensor('conv_g.w', [6, 3, 1, 1], values(18, 2)),
        f32Tensor('gemm.w', [5, 6], values(30, 1)),
        f32Tensor('gemm.c', [5], values(5, 0.4)),
      ],
      node: [
        bns[0]!.node,
        node('Clip', ['n0', 'clip.lo', 'clip.hi'], ['c0'], 'clip'),
        node('Conv', ['c0', 'conv_a.w', 'conv_a.b'], ['a'], 'conv_a', [attr.ints('pads', [1, 1, 1, 1])]),
        bns[1]!.node,
        node('Relu', ['n1'], ['r1'], 'relu'),
        node('Constant', [], ['conv_g.b'], 'conv_g.b', [attr.tensor('value', f32Tensor('', [6], values(6, 0.4)))]),
        node('Conv', ['r1', 'conv_g.w', 'conv_g.b'], ['g'], 'conv_g', [attr.int('group', 2)]),
        bns[2]!.node,
        node('GlobalAveragePool', ['n2'], ['p'], 'pool'),
        node('Flatten', ['p'], ['f'], 'flatten'),
        bns[3]!.node,
        node('Gemm', ['n3', 'gemm.w', 'gemm.c'], ['y'], 'gemm', [attr.int('transB', 1)]),
      ],
    },
    21,
  );
}

/** A float tensor of the graph: an initializer, or a Constant node's value. */
function floatsOf(graph: pkg.onnx.IGraphProto, name: string): Float32Array {
  const init = graph.initializer!.find((t) => t.name === name);
  if (init) return initializerValues(init);
  const constant = graph.node!.find((n) => n.opType === 'Constant' && n.output![0] === name)!;
  return initializerValues(constant.attribute!.find((a) => a.name === 'value')!.t!);
}

describe('bias correction on a small model: existing biases, groups, Gemm, every scheme', () => {
  const schemes = [
    { bits: 8, symmetric: true, granularity: 'channel' },
    { bits: 8, symmetric: false, granularity: 'tensor' },
    { bits: 4, symmetric: true, granularity: 'group', block: 2 },
    { bits: 4, symmetric: false, granularity: 'group', block: 4 },
  ] as const;
  for (const scheme of schemes) {
    it(`${scheme.bits}-bit ${scheme.symmetric ? 'symmetric' : 'asymmetric'} ${scheme.granularity}: biases edited in place match the reference, and the model runs`, async () => {
      const bytes = smallModel();
      const { bytes: out, report } = await quantizeModel(decodeModel(bytes, { fileName: 'small.onnx' }), {
        plan: { default: scheme },
        biasCorrection: true,
      });
      const bc = report.biasCorrection!;
      expect(bc.skipped).to.deep.equal([]);
      expect(
        bc.layers.map((l) => [l.name, fromBatchNorm(l)?.batchNorm, fromBatchNorm(l)?.activation, l.newBias]),
      ).to.deep.equal([
        ['conv_a', 'bn0', 'Clip(-1, 2)', false],
        ['conv_g', 'bn1', 'Relu', false],
        ['gemm', 'bn3', 'none', false],
      ]);
      const float = onnx.ModelProto.decode(bytes).graph!;
      const exported = onnx.ModelProto.decode(out).graph!;
      // Biases keep their names (edited in place): no new input, no new initializer named after them.
      for (const [layer, bias] of [
        ['conv_a', 'conv_a.b'],
        ['conv_g', 'conv_g.b'],
        ['gemm', 'gemm.c'],
      ])
        expect(exported.node!.find((n) => n.name === layer)!.input![2]).to.equal(bias);
      const cases: ReferenceCase[] = [];
      const layers = [
        { name: 'conv_a', op: 'Conv', w: 'conv_a.w', b: 'conv_a.b', bn: 'bn0', group: 1 },
        { name: 'conv_g', op: 'Conv', w: 'conv_g.w', b: 'conv_g.b', bn: 'bn1', group: 2 },
        { name: 'gemm', op: 'Gemm', w: 'gemm.w', b: 'gemm.c', bn: 'bn3', transB: 1 },
      ] as const;
      for (const [k, l] of layers.entries()) {
        const weight = float.initializer!.find((t) => t.name === l.w)!;
        cases.push({
          w: [...floatsOf(float, l.w)],
          wq: [...(await dequantized(out, l.w))],
          shape: weight.dims!.map(Number),
          op: l.op,
          ...('group' in l ? { group: l.group } : { transB: l.transB }),
          bias: [...floatsOf(float, l.b)],
          gamma: [...floatsOf(float, `${l.bn}.g`)],
          beta: [...floatsOf(float, `${l.bn}.b`)],
          ...refCase(parseActivation(fromBatchNorm(bc.layers[k]!)!.activation)),
        });
      }
      const { cases: ref } = (await python('test/reference/bias_correction.py', { cases })) as {
        cases: ReferenceResult[];
      };
      layers.forEach((l, k) => {
        expectRelative(floatsOf(exported, l.b), ref[k]!.bias, `${l.name} bias`);
        // The reported ‖Δb‖ is that of what was stored.
        const stored = floatsOf(exported, l.b);
        const before = floatsOf(float, l.b);
        const norm = Math.hypot(...Array.from(stored, (v, c) => v - before[c]!));
        expect(bc.layers[k]!.delta, l.name).to.be.closeTo(norm, 1e-12 * norm);
      });
      const x = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
      const y = await run(out, x, [1, 4, 5, 5]);
      expect(y.dims).to.deep.equal([1, 5]);
      expect(y.data.every(Number.isFinite)).to.equal(true);
    });
  }

  it('leaves a layer alone, with the reason, where E[x] is unknown or the bias cannot take the shift', async () => {
    const graph = (nodes: pkg.onnx.INodeProto[], extra: pkg.onnx.ITensorProto[] = []) =>
      modelBytes(
        {
          input: [valueInfo('x'), valueInfo('lo')],
          output: [valueInfo('y')],
          initializer: [
            f32Tensor('bn.g', [2], [1, 1]),
            f32Tensor('bn.b', [2], [0, 0]),
            f32Tensor('bn.m', [2], [0, 0]),
            f32Tensor('bn.v', [2], [1, 1]),
            f32Tensor('w', [2, 2, 1, 1], [1, 2, 3, 4]),
            f32Tensor('w2', [2, 2], [1, 2, 3, 4]),
            ...extra,
          ],
          node: [node('BatchNormalization', ['x', 'bn.g', 'bn.b', 'bn.m', 'bn.v'], ['n'], 'bn'), ...nodes],
        },
        13,
      );
    const reasonFor = async (bytes: Uint8Array) => {
      const { report } = await quantizeModel(decodeModel(bytes, { fileName: 'm.onnx' }), {
        plan: { default: INT8_TENSOR },
        biasCorrection: true,
      });
      return report.biasCorrection!.skipped.map((s) => s.reason);
    };
    expect(
      await reasonFor(graph([node('Clip', ['n', 'lo'], ['c']), node('Conv', ['c', 'w'], ['y'], 'conv')])),
    ).to.match(/Clip .* bounds are not constant/);
    expect(
      await reasonFor(
        graph([
          node('Transpose', ['n'], ['s'], 't', [attr.ints('perm', [0, 1, 3, 2])]),
          node('Conv', ['s', 'w'], ['y'], 'conv'),
        ]),
      ),
    ).to.match(
      /Transpose "t", not from a BatchNormalization.*cannot be propagated: .*Transpose "t", which the propagation does not model/,
    );
    expect(await reasonFor(graph([node('MatMul', ['n', 'w2'], ['y'], 'mm')]))).to.match(/MatMul reduces/);
    expect(await reasonFor(graph([node('Gemm', ['n', 'w2'], ['y'], 'gemm', [attr.int('transA', 1)])]))).to.match(
      /transA=1/,
    );
    expect(
      await reasonFor(
        graph(
          [node('Conv', ['n', 'w', 'b'], ['c'], 'conv'), node('Add', ['c', 'b'], ['y'])],
          [f32Tensor('b', [2], [0.5, 0.5])],
        ),
      ),
    ).to.match(/bias "b" is shared/);
  });

  it('reads Clip bounds given as attributes (opset < 11)', async () => {
    const bytes = modelBytes(
      {
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [
          f32Tensor('bn.g', [2], [1, -2]),
          f32Tensor('bn.b', [2], [0.5, 1]),
          f32Tensor('bn.m', [2], [0, 0]),
          f32Tensor('bn.v', [2], [1, 1]),
          f32Tensor('w', [2, 2, 1, 1], [0.1, 0.2, 0.3, 0.4]),
        ],
        node: [
          node('BatchNormalization', ['x', 'bn.g', 'bn.b', 'bn.m', 'bn.v'], ['n'], 'bn'),
          node('Clip', ['n'], ['c'], 'clip', [attr.float('min', 0), attr.float('max', 6)]),
          node('Conv', ['c', 'w'], ['y'], 'conv'),
        ],
      },
      10,
    );
    const { report } = await quantizeModel(decodeModel(bytes, { fileName: 'm.onnx' }), {
      plan: { default: INT8_TENSOR },
      biasCorrection: true,
    });
    expect(report.biasCorrection!.layers.map((l) => [l.name, fromBatchNorm(l)?.activation])).to.deep.equal([
      ['conv', 'Clip(0, 6)'],
    ]);
  });
});
