// onnxruntime's block-quantized ops (com.microsoft MatMulNBits, GatherBlockQuantized) on hand-packed models:
// the dequantized weight worked out here element by element, the model's own scales and zero points in the
// report, and every malformed or unsupported input refused with a typed error naming file, node and input.
// test/node/nbits-reference.test.ts checks the same against numpy and onnxruntime on larger models.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers } from '../src/analysis/layers.js';
import { planCle } from '../src/cle/plan-cle.js';
import type { WeightlensErrorCode } from '../src/errors.js';
import { decodeModel } from '../src/onnx/decode.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  MATMUL_NBITS,
  gatherBlockQuantizedModel,
  matMulNBitsModel,
  nbitsByte,
  type MatMulNBitsParts,
} from './fixtures/block-quantized.js';
import { DataType, attr, f32Tensor, intTensor, rawTensor, u16Bytes } from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';
import { tensorValues } from './support/tensors.js';

const open = (bytes: Uint8Array) => decodeModel(bytes, { fileName: 'q.onnx' });
const statsOf = async (bytes: Uint8Array) => computeStats(open(bytes), { quant: true });
const weightOf = async (bytes: Uint8Array) => {
  const [layer] = findWeightLayers(open(bytes));
  return { layer: layer!, values: await tensorValues(layer!.weight) };
};

const { K, N, blockSize } = MATMUL_NBITS;
const BLOCKS = Math.ceil(K / blockSize); // 3: the last block holds 8 values of K and 8 of padding
const nibble = (byte: number, high: boolean) => (high ? byte >> 4 : byte & 15);
/** The 4-bit value of B for weight row k, column n (block-major within column n, low nibble first). */
const stored = (k: number, n: number) => {
  const [block, j] = [Math.floor(k / blockSize), k % blockSize];
  return nibble(nbitsByte((n * BLOCKS + block) * (blockSize / 2) + (j >> 1)), (j & 1) === 1);
};
const defaultScale = (n: number, block: number) => (n * BLOCKS + block + 1) / 64;
/** [K, N] row-major from f(k, n). */
const matrix = (f: (k: number, n: number) => number) =>
  Array.from({ length: K * N }, (_, i) => f(Math.floor(i / N), i % N));
/** [k_blocks, N] row-major from f(n, block): the order the report gives MatMulNBits' scales. */
const perBlock = (f: (n: number, block: number) => number) =>
  Array.from({ length: BLOCKS * N }, (_, i) => f(i % N, Math.floor(i / N)));

describe('MatMulNBits', () => {
  it('is a MatMul layer whose weight is B_deq [K, N] = (q − 8)·scale, nibbles low first, the padding after K dropped', async () => {
    const { layer, values } = await weightOf(matMulNBitsModel());
    expect(layer).to.include({ name: 'mm', op: 'MatMulNBits', channelAxis: 1 });
    expect(layer.weight).to.include({ name: 'B', dtype: 'uint4', origin: 'dequantized' });
    expect(layer.weight.shape).to.deep.equal([K, N]);
    expect(values).to.deep.equal(matrix((k, n) => (stored(k, n) - 8) * defaultScale(n, Math.floor(k / blockSize))));
  });

  it("reports the file's scales per (block, column) and the default zero point 8, as blocks along axis 0", async () => {
    const report = await statsOf(matMulNBitsModel());
    expect(report.layers[0]!.modelQuantization).to.deep.equal({
      dtype: 'uint4',
      mode: 'blocked',
      axis: 0,
      blockSize,
      scales: perBlock(defaultScale),
      zeroPoints: perBlock(() => 8),
    });
    expect(report.model).to.include({ parameters: 0, quantizedParameters: K * N });
  });

  it('reads packed uint8 zero points, two per byte, each column starting a byte', async () => {
    // [N, ⌈3·4/8⌉ = 2]: column n holds zero points n+1, n+2, n+3 (low nibble first) and one nibble of padding.
    const zp = rawTensor('zp', [N, 2], DataType.UINT8, new Uint8Array([0x21, 0x03, 0x32, 0x04, 0x43, 0x05]));
    const zeroPoint = (n: number, block: number) => n + 1 + block;
    const bytes = matMulNBitsModel({ zeroPoints: zp });
    const { values } = await weightOf(bytes);
    const block = (k: number) => Math.floor(k / blockSize);
    expect(values).to.deep.equal(matrix((k, n) => (stored(k, n) - zeroPoint(n, block(k))) * defaultScale(n, block(k))));
    expect((await statsOf(bytes)).layers[0]!.modelQuantization!.zeroPoints).to.deep.equal(perBlock(zeroPoint));
  });

  it("reads float zero points as onnxruntime computes them, q·s + (−s·zp) in float32; a bias [N] is the layer's bias", async () => {
    const zp = f32Tensor('zp', [N, BLOCKS], [7.3, 8.1, 0.6, 15, 3.3, 9.9, 4.4, 2.2, 11.7]);
    const bias = f32Tensor('bias', [N], [0.5, -1, 2]);
    const bytes = matMulNBitsModel({ zeroPoints: zp, bias });
    const { layer, values } = await weightOf(bytes);
    const f = Math.fround;
    const z = (n: number, block: number) => f([7.3, 8.1, 0.6, 15, 3.3, 9.9, 4.4, 2.2, 11.7][n * BLOCKS + block]!);
    expect(values).to.deep.equal(
      matrix((k, n) => {
        const [q, s, zero] = [
          stored(k, n),
          defaultScale(n, Math.floor(k / blockSize)),
          z(n, Math.floor(k / blockSize)),
        ];
        return f(f(q * s) + f(-s * zero));
      }),
    );
    expect(await tensorValues(layer.bias)).to.deep.equal([0.5, -1, 2]);
    const report = await statsOf(bytes);
    expect(report.layers[0]!).to.include({ bias: 'bias', parameters: K * N + N });
    expect(report.layers[0]!.modelQuantization!.zeroPoints).to.deep.equal(perBlock(z));
  });

  it('reads 8-bit weights: one byte per value, default zero point 128', async () => {
    const { layer, values } = await weightOf(matMulNBitsModel({ bits: 8 }));
    expect(layer.weight.dtype).to.equal('uint8');
    const byte = (k: number, n: number) =>
      nbitsByte((n * BLOCKS + Math.floor(k / blockSize)) * blockSize + (k % blockSize));
    expect(values).to.deep.equal(matrix((k, n) => (byte(k, n) - 128) * defaultScale(n, Math.floor(k / blockSize))));
  });

  it('accepts g_idx when it is the grouping without it, k ↦ ⌊k/block_size⌋', async () => {
    const gIdx = intTensor(
      'g_idx',
      [K],
      DataType.INT32,
      Array.from({ length: K }, (_, k) => Math.floor(k / blockSize)),
    );
    const plain = await weightOf(matMulNBitsModel());
    expect((await weightOf(matMulNBitsModel({ gIdx }))).values).to.deep.equal(plain.values);
  });

  it('a NaN or zero scale reads as NaN or 0 weights, counted, as for DequantizeLinear', async () => {
    const scales = f32Tensor('scales', [N, BLOCKS], [NaN, 0, 1, 1, 1, 1, 1, 1, 1]);
    const [layer] = (await statsOf(matMulNBitsModel({ scales }))).layers;
    expect(layer!.nonFinite).to.equal(blockSize); // column 0, block 0
    expect(layer!.channels.min[1]).to.be.a('number');
  });

  it('CLE refuses the model with the reason, as for QDQ weights', async () => {
    const e = await rejects(planCle(open(matMulNBitsModel())), 'USAGE');
    expect(e.message).to.contain('MatMulNBits "mm" reads uint4 "B"').and.contain('before quantization');
  });

  const B = (dims: number[]) => rawTensor('B', dims, DataType.UINT8, new Uint8Array(dims.reduce((a, b) => a * b, 1)));
  const refusals: [string, Partial<MatMulNBitsParts>, WeightlensErrorCode, string, RegExp][] = [
    ['block_size not a power of 2', { blockSize: 24 }, 'BAD_GRAPH', 'block_size', /block_size=24 must be a power of 2/],
    ['block_size below 16', { blockSize: 8 }, 'BAD_GRAPH', 'block_size', /block_size=8/],
    ['bits 3', { bits: 3 }, 'BAD_GRAPH', 'bits', /bits=3 must be 2, 4 or 8/],
    ['bits 2', { bits: 2 }, 'UNSUPPORTED', 'bits', /bits=2/],
    ['K missing', { K: 0 }, 'BAD_GRAPH', 'K', /K=0/],
    [
      'K larger than B holds',
      { K: 50, b: B([3, 3, 8]) },
      'BAD_TENSOR',
      'B',
      /input B "B" \[3,3,8\] uint8 must be uint8 \[3,4,8\]/,
    ],
    ['N other than B holds', { N: 4, b: B([3, 3, 8]) }, 'BAD_TENSOR', 'B', /must be uint8 \[4,3,8\]/],
    ['B blobs one byte short', { b: B([3, 3, 7]) }, 'BAD_TENSOR', 'B', /\[3,3,7\]/],
    [
      'one scale short',
      { scales: f32Tensor('scales', [8], [1, 1, 1, 1, 1, 1, 1, 1]) },
      'BAD_TENSOR',
      'scales',
      /input scales/,
    ],
    [
      'integer scales',
      { scales: rawTensor('scales', [3, 3], DataType.UINT8, new Uint8Array(9)) },
      'BAD_TENSOR',
      'scales',
      /must be float/,
    ],
    [
      'packed zero points short',
      { zeroPoints: rawTensor('zp', [3, 1], DataType.UINT8, new Uint8Array(3)) },
      'BAD_TENSOR',
      'zero_points',
      /\[3,2\]/,
    ],
    [
      'float16 zero points beside float32 scales',
      { zeroPoints: rawTensor('zp', [3, 3], DataType.FLOAT16, u16Bytes(Array(9).fill(0x4800))) },
      'BAD_TENSOR',
      'zero_points',
      /the scales' type/,
    ],
    ['a bias of another length', { bias: f32Tensor('bias', [2], [1, 2]) }, 'BAD_TENSOR', 'bias', /must be float \[3\]/],
    [
      'g_idx regrouping rows (act-order)',
      {
        gIdx: intTensor(
          'g_idx',
          [K],
          DataType.INT32,
          Array.from({ length: K }, (_, k) => (k * 7) % BLOCKS),
        ),
      },
      'UNSUPPORTED',
      'g_idx',
      /regroups the rows of B/,
    ],
    [
      'B prepacked for an execution provider',
      { attributes: [attr.int('weight_prepacked', 1)] },
      'UNSUPPORTED',
      'weight_prepacked',
      /prepacked/,
    ],
  ];
  for (const [what, parts, code, field, mentions] of refusals) {
    it(`${what}: ${code} naming the file, the node and ${field}`, async () => {
      const e = await rejects(statsOf(matMulNBitsModel(parts)), code);
      expect(e.message)
        .to.match(/^q\.onnx: MatMulNBits "mm" /)
        .and.match(mentions);
      expect(e).to.include({ file: 'q.onnx', field });
    });
  }
});

describe('GatherBlockQuantized', () => {
  const int4 = (nib: number) => (nib >= 8 ? nib - 16 : nib);

  it('an int4 table gathered along axis 0 is an embedding: (q − zp)·scale per row block, zero point 0 by default', async () => {
    const bytes = gatherBlockQuantizedModel();
    const { layer, values } = await weightOf(bytes);
    expect(layer).to.include({ name: 'gbq', op: 'GatherBlockQuantized', channelAxis: 0 });
    expect(layer.weight.shape).to.deep.equal([4, 32]);
    expect(values).to.deep.equal(
      Array.from(
        { length: 128 },
        (_, i) => int4(i % 16) * ((Math.floor(i / 32) * 2 + Math.floor((i % 32) / 16) + 1) / 32),
      ),
    );
    const report = await statsOf(bytes);
    expect(report.layers[0]!.modelQuantization).to.deep.equal({
      dtype: 'int4',
      mode: 'blocked',
      axis: 1,
      blockSize: 16,
      scales: [1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 32),
      zeroPoints: null,
    });
    expect(report.model.quantizedParameters).to.equal(128);
  });

  it('a uint8 table of 4-bit values: two per byte along the row, zero points packed the same way per row', async () => {
    // [2 rows, 16 bytes] = [2, 32] values; blocks of 16: scales [2, 2], zero points [2, ⌈2/2⌉ = 1] byte.
    const data = rawTensor(
      'table',
      [2, 16],
      DataType.UINT8,
      Uint8Array.from({ length: 32 }, (_, i) => i * 8 + 1),
    );
    const zeroPoints = rawTensor('zp', [2, 1], DataType.UINT8, new Uint8Array([0x53, 0xa1]));
    const scales = f32Tensor('scales', [2, 2], [0.5, 0.25, 1, 2]);
    const bytes = gatherBlockQuantizedModel({ data, scales, zeroPoints, attributes: [attr.int('block_size', 16)] });
    const { layer, values } = await weightOf(bytes);
    expect(layer.weight).to.include({ dtype: 'uint4' });
    expect(layer.weight.shape).to.deep.equal([2, 32]);
    const value = (r: number, c: number) => nibble((r * 16 + (c >> 1)) * 8 + 1, (c & 1) === 1);
    const zp = [
      [3, 5],
      [1, 10],
    ];
    const scale = [
      [0.5, 0.25],
      [1, 2],
    ];
    expect(values).to.deep.equal(
      Array.from({ length: 64 }, (_, i) => {
        const [r, c] = [Math.floor(i / 32), i % 32];
        return (value(r, c) - zp[r]![c >> 4]!) * scale[r]![c >> 4]!;
      }),
    );
    expect((await statsOf(bytes)).model.quantizedParameters).to.equal(64);
  });

  it('gathered along axis 1 it is not an embedding: no layer, as for Gather', () => {
    const bytes = gatherBlockQuantizedModel({ attributes: [attr.int('gather_axis', 1), attr.int('block_size', 16)] });
    expect(findWeightLayers(open(bytes))).to.deep.equal([]);
  });

  const uint8Table = rawTensor('table', [4, 16], DataType.UINT8, new Uint8Array(64));
  const refusals: [string, Parameters<typeof gatherBlockQuantizedModel>[0], WeightlensErrorCode, string, RegExp][] = [
    [
      'block_size not a power of 2',
      { attributes: [attr.int('block_size', 20)] },
      'BAD_GRAPH',
      'block_size',
      /block_size=20/,
    ],
    [
      'uint8 data quantized along axis 0',
      { data: uint8Table, attributes: [attr.int('quantize_axis', 0), attr.int('block_size', 16)] },
      'BAD_GRAPH',
      'quantize_axis',
      /must be the last axis/,
    ],
    [
      'scales of the wrong shape',
      { scales: f32Tensor('scales', [4, 3], Array(12).fill(1)) },
      'BAD_TENSOR',
      'scales',
      /must have shape \[4,2\]/,
    ],
    [
      'int8 data',
      { data: rawTensor('table', [4, 32], DataType.INT8, new Uint8Array(128)) },
      'UNSUPPORTED_DTYPE',
      'data',
      /int4, uint4 and uint8/,
    ],
    [
      'uint8 data of 2-bit values',
      { data: uint8Table, attributes: [attr.int('bits', 2), attr.int('block_size', 16)] },
      'UNSUPPORTED',
      'bits',
      /bits=2/,
    ],
  ];
  for (const [what, parts, code, field, mentions] of refusals) {
    it(`${what}: ${code} naming the file, the node and ${field}`, async () => {
      const e = await rejects(statsOf(gatherBlockQuantizedModel(parts)), code);
      expect(e.message)
        .to.match(/^q\.onnx: GatherBlockQuantized "gbq":? /)
        .and.match(mentions);
      expect(e).to.include({ file: 'q.onnx', field });
    });
  }
});
