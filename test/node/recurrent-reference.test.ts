// LSTM/GRU/RNN W and R and Gather tables against test/reference/channel_stats.py (numpy, from the
// definitions): per-channel statistics, SQNR and parameter counts, on generated models with odd shapes
// (bidirectional too, so a layout bug shows) and on Silero VAD (legacy, and v5 whose LSTM W, R and B are
// computed at run time by Slice/Concat/Unsqueeze from PyTorch's weights; the reference folds them with numpy).
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { channelLabel } from '../../src/analysis/recurrent.js';
import { openModelFile } from '../../src/node/open-file.js';
import { storedSources } from '../../src/onnx/computed.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { type StatsReport } from '../../src/report/stats-report.js';
import { GraphBuilder, modelBytes } from '../fixtures/graph-builder.js';
import { ROOT } from '../support/node-paths.js';
import { expectSameLayers, expectSameSqnr, expectSameStats, numpyReport } from '../support/numpy-compare.js';

const SILERO_LEGACY = join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_legacy.onnx');
const SILERO_V5 = join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');

/**
 * x [4, 1, 7] read by a bidirectional LSTM (hidden 5), a reverse GRU (hidden 3, no B), an RNN (hidden 6) and a
 * Gather from a [13, 9] table: for the statistics cross-check, not to be run.
 */
function recurrentModel(): { bytes: Uint8Array; floats: number } {
  const b = new GraphBuilder();
  b.node(
    'LSTM',
    [
      'x',
      b.tensor('lstm.W', [2, 20, 7], 0.8, 0, 3),
      b.tensor('lstm.R', [2, 20, 5], 0.5, 0.1, 3),
      b.tensor('lstm.B', [2, 40], 0.2),
    ],
    {
      hidden_size: 5,
      direction: 'bidirectional',
    },
  );
  b.node('GRU', ['x', b.tensor('gru.W', [1, 9, 7], 1.5), b.tensor('gru.R', [1, 9, 3], 0.3, -0.2)], {
    hidden_size: 3,
    direction: 'reverse',
  });
  b.node(
    'RNN',
    ['x', b.tensor('rnn.W', [1, 6, 7], 0.7), b.tensor('rnn.R', [1, 6, 6], 0.4), b.tensor('rnn.B', [1, 12], 0.1)],
    { hidden_size: 6 },
  );
  const last = b.node('Gather', [b.tensor('embedding', [13, 9], 2, 0.5), 'x']);
  return { bytes: modelBytes(b, 'recurrent', ['x', [4, 1, 7]], [last, [4, 1, 7, 9]]), floats: b.weightCount };
}

/** Ours against numpy: the same layers, statistics and SQNR; the same parameter counts. Returns our report. */
async function expectSameAsNumpy(path: string): Promise<StatsReport> {
  const [ours, reference] = await Promise.all([
    openModelFile(path).then((m) => computeStats(m, { quant: true })),
    numpyReport(path, true),
  ]);
  expectSameLayers(ours.layers, reference.layers);
  let compared = 0;
  ours.layers.forEach((layer, i) => {
    expectSameStats(layer, reference.layers[i]!, `${path} layer ${layer.name}`);
    compared += expectSameSqnr(layer, reference.layers[i]!.quant ?? null, layer.name);
  });
  expect(compared, 'SQNR figures compared').to.be.at.least(ours.layers.length * 6);
  expect(ours.model).to.include(reference.model);
  return ours;
}

describe('recurrent and embedding weights agree with numpy', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-rnn-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generated LSTM (bidirectional), GRU, RNN and Gather with odd shapes', async () => {
    const { bytes, floats } = recurrentModel();
    const path = join(dir, 'recurrent.onnx');
    writeFileSync(path, bytes);
    const ours = await expectSameAsNumpy(path);
    expect(ours.layers.map((l) => [l.name, l.op, l.channels.min.length])).to.deep.equal([
      ['lstm_0/W', 'LSTM', 40],
      ['lstm_0/R', 'LSTM', 40],
      ['gru_1/W', 'GRU', 9],
      ['gru_1/R', 'GRU', 9],
      ['rnn_2/W', 'RNN', 6],
      ['rnn_2/R', 'RNN', 6],
      ['gather_3', 'Gather', 13],
    ]);
    expect(ours.model.parameters).to.equal(floats);
    expect(
      ours.layers.reduce((a, l) => a + l.parameters, 0),
      'every weight in exactly one layer',
    ).to.equal(floats);
  });

  it('Silero VAD (legacy): 8 LSTMs give 16 layers; with the Convs they cover all but 8 of its parameters', async () => {
    const ours = await expectSameAsNumpy(SILERO_LEGACY);
    const lstm = ours.layers.filter((l) => l.op === 'LSTM');
    expect(lstm).to.have.length(16);
    for (const l of lstm) expect(l.shape).to.deep.equal([1, 256, 64]);
    expect(lstm.reduce((a, l) => a + l.parameters, 0)).to.equal(8 * (2 * 256 * 64 + 512));
    expect(ours.model.parameters - ours.layers.reduce((a, l) => a + l.parameters, 0)).to.equal(8);
  });

  it('Silero VAD v5: 4 LSTMs with computed W, R and B give 8 layers in ONNX gate order; with the Convs they cover all but 4 scalars', async () => {
    const ours = await expectSameAsNumpy(SILERO_V5);
    const lstm = ours.layers.filter((l) => l.op === 'LSTM');
    expect(lstm.map((l) => [l.name.split('/').slice(-3).join('/'), l.shape, l.bias !== null])).to.deep.equal(
      Array(2)
        .fill([
          ['rnn/LSTM/W', [1, 512, 128], true],
          ['rnn/LSTM/R', [1, 512, 128], false],
          ['rnn_1/LSTM/W', [1, 512, 128], true],
          ['rnn_1/LSTM/R', [1, 512, 128], false],
        ])
        .flat(),
    );
    for (const l of lstm)
      expect(l.recurrent).to.deep.include({ cell: 'LSTM', gates: ['i', 'o', 'f', 'c'], hidden: 128, directions: 1 });
    expect(
      lstm.every((l) => l.weight.endsWith('_output_0')),
      'named after the computing node output',
    ).to.equal(true);
    expect(channelLabel(lstm[0]!, 128)).to.equal('Channel 128 (gate o, unit 0)');
    // The stored tensors the layers read, each once (the two LSTMs of an If read the same PyTorch weights).
    const model = await openModelFile(SILERO_V5);
    const read = new Set(
      findWeightLayers(model).flatMap((l) => [l.weight, ...(l.bias ? [l.bias] : [])].flatMap(storedSources)),
    );
    expect(ours.model.parameters - [...read].reduce((a, t) => a + t.size, 0)).to.equal(4);
  });
});
