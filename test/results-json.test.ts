// Results JSON given to the elements: checked on arrival, and a report written before dead channels were
// told apart gets its range figures again from its channels' min and max.
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
});
