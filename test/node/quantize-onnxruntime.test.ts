// `quantizeModel` against onnxruntime-node: the DequantizeLinear nodes of every export, run alone, give back
// bit for bit the weights the kit fake-quantized (computed here from the definition, docs/definitions.md);
// the reported SQNR is that of those weights; the whole quantized model runs; onnx.checker accepts an
// opset-13 export by path; a scheme the model's opset cannot express raises it; the real PP-OCRv4 det
// quantizes with the SQNR `stats` reports, and runs.
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import { integerRange, roundHalfEven, scaleOf, zeroPointOf } from '../../src/kernels/quantizer.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { quantizeModel } from '../../src/pipeline/quantize-model.js';
import type { QuantScheme } from '../../src/quant/scheme.js';
import { DataType, attr, f32Tensor, memorySource, modelBytes, node, u16Bytes } from '../fixtures/onnx-bytes.js';
import { externalMlp } from '../fixtures/external-mlp.js';
import type { DataPart } from '../../src/onnx/export/data-file.js';
import { blobSpill } from '../../src/pipeline/blob-spill.js';
import { float16Table } from '../../src/onnx/dtypes.js';
import { float32ToFloat16Bits } from '../../src/onnx/export/encode-values.js';
import { PYTHON, realModel } from '../support/node-paths.js';
import { rejects } from '../support/rejects.js';

const { onnx } = pkg;
const f = Math.fround;

/** Seeded values, each output channel (row of axis `axis` of `dims`) with its own scale: uneven ranges. */
function weights(dims: number[], seed: number, axis = 0): number[] {
  let a = seed;
  const rand = () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const size = dims.reduce((x, y) => x * y, 1);
  const inner = dims.slice(axis + 1).reduce((x, y) => x * y, 1);
  return Array.from({ length: size }, (_, i) =>
    f(rand() * 2 ** ((Math.floor(i / inner) % dims[axis]!) % 5) + 0.3 * rand()),
  );
}

const W = { conv: [12, 8, 3, 3], matmul: [12, 10], gemm: [5, 10] };
const FLOATS = { conv: weights(W.conv, 1), matmul: weights(W.matmul, 2, 1), gemm: weights(W.gemm, 3) };

/** x [1, 8, 6, 6] -> Conv -> Relu -> GlobalAveragePool -> Flatten -> MatMul -> Gemm(transB) -> y [1, 5]. */
function cnn(opset: number): Uint8Array {
  const bytes = modelBytes(
    {
      node: [
        node('Conv', ['x', 'conv_w'], ['c'], 'conv', [attr.ints('pads', [1, 1, 1, 1])]),
        node('Relu', ['c'], ['r'], 'relu'),
        node('GlobalAveragePool', ['r'], ['p'], 'pool'),
        node('Flatten', ['p'], ['fl'], 'flatten'),
        node('MatMul', ['fl', 'matmul_w'], ['m'], 'matmul'),
        node('Gemm', ['m', 'gemm_w'], ['y'], 'gemm', [attr.int('transB', 1)]),
      ],
      initializer: [
        f32Tensor('conv_w', W.conv, FLOATS.conv),
        f32Tensor('matmul_w', W.matmul, FLOATS.matmul),
        f32Tensor('gemm_w', W.gemm, FLOATS.gemm),
      ],
      input: [tensorInfo('x', [1, 8, 6, 6])],
      output: [tensorInfo('y', [1, 5])],
    },
    opset,
  );
  const model = onnx.ModelProto.decode(bytes);
  model.irVersion = opset >= 21 ? 10 : 7;
  return onnx.ModelProto.encode(model).finish();
}

function tensorInfo(name: string, dims?: number[]) {
  return {
    name,
    type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
  };
}

/** The exported model's DequantizeLinear nodes alone, their outputs the graph's outputs. */
function dequantizeOnly(exported: Uint8Array, outputType = 1): Uint8Array {
  const model = onnx.ModelProto.decode(exported);
  const graph = model.graph!;
  const nodes = graph.node!.filter((n) => n.opType === 'DequantizeLinear');
  const read = new Set(nodes.flatMap((n) => n.input!));
  graph.node = nodes;
  graph.initializer = graph.initializer!.filter((t) => read.has(t.name!));
  graph.input = [];
  graph.output = nodes.map((n) => ({ name: n.output![0]!, type: { tensorType: { elemType: outputType } } }));
  return onnx.ModelProto.encode(model).finish();
}

/** One weight fake-quantized as docs/definitions.md defines it, entry by entry of its grid (float32 steps). */
function fakeQuantized(values: number[], scheme: QuantScheme, entryOf: (i: number) => number): Float32Array {
  const { qmin, qmax } = integerRange(scheme.bits, scheme.symmetric);
  const lo = new Map<number, number>(),
    hi = new Map<number, number>();
  values.forEach((x, i) => {
    const e = entryOf(i);
    lo.set(e, Math.min(lo.get(e) ?? x, x));
    hi.set(e, Math.max(hi.get(e) ?? x, x));
  });
  return Float32Array.from(values, (x, i) => {
    const [l, h] = [lo.get(entryOf(i))!, hi.get(entryOf(i))!];
    const s = scaleOf(qmax, scheme.symmetric, l, h, Math.max(-l, h));
    const zp = zeroPointOf(scheme.symmetric, l, s);
    const q = Math.min(Math.max(roundHalfEven(f(x / s)) + zp, qmin), qmax);
    return f((q - zp) * s);
  });
}

/** Which grid entry element i of each weight falls in, per granularity (block sizes along the input axis). */
function entryOf(weight: keyof typeof W, scheme: QuantScheme): (i: number) => number {
  const dims = W[weight];
  if (scheme.granularity === 'tensor') return () => 0;
  const block = scheme.block ?? 1;
  if (weight === 'conv') {
    // [Cout, Cin, 3, 3]: channel axis 0; blocks along Cin, per kernel position.
    const [, cin] = dims as [number, number];
    return scheme.granularity === 'channel'
      ? (i) => Math.floor(i / (cin * 9))
      : (i) => {
          const [o, c, k] = [Math.floor(i / (cin * 9)), Math.floor(i / 9) % cin, i % 9];
          return (o * Math.ceil(cin / block) + Math.floor(c / block)) * 9 + k;
        };
  }
  if (weight === 'matmul') {
    // [K, N]: channel axis 1; blocks along K.
    const n = dims[1]!;
    return scheme.granularity === 'channel' ? (i) => i % n : (i) => Math.floor(Math.floor(i / n) / block) * n + (i % n);
  }
  // Gemm transB [N, K]: channel axis 0; blocks along K (axis 1).
  const k = dims[1]!;
  return scheme.granularity === 'channel'
    ? (i) => Math.floor(i / k)
    : (i) => Math.floor(i / k) * Math.ceil(k / block) + Math.floor((i % k) / block);
}

const sqnrOf = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let signal = 0,
    noise = 0;
  for (let i = 0; i < x.length; i++) {
    signal += x[i]! * x[i]!;
    noise += (x[i]! - y[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
};

const SCHEMES: QuantScheme[] = [8, 4].flatMap((bits) =>
  [true, false].flatMap((symmetric) => [
    { bits, symmetric, granularity: 'tensor' } as QuantScheme,
    { bits, symmetric, granularity: 'channel' } as QuantScheme,
    { bits, symmetric, granularity: 'group', block: 3 } as QuantScheme, // Cin 8, K 10: short last blocks
  ]),
);

describe('quantizeModel under onnxruntime-node', () => {
  for (const scheme of SCHEMES) {
    const label = `${scheme.bits} bits ${scheme.symmetric ? 'sym' : 'asym'} ${scheme.granularity}`;
    it(`${label}: DequantizeLinear gives the kit's fake-quantized weights bit for bit; the model runs`, async () => {
      const model = decodeModel(cnn(21), { fileName: 'cnn.onnx' });
      const { bytes, report } = await quantizeModel(model, { plan: { default: scheme } });
      expect(report.kept).to.deep.equal([]);
      expect(report.layers.map((l) => l.weight)).to.deep.equal(['conv_w', 'matmul_w', 'gemm_w']);
      const session = await ort.InferenceSession.create(dequantizeOnly(bytes));
      const out = await session.run({});
      for (const weight of ['conv', 'matmul', 'gemm'] as const) {
        const got = out[`${weight}_w`]!.data as Float32Array;
        const expected = fakeQuantized(FLOATS[weight], scheme, entryOf(weight, scheme));
        expect(
          Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(expected.buffer)),
        ).to.equal(0, `${weight}_w`);
        const reported = report.layers.find((l) => l.weight === `${weight}_w`)!.sqnr!;
        expect(reported).to.be.closeTo(sqnrOf(FLOATS[weight], got), 1e-4);
      }
      const full = await ort.InferenceSession.create(bytes);
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: 288 }, (_, i) => Math.sin(i)),
        [1, 8, 6, 6],
      );
      const y = (await full.run({ x })).y!.data as Float32Array;
      expect(y.length).to.equal(5);
      expect([...y].every(Number.isFinite)).to.equal(true);
    });
  }

  for (const scheme of <QuantScheme[]>[
    { bits: 4, symmetric: true, granularity: 'channel', method: 'clip' },
    { bits: 8, symmetric: false, granularity: 'group', block: 3, method: 'clip' },
    { bits: 4, symmetric: false, granularity: 'group', block: 4, method: 'hqq' },
  ]) {
    it(`${scheme.method} ${scheme.bits} bits ${scheme.granularity}: stored as its own scales define, never below min-max`, async () => {
      const model = decodeModel(cnn(21), { fileName: 'cnn.onnx' });
      const { bytes, report } = await quantizeModel(model, { plan: { default: scheme } });
      const out = await (await ort.InferenceSession.create(dequantizeOnly(bytes))).run({});
      const stored = onnx.ModelProto.decode(bytes).graph!.initializer!;
      const floats = (name: string) => {
        const raw = stored.find((t) => t.name === name)!.rawData!;
        return new Float32Array(new Uint8Array(raw).buffer);
      };
      const zeroPoints = (name: string, n: number) => {
        const t = stored.find((x) => x.name === name);
        if (!t) return new Float32Array(n);
        const raw = t.rawData!;
        return Float32Array.from({ length: n }, (_, i) =>
          scheme.bits === 8 ? raw[i]! : (raw[i >> 1]! >> (4 * (i & 1))) & 15,
        );
      };
      const { qmin, qmax } = integerRange(scheme.bits, scheme.symmetric);
      for (const weight of ['conv', 'matmul', 'gemm'] as const) {
        const scales = floats(`${weight}_w_scale`);
        const zps = zeroPoints(`${weight}_w_zero_point`, scales.length);
        const entry = entryOf(weight, scheme);
        const expected = Float32Array.from(FLOATS[weight], (x, i) => {
          const [s, zp] = [scales[entry(i)]!, zps[entry(i)]!];
          return f((Math.min(Math.max(roundHalfEven(f(x / s)) + zp, qmin), qmax) - zp) * s);
        });
        const got = out[`${weight}_w`]!.data as Float32Array;
        expect(
          Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(expected.buffer)),
        ).to.equal(0);
        const layer = report.layers.find((l) => l.weight === `${weight}_w`)!;
        expect(layer.sqnr!).to.be.closeTo(sqnrOf(FLOATS[weight], got), 1e-4);
        // Both figures are float sums of the same errors in different orders: equal to 1e-6 dB where equal.
        expect(layer.sqnr!).to.be.at.least(layer.minMaxSqnr! - 1e-6);
        const minMax = await quantizeModel(model, { plan: { default: { ...scheme, method: 'min-max' } } });
        expect(layer.minMaxSqnr!).to.be.closeTo(
          minMax.report.layers.find((l) => l.weight === `${weight}_w`)!.sqnr!,
          1e-6,
        );
      }
    });
  }

  for (const scheme of <QuantScheme[]>[
    { bits: 8, symmetric: true, granularity: 'channel' },
    { bits: 4, symmetric: false, granularity: 'group', block: 3, method: 'clip' },
  ]) {
    it(`float16 weights, ${scheme.bits} bits ${scheme.granularity}: float16 scales; DequantizeLinear gives the kit's weights`, async () => {
      const half = (v: number) => float16Table()[float32ToFloat16Bits(v)]!;
      // The same network with float16 weights (never run whole: only its DequantizeLinear nodes are).
      const model16 = onnx.ModelProto.decode(cnn(17));
      for (const t of model16.graph!.initializer!) {
        const values = new Float32Array(new Uint8Array(t.rawData!).buffer);
        t.dataType = DataType.FLOAT16;
        t.rawData = u16Bytes([...values].map(float32ToFloat16Bits));
      }
      for (const v of [...model16.graph!.input!, ...model16.graph!.output!])
        v.type!.tensorType!.elemType = DataType.FLOAT16;
      const model = decodeModel(onnx.ModelProto.encode(model16).finish(), { fileName: 'cnn16.onnx' });
      const { bytes, report } = await quantizeModel(model, { plan: { default: scheme } });
      expect(report.opset.after).to.equal(scheme.bits === 4 ? 21 : 19);
      const stored = onnx.ModelProto.decode(bytes).graph!.initializer!;
      const out = await (await ort.InferenceSession.create(dequantizeOnly(bytes, DataType.FLOAT16))).run({});
      const { qmin, qmax } = integerRange(scheme.bits, scheme.symmetric);
      for (const weight of ['conv', 'matmul', 'gemm'] as const) {
        const scaleTensor = stored.find((t) => t.name === `${weight}_w_scale`)!;
        expect(scaleTensor.dataType).to.equal(DataType.FLOAT16);
        const scales = Array.from(
          new Uint16Array(new Uint8Array(scaleTensor.rawData!).buffer),
          (b) => float16Table()[b]!,
        );
        const zpTensor = stored.find((t) => t.name === `${weight}_w_zero_point`);
        const zp = (e: number) => (zpTensor ? (zpTensor.rawData![e >> 1]! >> (4 * (e & 1))) & 15 : 0);
        const entry = entryOf(weight, scheme);
        const expected = Uint16Array.from(FLOATS[weight].map(half), (x, i) => {
          const [sc, z] = [scales[entry(i)]!, zp(entry(i))];
          return float32ToFloat16Bits(f((Math.min(Math.max(roundHalfEven(f(x / sc)) + z, qmin), qmax) - z) * sc));
        });
        const got = out[`${weight}_w`]!.data as Uint16Array;
        expect(
          Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(expected.buffer)),
        ).to.equal(0);
        const layer = report.layers.find((l) => l.weight === `${weight}_w`)!;
        expect(layer.sqnr!).to.be.closeTo(
          sqnrOf(
            FLOATS[weight].map(half),
            Array.from(got, (b) => float16Table()[b]!),
          ),
          0.01,
        );
      }
    });
  }

  it('weights larger than a chunk: read and quantized chunk by chunk, the same model bytes as staged whole', async () => {
    const model = decodeModel(cnn(21), { fileName: 'cnn.onnx' });
    for (const scheme of SCHEMES) {
      const whole = await quantizeModel(model, { plan: { default: scheme } });
      // 50 elements: conv channels split into pieces, MatMul rows into runs, blocks into strips.
      const chunked = await quantizeModel(model, { plan: { default: scheme }, chunkElements: 50 });
      expect(Buffer.compare(chunked.bytes, whole.bytes), JSON.stringify(scheme)).to.equal(0);
      chunked.report.layers.forEach((l, i) => expect(l.sqnr!).to.be.closeTo(whole.report.layers[i]!.sqnr!, 1e-6));
    }
    const e = await rejects(
      quantizeModel(model, { plan: { default: { ...SCHEMES[1]!, method: 'clip' } }, chunkElements: 50 }),
      'USAGE',
    );
    expect(e.message).to.contain('the clipping search and HQQ need it whole');
  });

  it('a chunked external weight streams its codes (4-bit packed across odd chunks) into the spill: the same data file', async () => {
    const mlp = externalMlp(1001); // fc1 [4, 1001], fc2 [1001, 3]: odd element counts
    const open = () =>
      decodeModel(mlp.model, { fileName: 'mlp.onnx', externalData: memorySource({ 'mlp.data': mlp.data }) });
    const spilled: number[] = [];
    // blobSpill, counting the pieces each weight arrives in.
    const spill = async (pieces: AsyncIterable<Uint8Array>) => {
      let n = 0;
      const counted = async function* () {
        for await (const p of pieces) (n++, yield p);
      };
      const blob = await blobSpill(counted());
      spilled.push(n);
      return blob;
    };
    const bytesOf = async (parts: readonly DataPart[]) =>
      new Uint8Array(
        await new Blob(
          parts.map((p) => (p instanceof Blob ? p : new Blob([p as Uint8Array<ArrayBuffer>]))),
        ).arrayBuffer(),
      );
    for (const scheme of <QuantScheme[]>[
      { bits: 4, symmetric: false, granularity: 'channel' },
      { bits: 4, symmetric: true, granularity: 'group', block: 32 },
      { bits: 8, symmetric: true, granularity: 'tensor' },
    ]) {
      const whole = await quantizeModel(open(), { plan: { default: scheme } });
      spilled.length = 0;
      const chunked = await quantizeModel(open(), { plan: { default: scheme }, chunkElements: 333, spill });
      expect(spilled.length, 'weights streamed').to.be.at.least(2);
      expect(
        spilled.every((n) => n > 1),
        'in several pieces',
      ).to.equal(true);
      expect(Buffer.compare(chunked.bytes, whole.bytes)).to.equal(0);
      const [a, b] = [[...whole.dataFiles.values()][0]!, [...chunked.dataFiles.values()][0]!];
      expect(Buffer.compare(await bytesOf(b), await bytesOf(a)), JSON.stringify(scheme)).to.equal(0);
    }
  });

  for (const symmetric of [true, false]) {
    it(`--matmul-nbits (${symmetric ? 'symmetric' : 'asymmetric'}): MatMulNBits computes x·W_deq with the same W_deq as DequantizeLinear, bit for bit`, async () => {
      const [K, N] = [100, 24]; // K: three blocks of 32 and a short one
      const bytes = modelBytes(
        {
          node: [node('MatMul', ['x', 'w'], ['y'], 'fc')],
          initializer: [f32Tensor('w', [K, N], weights([K, N], 7, 1))],
          input: [tensorInfo('x', [K, K])],
          output: [tensorInfo('y', [K, N])],
        },
        21,
      );
      const model16 = onnx.ModelProto.decode(bytes);
      model16.irVersion = 10;
      const model = decodeModel(onnx.ModelProto.encode(model16).finish(), { fileName: 'fc.onnx' });
      const scheme: QuantScheme = { bits: 4, symmetric, granularity: 'group', block: 32 };
      const nbits = await quantizeModel(model, { plan: { default: scheme }, matMulNBits: true });
      expect(nbits.report.layers[0]!.format).to.equal('MatMulNBits');
      const again = decodeModel(nbits.bytes, { fileName: 'q.onnx' });
      expect(again.main.nodes.map((n) => `${n.domain}:${n.opType}`)).to.deep.equal(['com.microsoft:MatMulNBits']);
      const identity = new ort.Tensor(
        'float32',
        Float32Array.from({ length: K * K }, (_, i) => (i % (K + 1) === 0 ? 1 : 0)),
        [K, K],
      );
      const y = (await (await ort.InferenceSession.create(nbits.bytes)).run({ x: identity })).y!.data as Float32Array;
      const qdq = await quantizeModel(model, { plan: { default: scheme } });
      const w = (await (await ort.InferenceSession.create(dequantizeOnly(qdq.bytes))).run({})).w!.data as Float32Array;
      expect(
        Buffer.compare(
          Buffer.from(y.buffer, y.byteOffset, y.byteLength),
          Buffer.from(w.buffer, w.byteOffset, w.byteLength),
        ),
      ).to.equal(0);
      expect(nbits.report.layers[0]!.sqnr).to.equal(qdq.report.layers[0]!.sqnr);
      // weightlens reads its own MatMulNBits back as the same weight.
      const stats = await computeStats(again, { quant: false });
      expect(stats.layers[0]!.op).to.equal('MatMulNBits');
    });
  }

  it('--matmul-nbits needs no opset raise: an opset-9 model whose Upsample refuses one still gets its INT4 MatMul', async () => {
    const bytes = modelBytes(
      {
        node: [node('Upsample', ['img', 'scales'], ['big'], 'up'), node('MatMul', ['x', 'w'], ['y'], 'fc')],
        initializer: [f32Tensor('scales', [4], [1, 1, 2, 2]), f32Tensor('w', [64, 8], weights([64, 8], 9, 1))],
        input: [tensorInfo('img', [1, 1, 2, 2]), tensorInfo('x', [1, 64])],
        output: [tensorInfo('big', [1, 1, 4, 4]), tensorInfo('y', [1, 8])],
      },
      9,
    );
    const old = onnx.ModelProto.decode(bytes);
    old.irVersion = 4;
    const model = decodeModel(onnx.ModelProto.encode(old).finish(), { fileName: 'old.onnx' });
    const scheme: QuantScheme = { bits: 4, symmetric: false, granularity: 'group', block: 16 };
    const e = await rejects(quantizeModel(model, { plan: { default: scheme } }), 'USAGE');
    expect(e.message).to.contain('node "up" (Upsample)');
    const { bytes: q, report } = await quantizeModel(model, { plan: { default: scheme }, matMulNBits: true });
    expect(report.opset).to.deep.equal({ before: 9, after: 9 });
    expect(report.layers.map((l) => l.format)).to.deep.equal(['MatMulNBits']);
    const session = await ort.InferenceSession.create(q);
    const out = await session.run({
      img: new ort.Tensor('float32', new Float32Array(4).fill(1), [1, 1, 2, 2]),
      x: new ort.Tensor('float32', new Float32Array(64).fill(0.5), [1, 64]),
    });
    expect(out.y!.dims).to.deep.equal([1, 8]);
  });

  it('a weight holding NaN stays float with the reason; the other layers are quantized', async () => {
    const model16 = onnx.ModelProto.decode(cnn(21));
    const w = model16.graph!.initializer!.find((t) => t.name === 'matmul_w')!;
    const values = new Float32Array(new Uint8Array(w.rawData!).buffer);
    values[5] = NaN;
    w.rawData = new Uint8Array(values.buffer);
    const model = decodeModel(onnx.ModelProto.encode(model16).finish(), { fileName: 'nan.onnx' });
    for (const chunkElements of [undefined, 50]) {
      const { report } = await quantizeModel(model, {
        plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } },
        ...(chunkElements ? { chunkElements } : {}),
      });
      expect(report.layers.map((l) => l.weight)).to.deep.equal(['conv_w', 'gemm_w']);
      expect(report.kept).to.deep.equal([
        { name: 'matmul', reason: 'its weight holds NaN/±Inf values (no scale can hold them)' },
      ]);
    }
  });

  it('an int8 per-channel export of an opset-13 model passes onnx.checker by path; 4-bit raises it to opset 21', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weightlens-quantize-'));
    try {
      const model = decodeModel(cnn(13), { fileName: 'cnn13.onnx' });
      const { bytes, report } = await quantizeModel(model, {
        plan: { default: { bits: 8, symmetric: true, granularity: 'channel' } },
      });
      expect(report.opset).to.deep.equal({ before: 13, after: 13 });
      writeFileSync(join(dir, 'q.onnx'), bytes);
      execFileSync(PYTHON, [
        '-c',
        'import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)',
        join(dir, 'q.onnx'),
      ]);
      const four = await quantizeModel(model, {
        plan: { default: { bits: 4, symmetric: true, granularity: 'channel' } },
      });
      expect(four.report.opset).to.deep.equal({ before: 13, after: 21 });
      expect(decodeModel(four.bytes, { fileName: 'q4.onnx' }).irVersion).to.equal(10);
      await ort.InferenceSession.create(four.bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the real PP-OCRv4 det: int8 per-tensor, every conv quantized with the SQNR stats reports; runs under onnxruntime', async () => {
    const path = realModel('ch_PP-OCRv4_det_infer.onnx');
    const model = await openModelFile(path);
    const { bytes, report } = await quantizeModel(model, {
      plan: { default: { bits: 8, symmetric: true, granularity: 'tensor' } },
    });
    expect(report.kept).to.deep.equal([]);
    const stats = await computeStats(model, { quant: true, blocks: [] });
    expect(report.layers.map((l) => l.name)).to.deep.equal(stats.layers.map((l) => l.name));
    report.layers.forEach((l, i) =>
      expect(l.sqnr).to.be.closeTo(stats.layers[i]!.quant!.int8.symmetric.perTensor!, 0.01),
    );
    // Its output is a text-probability map, ~0 on synthetic input: only that it runs is checked here.
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.cos(i * 0.37)),
      [1, 3, 64, 64],
    );
    const quantized = await ort.InferenceSession.create(bytes);
    const y = (await quantized.run({ x }))[quantized.outputNames[0]!]!.data as Float32Array;
    expect(y.length).to.equal(64 * 64);
    expect([...y].every(Number.isFinite)).to.equal(true);
  });
});
