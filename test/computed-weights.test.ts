// Weights computed at run time from constants by Slice, Concat, Unsqueeze, Squeeze, Reshape and Transpose
// (exports without constant folding): read as constants with the right values (checked element by element
// against a plain computation here), refused cleanly or with BAD_GRAPH on hostile graphs, never counted as
// parameters twice, never rewritten by CLE or the exporter. Both runners; models built in memory.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { findCleChains } from '../src/analysis/cle-sets.js';
import { findWeightLayers, type WeightLayer } from '../src/analysis/layers.js';
import { countParameters } from '../src/analysis/parameter-count.js';
import { channelLabel } from '../src/analysis/recurrent.js';
import { WeightlensError } from '../src/errors.js';
import { decodeModel } from '../src/onnx/decode.js';
import { exportModel } from '../src/onnx/export/export.js';
import type { Model } from '../src/onnx/model.js';
import { openModel } from '../src/onnx/open.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  DataType,
  attr,
  f32Tensor,
  intTensor,
  modelBytes,
  node,
  valueInfo,
  type INodeProto,
  type ITensorProto,
} from './fixtures/onnx-bytes.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const FILE = 'computed.onnx';

/** Distinct values 0.5·i − 3 for a source of n elements, so every misplaced element shows. */
const ramp = (n: number) => Array.from({ length: n }, (_, i) => 0.5 * i - 3);
const i64 = (name: string, values: readonly (number | bigint)[]) =>
  intTensor(name, [values.length], DataType.INT64, values);

/** `nodes` then MatMul(x, weight) "mm": the weight layer's tensor is whatever `weight` resolves to. */
function matmulOn(weight: string, nodes: INodeProto[], initializer: ITensorProto[], opset?: number): Promise<Model> {
  return openModel(
    modelBytes(
      {
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer,
        node: [...nodes, node('MatMul', ['x', weight], ['y'], 'mm')],
      },
      opset,
    ),
    { fileName: FILE },
  );
}

function onlyLayer(model: Model): WeightLayer {
  const layers = findWeightLayers(model);
  expect(layers.map((l) => l.name)).to.deep.equal(['mm']);
  return layers[0]!;
}

async function valuesOf(model: Model): Promise<{ shape: readonly number[]; values: number[]; layer: WeightLayer }> {
  const layer = onlyLayer(model);
  const dest = new Float32Array(layer.weight.size);
  await layer.weight.readFloat32Into(dest);
  return { shape: layer.weight.shape, values: [...dest], layer };
}

/** Row-major element of `values` (shape `shape`) at `index`. */
const at = (values: number[], shape: number[], index: number[]) =>
  values[index.reduce((o, i, k) => o * shape[k]! + i, 0)]!;

function expectBadGraph(fn: () => unknown, ...phrases: string[]): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'a BAD_GRAPH error').to.be.instanceOf(WeightlensError);
  const e = error as WeightlensError;
  expect(e.code, e.message).to.equal('BAD_GRAPH');
  expect(e.file).to.equal(FILE);
  for (const phrase of [FILE, ...phrases]) expect(e.message).to.contain(phrase);
}

describe('weights computed from constants', () => {
  it('Slice (inputs): negative start, INT64_MAX end, a negative axis and step 2 on one axis, step -1 on another', async () => {
    const w = ramp(5 * 6);
    const model = await matmulOn(
      's',
      [node('Slice', ['w', 'starts', 'ends', 'axes', 'steps'], ['s'], 'slice')],
      [
        f32Tensor('w', [5, 6], w),
        i64('starts', [-4, 4]),
        i64('ends', [INT64_MAX, INT64_MIN]),
        i64('axes', [0, -1]),
        i64('steps', [2, -1]),
      ],
    );
    const { shape, values, layer } = await valuesOf(model);
    // rows 1, 3 (from 5 − 4 = 1, clamped to the end); columns 4, 3, 2, 1, 0 (INT64_MIN clamps to before 0)
    expect(shape).to.deep.equal([2, 5]);
    const expected = [1, 3].flatMap((r) => [4, 3, 2, 1, 0].map((c) => at(w, [5, 6], [r, c])));
    expect(values).to.deep.equal(expected);
    expect(layer.weight).to.include({ name: 's', origin: 'computed', dtype: 'float32' });
    expect(layer.weight.computation).to.include({ op: 'Slice', node: 'slice' });
  });

  it('Slice (opset 1 attributes): starts/ends/axes; an end past the dimension, and INT64_MAX, clamp', async () => {
    const w = ramp(4 * 3);
    // protobufjs writes an int64 given as { low, high } exactly: 0x7fffffff_ffffffff
    const int64Max = { low: -1, high: 0x7fffffff } as unknown as number;
    const model = await matmulOn(
      's',
      [
        node('Slice', ['w'], ['s'], 'slice', [
          attr.ints('starts', [1, 1]),
          attr.ints('ends', [1000, int64Max]),
          attr.ints('axes', [0, 1]),
        ]),
      ],
      [f32Tensor('w', [4, 3], w)],
      9,
    );
    const { shape, values } = await valuesOf(model);
    expect(shape).to.deep.equal([3, 2]);
    expect(values).to.deep.equal([1, 2, 3].flatMap((r) => [1, 2].map((c) => at(w, [4, 3], [r, c]))));
  });

  it('Concat along a middle axis of two different sources', async () => {
    const [a, b] = [ramp(2 * 3 * 2), ramp(2 * 1 * 2).map((v) => v + 100)];
    const model = await matmulOn(
      'c',
      [node('Concat', ['a', 'b'], ['c'], 'concat', [attr.int('axis', -2)])],
      [f32Tensor('a', [2, 3, 2], a), f32Tensor('b', [2, 1, 2], b)],
    );
    const { shape, values } = await valuesOf(model);
    expect(shape).to.deep.equal([2, 4, 2]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        for (let k = 0; k < 2; k++) expected.push(j < 3 ? at(a, [2, 3, 2], [i, j, k]) : at(b, [2, 1, 2], [i, 0, k]));
      }
    }
    expect(values).to.deep.equal(expected);
  });

  it('Unsqueeze (axes input, and attribute at opset 11, negative), Squeeze (axes, and all ones): shapes change, order does not', async () => {
    const w = ramp(6);
    const input = await valuesOf(
      await matmulOn(
        'u',
        [node('Unsqueeze', ['w', 'axes'], ['u'], 'unsq')],
        [f32Tensor('w', [2, 3], w), i64('axes', [0, -1])],
      ),
    );
    expect(input.shape).to.deep.equal([1, 2, 3, 1]);
    expect(input.values).to.deep.equal(w);
    const attribute = await valuesOf(
      await matmulOn(
        'u',
        [node('Unsqueeze', ['w'], ['u'], 'unsq', [attr.ints('axes', [-2])])],
        [f32Tensor('w', [2, 3], w)],
        11,
      ),
    );
    expect(attribute.shape).to.deep.equal([2, 1, 3]);
    const squeezed = await valuesOf(
      await matmulOn(
        'q',
        [node('Squeeze', ['w', 'axes'], ['q'], 'sq')],
        [f32Tensor('w', [1, 2, 1, 3], w), i64('axes', [2])],
      ),
    );
    expect(squeezed.shape).to.deep.equal([1, 2, 3]);
    const all = await valuesOf(
      await matmulOn('q', [node('Squeeze', ['w'], ['q'], 'sq')], [f32Tensor('w', [1, 2, 1, 3], w)]),
    );
    expect(all.shape).to.deep.equal([2, 3]);
    expect(all.values).to.deep.equal(w);
  });

  it('Reshape with 0 (copy) and -1 (infer), and Transpose with perm and with the default (reversed) order', async () => {
    const w = ramp(2 * 3 * 4);
    const reshaped = await valuesOf(
      await matmulOn(
        'r',
        [node('Reshape', ['w', 'shape'], ['r'], 'reshape')],
        [f32Tensor('w', [2, 3, 4], w), i64('shape', [0, -1])],
      ),
    );
    expect(reshaped.shape).to.deep.equal([2, 12]);
    expect(reshaped.values).to.deep.equal(w);

    const perm = [1, 2, 0];
    const transposed = await valuesOf(
      await matmulOn(
        't',
        [node('Transpose', ['w'], ['t'], 'transpose', [attr.ints('perm', perm)])],
        [f32Tensor('w', [2, 3, 4], w)],
      ),
    );
    expect(transposed.shape).to.deep.equal([3, 4, 2]);
    const expected: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) for (let k = 0; k < 2; k++) expected.push(at(w, [2, 3, 4], [k, i, j]));
    expect(transposed.values).to.deep.equal(expected);

    const reversed = await valuesOf(
      await matmulOn('t', [node('Transpose', ['w'], ['t'], 'transpose')], [f32Tensor('w', [2, 3], ramp(6))]),
    );
    expect(reversed.shape).to.deep.equal([3, 2]);
    expect(reversed.values).to.deep.equal([0, 3, 1, 4, 2, 5].map((i) => ramp(6)[i]));
  });

  it('through Identity and DequantizeLinear: Transpose(Identity(DequantizeLinear(int8))) reads the dequantized values', async () => {
    const model = await matmulOn(
      't',
      [
        node('DequantizeLinear', ['q', 'scale'], ['dq'], 'dq'),
        node('Identity', ['dq'], ['id'], 'id'),
        node('Transpose', ['id'], ['t'], 'transpose'),
      ],
      [intTensor('q', [2, 2], DataType.INT8, [1, -2, 3, 4]), f32Tensor('scale', [], [0.5])],
    );
    const { values, layer } = await valuesOf(model);
    expect(values).to.deep.equal([0.5, 1.5, -1, 2]);
    expect(layer.weight.dtype, 'the stored type').to.equal('int8');
  });

  it('a weight computed from a constant that is also a graph input is overridable, as that constant is', async () => {
    const model = await openModel(
      modelBytes({
        input: [valueInfo('x'), valueInfo('w')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('w', [2, 3], ramp(6))],
        node: [node('Transpose', ['w'], ['t'], 'transpose'), node('MatMul', ['x', 't'], ['y'], 'mm')],
      }),
      { fileName: FILE },
    );
    expect(findWeightLayers(model).map((l) => [l.weight.name, l.overridable])).to.deep.equal([['t', true]]);
    const fixed = await matmulOn(
      't',
      [node('Transpose', ['w'], ['t'], 'transpose')],
      [f32Tensor('w', [2, 3], ramp(6))],
    );
    expect(onlyLayer(fixed).overridable).to.equal(false);
  });

  it('Silero VAD-style LSTM: W, R and B rebuilt from PyTorch gate order (i, f, g, o) into ONNX order (i, o, f, c)', async () => {
    const H = 2;
    const input = 3;
    const [wIh, wHh, bIh, bHh] = [
      ramp(4 * H * input),
      ramp(4 * H * H).map((v) => v * 3),
      ramp(4 * H).map((v) => v + 50),
      ramp(4 * H).map((v) => v - 50),
    ];
    // PyTorch rows: i 0..H, f H..2H, g 2H..3H, o 3H..4H; ONNX wants i, o, f, g: slices [0,H), [3H,4H), [H,3H).
    const reorder = (source: string, tag: string): INodeProto[] => [
      node('Slice', [source, 's0', 'e0', 'ax'], [`${tag}_i`], `${tag}_slice_i`),
      node('Slice', [source, 's1', 'e1', 'ax'], [`${tag}_o`], `${tag}_slice_o`),
      node('Slice', [source, 's2', 'e2', 'ax'], [`${tag}_fg`], `${tag}_slice_fg`),
      node('Concat', [`${tag}_i`, `${tag}_o`, `${tag}_fg`], [`${tag}_cat`], `${tag}_concat`, [attr.int('axis', 0)]),
    ];
    const model = await openModel(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [
          f32Tensor('weight_ih', [4 * H, input], wIh),
          f32Tensor('weight_hh', [4 * H, H], wHh),
          f32Tensor('bias_ih', [4 * H], bIh),
          f32Tensor('bias_hh', [4 * H], bHh),
          i64('s0', [0]),
          i64('e0', [H]),
          i64('s1', [3 * H]),
          i64('e1', [4 * H]),
          i64('s2', [H]),
          i64('e2', [3 * H]),
          i64('ax', [0]),
          i64('zero', [0]),
        ],
        node: [
          ...reorder('weight_ih', 'w'),
          ...reorder('weight_hh', 'r'),
          ...reorder('bias_ih', 'bi'),
          ...reorder('bias_hh', 'bh'),
          node('Concat', ['bi_cat', 'bh_cat'], ['b_both'], 'b_both', [attr.int('axis', 0)]),
          node('Unsqueeze', ['w_cat', 'zero'], ['W'], 'unsqueeze_w'),
          node('Unsqueeze', ['r_cat', 'zero'], ['R'], 'unsqueeze_r'),
          node('Unsqueeze', ['b_both', 'zero'], ['B'], 'unsqueeze_b'),
          node('LSTM', ['x', 'W', 'R', 'B'], ['y'], 'lstm', [attr.int('hidden_size', H)]),
        ],
      }),
      { fileName: FILE },
    );
    const report = await computeStats(model);
    expect(report.layers.map((l) => [l.name, l.weight, l.shape, l.bias])).to.deep.equal([
      ['lstm/W', 'W', [1, 4 * H, input], 'B'],
      ['lstm/R', 'R', [1, 4 * H, H], null],
    ]);
    const [W] = report.layers;
    const onnxRows = [0, 1, 6, 7, 2, 3, 4, 5]; // ONNX row r holds PyTorch row onnxRows[r]
    expect(W!.channels.max).to.deep.equal(onnxRows.map((p) => Math.max(...wIh.slice(p * input, (p + 1) * input))));
    expect(W!.channels.min).to.deep.equal(onnxRows.map((p) => Math.min(...wIh.slice(p * input, (p + 1) * input))));
    // ONNX row 2 is the output gate's first unit, PyTorch row 6 (gate o, 3H).
    expect(channelLabel(W!, 2)).to.equal('Channel 2 (gate o, unit 0)');
    expect(channelLabel(W!, 7)).to.equal('Channel 7 (gate c, unit 1)');
    const stored = wIh.length + wHh.length + bIh.length + bHh.length;
    expect(report.model.parameters, 'each stored element once, the computed W, R and B not again').to.equal(stored);
    expect(countParameters(model)).to.deep.equal({ parameters: stored, quantizedParameters: 0 });
    const b = new Float32Array(2 * 4 * H);
    await findWeightLayers(model)[0]!.bias!.readFloat32Into(b);
    expect([...b], 'B = [Wb in ONNX order, Rb in ONNX order]').to.deep.equal([
      ...onnxRows.map((p) => bIh[p]),
      ...onnxRows.map((p) => bHh[p]),
    ]);
  });

  it('each stored source is read once per read, however many slices take from it', async () => {
    const w = ramp(6 * 2);
    const model = await matmulOn(
      'c',
      [
        node('Slice', ['w', 'a0', 'a1'], ['top'], 'top'),
        node('Slice', ['w', 'a1', 'a2'], ['bottom'], 'bottom'),
        node('Concat', ['bottom', 'top'], ['c'], 'concat', [attr.int('axis', 0)]),
      ],
      [f32Tensor('w', [6, 2], w), i64('a0', [0]), i64('a1', [3]), i64('a2', [6])],
    );
    const layer = onlyLayer(model);
    const stored = model.main.constants.get('w')!;
    let reads = 0;
    const read = stored.readFloat32Into.bind(stored);
    stored.readFloat32Into = (dest, signal) => {
      reads++;
      return read(dest, signal);
    };
    const dest = new Float32Array(layer.weight.size);
    await layer.weight.readFloat32Into(dest);
    expect([...dest]).to.deep.equal([...w.slice(6), ...w.slice(0, 6)]);
    expect(reads).to.equal(1);
  });

  it('CLE names a computed weight as not rewritable, and the exporter refuses to write it', async () => {
    const model = await openModel(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [f32Tensor('w1', [3, 4], ramp(12)), f32Tensor('w2', [4, 2], ramp(8))],
        node: [
          node('Transpose', ['w1'], ['w1t'], 'transpose'),
          node('MatMul', ['x', 'w1t'], ['h'], 'mm1'),
          node('Relu', ['h'], ['r'], 'relu'),
          node('MatMul', ['r', 'w2'], ['y'], 'mm2'),
        ],
      }),
      { fileName: FILE },
    );
    const layers = findWeightLayers(model);
    expect(layers.map((l) => [l.name, l.weight.origin])).to.deep.equal([
      ['mm1', 'computed'],
      ['mm2', 'initializer'],
    ]);
    const { chains, skipped } = findCleChains(model, layers, [], new Map());
    expect(chains).to.deep.equal([]);
    expect(skipped).to.deep.equal([
      {
        layers: ['mm1', 'mm2'],
        reason: `mm1's weight "w1t" is computed at run time from constants (Transpose): CLE can only rewrite stored tensors`,
      },
    ]);
    let error: unknown;
    try {
      exportModel(model, {
        tensors: [{ tensor: layers[0]!.weight, values: new Float32Array(12) }],
        removeNodes: [],
        renameOutputs: [],
        appendInputs: [],
        addInitializers: [],
      });
    } catch (e) {
      error = e;
    }
    expect((error as WeightlensError).code).to.equal('USAGE');
    expect((error as WeightlensError).message).to.contain('"w1t" is computed at run time from constants (Transpose)');
  });
});

describe('hostile or run-time inputs to computed weights', () => {
  const one = (nodes: INodeProto[], initializer: ITensorProto[], weight = 'out') =>
    matmulOn(weight, nodes, initializer);

  it('Reshape claiming more elements than its input holds: BAD_GRAPH naming file, node and both counts, nothing allocated', async () => {
    const model = await one(
      [node('Reshape', ['w', 'shape'], ['out'], 'reshape_big')],
      [f32Tensor('w', [2, 3], ramp(6)), i64('shape', [1 << 30, 1 << 30])],
    );
    expectBadGraph(
      () => findWeightLayers(model),
      'Reshape "reshape_big"',
      'claims 1152921504606847000 elements',
      'has 6',
    );
  });

  it('Concat of mismatched shapes or types, bad axes, perm, steps and index counts: BAD_GRAPH', async () => {
    const w = f32Tensor('w', [2, 3], ramp(6));
    const cases: [INodeProto[], ITensorProto[], string[]][] = [
      [
        [node('Concat', ['w', 'v'], ['out'], 'cat', [attr.int('axis', 0)])],
        [w, f32Tensor('v', [2, 4], ramp(8))],
        ['Concat "cat"', 'does not fit'],
      ],
      [[node('Concat', ['w', 'w'], ['out'], 'cat', [attr.int('axis', 2)])], [w], ['axis 2 is out of range']],
      [
        [node('Transpose', ['w'], ['out'], 'tr', [attr.ints('perm', [0, 0])])],
        [w],
        ['Transpose "tr"', 'not a permutation'],
      ],
      [
        [node('Slice', ['w', 'a', 'b', 'a', 'z'], ['out'], 'sl')],
        [w, i64('a', [0]), i64('b', [1]), i64('z', [0])],
        ['Slice "sl"', 'step 0'],
      ],
      [
        [node('Slice', ['w', 'a', 'ab'], ['out'], 'sl')],
        [w, i64('a', [0]), i64('ab', [1, 2])],
        ['1 starts but 2 ends'],
      ],
      [
        [node('Unsqueeze', ['w', 'a'], ['out'], 'un')],
        [w, i64('a', [5])],
        ['Unsqueeze "un"', 'axes 5 is out of range for rank 3'],
      ],
      [[node('Squeeze', ['w', 'a'], ['out'], 'sq')], [w, i64('a', [1])], ['axis 1', 'not 1']],
      [[node('Reshape', ['w', 'many'], ['out'], 'rs')], [w, i64('many', Array(65).fill(1))], ['65 values']],
    ];
    for (const [nodes, initializer, phrases] of cases)
      expectBadGraph(() => findWeightLayers(openModelSync(nodes, initializer)), ...phrases);
  });

  it('not constants: a Concat repeating its source past its size, a cycle, a chain longer than the bound, run-time indices, int64 data', async () => {
    const w = f32Tensor('w', [1, 4], ramp(4));
    const repeated = await one([node('Concat', Array(1000).fill('w'), ['out'], 'cat', [attr.int('axis', 0)])], [w]);
    const cycle = await one(
      [
        node('Concat', ['w', 'b'], ['a'], 'cat_a', [attr.int('axis', 0)]),
        node('Concat', ['w', 'a'], ['b'], 'cat_b', [attr.int('axis', 0)]),
        node('Identity', ['a'], ['out'], 'id'),
      ],
      [w],
    );
    const chain = Array.from({ length: 300 }, (_, i) =>
      node('Identity', [i === 0 ? 'w' : `v${i - 1}`], [i === 299 ? 'out' : `v${i}`], `id${i}`),
    );
    const long = await one(chain, [w]);
    // Concat(a, a) nested 40 deep: 2^40 paths to trace without a bound
    const doubling = Array.from({ length: 40 }, (_, i) =>
      node('Concat', [i === 0 ? 'w' : `d${i - 1}`, i === 0 ? 'w' : `d${i - 1}`], [i === 39 ? 'out' : `d${i}`], `d${i}`),
    );
    const wide = await one(doubling, [w]);
    const runTime = await openModel(
      modelBytes({
        input: [valueInfo('x'), valueInfo('starts')],
        output: [valueInfo('y')],
        initializer: [w, i64('ends', [1])],
        node: [node('Slice', ['w', 'starts', 'ends'], ['out'], 'sl'), node('MatMul', ['x', 'out'], ['y'], 'mm')],
      }),
      { fileName: FILE },
    );
    const ints = await one(
      [node('Concat', ['i', 'i'], ['out'], 'cat', [attr.int('axis', 0)])],
      [intTensor('i', [1, 2], DataType.INT64, [1, 2])],
    );
    for (const model of [repeated, cycle, long, wide, runTime, ints]) expect(findWeightLayers(model)).to.deep.equal([]);
    const short = await one(
      chain.slice(0, 20).map((n, i) => (i === 19 ? { ...n, output: ['out'] } : n)),
      [w],
    );
    expect(
      findWeightLayers(short).map((l) => l.weight.name),
      'a chain within the bound resolves',
    ).to.deep.equal(['w']);
  });
});

/** `nodes` then MatMul(x, out), decoded synchronously (decodeModel) for expectBadGraph's callback. */
function openModelSync(nodes: INodeProto[], initializer: ITensorProto[]): Model {
  return decodeModel(
    modelBytes({
      input: [valueInfo('x')],
      output: [valueInfo('y')],
      initializer,
      node: [...nodes, node('MatMul', ['x', 'out'], ['y'], 'mm')],
    }),
    { fileName: FILE },
  );
}
