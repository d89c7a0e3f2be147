// The ONNX reader in both runners (Node and Chromium): no fs here, every model is built in memory.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { dequantizedWeight } from '../src/onnx/dequantize.js';
import { filesSource, urlSource, validateLocation } from '../src/onnx/external-data.js';
import { resolveConstant, type Graph, type Model } from '../src/onnx/model.js';
import { openModel } from '../src/onnx/open.js';
import {
  DataType,
  PNG_HEADER,
  TINY_MODEL,
  attr,
  constantNodeModel,
  convModel,
  externalTensor,
  f32Bytes,
  f32Tensor,
  initializersModel,
  memorySource,
  modelBytes,
  node,
  pseudoRandomBytes,
  qdqModel,
  rawTensor,
  subgraphModel,
  u16Bytes,
} from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';
import { constant, tensorValues } from './support/tensors.js';

const read = tensorValues;

/** Copies bytes to `shift` bytes into a fresh buffer, so views into it start at a chosen alignment. */
function shifted(bytes: Uint8Array, shift: number): Uint8Array {
  const buffer = new ArrayBuffer(bytes.byteLength + shift);
  const view = new Uint8Array(buffer, shift, bytes.byteLength);
  view.set(bytes);
  return view;
}

const f16 = {
  one: 0x3c00,
  minusTwo: 0xc000,
  minSub: 0x0001,
  maxSub: 0x03ff,
  max: 0x7bff,
  inf: 0x7c00,
  negInf: 0xfc00,
  nan: 0x7e00,
  negZero: 0x8000,
};
const f16Bits = [f16.one, f16.minusTwo, f16.minSub, f16.maxSub, f16.max, f16.inf, f16.negInf, f16.nan, f16.negZero];
const f16Expected = [1, -2, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, NaN, -0];
const bf16Bits = [0x3f80, 0xc020, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x4049];
const bf16Expected = [1, -2.5, Infinity, -Infinity, NaN, Math.fround(2 ** -133), 3.140625];

function expectSameFloats(actual: number[], expected: number[]): void {
  expect(actual.length).to.equal(expected.length);
  actual.forEach((v, i) => expect(Object.is(v, expected[i]), `element ${i}: ${v} vs ${expected[i]}`).to.equal(true));
}

describe('ONNX reader: hand-built bytes', () => {
  it('decodes the byte-by-byte fixture', async () => {
    const model = await openModel(TINY_MODEL, { fileName: 'tiny.onnx' });
    expect(model.irVersion).to.equal(8);
    expect(model.opsets).to.deep.equal({ '': 13 });
    expect(model.byteLength).to.equal(30);
    expect(model.main.path).to.equal('main');
    const w = constant(model, 'w');
    expect(w).to.include({ name: 'w', graph: 'main', origin: 'initializer', dataType: 1, dtype: 'float32', size: 2 });
    expect(w.shape).to.deep.equal([2]);
    expect(await read(w)).to.deep.equal([1, -2.5]);
  });

  it('reads raw_data at every alignment of the file buffer', async () => {
    for (let shift = 0; shift < 8; shift++) {
      const model = await openModel(shifted(TINY_MODEL, shift));
      expect(await read(constant(model, 'w')), `shift ${shift}`).to.deep.equal([1, -2.5]);
    }
  });

  it('reads into a destination that is a view at an offset', async () => {
    const model = await openModel(TINY_MODEL);
    const big = new Float32Array(5);
    await constant(model, 'w').readFloat32Into(big.subarray(2, 4));
    expect([...big]).to.deep.equal([0, 0, 1, -2.5, 0]);
  });
});

describe('ONNX reader: payload kinds', () => {
  it('float32 raw_data, float_data, and a Conv with initializer weights', async () => {
    const model = await openModel(convModel(), { fileName: 'conv.onnx' });
    expect(model.producer).to.equal('weightlens-test');
    expect(model.opsets['']).to.equal(21);
    const conv = model.main.nodes[0]!;
    expect(conv).to.include({ name: 'conv1', opType: 'Conv', domain: '', graph: 'main' });
    expect(conv.inputs).to.deep.equal(['x', 'conv1.weight', 'conv1.bias']);
    const w = constant(model, 'conv1.weight');
    expect(w.shape).to.deep.equal([2, 1, 1, 2]);
    expect(await read(w)).to.deep.equal([1, 2, 3, 4]);
    expect(await read(constant(model, 'conv1.bias'))).to.deep.equal([0.5, -0.5]);
    expect(model.main.overridable.size).to.equal(0);

    const typed = await openModel(initializersModel([{ name: 'f', dims: [3], dataType: 1, floatData: [0.25, -1, 3] }]));
    expect(await read(constant(typed, 'f'))).to.deep.equal([0.25, -1, 3]);
  });

  it('float16 from raw_data and int32_data: subnormals, max, ±Inf, NaN, -0', async () => {
    const model = await openModel(
      initializersModel([
        rawTensor('h_raw', [f16Bits.length], DataType.FLOAT16, u16Bytes(f16Bits)),
        { name: 'h_i32', dims: [f16Bits.length], dataType: DataType.FLOAT16, int32Data: f16Bits },
      ]),
    );
    expectSameFloats(await read(constant(model, 'h_raw')), f16Expected);
    expectSameFloats(await read(constant(model, 'h_i32')), f16Expected);
    expect(constant(model, 'h_raw').dtype).to.equal('float16');
  });

  it('bfloat16 from raw_data and int32_data', async () => {
    const model = await openModel(
      initializersModel([
        rawTensor('b_raw', [bf16Bits.length], DataType.BFLOAT16, u16Bytes(bf16Bits)),
        { name: 'b_i32', dims: [bf16Bits.length], dataType: DataType.BFLOAT16, int32Data: bf16Bits },
      ]),
    );
    expectSameFloats(await read(constant(model, 'b_raw')), bf16Expected);
    expectSameFloats(await read(constant(model, 'b_i32')), bf16Expected);
  });

  it('float64 from raw_data and double_data, rounded to float32', async () => {
    const values = [0.1, -1 / 3, 1e300, 1e-50, 2 ** 30 + 1];
    const expected = values.map(Math.fround);
    const model = await openModel(
      initializersModel([
        rawTensor('d_raw', [values.length], DataType.DOUBLE, new Uint8Array(new Float64Array(values).buffer)),
        { name: 'd_typed', dims: [values.length], dataType: DataType.DOUBLE, doubleData: values },
      ]),
    );
    expectSameFloats(await read(constant(model, 'd_raw')), expected);
    expectSameFloats(await read(constant(model, 'd_typed')), expected);
  });

  it('integer types from raw_data, int32_data and int64_data', async () => {
    const model = await openModel(
      initializersModel([
        rawTensor('i8', [4], DataType.INT8, new Uint8Array([0, 127, 128, 255])),
        rawTensor('u8', [2], DataType.UINT8, new Uint8Array([7, 255])),
        { name: 'i8_typed', dims: [3], dataType: DataType.INT8, int32Data: [-128, 0, 127] },
        { name: 'i64', dims: [3], dataType: DataType.INT64, int64Data: [-5, 0, 2 ** 40] },
        rawTensor('i64_raw', [2], DataType.INT64, new Uint8Array(new BigInt64Array([-3n, 1n << 40n]).buffer)),
        rawTensor('i4', [3], DataType.INT4, new Uint8Array([0x8f, 0x07])), // low nibble first: -1, -8, 7
        { name: 'i4_typed', dims: [3], dataType: DataType.INT4, int32Data: [0x8f, 0x07] }, // packed bytes, as onnx.helper writes
      ]),
    );
    expect(await read(constant(model, 'i8'))).to.deep.equal([0, 127, -128, -1]);
    expect(await read(constant(model, 'u8'))).to.deep.equal([7, 255]);
    expect(await read(constant(model, 'i8_typed'))).to.deep.equal([-128, 0, 127]);
    expect(await read(constant(model, 'i64'))).to.deep.equal([-5, 0, 2 ** 40]);
    expect(await read(constant(model, 'i64_raw'))).to.deep.equal([-3, 2 ** 40]);
    expect(await read(constant(model, 'i4'))).to.deep.equal([-1, -8, 7]);
    expect(await read(constant(model, 'i4_typed'))).to.deep.equal([-1, -8, 7]);
  });

  it('scalars and empty tensors', async () => {
    const model = await openModel(initializersModel([f32Tensor('s', [], [4.5]), f32Tensor('empty', [0, 3], [])]));
    expect(constant(model, 's').shape).to.deep.equal([]);
    expect(await read(constant(model, 's'))).to.deep.equal([4.5]);
    expect(constant(model, 'empty').size).to.equal(0);
    expect(await read(constant(model, 'empty'))).to.deep.equal([]);
  });
});

describe('ONNX reader: graph structure', () => {
  it('finds Constant-node weights, named after their output', async () => {
    const model = await openModel(constantNodeModel());
    const w = constant(model, 'w_const');
    expect(w).to.include({ origin: 'constant', graph: 'main', dtype: 'float32' });
    expect(w.shape).to.deep.equal([1, 1, 1, 3]);
    expect(await read(w)).to.deep.equal([7, 8, 9]);
    expect(await read(constant(model, 'fl'))).to.deep.equal([1.5, 2.5]);
    const one = constant(model, 'one');
    expect(one).to.include({ dtype: 'int64', size: 1 });
    expect(await read(one)).to.deep.equal([42]);
    expect(model.main.constants.has('sparse')).to.equal(false); // sparse_value: skipped, not an error
    const valueAttr = model.main.nodes[0]!.attributes.get('value');
    expect(valueAttr?.kind === 'tensor' && valueAttr.value).to.equal(w);
    expect(model.main.nodes.map((n) => n.name)).to.deep.equal(['Constant_0', 'fl', 'one', 'sparse_c', 'conv_c']);
  });

  it('walks If branches and nested Loop bodies with graph paths', async () => {
    const model = await openModel(subgraphModel());
    expect(model.graphs.map((g) => g.path)).to.deep.equal([
      'main',
      'main/If_3.then_branch',
      'main/If_3.else_branch',
      'main/If_3.else_branch/loop1.body',
    ]);
    const [main, thenG, elseG, body] = model.graphs as [Graph, Graph, Graph, Graph];
    expect(thenG.parent).to.equal(main);
    expect(body.parent).to.equal(elseG);
    const thenW = constant(model, 'then.w', thenG);
    expect(thenW).to.include({ graph: 'main/If_3.then_branch', origin: 'initializer' });
    expect(await read(thenW)).to.deep.equal([3]);
    const bodyW = constant(model, 'body.w', body);
    expect(bodyW).to.include({ graph: 'main/If_3.else_branch/loop1.body', origin: 'constant' });
    expect(await read(bodyW)).to.deep.equal([5]);
    expect(resolveConstant(main, 'then.w')).to.equal(undefined); // constants do not leak upwards
    const ifNode = main.nodes[0]!;
    const thenAttr = ifNode.attributes.get('then_branch');
    expect(thenAttr?.kind === 'graph' && thenAttr.value).to.equal(thenG);
    expect(body.nodes[1]!.graph).to.equal('main/If_3.else_branch/loop1.body');
  });

  it('flags initializers that are also graph inputs as overridable', async () => {
    const model = await openModel(
      initializersModel([f32Tensor('fixed', [1], [1]), f32Tensor('tunable', [1], [2])], ['tunable']),
    );
    expect([...model.main.overridable]).to.deep.equal(['tunable']);
    expect(model.main.inputs).to.deep.equal(['tunable']);
  });

  it('decodes attributes of each kind', async () => {
    const model = await openModel(
      modelBytes({
        node: [
          {
            opType: 'Conv',
            name: '',
            input: ['x', 'w'],
            output: ['conv_out'],
            attribute: [
              attr.ints('pads', [1, 1, 1, 1]),
              attr.int('group', 2),
              attr.float('alpha', 0.5),
              attr.floats('fs', [1, 2]),
            ],
          },
        ],
      }),
    );
    const n = model.main.nodes[0]!;
    expect(n.name).to.equal('conv_out');
    expect(n.attributes.get('pads')).to.deep.equal({ kind: 'ints', value: [1, 1, 1, 1] });
    expect(n.attributes.get('group')).to.deep.equal({ kind: 'int', value: 2 });
    expect(n.attributes.get('alpha')).to.deep.equal({ kind: 'float', value: 0.5 });
    expect(n.attributes.get('fs')).to.deep.equal({ kind: 'floats', value: [1, 2] });
  });
});

describe('ONNX reader: DequantizeLinear weights', () => {
  const conv = (m: Model) => m.main.nodes.find((n) => n.opType === 'Conv')!;
  const producer = (m: Model) => m.main.nodes.find((n) => n.opType === 'DequantizeLinear')!;
  const dq = (m: Model) => dequantizedWeight(m.main, producer(m), m.fileName);

  it('per-tensor int8 with a zero point', async () => {
    const m = await openModel(
      qdqModel(
        rawTensor('w_q', [2, 1, 1, 2], DataType.INT8, new Uint8Array([0xfe, 0, 3, 127])),
        f32Tensor('s', [], [0.5]),
        rawTensor('z', [], DataType.INT8, new Uint8Array([1])),
      ),
      { fileName: 'q.onnx' },
    );
    expect(conv(m).inputs[1]).to.equal('w_dq');
    const w = dq(m)!;
    expect(w).to.include({ name: 'w_q', origin: 'dequantized', dtype: 'int8', size: 4 });
    expect(w.shape).to.deep.equal([2, 1, 1, 2]);
    expect(await read(w)).to.deep.equal([-1.5, -0.5, 1, 63]);
  });

  it('per-axis uint8 on axis 0, and the same with axis -4', async () => {
    for (const axis of [0, -4]) {
      const m = await openModel(
        qdqModel(
          rawTensor('w_q', [2, 1, 1, 2], DataType.UINT8, new Uint8Array([128, 130, 120, 0])),
          f32Tensor('s', [2], [0.5, 2]),
          rawTensor('z', [2], DataType.UINT8, new Uint8Array([128, 120])),
          [attr.int('axis', axis)],
        ),
      );
      expect(await read(dq(m)), `axis ${axis}`).to.deep.equal([0, 1, 0, -240]);
    }
  });

  it('per-axis on the default axis 1, without a zero point', async () => {
    const m = await openModel(
      qdqModel(
        rawTensor('w_q', [1, 2, 1, 1], DataType.INT8, new Uint8Array([2, 0xfd])),
        f32Tensor('s', [2], [0.25, 4]),
        undefined,
      ),
    );
    expect(await read(dq(m))).to.deep.equal([0.5, -12]);
  });

  it('blocked int4 (packed, sign-extended) with block_size', async () => {
    // x [2, 4], blocks of 2 along axis 1 -> scale [2, 2]
    const x = [1, -1, 7, -8, 2, 3, -2, 0];
    const packed = new Uint8Array(4);
    x.forEach((v, i) => (packed[i >> 1]! |= (v & 0xf) << ((i & 1) * 4)));
    const m = await openModel(
      qdqModel(rawTensor('w_q', [2, 4], DataType.INT4, packed), f32Tensor('s', [2, 2], [1, 0.5, 2, 10]), undefined, [
        attr.int('axis', 1),
        attr.int('block_size', 2),
      ]),
    );
    expect(await read(dq(m))).to.deep.equal([1, -1, 3.5, -4, 4, 6, -20, 0]);
  });

  it('uint4 per-tensor with a zero point', async () => {
    const m = await openModel(
      qdqModel(
        rawTensor('w_q', [3], DataType.UINT4, new Uint8Array([0x0f, 0x08])),
        f32Tensor('s', [], [2]),
        rawTensor('z', [], DataType.UINT4, new Uint8Array([8])),
      ),
    );
    expect(await read(dq(m))).to.deep.equal([14, -16, 0]);
  });

  it('int32 keeps (x - zp) exact beyond 2^24', async () => {
    const i32 = (name: string, values: number[]) =>
      rawTensor(
        name,
        values.length ? [values.length] : [],
        DataType.INT32,
        new Uint8Array(new Int32Array(values).buffer),
      );
    const m = await openModel(
      qdqModel(i32('b_q', [2 ** 24 + 1, -3]), f32Tensor('s', [], [1]), { ...i32('z', [1]), dims: [] }),
    );
    expect(await read(dq(m))).to.deep.equal([2 ** 24, -4]); // via float32 first it would be 2^24 - 1
  });

  it('rejects a scale shape that fits neither mode (BAD_TENSOR)', async () => {
    const m = await openModel(
      qdqModel(
        rawTensor('w_q', [2, 1, 1, 2], DataType.INT8, new Uint8Array(4)),
        f32Tensor('s', [3], [1, 2, 3]),
        undefined,
        [attr.int('axis', 0)],
      ),
      { fileName: 'q.onnx' },
    );
    const e = await rejects((async () => dq(m))(), 'BAD_TENSOR');
    expect(e.message).to.equal(
      'q.onnx: DequantizeLinear "dq": x_scale of "w_q" [2,1,1,2] must be a scalar or have shape [2] (axis 0), got [3]',
    );
  });

  it('returns undefined when an input is computed at run time', async () => {
    const m = await openModel(
      modelBytes({
        input: [{ name: 'x' }, { name: 'q' }],
        initializer: [f32Tensor('s', [], [1])],
        node: [{ opType: 'DequantizeLinear', input: ['q', 's'], output: ['w'], name: 'dq' }],
      }),
    );
    expect(dq(m)).to.equal(undefined);
  });
});

describe('ONNX reader: errors', () => {
  it('a truncated file is TRUNCATED', async () => {
    const bytes = convModel();
    for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 20]) {
      const e = await rejects(openModel(bytes.subarray(0, cut), { fileName: 'cut.onnx' }), 'TRUNCATED');
      expect(e.message).to.match(
        /^cut\.onnx: the file ends inside field \w+ at byte \d+ \(.*the file has \d+ bytes\); was the download cut short\?$/,
      );
    }
  });

  it('random bytes, a PNG, an empty file, a graph-less message are NOT_ONNX', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await rejects(openModel(pseudoRandomBytes(4096, seed * 7919), { fileName: 'noise.bin' }), 'NOT_ONNX');
    }
    const png = await rejects(openModel(PNG_HEADER, { fileName: 'cat.png' }), 'NOT_ONNX');
    expect(png.message).to.equal('cat.png: this is a PNG image, not an ONNX model');
    await rejects(openModel(new Uint8Array(0)), 'NOT_ONNX');
    await rejects(openModel(new TextEncoder().encode('<!DOCTYPE html><html>404</html>')), 'NOT_ONNX');
    const noGraph = await rejects(openModel(new Uint8Array([0x08, 0x08]), { fileName: 'm.onnx' }), 'NOT_ONNX');
    expect(noGraph.message).to.equal('m.onnx: not an ONNX model (it has no graph)');
  });

  it('a file of another kind says what it is, in plain words', async () => {
    const text = (s: string) => new TextEncoder().encode(s);
    const safetensorsHeader = text('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const safetensors = new Uint8Array([
      safetensorsHeader.length,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...safetensorsHeader,
      0,
      0,
      128,
      63,
    ]);
    const cases: [Uint8Array, RegExp][] = [
      [
        text('version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n'),
        /this is a Git LFS pointer .*git lfs pull/,
      ],
      [text('<!DOCTYPE html><title>Sign in</title>'), /this is a web page \(HTML\)/],
      [text('{"error": "not found"}'), /this is a JSON or text file/],
      [text('just some notes\n'), /this is a text file/],
      [new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), /this is a ZIP archive/],
      [new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), /this is a gzip archive/],
      [new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]), /this is a JPEG image/],
      [new Uint8Array([0x80, 0x04, 0x95, 0x10]), /this is a Python pickle/],
      [safetensors, /this is a safetensors file/],
    ];
    for (const [bytes, says] of cases) {
      const e = await rejects(openModel(bytes, { fileName: 'm.onnx' }), 'NOT_ONNX');
      expect(e.message).to.match(new RegExp(`^m\\.onnx: ${says.source}.*, not an ONNX model$`));
    }
    // Bytes of no known kind keep the reader's own reason.
    const noise = await rejects(openModel(new Uint8Array([0xf8, 0x01, 0x02]), { fileName: 'm.onnx' }), 'NOT_ONNX');
    expect(noise.message).to.match(/^m\.onnx: not an ONNX model \(/);
  });

  it('a node without op_type is BAD_GRAPH naming the node (the ONNX checker refuses it too)', async () => {
    const bytes = modelBytes({ node: [node('Relu', ['x'], ['y'], 'fine'), node('', ['y'], ['z'], 'nameless-op')] });
    const e = await rejects(openModel(bytes, { fileName: 'm.onnx' }), 'BAD_GRAPH');
    expect(e.message).to.equal(
      'm.onnx: graph main, node 1 "nameless-op" has no op_type; every ONNX node names its operator',
    );
  });

  it('an attribute without a name is BAD_GRAPH naming the node', async () => {
    const bytes = modelBytes({ node: [node('Relu', ['x'], ['y'], 'r', [attr.int('', 1)])] });
    const e = await rejects(openModel(bytes, { fileName: 'm.onnx' }), 'BAD_GRAPH');
    expect(e.message).to.equal('m.onnx: graph main, node "r" (Relu) has an attribute without a name');
  });

  it('wrong raw_data size is BAD_TENSOR with the sizes in the message', async () => {
    const bytes = initializersModel([rawTensor('conv1.weight', [16, 3, 3, 3], DataType.FLOAT, new Uint8Array(100))]);
    const e = await rejects(openModel(bytes, { fileName: 'model.onnx' }), 'BAD_TENSOR');
    expect(e.message).to.equal(
      'model.onnx: raw_data of "conv1.weight" has 100 bytes, shape [16,3,3,3] float32 needs 1728',
    );
    expect(e).to.include({ file: 'model.onnx', tensor: 'conv1.weight', field: 'raw_data' });
    const typed = await rejects(
      openModel(initializersModel([{ name: 'h', dims: [4], dataType: DataType.FLOAT16, int32Data: [1, 2] }]), {
        fileName: 'model.onnx',
      }),
      'BAD_TENSOR',
    );
    expect(typed.message).to.equal('model.onnx: int32_data of "h" has 2 values, shape [4] float16 needs 4');
  });

  it('data types 17 (float8) and 99 (unknown) are UNSUPPORTED_DTYPE when read', async () => {
    const model = await openModel(
      initializersModel([rawTensor('f8', [2], 17, new Uint8Array(2)), rawTensor('odd', [2], 99, new Uint8Array(3))]),
      { fileName: 'new.onnx' },
    );
    expect(constant(model, 'f8').dtype).to.equal('float8e4m3fn');
    expect(constant(model, 'odd').dtype).to.equal('unknown(99)');
    const e17 = await rejects(read(constant(model, 'f8')), 'UNSUPPORTED_DTYPE');
    expect(e17.message).to.equal(
      'new.onnx: tensor "f8" has data type float8e4m3fn (17), which weightlens cannot read as weights',
    );
    const e99 = await rejects(read(constant(model, 'odd')), 'UNSUPPORTED_DTYPE');
    expect(e99.message).to.contain('"odd"').and.contain('unknown(99)');
  });

  it('a cancelled signal is ABORTED, before opening and before reading', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejects(openModel(convModel(), { signal: ac.signal }), 'ABORTED');
    await rejects(openModel(new Blob([convModel()]), { signal: ac.signal }), 'ABORTED');
    const model = await openModel(convModel());
    await rejects(constant(model, 'conv1.weight').readFloat32Into(new Float32Array(4), ac.signal), 'ABORTED');
  });

  it('a too small destination is USAGE', async () => {
    const model = await openModel(convModel());
    await rejects(constant(model, 'conv1.weight').readFloat32Into(new Float32Array(3)), 'USAGE');
  });
});

describe('ONNX reader: external data', () => {
  const weights = f32Bytes([9, 1, 2, 3, 4, 5]); // "w" is elements 1..4 (offset 4, 16 bytes)
  const externalModel = (location: string, offset?: number, length?: number) =>
    initializersModel([externalTensor('w', [2, 2], location, offset, length)]);

  it('reads offset/length ranges from an in-memory source', async () => {
    const model = await openModel(externalModel('weights.bin', 4, 16), {
      externalData: memorySource({ 'weights.bin': weights }),
    });
    const w = constant(model, 'w');
    expect(w.external).to.deep.equal({ location: 'weights.bin', offset: 4, length: 16 });
    expect(await read(w)).to.deep.equal([1, 2, 3, 4]);
    const noLength = await openModel(externalModel('weights.bin', 8), {
      externalData: memorySource({ 'weights.bin': weights }),
    });
    expect(await read(constant(noLength, 'w'))).to.deep.equal([2, 3, 4, 5]);
  });

  it('rejects locations that escape the folder (UNSAFE_PATH)', async () => {
    const files = memorySource({ 'weights.bin': weights, '../x': weights, '/etc/passwd': weights });
    for (const location of [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:\\x',
      '\\\\host\\share\\x',
      'https://evil.example/x',
      '',
    ]) {
      const model = await openModel(externalModel(location, 0), { fileName: 'm.onnx', externalData: files });
      const e = await rejects(read(constant(model, 'w')), 'UNSAFE_PATH');
      expect(e.message).to.match(/^m\.onnx: tensor "w": external data location/);
    }
    expect(validateLocation('./sub\\w.bin')).to.equal('sub/w.bin');
  });

  it('out-of-range offsets, missing files and no source are EXTERNAL_DATA', async () => {
    const files = memorySource({ 'weights.bin': weights });
    const far = await openModel(externalModel('weights.bin', 12, 16), { fileName: 'm.onnx', externalData: files });
    const e1 = await rejects(read(constant(far, 'w')), 'EXTERNAL_DATA');
    expect(e1.message).to.equal(
      'm.onnx: tensor "w": external data offset 12 + length 16 is beyond the end of "weights.bin" (24 bytes)',
    );
    const missing = await openModel(externalModel('other.bin', 0), { fileName: 'm.onnx', externalData: files });
    const e2 = await rejects(read(constant(missing, 'w')), 'EXTERNAL_DATA');
    expect(e2.message).to.contain('"other.bin"').and.contain('"w"');
    const none = await openModel(externalModel('weights.bin', 0), { fileName: 'm.onnx' });
    await rejects(read(constant(none, 'w')), 'EXTERNAL_DATA');
  });

  it('a length field that disagrees with the shape is BAD_TENSOR at open', async () => {
    const e = await rejects(openModel(externalModel('weights.bin', 0, 12), { fileName: 'm.onnx' }), 'BAD_TENSOR');
    expect(e.message).to.equal('m.onnx: external_data length of "w" is 12 bytes, shape [2,2] float32 needs 16');
  });

  it('filesSource reads a slice of a Blob with a name, and a File-like model keeps its name', async () => {
    const blob = Object.assign(new Blob([weights]), { name: 'weights.bin' });
    const source = filesSource([blob]);
    const file = await source('weights.bin');
    expect(file.size).to.equal(24);
    expect([...new Float32Array((await file.read(4, 8)).slice().buffer)]).to.deep.equal([1, 2]);
    await rejects(source('nope.bin'), 'EXTERNAL_DATA');
    await rejects(source('../weights.bin'), 'UNSAFE_PATH');

    const modelFile = Object.assign(new Blob([externalModel('weights.bin', 4)]), { name: 'picked.onnx' });
    const progress: number[] = [];
    const model = await openModel(modelFile, {
      externalData: [blob as unknown as File],
      onProgress: (p) => p.phase === 'read' && progress.push(p.loaded),
    });
    expect(model.fileName).to.equal('picked.onnx');
    expect(progress.at(-1)).to.equal(modelFile.size);
    expect(await read(constant(model, 'w'))).to.deep.equal([1, 2, 3, 4]);
  });

  it('filesSource reads a range into a buffer across stream pieces, to the end of the file and past it', async () => {
    // 20 MB: more than two of the 8 MB pieces a stream read refills, so ranges cross piece boundaries.
    const bytes = new Uint8Array(20 * 1024 * 1024 + 13).map((_, i) => (i * 31 + (i >> 12)) & 255);
    const file = await filesSource([Object.assign(new Blob([bytes]), { name: 'big.bin' })])('big.bin');
    const piece = 8 * 1024 * 1024;
    for (const [offset, length] of [
      [0, 16],
      [0, piece],
      [5, 2 * piece + 3],
      [piece - 7, piece + 14],
      [bytes.length - 9, 9],
      [3, bytes.length - 3],
    ] as const) {
      const dest = new Uint8Array(length);
      expect(await file.readInto!(offset, dest)).to.equal(length);
      expect(dest, `${length} bytes at ${offset}`).to.deep.equal(bytes.subarray(offset, offset + length));
    }
    // A range past the end of the file (it shrank): the bytes there are, and how many.
    const dest = new Uint8Array(20);
    expect(await file.readInto!(bytes.length - 6, dest)).to.equal(6);
    expect(dest.subarray(0, 6)).to.deep.equal(bytes.subarray(-6));
  });

  it('filesSource matches webkitRelativePath inside a picked folder', async () => {
    const blob = Object.assign(new Blob([weights]), { name: 'w.bin', webkitRelativePath: 'model/data/w.bin' });
    const file = await filesSource([blob])('data/w.bin');
    expect(file.name).to.equal('w.bin');
  });
});

describe('ONNX reader: URLs', () => {
  const weights = f32Bytes([9, 1, 2, 3, 4, 5]);
  /** A fetch over in-memory files that honours (or ignores) Range, and records requests. */
  function fakeFetch(files: Record<string, Uint8Array>, ranges = true) {
    const log: string[] = [];
    const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const range = new Headers(init?.headers).get('Range');
      log.push(`${url.pathname}${range ? ' ' + range : ''}`);
      const body = files[url.pathname];
      if (!body) return new Response('not found', { status: 404, statusText: 'Not Found' });
      const m = range && ranges ? /bytes=(\d+)-(\d+)/.exec(range) : null;
      if (m) {
        const [start, end] = [Number(m[1]), Number(m[2])];
        return new Response(body.slice(start, end + 1), {
          status: 206,
          headers: { 'Content-Range': `bytes ${start}-${end}/${body.length}` },
        });
      }
      return new Response(body.slice(), { status: 200, headers: { 'Content-Length': String(body.length) } });
    };
    return { impl: impl as typeof fetch, log };
  }

  it('opens a model URL with progress and reads external data with Range requests', async () => {
    const model = initializersModel([externalTensor('w', [2, 2], 'data/weights.bin', 4, 16)]);
    const { impl, log } = fakeFetch({ '/models/net.onnx': model, '/models/data/weights.bin': weights });
    const progress: { loaded: number; total?: number }[] = [];
    const m = await openModel('https://example.test/models/net.onnx', {
      fetch: impl,
      onProgress: (p) => p.phase === 'read' && progress.push(p),
    });
    expect(m.fileName).to.equal('net.onnx');
    expect(progress.at(-1)).to.deep.include({ phase: 'read', loaded: model.length, total: model.length, fraction: 1 });
    expect(await read(constant(m, 'w'))).to.deep.equal([1, 2, 3, 4]);
    expect(log).to.deep.equal([
      '/models/net.onnx',
      '/models/data/weights.bin bytes=0-0',
      '/models/data/weights.bin bytes=4-19',
    ]);
  });

  it('falls back to one full download when the server ignores Range', async () => {
    const { impl, log } = fakeFetch({ '/m/weights.bin': weights }, false);
    const file = await urlSource('https://example.test/m/model.onnx', impl)('weights.bin');
    expect(file.size).to.equal(24);
    expect([...new Float32Array((await file.read(8, 8)).slice().buffer)]).to.deep.equal([2, 3]);
    expect(log).to.deep.equal(['/m/weights.bin bytes=0-0']);
  });

  it('HTTP errors are IO with the status', async () => {
    const { impl } = fakeFetch({});
    const e = await rejects(openModel(new URL('https://example.test/missing.onnx'), { fetch: impl }), 'IO');
    expect(e.message).to.equal('missing.onnx: HTTP 404 Not Found fetching https://example.test/missing.onnx');
  });
});
