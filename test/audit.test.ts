// auditModel on small models built here (opset 21 blocked DequantizeLinear, which onnx 1.12 cannot write):
// per-channel and per-block saturation and grid levels against a plain element-by-element count, float16 scale
// counts, bias headroom known and unknown, pairing with a float model by order, and its errors.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { decodeModel } from '../src/onnx/decode.js';
import { auditModel } from '../src/pipeline/audit-model.js';
import { auditCodes, codeType, countScales, unitLayout } from '../src/quant/audit-codes.js';
import { worstAuditsFirst, type LayerAudit } from '../src/report/audit-report.js';
import { DT } from '../src/onnx/dtypes.js';
import {
  DataType,
  QLINEAR_CONV,
  attr,
  f32Tensor,
  intTensor,
  modelBytes,
  node,
  qdqModel,
  qlinearConvModel,
  qoperatorModel,
  rawTensor,
  u16Bytes,
  valueInfo,
} from './fixtures/onnx-bytes.js';
import { gatherBlockQuantizedModel } from './fixtures/block-quantized.js';
import { rejects } from './support/rejects.js';

const decode = (bytes: Uint8Array, fileName: string) => decodeModel(bytes, { fileName });

/** Signed 4-bit codes packed two per byte, element 2k in the low nibble. */
const packInt4 = (codes: number[]) =>
  Uint8Array.from(
    { length: Math.ceil(codes.length / 2) },
    (_, i) => (codes[2 * i]! & 15) | ((codes[2 * i + 1]! & 15) << 4),
  );

// Conv weight [3, 6, 1, 2] int4, blocked along axis 1 (Cin) by 4: blocks of 4 and 2 rows, scale [3, 2, 1, 2].
const SHAPE = [3, 6, 1, 2];
const CODES = Array.from({ length: 36 }, (_, i) => ((i * 7 + 3) % 16) - 8); // every code −8..7, some twice
const SCALES = Array.from({ length: 12 }, (_, i) => 0.01 * (i + 1));
const blockedModel = () =>
  decode(
    qdqModel(
      rawTensor('w_q', SHAPE, DataType.INT4, packInt4(CODES)),
      f32Tensor('w_scale', [3, 2, 1, 2], SCALES),
      undefined,
      [attr.int('axis', 1), attr.int('block_size', 4)],
    ),
    'blocked.onnx',
  );

/** The plain count: each element's channel (axis 0) and block ((o·2 + ⌊a/4⌋)·2 + k), a Set of codes each. */
function naiveCounts(unitOf: (o: number, a: number, k: number) => number, units: number) {
  const out = {
    atMin: new Array<number>(units).fill(0),
    atMax: new Array<number>(units).fill(0),
    elements: new Array<number>(units).fill(0),
  };
  const seen = Array.from({ length: units }, () => new Set<number>());
  CODES.forEach((q, i) => {
    const [o, a, k] = [Math.floor(i / 12), Math.floor(i / 2) % 6, i % 2];
    const u = unitOf(o, a, k);
    out.elements[u]!++;
    if (q === -8) out.atMin[u]!++;
    if (q === 7) out.atMax[u]!++;
    seen[u]!.add(q);
  });
  return { ...out, levels: seen.map((s) => s.size) };
}

describe('auditModel', () => {
  it('blocked int4 QDQ (opset 21): per channel and per block, as counted element by element', async () => {
    const report = await auditModel(blockedModel());
    const layer = report.layers[0]!;
    expect(layer).to.include({ format: 'QDQ', dtype: 'int4', bits: 4, mode: 'blocked', axis: 1, blockSize: 4 });
    expect(layer.range).to.deep.equal({ qmin: -8, qmax: 7, restricted: false });
    expect(layer.levels).to.deep.equal({ used: 16, of: 16 });
    expect(layer.channels).to.deep.equal(naiveCounts((o) => o, 3));
    const perBlock = naiveCounts((o, a, k) => (o * 2 + Math.floor(a / 4)) * 2 + k, 12);
    expect(layer.blocks!.detail).to.deep.equal(perBlock);
    const ends = perBlock.atMin.map((n, b) => n + perBlock.atMax[b]!);
    expect(layer.blocks).to.deep.include({
      count: 12,
      saturated: ends.filter((n) => n > 0).length,
      worstShare: Math.max(...ends.map((n, b) => n / perBlock.elements[b]!)),
      levels: { min: Math.min(...perBlock.levels), mean: perBlock.levels.reduce((a, b) => a + b) / 12 },
    });
    // past maxBlockDetail blocks, the summary alone
    const summary = (await auditModel(blockedModel(), { maxBlockDetail: 11 })).layers[0]!.blocks!;
    expect(summary.detail).to.equal(null);
    expect(summary.count).to.equal(12);
    expect(layer.saturation.atMin).to.equal(CODES.filter((q) => q === -8).length);
    expect(layer.saturation.atMax).to.equal(CODES.filter((q) => q === 7).length);
    expect(layer.scales).to.deep.equal({ count: 12, zero: 0, denormal: 0, negative: 0, nonFinite: 0 });
    expect(layer.bias).to.equal(null);
    expect(layer.float).to.equal(null);
  });

  it('symmetric codes that never reach the type minimum are measured against the restricted range', () => {
    const codes = Float32Array.of(-127, -5, 0, 127, 127, 3);
    const layout = { groups: 1, outer: 1, cg: 2, inner: 3 };
    const units = unitLayout([2, 3], { mode: 'axis', axis: 0, blockSize: 0 });
    const audit = auditCodes(codes, codeType(DT.INT8)!, layout, units, true);
    expect(audit).to.include({ qmin: -127, qmax: 127, restricted: true, atMin: 1, atMax: 2, levels: 5 });
    expect(Array.from(audit.channels.atMax)).to.deep.equal([0, 2]);
    // 32-bit codes: the ends counted, no distinct codes
    const wide = auditCodes(
      Float64Array.of(-(2 ** 31), 5, 2 ** 31 - 1, 7),
      codeType(DT.INT32)!,
      { groups: 1, outer: 1, cg: 2, inner: 2 },
      unitLayout([2, 2], { mode: 'axis', axis: 0, blockSize: 0 }),
      false,
    );
    expect(wide).to.include({ qmin: -(2 ** 31), qmax: 2 ** 31 - 1, atMin: 1, atMax: 1, levels: null });
    expect(Array.from(wide.units.atMax)).to.deep.equal([0, 1]);
    // with a zero point, or one code at −128, the type's own range
    expect(auditCodes(codes, codeType(DT.INT8)!, layout, units, false)).to.include({ restricted: false, atMin: 0 });
  });

  it('scales: zero, subnormal (float16 below 2^−14, float32 below 2^−126), negative and non-finite, counted', async () => {
    // float16 [0, 2^−20 (subnormal), −0.5, +Inf, 2^−13 (normal)]
    const f16 = rawTensor('w_scale', [5], DataType.FLOAT16, u16Bytes([0x0000, 0x0010, 0xb800, 0x7c00, 0x0800]));
    const q = intTensor('w_q', [5, 1, 1, 2], DataType.INT8, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const report = await auditModel(decode(qdqModel(q, f16, undefined, [attr.int('axis', 0)]), 'f16.onnx'));
    expect(report.layers[0]!.scales).to.deep.equal({ count: 5, zero: 1, denormal: 1, negative: 1, nonFinite: 1 });
    expect(countScales(Float32Array.of(2 ** -127, 2 ** -120, -0, NaN, -Infinity), DT.FLOAT)).to.deep.equal({
      count: 5,
      zero: 1,
      denormal: 1,
      negative: 1,
      nonFinite: 2,
    });
  });

  it("QLinearConv's int32 bias: headroom log2(2^31 / |B|) per channel, with the constant x_scale", async () => {
    const report = await auditModel(decode(qlinearConvModel(), 'qlinear.onnx'));
    const bias = report.layers[0]!.bias!;
    expect(bias).to.include({ name: 'b_q', stored: 'int32', xScale: 0.5, status: 'known', overflow: 0 });
    expect(bias.headroomBits).to.deep.equal([31 - Math.log2(10), 31 - Math.log2(40)]);
    expect(bias.minHeadroomBits).to.equal(31 - Math.log2(40));
    expect(report.layers[0]!.format).to.equal('QOperator');
    expect(QLINEAR_CONV.bias.name).to.equal('b_q');
  });

  it('a float bias whose layer reads a float input: headroom unknown, and why', async () => {
    const bytes = modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [
        intTensor('w_q', [2, 1, 1, 1], DataType.INT8, [5, -5]),
        f32Tensor('s', [], [0.1]),
        f32Tensor('b', [2], [1, 2]),
      ],
      node: [node('DequantizeLinear', ['w_q', 's'], ['w'], 'dq'), node('Conv', ['x', 'w', 'b'], ['y'], 'conv')],
    });
    const bias = (await auditModel(decode(bytes, 'float-input.onnx'))).layers[0]!.bias!;
    expect(bias).to.include({ stored: 'float', status: 'unknown', xScale: null, headroomBits: null });
    expect(bias.reason).to.contain('x_scale is unknown').and.contain('is float');
  });

  it('a float model: paired by position and shape when no name matches; SQNR and clipping per channel', async () => {
    const dequantized = CODES.map((q, i) => {
      const [o, a, k] = [Math.floor(i / 12), Math.floor(i / 2) % 6, i % 2];
      return Math.fround(q * Math.fround(SCALES[(o * 2 + Math.floor(a / 4)) * 2 + k]!));
    });
    // the float weights: the dequantized ones, except element 0 (q = −5) moved far below the range
    const float = dequantized.map((v, i) => (i === 0 ? Math.fround(v - 1) : v));
    const floatModel = (shape: number[], values: number[]) =>
      decode(
        modelBytes({
          input: [valueInfo('x')],
          output: [valueInfo('y')],
          initializer: [f32Tensor('w_float', shape, values)],
          node: [node('Conv', ['x', 'w_float'], ['y'], 'renamed')],
        }),
        'float.onnx',
      );
    const layer: LayerAudit = (await auditModel(blockedModel(), { float: floatModel(SHAPE, float) })).layers[0]!;
    expect(layer.float).to.include({
      layer: 'renamed',
      weight: 'w_float',
      matchedBy: 'position and shape',
      outside: 1,
      clipped: 1,
    });
    expect(layer.float!.channels.outside).to.deep.equal([1, 0, 0]);
    expect(layer.float!.channels.sqnr[1]).to.equal(null); // exact
    const signal = float.slice(0, 12).reduce((s, x) => s + x * x, 0);
    expect(layer.float!.channels.sqnr[0]).to.be.closeTo(
      10 * Math.log10(signal / (float[0]! - dequantized[0]!) ** 2),
      1e-9,
    );

    const wrongShape = await rejects(
      auditModel(blockedModel(), { float: floatModel([3, 6, 1, 1], float.slice(0, 18)) }),
      'USAGE',
    );
    expect(wrongShape.message)
      .to.contain('float.onnx: the float model has no layer for "conv_q" of blocked.onnx')
      .and.contain('(unmatched: "renamed" (weight "w_float" [3, 6, 1, 1]))');
    const none = decode(
      modelBytes({ output: [valueInfo('y')], initializer: [f32Tensor('c', [1], [1])] }),
      'empty.onnx',
    );
    const missing = await rejects(auditModel(blockedModel(), { float: none }), 'USAGE');
    expect(missing.message).to.contain('empty.onnx: the float model has no layer for "conv_q" of blocked.onnx');
  });

  it('GatherBlockQuantized int4 table: per row and per block of 16', async () => {
    // row r, element j holds code j mod 16 read as int4: 0…7, −8…−1, twice per row, once per block
    const layer = (await auditModel(decode(gatherBlockQuantizedModel(), 'gbq.onnx'))).layers[0]!;
    expect(layer).to.include({
      format: 'GatherBlockQuantized',
      dtype: 'int4',
      mode: 'blocked',
      axis: 1,
      blockSize: 16,
    });
    expect(layer.range).to.deep.equal({ qmin: -8, qmax: 7, restricted: false });
    expect(layer.channels).to.deep.equal({
      atMin: [2, 2, 2, 2],
      atMax: [2, 2, 2, 2],
      elements: [32, 32, 32, 32],
      levels: [16, 16, 16, 16],
    });
    const eight = (v: number) => new Array<number>(8).fill(v);
    expect(layer.blocks!.detail).to.deep.equal({
      atMin: eight(1),
      atMax: eight(1),
      elements: eight(16),
      levels: eight(16),
    });
    expect(layer.saturation).to.deep.equal({ atMin: 8, atMax: 8, share: 16 / 128, worstChannelShare: 4 / 32 });
  });

  it('ConvInteger: codes in integer units, no scales; not compared with a float model', async () => {
    const bytes = qoperatorModel(
      'ConvInteger',
      ['x', 'w_q', '', 'w_zp'],
      [intTensor('w_q', [2, 1, 1, 2], DataType.UINT8, [0, 255, 3, 4]), intTensor('w_zp', [], DataType.UINT8, [3])],
    );
    const floatBytes = modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [f32Tensor('w', [2, 1, 1, 2], [1, 2, 3, 4])],
      node: [node('Conv', ['x', 'w'], ['y'], 'qop')],
    });
    const layer = (await auditModel(decode(bytes, 'int.onnx'), { float: decode(floatBytes, 'f.onnx') })).layers[0]!;
    expect(layer).to.include({ format: 'QOperator', scales: null, bias: null, float: null });
    expect(layer.saturation).to.include({ atMin: 1, atMax: 1 });
    expect(layer.notes!.at(-1)).to.contain('not compared with the float model\'s "qop"');
  });

  it('a weight computed from dequantized codes (DequantizeLinear → Reshape) is listed as not audited', async () => {
    const bytes = modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer: [
        intTensor('w_q', [4], DataType.INT8, [1, -2, 3, 127]),
        f32Tensor('s', [], [0.1]),
        intTensor('shape', [4], DataType.INT64, [2, 1, 1, 2]),
      ],
      node: [
        node('DequantizeLinear', ['w_q', 's'], ['w_flat'], 'dq'),
        node('Reshape', ['w_flat', 'shape'], ['w'], 'reshape'),
        node('Conv', ['x', 'w'], ['y'], 'conv'),
      ],
    });
    const report = await auditModel(decode(bytes, 'reshaped.onnx'));
    expect(report.layers).to.deep.equal([]);
    expect(report.skipped).to.deep.equal([
      { name: 'conv', reason: 'its weight is computed at run time (Reshape) from dequantized codes' },
    ]);
  });

  it('worst first: least bias headroom under 4 bits, then the most saturated channel', () => {
    const layer = (name: string, headroom: number | null, worst: number) =>
      ({
        name,
        bias: headroom === null ? null : { minHeadroomBits: headroom },
        saturation: { worstChannelShare: worst, share: 0 },
      }) as unknown as LayerAudit;
    const order = worstAuditsFirst([
      layer('a', null, 0.1),
      layer('b', 10, 0.3),
      layer('c', 2, 0),
      layer('d', -1, 0),
      layer('e', null, 0.3),
    ]).map((l) => l.name);
    expect(order).to.deep.equal(['d', 'c', 'b', 'e', 'a']);
  });
});
