// Recurrent (LSTM, GRU, RNN) and embedding (Gather) weight layers: which tensors, the channel layout, the
// gate of each channel, shape errors, and CLE leaving them alone. Both runners; models built in memory.
import { before, describe, it } from 'node:test';
import { expect } from 'chai';
import { findBatchNormFolds, findCleSets } from '../src/analysis/cle-sets.js';
import { findWeightLayers } from '../src/analysis/layers.js';
import { channelLabel } from '../src/analysis/recurrent.js';
import { Kernels } from '../src/kernels/kernels.js';
import type { Model } from '../src/onnx/model.js';
import { openModel } from '../src/onnx/open.js';
import { toModelExplorerNodeData, toNetronAttachment } from '../src/report/interop.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  DataType,
  attr,
  f32Tensor,
  intTensor,
  modelBytes,
  node,
  oneNodeModel,
  valueInfo,
  type IAttributeProto,
  type ITensorProto,
} from './fixtures/onnx-bytes.js';
import { CleGraph } from './support/cle-graph.js';
import { expectChannels, reference } from './support/reference-stats.js';
import { rejects } from './support/rejects.js';

/** n values, i·k mod n spread over ±n/8 (k coprime with n): every row gets its own extremes. */
const pattern = (n: number, k: number) => Array.from({ length: n }, (_, i) => ((i * k) % n) * 0.25 - n / 8);
const open = (bytes: Uint8Array) => openModel(bytes, { fileName: 'rnn.onnx' });

/** One `op` node "rnn" reading x, W, R, B: names among `initializer` are constants, others graph inputs. */
const recurrent = (
  op: string,
  initializer: ITensorProto[],
  attributes: IAttributeProto[],
  inputs = ['x', 'W', 'R', 'B'],
) => open(oneNodeModel(op, 'rnn', inputs, initializer, attributes));

let kernels: Kernels;
const stats = (model: Model, layer?: string) =>
  computeStats(model, { kernels, ...(layer === undefined ? {} : { layer }) });

describe('recurrent weight layers (LSTM, GRU, RNN)', () => {
  before(async () => {
    kernels = await Kernels.load();
  });

  it('LSTM: W and R are two layers, one channel per gate row over axis 1; B is counted with W', async () => {
    const [w, r, b] = [pattern(60, 7), pattern(36, 5), pattern(24, 5)];
    const model = await recurrent(
      'LSTM',
      [f32Tensor('W', [1, 12, 5], w), f32Tensor('R', [1, 12, 3], r), f32Tensor('B', [1, 24], b)],
      [attr.int('hidden_size', 3)],
    );
    const layers = findWeightLayers(model);
    expect(
      layers.map((l) => [l.name, l.op, l.weight.name, l.bias?.name ?? null, l.channelAxis, l.groups]),
    ).to.deep.equal([
      ['rnn/W', 'LSTM', 'W', 'B', 1, 1],
      ['rnn/R', 'LSTM', 'R', null, 1, 1],
    ]);
    expect(layers[0]!.layout).to.deep.equal({ groups: 1, outer: 1, cg: 12, inner: 5 });
    expect(layers[1]!.recurrent).to.deep.equal({
      cell: 'LSTM',
      input: 'R',
      gates: ['i', 'o', 'f', 'c'],
      hidden: 3,
      directions: 1,
    });

    const report = await stats(model);
    const [W, R] = report.layers;
    expect(W).to.include({
      name: 'rnn/W',
      op: 'LSTM',
      weight: 'W',
      channelAxis: 1,
      bias: 'B',
      parameters: 60 + 24,
      batchNorm: null,
    });
    expect(R).to.include({ name: 'rnn/R', bias: null, parameters: 36 });
    expect(R!.recurrent).to.deep.equal({
      cell: 'LSTM',
      input: 'R',
      gates: ['i', 'o', 'f', 'c'],
      hidden: 3,
      directions: 1,
    });
    expectChannels(
      W!,
      reference(w, 12, (i) => Math.floor(i / 5)),
    );
    expectChannels(
      R!,
      reference(r, 12, (i) => Math.floor(i / 3)),
    );
    expect(report.model.parameters, 'W, R and B, each once').to.equal(60 + 36 + 24);
    expect(JSON.parse(JSON.stringify(report))).to.deep.equal(report);
  });

  it('bidirectional LSTM [2, 4·3, 5]: the reverse direction is channels 12–23; labels name direction, gate and unit', async () => {
    const w = pattern(120, 7);
    const model = await recurrent(
      'LSTM',
      [f32Tensor('W', [2, 12, 5], w), f32Tensor('R', [2, 12, 3], pattern(72, 5))],
      [attr.int('hidden_size', 3), attr.string('direction', 'bidirectional')],
    );
    expect(findWeightLayers(model)[0]!.layout).to.deep.equal({ groups: 2, outer: 1, cg: 12, inner: 5 });
    const report = await computeStats(model, { kernels, quant: true });
    const [W, R] = report.layers;
    expect(W!.recurrent).to.deep.equal({
      cell: 'LSTM',
      input: 'W',
      gates: ['i', 'o', 'f', 'c'],
      hidden: 3,
      directions: 2,
    });
    expectChannels(
      W!,
      reference(w, 24, (i) => Math.floor(i / 5)),
    );
    expect(R!.channels.min).to.have.length(24);
    expect(W!.quant?.int8.symmetric.perChannel).to.be.a('number');
    expect(channelLabel(W!, 0)).to.equal('Channel 0 (forward, gate i, unit 0)');
    expect(channelLabel(W!, 11)).to.equal('Channel 11 (forward, gate c, unit 2)');
    expect(channelLabel(W!, 19)).to.equal('Channel 19 (reverse, gate f, unit 1)'); // 19 − 12 = 7 = gate 2 · 3 + 1
  });

  it('GRU (gates z, r, h; hidden_size from the shape when the attribute is absent) and RNN (one gate)', async () => {
    const w = pattern(36, 5);
    const gru = await recurrent(
      'GRU',
      [f32Tensor('W', [1, 9, 4], w), f32Tensor('R', [1, 9, 3], pattern(27, 2))],
      [attr.string('direction', 'reverse')],
    );
    const [W] = (await stats(gru)).layers;
    expect(W!.recurrent).to.deep.equal({ cell: 'GRU', input: 'W', gates: ['z', 'r', 'h'], hidden: 3, directions: 1 });
    expectChannels(
      W!,
      reference(w, 9, (i) => Math.floor(i / 4)),
    );
    expect(channelLabel(W!, 4)).to.equal('Channel 4 (gate r, unit 1)');

    const rnn = await recurrent(
      'RNN',
      [
        f32Tensor('W', [1, 2, 3], pattern(6, 5)),
        f32Tensor('R', [1, 2, 2], pattern(4, 3)),
        f32Tensor('B', [1, 4], [1, 2, 3, 4]),
      ],
      [attr.int('hidden_size', 2)],
    );
    const layers = (await stats(rnn)).layers;
    expect(layers.map((l) => [l.name, l.op, l.parameters])).to.deep.equal([
      ['rnn/W', 'RNN', 6 + 4],
      ['rnn/R', 'RNN', 4],
    ]);
    expect(channelLabel(layers[1]!, 1)).to.equal('Channel 1 (unit 1)');
    expect(channelLabel({}, 5), 'any other layer').to.equal('Channel 5');
  });

  it('layer selection: the node name or output selects W and R, "<node>/R" or the tensor name one', async () => {
    const model = await recurrent(
      'LSTM',
      [f32Tensor('W', [1, 8, 1], pattern(8, 3)), f32Tensor('R', [1, 8, 2], pattern(16, 3))],
      [attr.int('hidden_size', 2)],
    );
    const names = async (key: string) => (await stats(model, key)).layers.map((l) => l.name);
    expect(await names('rnn')).to.deep.equal(['rnn/W', 'rnn/R']);
    expect(await names('y')).to.deep.equal(['rnn/W', 'rnn/R']);
    expect(await names('rnn/R')).to.deep.equal(['rnn/R']);
    expect(await names('W')).to.deep.equal(['rnn/W']);
  });

  it('Netron and Model Explorer: both layers on the node "rnn", W and R figures told apart, the worse one shown', async () => {
    const model = await recurrent(
      'LSTM',
      [f32Tensor('W', [1, 8, 3], pattern(24, 5)), f32Tensor('R', [1, 8, 2], pattern(16, 3))],
      [attr.int('hidden_size', 2)],
    );
    const report = await computeStats(model, { kernels, quant: true });
    const [W, R] = report.layers;
    const nodeMetrics = toNetronAttachment(report).metrics.filter((m) => m.kind === 'node');
    expect(new Set(nodeMetrics.map((m) => m.target))).to.deep.equal(new Set(['rnn']));
    expect(nodeMetrics.find((m) => m.name === 'W max relative range')!.value).to.equal(W!.maxRelativeRange);
    expect(nodeMetrics.find((m) => m.name === 'R INT8 SQNR per-tensor (dB)')!.value).to.equal(
      R!.quant!.int8.symmetric.perTensor,
    );
    const worst = (data: ReturnType<typeof toModelExplorerNodeData>) => data.main!.results;
    expect(worst(toModelExplorerNodeData(report, model))).to.deep.equal({
      y: { value: Math.max(W!.maxRelativeRange!, R!.maxRelativeRange!) },
    });
    const sqnr = [W!, R!].map((l) => l.quant!.int8.symmetric.perTensor!);
    expect(worst(toModelExplorerNodeData(report, model, 'sqnr'))).to.deep.equal({ y: { value: Math.min(...sqnr) } });
  });

  it('a W behind DequantizeLinear (int8, per-axis along the gate rows): statistics of the dequantized rows', async () => {
    const model = await open(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [
          intTensor('W_q', [1, 4, 2], DataType.INT8, [-4, 2, 6, 8, 0, 1, -8, 10]),
          f32Tensor('W_scale', [4], [0.5, 0.25, 1, 2]),
          f32Tensor('R', [1, 4, 4], pattern(16, 3)),
        ],
        node: [
          node('DequantizeLinear', ['W_q', 'W_scale'], ['W'], 'dq', [attr.int('axis', 1)]),
          node('RNN', ['x', 'W', 'R'], ['y'], 'rnn', [attr.int('hidden_size', 4)]),
        ],
      }),
    );
    const report = await stats(model);
    const [W] = report.layers;
    expect(W).to.include({ name: 'rnn/W', weight: 'W_q', dtype: 'int8' });
    expect(W!.channels.min).to.deep.equal([-2, 1.5, 0, -16]);
    expect(W!.channels.max).to.deep.equal([1, 2, 1, 20]);
    expect(W!.modelQuantization).to.include({ mode: 'axis', axis: 1 });
    expect(report.model, 'R is float, W stored int8; the scales count in neither').to.include({
      parameters: 16,
      quantizedParameters: 8,
    });
  });

  it('a W computed at run time is left out; B then goes with R', async () => {
    const model = await recurrent(
      'LSTM',
      [f32Tensor('R', [1, 8, 2], pattern(16, 3)), f32Tensor('B', [1, 16], pattern(16, 5))],
      [attr.int('hidden_size', 2)],
    );
    expect(findWeightLayers(model).map((l) => [l.name, l.bias?.name])).to.deep.equal([['rnn/R', 'B']]);
  });

  it('shapes that do not fit the op are BAD_GRAPH, naming the file, node, tensor and the problem', async () => {
    const W = (dims: number[]) =>
      f32Tensor(
        'W',
        dims,
        pattern(
          dims.reduce((a, b) => a * b, 1),
          1,
        ),
      );
    const R = (dims: number[]) =>
      f32Tensor(
        'R',
        dims,
        pattern(
          dims.reduce((a, b) => a * b, 1),
          1,
        ),
      );
    const H3 = attr.int('hidden_size', 3);
    const cases: [string, ITensorProto[], IAttributeProto[], string, string][] = [
      [
        'LSTM',
        [W([12, 5])],
        [H3],
        'W',
        'LSTM "rnn" W "W" has shape [12,5]: LSTM W needs [num_directions, 4·hidden_size, input_size]',
      ],
      [
        'LSTM',
        [W([1, 12, 5])],
        [attr.int('hidden_size', 4)],
        'W',
        'W "W" has shape [1,12,5]: dim 1 is 12, not 4 gates × hidden_size 4 = 16',
      ],
      ['GRU', [W([1, 10, 4])], [], 'W', 'dim 1 (10) must be a positive multiple of the 3 gates'],
      [
        'LSTM',
        [W([1, 12, 5])],
        [H3, attr.string('direction', 'bidirectional')],
        'W',
        'dim 0 is 1, but direction="bidirectional" needs num_directions = 2',
      ],
      ['LSTM', [W([1, 12, 5]), R([1, 12, 4])], [H3], 'R', 'R "R" has shape [1,12,4]: dim 2 is 4, not hidden_size 3'],
      [
        'LSTM',
        [W([1, 12, 5]), f32Tensor('B', [1, 12], pattern(12, 1))],
        [H3],
        'B',
        'B "B" has shape [1,12]: LSTM B needs [num_directions, 2·4·hidden_size] = [1, 24]',
      ],
    ];
    for (const [op, initializer, attributes, tensor, message] of cases) {
      const e = await rejects(stats(await recurrent(op, initializer, attributes)), 'BAD_GRAPH');
      expect(e.message, message).to.contain('rnn.onnx: ').and.contain(message);
      expect(e.tensor).to.equal(tensor);
      expect(e.file).to.equal('rnn.onnx');
    }
    const sideways = await rejects(
      stats(await recurrent('RNN', [W([1, 2, 3])], [attr.string('direction', 'sideways')])),
      'BAD_GRAPH',
    );
    expect(sideways.message).to.equal(
      'rnn.onnx: RNN "rnn" has direction="sideways", not forward, reverse or bidirectional',
    );
  });
});

describe('embedding tables (Gather)', () => {
  const gather = (table: ITensorProto, attributes: IAttributeProto[] = []) =>
    open(oneNodeModel('Gather', 'emb', ['table', 'ids'], [table], attributes));

  it('a constant [rows, width] table gathered on axis 0: one channel per row', async () => {
    const t = pattern(21, 4);
    const model = await gather(f32Tensor('table', [7, 3], t));
    const [layer] = (await stats(model)).layers;
    expect(layer).to.include({
      name: 'emb',
      op: 'Gather',
      weight: 'table',
      channelAxis: 0,
      groups: 1,
      bias: null,
      parameters: 21,
    });
    expect(layer!.recurrent).to.equal(undefined);
    expectChannels(
      layer!,
      reference(t, 7, (i) => Math.floor(i / 3)),
    );
    expect(
      findWeightLayers(await gather(f32Tensor('table', [7, 3], t), [attr.int('axis', -2)])),
      'axis −2 is axis 0',
    ).to.have.length(1);
  });

  it('not an embedding: axis 1, a table of rank 1 or 3, integer data', async () => {
    const none = [
      await gather(f32Tensor('table', [7, 3], pattern(21, 4)), [attr.int('axis', 1)]),
      await gather(f32Tensor('table', [21], pattern(21, 4))),
      await gather(f32Tensor('table', [7, 3, 1], pattern(21, 4))),
      await gather(intTensor('table', [2, 2], DataType.INT32, [1, 2, 3, 4])),
    ];
    for (const model of none) expect(findWeightLayers(model)).to.deep.equal([]);
  });

  it('a table behind Identity, and an int8 table behind DequantizeLinear (statistics of the dequantized rows)', async () => {
    const model = await open(
      modelBytes({
        input: [valueInfo('ids')],
        output: [valueInfo('a'), valueInfo('b')],
        initializer: [
          f32Tensor('t', [2, 2], [1, -2, 3, 4]),
          intTensor('q', [2, 3], DataType.INT8, [-4, 0, 6, 8, 2, -2]),
          f32Tensor('s', [], [0.5]),
        ],
        node: [
          node('Identity', ['t'], ['t_id'], 'id'),
          node('Gather', ['t_id', 'ids'], ['a'], 'via_identity'),
          node('DequantizeLinear', ['q', 's'], ['q_dq'], 'dq'),
          node('Gather', ['q_dq', 'ids'], ['b'], 'via_dq'),
        ],
      }),
    );
    const [viaIdentity, viaDq] = (await stats(model)).layers;
    expect(viaIdentity).to.include({ name: 'via_identity', weight: 't' });
    expect(viaIdentity!.channels.min).to.deep.equal([-2, 3]);
    expect(viaDq).to.include({ name: 'via_dq', weight: 'q', dtype: 'int8' });
    expect(viaDq!.channels.min).to.deep.equal([-2, -1]);
    expect(viaDq!.channels.max).to.deep.equal([3, 4]);
  });
});

describe('CLE leaves recurrent and embedding layers alone', () => {
  it('Gather -> Conv and Conv -> LSTM are not linked, even where the channel counts would match', async () => {
    const g = new CleGraph();
    const emb = g.node('Gather', 'emb', [g.tensor('emb.table', [6, 4]), 'x']);
    const a = g.node('Conv', 'conv_a', [emb, g.tensor('conv_a.w', [3, 6, 1, 1])]); // reads 6 channels: the table's 6 rows
    const relu = g.node('Relu', 'relu', [a]);
    const b = g.node('Conv', 'conv_b', [relu, g.tensor('conv_b.w', [1, 3, 1, 1])]); // writes 1 channel: the LSTM's num_directions
    g.node(
      'LSTM',
      'lstm',
      [b, g.tensor('lstm.W', [1, 8, 1]), g.tensor('lstm.R', [1, 8, 2])],
      [attr.int('hidden_size', 2)],
    );
    const model = g.model();
    const layers = findWeightLayers(model);
    expect(layers.map((l) => l.name)).to.deep.equal(['emb', 'conv_a', 'conv_b', 'lstm/W', 'lstm/R']);
    const { sets, chains, skipped } = findCleSets(model, layers, findBatchNormFolds(model, layers).folds);
    expect(chains.map((c) => c.layers.map((l) => l.name))).to.deep.equal([['conv_a', 'conv_b']]);
    expect(sets.flatMap((s) => s.layers.map((l) => l.name))).to.deep.equal(['conv_a', 'conv_b']);
    const only = 'CLE equalizes Conv, ConvTranspose, Gemm and MatMul layers only';
    expect(skipped).to.deep.equal([
      { layers: ['emb'], reason: `emb ("emb.table") is a weight of Gather: ${only}` },
      { layers: ['conv_b', 'lstm'], reason: `LSTM lstm reads conv_b's output: ${only}` },
      { layers: ['lstm/W'], reason: `lstm/W ("lstm.W") is a weight of LSTM: ${only}` },
      { layers: ['lstm/R'], reason: `lstm/R ("lstm.R") is a weight of LSTM: ${only}` },
    ]);
  });
});
