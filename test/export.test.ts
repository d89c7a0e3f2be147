// The exporter in both runners (Node and Chromium): plans applied to in-memory models, checked byte by byte
// against the input and by re-opening the result with the reader.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import pkg from 'onnx-proto';
import { WeightlensError } from '../src/errors.js';
import { decodeModel } from '../src/onnx/decode.js';
import { findWeightLayers } from '../src/analysis/layers.js';
import { dequantizedWeight } from '../src/onnx/dequantize.js';
import { float16Table } from '../src/onnx/dtypes.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../src/onnx/export/encode-values.js';
import { exportModel } from '../src/onnx/export/export.js';
import { emptyPlan, type ExportPlan } from '../src/onnx/export/plan.js';
import type { Graph, Model, Node, TensorRef } from '../src/onnx/model.js';
import { openModel } from '../src/onnx/open.js';
import {
  DataType,
  TINY_MODEL,
  constantNodeModel,
  convBatchNormModel,
  convModel,
  externalTensor,
  f32Bytes,
  f32Tensor,
  initializersModel,
  memorySource,
  modelBytes,
  node,
  qdqModel,
  qlinearConvModel,
  rawTensor,
  subgraphModel,
  u16Bytes,
  valueInfo,
} from './fixtures/onnx-bytes.js';
import { constant, tensorValues } from './support/tensors.js';
import { dataFileReader } from '../src/onnx/export/data-file.js';
import { inMemoryDataFile } from './support/data-parts.js';

const { onnx } = pkg;

// ---- helpers ---------------------------------------------------------------------------------------------

const values = tensorValues;

function graphAt(model: Model, path: string): Graph {
  const g = model.graphs.find((x) => x.path === path);
  if (!g) throw new Error(`no graph ${path}: ${model.graphs.map((x) => x.path)}`);
  return g;
}

function nodeNamed(graph: Graph, name: string): Node {
  const n = graph.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

const plan = (p: Partial<ExportPlan>): ExportPlan => ({ ...emptyPlan(), ...p });
const edit = (tensor: TensorRef, v: number[]) => ({ tensor, values: new Float32Array(v) });
const open = (bytes: Uint8Array, fileName = 'out.onnx') => decodeModel(bytes, { fileName });

/** Index of `needle` in `hay` (first occurrence), or -1. */
function find(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Asserts `a` and `b` are equal except in [from, to) (same length). */
function expectSameOutside(a: Uint8Array, b: Uint8Array, from: number, to: number): void {
  expect(b.length).to.equal(a.length);
  for (let i = 0; i < a.length; i++) {
    if (i >= from && i < to) continue;
    if (a[i] !== b[i]) expect.fail(`byte ${i} changed (${a[i]} -> ${b[i]}), outside the payload [${from}, ${to})`);
  }
}

// An encoder independent of the exporter's, for hand-made messages with unknown fields.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const lenField = (field: number, payload: Uint8Array | number[]) =>
  new Uint8Array([...varint(field * 8 + 2), ...varint(payload.length), ...payload]);
const varintField = (field: number, v: number) => new Uint8Array([...varint(field * 8), ...varint(v)]);
const fixed32Field = (field: number, bytes: number[]) => new Uint8Array([...varint(field * 8 + 5), ...bytes]);
const fixed64Field = (field: number, bytes: number[]) => new Uint8Array([...varint(field * 8 + 1), ...bytes]);
const text = (s: string) => [...new TextEncoder().encode(s)];
function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Top-level records of a message: [field, wire, payload (LEN) or value bytes]. */
function records(bytes: Uint8Array): { field: number; wire: number; data: Uint8Array }[] {
  const out: { field: number; wire: number; data: Uint8Array }[] = [];
  let pos = 0;
  const readVarint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < bytes.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    const start = pos;
    if (wire === 0) readVarint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const n = readVarint();
      out.push({ field, wire, data: bytes.subarray(pos, pos + n) });
      pos += n;
      continue;
    }
    out.push({ field, wire, data: bytes.subarray(start, pos) });
  }
  return out;
}

// ---- tests -----------------------------------------------------------------------------------------------

describe('export: an empty plan', () => {
  it('returns the input bytes unchanged, for every fixture', async () => {
    for (const bytes of [TINY_MODEL, convModel(), constantNodeModel(), subgraphModel(), convBatchNormModel('relu')]) {
      const model = open(bytes, 'in.onnx');
      const out = exportModel(model, emptyPlan());
      expect(out.bytes).to.deep.equal(bytes);
      expect(out.bytes.buffer).to.not.equal(bytes.buffer); // a copy: the caller may keep the input
      expect(out.dataFiles.size).to.equal(0);
    }
  });
});

describe('export: tensor edits in place', () => {
  it('float32 raw_data at an odd offset: only the payload bytes change', async () => {
    const model = open(TINY_MODEL, 'tiny.onnx');
    const out = exportModel(model, plan({ tensors: [edit(constant(model, 'w'), [0.25, -7])] }));
    expectSameOutside(TINY_MODEL, out.bytes, 15, 23);
    expect([...out.bytes.subarray(15, 23)]).to.deep.equal([...f32Bytes([0.25, -7])]);
    expect(await values(constant(open(out.bytes), 'w'))).to.deep.equal([0.25, -7]);
  });

  it('an initializer of a Conv model: everything outside that payload is byte-identical', async () => {
    const bytes = convModel();
    const model = open(bytes);
    const at = find(bytes, f32Bytes([1, 2, 3, 4]));
    const out = exportModel(model, plan({ tensors: [edit(constant(model, 'conv1.weight'), [4, 3, 2, 1])] }));
    expectSameOutside(bytes, out.bytes, at, at + 16);
    const reopened = open(out.bytes);
    expect(await values(constant(reopened, 'conv1.weight'))).to.deep.equal([4, 3, 2, 1]);
    expect(await values(constant(reopened, 'conv1.bias'))).to.deep.equal([0.5, -0.5]);
  });

  it('float_data (packed), and float_data written unpacked (one fixed32 record per value)', async () => {
    const packed = initializersModel([
      { name: 'fd', dims: [3], dataType: DataType.FLOAT, floatData: [1, 2, 3] },
      f32Tensor('other', [1], [9]),
    ]);
    let model = open(packed);
    let out = exportModel(model, plan({ tensors: [edit(constant(model, 'fd'), [-1, 0.5, 1e-3])] }));
    let reopened = open(out.bytes);
    expect(await values(constant(reopened, 'fd'))).to.deep.equal([-1, 0.5, Math.fround(1e-3)]);
    expect(await values(constant(reopened, 'other'))).to.deep.equal([9]);

    // TensorProto { dims: 2, data_type: FLOAT, float_data: 1.0 (unpacked), float_data: 2.0 (unpacked), name: "u" }
    const tensor = join(
      varintField(1, 2),
      varintField(2, 1),
      fixed32Field(4, [0, 0, 0x80, 0x3f]),
      fixed32Field(4, [0, 0, 0, 0x40]),
      lenField(8, text('u')),
    );
    const unpacked = join(
      varintField(1, 8),
      lenField(7, join(lenField(5, tensor), lenField(2, text('g')))),
      lenField(8, [0x10, 13]),
    );
    model = open(unpacked);
    expect(await values(constant(model, 'u'))).to.deep.equal([1, 2]);
    out = exportModel(model, plan({ tensors: [edit(constant(model, 'u'), [3, -4])] }));
    reopened = open(out.bytes);
    expect(await values(constant(reopened, 'u'))).to.deep.equal([3, -4]);
  });

  it('a Constant node tensor, and a Constant value_floats', async () => {
    const model = open(constantNodeModel());
    const out = exportModel(
      model,
      plan({ tensors: [edit(constant(model, 'w_const'), [-7, -8, -9]), edit(constant(model, 'fl'), [0.5, 0.75])] }),
    );
    const reopened = open(out.bytes);
    expect(await values(constant(reopened, 'w_const'))).to.deep.equal([-7, -8, -9]);
    expect(constant(reopened, 'w_const').origin).to.equal('constant');
    expect(await values(constant(reopened, 'fl'))).to.deep.equal([0.5, 0.75]);
    expect(await values(constant(reopened, 'one'))).to.deep.equal([42]);
    expect(reopened.main.nodes.map((n) => n.opType)).to.deep.equal([
      'Constant',
      'Constant',
      'Constant',
      'Constant',
      'Conv',
    ]);
  });

  it('tensors inside an If branch and inside a Loop body nested in the other branch', async () => {
    const model = open(subgraphModel());
    const then = graphAt(model, 'main/If_3.then_branch');
    const body = graphAt(model, 'main/If_3.else_branch/loop1.body');
    const out = exportModel(
      model,
      plan({ tensors: [edit(constant(model, 'then.w', then), [30]), edit(constant(model, 'body.w', body), [50])] }),
    );
    const reopened = open(out.bytes);
    expect(await values(constant(reopened, 'then.w', graphAt(reopened, 'main/If_3.then_branch')))).to.deep.equal([30]);
    expect(
      await values(constant(reopened, 'body.w', graphAt(reopened, 'main/If_3.else_branch/loop1.body'))),
    ).to.deep.equal([50]);
    expect(reopened.graphs.map((g) => g.path)).to.deep.equal(model.graphs.map((g) => g.path));
    expect(out.bytes.length).to.equal(subgraphModel().length);
  });

  it('float16 raw_data and float16 / bfloat16 in int32_data, rounded to nearest even', async () => {
    // Inputs and the float16 they must become: ties go to the even neighbour.
    const cases: [number, number][] = [
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even is 1
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: even is 1+2^-9
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [65519, 0x7bff], // below the overflow midpoint
      [65520, 0x7c00], // the midpoint to 2^16 rounds to Inf
      [2 ** -25, 0x0000], // half the smallest subnormal: ties to 0
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units: even is 2
      [-(2 ** -24), 0x8001],
      [-0, 0x8000],
      [1e-30, 0x0000],
    ];
    const input = cases.map((c) => c[0]);
    const expected = cases.map((c) => float16Table()[c[1]]!);
    const model = open(
      initializersModel([
        rawTensor('h_raw', [cases.length], DataType.FLOAT16, u16Bytes(cases.map(() => 0x3c00))),
        { name: 'h_i32', dims: [cases.length], dataType: DataType.FLOAT16, int32Data: cases.map(() => 0x4000) },
        { name: 'b_i32', dims: [3], dataType: DataType.BFLOAT16, int32Data: [0x3f80, 0x3f80, 0x3f80] },
        rawTensor('b_raw', [3], DataType.BFLOAT16, u16Bytes([0, 0, 0])),
      ]),
    );
    const bf16In = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -3.5]; // ties: 1 stays, 1+2^-6 up; -3.5 exact
    const bf16Out = [1, 1 + 2 ** -6, -3.5];
    const out = exportModel(
      model,
      plan({
        tensors: [
          edit(constant(model, 'h_raw'), input),
          edit(constant(model, 'h_i32'), input),
          edit(constant(model, 'b_i32'), bf16In),
          edit(constant(model, 'b_raw'), bf16In),
        ],
      }),
    );
    const reopened = open(out.bytes);
    const same = (a: number[], b: number[]) =>
      a.forEach((v, i) => expect(Object.is(v, b[i]), `${i}: ${v} vs ${b[i]}`).to.equal(true));
    same(await values(constant(reopened, 'h_raw')), expected);
    same(await values(constant(reopened, 'h_i32')), expected);
    same(await values(constant(reopened, 'b_i32')), bf16Out);
    same(await values(constant(reopened, 'b_raw')), bf16Out);
    for (const name of ['h_raw', 'h_i32', 'b_i32', 'b_raw'])
      expect(constant(reopened, name).dataType).to.equal(constant(model, name).dataType);
    // still in int32_data, not moved to raw_data
    const proto = onnx.ModelProto.decode(out.bytes);
    const h = proto.graph!.initializer!.find((t) => t.name === 'h_i32')!;
    expect(h.rawData?.length ?? 0).to.equal(0);
    expect(h.int32Data).to.deep.equal(cases.map((c) => c[1]));
  });

  it('float64 raw_data and double_data keep float64', async () => {
    const f64 = new Uint8Array(new Float64Array([1, 2]).buffer);
    const model = open(
      initializersModel([
        rawTensor('d_raw', [2], DataType.DOUBLE, f64),
        { name: 'd_field', dims: [2], dataType: DataType.DOUBLE, doubleData: [1, 2] },
      ]),
    );
    const v = [0.1, -1e30];
    const out = exportModel(
      model,
      plan({ tensors: [edit(constant(model, 'd_raw'), v), edit(constant(model, 'd_field'), v)] }),
    );
    const proto = onnx.ModelProto.decode(out.bytes);
    const raw = proto.graph!.initializer![0]!;
    expect([...new Float64Array(raw.rawData!.slice().buffer)]).to.deep.equal(v.map(Math.fround));
    expect(proto.graph!.initializer![1]!.doubleData).to.deep.equal(v.map(Math.fround));
  });

  /** Initializers a [2] and b [4], both in weights.bin. */
  function twoExternalTensors() {
    const weights = f32Bytes([1, 2, 3, 4, 5, 6]);
    const bytes = initializersModel([
      externalTensor('a', [2], 'weights.bin', 0, 8),
      externalTensor('b', [4], 'weights.bin', 8, 16),
    ]);
    const model = decodeModel(bytes, {
      fileName: 'dir/net.onnx',
      externalData: memorySource({ 'weights.bin': weights }),
    });
    return { weights, model };
  }

  it('external data in memory: the edited tensor moves to the new data file, the other stays', async () => {
    const { weights, model } = twoExternalTensors();
    const out = exportModel(model, plan({ tensors: [edit(constant(model, 'b'), [40, 30, 20, 10])] }));
    expect([...out.dataFiles.keys()]).to.deep.equal(['net.weightlens.data']);
    expect(out.keptLocations).to.deep.equal(['weights.bin']);
    const reopened = decodeModel(out.bytes, {
      fileName: 'out.onnx',
      externalData: memorySource({
        'weights.bin': weights,
        ...Object.fromEntries([...out.dataFiles].map(([location, parts]) => [location, inMemoryDataFile(parts)])),
      }),
    });
    expect(constant(reopened, 'a').external).to.deep.equal({ location: 'weights.bin', offset: 0, length: 8 });
    expect(constant(reopened, 'b').external).to.deep.equal({ location: 'net.weightlens.data', offset: 0, length: 16 });
    expect(await values(constant(reopened, 'a'))).to.deep.equal([1, 2]);
    expect(await values(constant(reopened, 'b'))).to.deep.equal([40, 30, 20, 10]);
  });

  it('relocateExternal: unchanged external tensors are copied through into the new data file, aligned', async () => {
    const { weights, model } = twoExternalTensors();
    const out = exportModel(model, plan({ tensors: [edit(constant(model, 'b'), [40, 30, 20, 10])] }), {
      relocateExternal: true,
    });
    expect(out.keptLocations, 'no input data file is needed').to.deep.equal([]);
    const parts = out.dataFiles.get('net.weightlens.data')!;
    expect(parts.filter((p) => !(p instanceof Uint8Array))).to.deep.equal([
      { location: 'weights.bin', offset: 0, length: 8 },
    ]);
    const source = memorySource({ 'weights.bin': weights });
    const reopened = decodeModel(out.bytes, {
      fileName: 'out.onnx',
      externalData: async (location) => dataFileReader(location, out.dataFiles.get(location)!, source),
    });
    expect(constant(reopened, 'b').external).to.deep.equal({ location: 'net.weightlens.data', offset: 0, length: 16 });
    expect(constant(reopened, 'a').external).to.deep.equal({ location: 'net.weightlens.data', offset: 64, length: 8 });
    expect(await values(constant(reopened, 'a'))).to.deep.equal([1, 2]);
    expect(await values(constant(reopened, 'b'))).to.deep.equal([40, 30, 20, 10]);
  });
});

describe('export: graph edits', () => {
  it('folds a BN away: remove it, rename the Conv output, give the Conv a bias, edit its weight', async () => {
    const model = open(convBatchNormModel('none'), 'bn.onnx');
    const conv = nodeNamed(model.main, 'conv');
    const bn = nodeNamed(model.main, 'bn');
    const out = exportModel(
      model,
      plan({
        tensors: [edit(constant(model, 'conv.w'), [0.5, 4])],
        removeNodes: [bn],
        renameOutputs: [{ node: conv, index: 0, name: 'y' }],
        appendInputs: [{ node: conv, name: 'conv.b' }],
        addInitializers: [
          {
            graph: model.main,
            name: 'conv.b',
            dims: [2],
            dataType: DataType.FLOAT,
            values: new Float32Array([0.25, -1.5]),
          },
        ],
      }),
    );
    const reopened = await openModel(out.bytes, { fileName: 'folded.onnx' });
    expect(reopened.main.nodes.map((n) => [n.opType, n.inputs, n.outputs])).to.deep.equal([
      ['Conv', ['x', 'conv.w', 'conv.b'], ['y']],
    ]);
    expect(reopened.main.inputs).to.deep.equal(['x']);
    expect(reopened.main.outputs).to.deep.equal(['y']);
    expect(await values(constant(reopened, 'conv.b'))).to.deep.equal([0.25, -1.5]);
    expect(await values(constant(reopened, 'conv.w'))).to.deep.equal([0.5, 4]);
    expect(constant(reopened, 'conv.b').origin).to.equal('initializer');
  });

  it('a float16 bias stays float16; a Constant-weight Conv gains an input and a new output name in one plan', async () => {
    const model = open(constantNodeModel());
    const conv = nodeNamed(model.main, 'conv_c');
    const out = exportModel(
      model,
      plan({
        tensors: [edit(constant(model, 'w_const'), [1, 2, 3])],
        renameOutputs: [{ node: conv, index: 0, name: 'y2' }],
        appendInputs: [{ node: conv, name: 'b16' }],
        addInitializers: [
          {
            graph: model.main,
            name: 'b16',
            dims: [1],
            dataType: DataType.FLOAT16,
            values: new Float32Array([1 + 2 ** -11]),
          },
        ],
      }),
    );
    const reopened = open(out.bytes);
    const c = nodeNamed(reopened.main, 'conv_c');
    expect([c.inputs, c.outputs]).to.deep.equal([['x', 'w_const', 'b16'], ['y2']]);
    expect(constant(reopened, 'b16').dtype).to.equal('float16');
    expect(await values(constant(reopened, 'b16'))).to.deep.equal([1]);
    expect(await values(constant(reopened, 'w_const'))).to.deep.equal([1, 2, 3]);
  });

  it('an appended input fills a trailing empty optional input', async () => {
    const model = open(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('w', [1, 1, 1, 1], [2])],
        node: [node('Conv', ['x', 'w', ''], ['y'], 'conv')],
      }),
    );
    const out = exportModel(
      model,
      plan({
        appendInputs: [{ node: model.main.nodes[0]!, name: 'b' }],
        addInitializers: [
          { graph: model.main, name: 'b', dims: [1], dataType: DataType.FLOAT, values: new Float32Array([3]) },
        ],
      }),
    );
    expect(open(out.bytes).main.nodes[0]!.inputs).to.deep.equal(['x', 'w', 'b']);
  });

  it('rewrites a Clip into a Relu and drops initializers nothing uses', async () => {
    const model = open(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('lo', [], [0]), f32Tensor('hi', [], [6])],
        node: [node('Clip', ['x', 'lo', 'hi'], ['y'], 'clip')],
      }),
    );
    const out = exportModel(
      model,
      plan({
        rewriteNodes: [{ node: model.main.nodes[0]!, opType: 'Relu', inputs: ['x'] }],
        removeInitializers: [constant(model, 'lo'), constant(model, 'hi')],
      }),
    );
    const reopened = open(out.bytes);
    expect(reopened.main.nodes.map((n) => [n.name, n.opType, n.inputs])).to.deep.equal([['clip', 'Relu', ['x']]]);
    expect([...reopened.main.constants.keys()]).to.deep.equal([]);
  });

  it('keeps unknown fields (ModelProto, GraphProto, NodeProto), metadata_props and doc strings', async () => {
    const convNode = onnx.NodeProto.encode({
      ...node('Conv', ['x', 'w'], ['y'], 'conv'),
      docString: 'node doc',
    }).finish();
    const nodeBytes = join(
      convNode,
      lenField(999, text('node-extra')),
      fixed64Field(998, [1, 2, 3, 4, 5, 6, 7, 8]),
      fixed32Field(997, [9, 9, 9, 9]),
    );
    const graphBytes = join(
      onnx.GraphProto.encode({
        name: 'g',
        docString: 'graph doc',
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        valueInfo: [valueInfo('y')],
        initializer: [f32Tensor('w', [1, 1, 1, 2], [1, 2])],
      }).finish(),
      lenField(1, nodeBytes),
      varintField(999, 123456789),
      lenField(1000, text('graph-extra')),
    );
    const head = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'p',
      docString: 'model doc',
      opsetImport: [{ domain: '', version: 17 }],
      metadataProps: [
        { key: 'author', value: 'me' },
        { key: 'license', value: 'MIT' },
      ],
    }).finish();
    const known = join(head, lenField(7, graphBytes));
    const unknownTop = lenField(999, text('model-extra'));
    const bytes = join(known, unknownTop);
    // The reader refuses fields ModelProto does not have at the top level; the exporter must still keep
    // them, so it gets a model decoded without the trailing unknown record but holding all the bytes.
    const model: Model = { ...open(known), bytes };

    const w = constant(model, 'w');
    const out = exportModel(model, plan({ tensors: [edit(w, [5, 6])] }));
    expect(out.bytes.length).to.equal(bytes.length);
    const at = find(bytes, f32Bytes([1, 2]));
    expectSameOutside(bytes, out.bytes, at, at + 8);

    // And with a structural change (the lengths change all the way up): the unknown records still there.
    const changed = exportModel(
      model,
      plan({
        renameOutputs: [{ node: model.main.nodes[0]!, index: 0, name: 'renamed_output' }],
        addInitializers: [
          { graph: model.main, name: 'b', dims: [1], dataType: DataType.FLOAT, values: new Float32Array([1]) },
        ],
        appendInputs: [{ node: model.main.nodes[0]!, name: 'b' }],
      }),
    ).bytes;
    const top = records(changed);
    expect(top.at(-1)).to.deep.include({ field: 999, wire: 2 });
    expect(new TextDecoder().decode(top.at(-1)!.data)).to.equal('model-extra');
    const graph = records(top.find((r) => r.field === 7)!.data);
    expect(graph.filter((r) => r.field >= 999).map((r) => [r.field, r.wire])).to.deep.equal([
      [999, 0],
      [1000, 2],
    ]);
    const nodeRecords = records(graph.find((r) => r.field === 1)!.data);
    expect(nodeRecords.filter((r) => r.field >= 997).map((r) => [r.field, r.wire, [...r.data]])).to.deep.equal([
      [999, 2, text('node-extra')],
      [998, 1, [1, 2, 3, 4, 5, 6, 7, 8]],
      [997, 5, [9, 9, 9, 9]],
    ]);
    const proto = onnx.ModelProto.decode(changed);
    expect(proto.docString).to.equal('model doc');
    expect(proto.metadataProps!.map((p) => [p.key, p.value])).to.deep.equal([
      ['author', 'me'],
      ['license', 'MIT'],
    ]);
    expect(proto.graph!.docString).to.equal('graph doc');
    expect(proto.graph!.valueInfo!.map((v) => v.name)).to.deep.equal(['y']);
    expect(proto.graph!.node![0]!.docString).to.equal('node doc');
    expect(proto.graph!.node![0]!.input).to.deep.equal(['x', 'w', 'b']);
    expect(proto.graph!.node![0]!.output).to.deep.equal(['renamed_output']);
    expect(proto.opsetImport!.map((o) => [o.domain, Number(o.version)])).to.deep.equal([['', 17]]);
  });
});

describe('export: errors', () => {
  it('a wrong element count is BAD_TENSOR naming the file and tensor', () => {
    const model = open(convModel(), 'conv.onnx');
    const e = expectThrows(
      () => exportModel(model, plan({ tensors: [edit(constant(model, 'conv1.bias'), [1, 2, 3])] })),
      'BAD_TENSOR',
    );
    expect(e.message).to.contain('conv.onnx').and.to.contain('conv1.bias');
    expect(e.tensor).to.equal('conv1.bias');
  });

  it('a dequantized tensor is USAGE; an int8 tensor is UNSUPPORTED_DTYPE', () => {
    const model = open(
      qdqModel(
        rawTensor('q', [2, 1, 1, 1], DataType.INT8, new Uint8Array([1, 255])),
        f32Tensor('s', [], [0.5]),
        undefined,
      ),
      'q.onnx',
    );
    const dq = dequantizedWeight(model.main, nodeNamed(model.main, 'dq'), model.fileName)!;
    expect(dq.origin).to.equal('dequantized');
    expectThrows(() => exportModel(model, plan({ tensors: [edit(dq, [1, 2])] })), 'USAGE');
    expectThrows(
      () => exportModel(model, plan({ tensors: [edit(constant(model, 'q'), [1, 2])] })),
      'UNSUPPORTED_DTYPE',
    );
  });

  it('never writes floats over a QOperator weight or its int32 bias (USAGE)', () => {
    const model = open(qlinearConvModel(), 'q.onnx');
    const [layer] = findWeightLayers(model);
    expect(
      expectThrows(() => exportModel(model, plan({ tensors: [edit(layer!.weight, [1, 2, 3, 4, 5, 6])] })), 'USAGE')
        .message,
    ).to.contain('"w_q" is dequantized');
    expect(
      expectThrows(() => exportModel(model, plan({ tensors: [edit(layer!.bias!, [1, 2])] })), 'USAGE').message,
    ).to.contain('"b_q" is dequantized');
  });

  it('conflicting plans are USAGE: a removed node renamed, a tensor edited twice, a name taken', () => {
    const model = open(convBatchNormModel('none'));
    const bn = nodeNamed(model.main, 'bn');
    expectThrows(
      () => exportModel(model, plan({ removeNodes: [bn], renameOutputs: [{ node: bn, index: 0, name: 'z' }] })),
      'USAGE',
    );
    const w = constant(model, 'conv.w');
    expectThrows(() => exportModel(model, plan({ tensors: [edit(w, [1, 2]), edit(w, [3, 4])] })), 'USAGE');
    const taken = {
      graph: model.main,
      name: 'bn.gamma',
      dims: [1],
      dataType: DataType.FLOAT,
      values: new Float32Array(1),
    };
    expectThrows(() => exportModel(model, plan({ addInitializers: [taken] })), 'USAGE');
    const ext = decodeModel(initializersModel([externalTensor('e', [1], 'w.bin', 0, 4)]), {
      fileName: 'ext.onnx',
      externalData: memorySource({ 'w.bin': f32Bytes([1]) }),
    });
    const extEdit = plan({ tensors: [edit(constant(ext, 'e'), [2])] });
    expectThrows(() => exportModel(ext, extEdit, { dataFileName: '../up.data' }), 'UNSAFE_PATH');
    expectThrows(() => exportModel(ext, extEdit, { dataFileName: 'w.bin' }), 'USAGE'); // would mix two files under one name
    expect(exportModel(model, plan({ tensors: [edit(w, [1, 2])] }), { dataFileName: 'w.bin' }).dataFiles.size).to.equal(
      0,
    ); // no file needed
  });
});

function expectThrows(fn: () => unknown, code: string): WeightlensError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(WeightlensError);
    expect((e as WeightlensError).code, (e as Error).message).to.equal(code);
    return e as WeightlensError;
  }
  throw new Error(`expected a ${code} error`);
}

describe('export: float16 and bfloat16 rounding', () => {
  it('every finite float16 round-trips; every midpoint goes to the even neighbour, just off it to the nearer', () => {
    const table = float16Table();
    const f32 = new Float32Array(1);
    for (let h = 0; h < 0x10000; h++) {
      const v = table[h]!;
      if (Number.isNaN(v)) {
        expect(Number.isNaN(table[float32ToFloat16Bits(v)]!), `NaN ${h.toString(16)}`).to.equal(true);
        continue;
      }
      if (float32ToFloat16Bits(v) !== h)
        expect.fail(`${h.toString(16)} (${v}) -> ${float32ToFloat16Bits(v).toString(16)}`);
      const next = h + 1;
      if ((h & 0x7fff) >= 0x7c00 || (next & 0x7fff) > 0x7c00) continue;
      // Midpoint of h and h+1 (same sign; magnitude grows with the bits): exact in float32.
      const upper = (next & 0x7fff) === 0x7c00 ? Math.sign(v || 1) * 65536 : table[next]!; // 65504's upper neighbour for rounding is 2^16
      const mid = (v + upper) / 2;
      f32[0] = mid;
      expect(f32[0], `midpoint ${h.toString(16)}`).to.equal(mid);
      const even = h & 1 ? next : h;
      if (float32ToFloat16Bits(mid) !== even)
        expect.fail(
          `midpoint of ${h.toString(16)} -> ${float32ToFloat16Bits(mid).toString(16)}, expected ${even.toString(16)}`,
        );
      const below = mid - Math.abs(mid) * 2 ** -23;
      const above = mid + Math.abs(mid) * 2 ** -23;
      const [lo, hi] = v >= 0 && !Object.is(v, -0) ? [h, next] : [next, h];
      if (Math.fround(below) !== below || Math.fround(above) !== above) continue;
      if (float32ToFloat16Bits(below) !== lo) expect.fail(`just below the midpoint of ${h.toString(16)}`);
      if (float32ToFloat16Bits(above) !== hi) expect.fail(`just above the midpoint of ${h.toString(16)}`);
    }
  });

  it('special values', () => {
    expect(float32ToFloat16Bits(Infinity)).to.equal(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).to.equal(0xfc00);
    expect(float32ToFloat16Bits(1e10)).to.equal(0x7c00);
    expect(float32ToFloat16Bits(-1e10)).to.equal(0xfc00);
    expect(float32ToFloat16Bits(65504)).to.equal(0x7bff);
    expect(float32ToFloat16Bits(2 ** -14)).to.equal(0x0400);
    expect(float32ToFloat16Bits(2 ** -14 - 2 ** -25)).to.equal(0x0400); // rounds up into the normals (tie, odd 0x3ff -> even)
    expect(float32ToFloat16Bits(2 ** -149)).to.equal(0); // a float32 subnormal
    expect(float32ToFloat16Bits(-(2 ** -149))).to.equal(0x8000);
    expect(float32ToFloat16Bits(NaN) & 0x7c00).to.equal(0x7c00);
    expect(float32ToFloat16Bits(NaN) & 0x3ff).to.not.equal(0);
    expect(float32ToBfloat16Bits(NaN) & 0x7f).to.not.equal(0);
    expect(float32ToBfloat16Bits(Infinity)).to.equal(0x7f80);
    expect(float32ToBfloat16Bits(3.4028234663852886e38)).to.equal(0x7f80); // max float32 rounds up to Inf
    expect(float32ToBfloat16Bits(-0)).to.equal(0x8000);
  });

  it('bfloat16: every pattern round-trips; midpoints tie to even', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let b = 0; b < 0x10000; b++) {
      u32[0] = b << 16;
      const v = f32[0]!;
      if (Number.isNaN(v)) continue;
      if (float32ToBfloat16Bits(v) !== b) expect.fail(`${b.toString(16)} -> ${float32ToBfloat16Bits(v).toString(16)}`);
      if ((b & 0x7fff) >= 0x7f80) continue;
      u32[0] = ((b << 16) | 0x8000) >>> 0; // midpoint to the next pattern
      const even = b & 1 ? b + 1 : b;
      if (float32ToBfloat16Bits(f32[0]!) !== even) expect.fail(`midpoint after ${b.toString(16)}`);
      u32[0] = ((b << 16) | 0x8001) >>> 0;
      if (float32ToBfloat16Bits(f32[0]!) !== b + 1) expect.fail(`above the midpoint after ${b.toString(16)}`);
      u32[0] = ((b << 16) | 0x7fff) >>> 0;
      if (float32ToBfloat16Bits(f32[0]!) !== b) expect.fail(`below the midpoint after ${b.toString(16)}`);
    }
  });
});
