// Results JSON given to the elements: checked on arrival, a report written before dead channels were
// told apart gets its range figures again from its channels' min and max, and one written before per-group
// figures loads as it is.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { validateReport } from '../src/report/results-json.js';
import { WeightlensError } from '../src/errors.js';

const oldLayer = () => ({
  name: 'conv',
  channels: { min: [-1, 0, -2], max: [1, 1e-30, 2], mean: [0, 0, 0], std: [1, 0, 1], absMax: [1, 1e-30, 2] },
  // AIMET's figures over every channel, as reports made before dead channels were.
  relativeRange: [2e30, 1, 4e30],
  maxRelativeRange: 4e30,
  minRange: 1e-30,
  outliers: [],
});

describe('results JSON', () => {
  it('recomputes the live range figures of a report without deadChannels', () => {
    const report = validateReport({ file: 'old.json', model: {}, layers: [oldLayer()] }, 'old.json');
    expect(report.layers[0]).to.include({ maxRelativeRange: 2, minRange: 2 });
    expect(report.layers[0]!.aimetMaxRelativeRange).to.be.closeTo(4e30, 4e30 * 1e-12);
    expect(report.layers[0]!.deadChannels).to.deep.equal([1]);
    expect(report.layers[0]!.relativeRange).to.deep.equal([1, null, 2]);
  });

  it('keeps the figures of a current report, and refuses a deadChannels that is not a list', () => {
    const current = { ...oldLayer(), deadChannels: [], relativeRange: [2e30, 1, 4e30] };
    expect(validateReport({ model: {}, layers: [current] }, 'new.json').layers[0]!.relativeRange).to.deep.equal([
      2e30, 1, 4e30,
    ]);
    const bad = () => validateReport({ model: {}, layers: [{ ...oldLayer(), deadChannels: 3 }] }, 'bad.json');
    expect(bad).to.throw(
      WeightlensError,
      /bad\.json: not a weightlens stats JSON \(layers\[0\]\.deadChannels is not an array\)/,
    );
  });

  const figures = (perGroup?: unknown) => ({ perTensor: 30.5, perChannel: null, ...(perGroup ? { perGroup } : {}) });
  const quant = (perGroup?: unknown) => ({
    int8: { symmetric: figures(perGroup), asymmetric: figures(perGroup) },
    int4: { symmetric: figures(perGroup), asymmetric: figures(perGroup) },
  });
  const withQuant = (q: unknown) => ({ model: {}, layers: [{ ...oldLayer(), deadChannels: [], quant: q }] });

  it('loads quantization figures written before per-group ones (no perGroup), and current ones', () => {
    const old = validateReport(withQuant(quant()), 'old.json').layers[0]!.quant!;
    expect(old.int4.symmetric).to.deep.equal({ perTensor: 30.5, perChannel: null });
    const groups = [
      { block: 32, sqnr: 12.5 },
      { block: 128, sqnr: null },
    ];
    const current = validateReport(withQuant(quant(groups)), 'new.json').layers[0]!.quant!;
    expect(current.int8.asymmetric.perGroup).to.deep.equal(groups);
    expect(validateReport(withQuant(null), 'nan.json').layers[0]!.quant).to.equal(null);
  });

  it('refuses quantization figures that are not dB, or per-group keys that are not block sizes', () => {
    for (const [q, problem] of [
      [{ int8: quant().int8 }, 'layers[0].quant.int4.symmetric is missing'],
      [
        { ...quant(), int8: { symmetric: { perTensor: '30', perChannel: 1 }, asymmetric: figures() } },
        'quant.int8.symmetric.perTensor/perChannel are not dB or null',
      ],
      [quant({ '32': 3 }), 'quant.int8.symmetric.perGroup is not an array'],
      [
        quant([{ block: 0, sqnr: 3 }]),
        'quant.int8.symmetric.perGroup[0] is not { block: a positive integer, sqnr: dB or null }',
      ],
      [
        quant([
          { block: 32, sqnr: 3 },
          { block: 2.5, sqnr: 3 },
        ]),
        'perGroup[1] is not',
      ],
      [quant([{ block: 32, sqnr: '3' }]), 'perGroup[0] is not'],
      [quant([1]), 'perGroup[0] is not'],
    ] as const) {
      expect(() => validateReport(withQuant(q), 'bad.json'), problem).to.throw(WeightlensError, problem);
    }
  });
});
