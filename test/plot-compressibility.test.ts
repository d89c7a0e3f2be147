// <compressibility-plot>'s chart logic without the element: the curves where they save parameters, each
// method's best point within the error, the INT8/INT4 rules and the error rule, checked through the data each
// mark carries (Node and browser, no DOM).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import {
  COMPRESS_MARKS,
  ERROR_AXIS_LABEL,
  bestPoints,
  compressibilityPlot,
  compressibilityText,
  curvePoints,
  errorDomainTop,
  layerMethods,
} from '../src/plot/compressibility.js';
import { bestChoice } from '../src/report/compress-choice.js';
import type { LayerCompressibility } from '../src/report/compress-report.js';

interface MarkLike {
  ariaDescription?: string;
  data?: unknown;
}

const mark = (options: { marks?: unknown[] }, name: string) =>
  (options.marks as MarkLike[]).find((m) => m.ariaDescription === name)!.data as unknown[];

const layer: LayerCompressibility = {
  name: 'conv',
  op: 'Conv',
  shape: [4, 4, 3, 3],
  parameters: 144,
  weightSvd: {
    rows: 4,
    cols: 36,
    singularValues: [3, 2, 1, 0.1],
    rank99: 3,
    effectiveRank: 3.2,
    curve: [
      { ratio: 3.6, error: 0.4, at: 1 },
      { ratio: 1.8, error: 0.04, at: 2 },
      { ratio: 1.2, error: 0.01, at: 3 },
      { ratio: 0.9, error: 0, at: 4 },
    ],
  },
  spatialSvd: null,
  pruning: [
    { ratio: 1, error: 0, at: 0 },
    { ratio: 2, error: 0.08, at: 0.5 },
  ],
  channelPruning: [
    { ratio: 1, error: 0, at: 0 },
    { ratio: 4 / 3, error: 0.3, at: 0.25 },
  ],
  int8Error: 0.006,
  int4Error: 0.11,
  best: { method: null, ratio: 1, error: 0, parameters: 144 },
  notes: ['Spatial SVD: none here'],
};
layer.best = bestChoice(layer, 0.05);

describe('plot: compressibility of one layer', () => {
  it('draws each method it has where it saves parameters (ratio ≥ 1), in order of ratio', () => {
    expect(layerMethods(layer)).to.deep.equal(['weight SVD', 'pruning', 'channel pruning']);
    const points = curvePoints(layer);
    expect(points.filter((p) => p.method === 'weight SVD').map((p) => p.ratio)).to.deep.equal([1.2, 1.8, 3.6]);
    expect(points.every((p) => p.ratio >= 1)).to.equal(true);
    const options = compressibilityPlot(layer, 0.05);
    expect(mark(options, COMPRESS_MARKS.curves)).to.deep.equal(points);
  });

  it("each method's best point within the error, the layer's best ringed; the rules at the error, INT8 and INT4", () => {
    expect(bestPoints(layer, 0.05).map((p) => [p.method, p.ratio])).to.deep.equal([['weight SVD', 1.8]]);
    expect(bestPoints(layer, 0.1).map((p) => [p.method, p.ratio])).to.deep.equal([
      ['weight SVD', 1.8],
      ['pruning', 2],
    ]);
    const options = compressibilityPlot(layer, 0.05);
    expect(mark(options, COMPRESS_MARKS.bestChoice)).to.deep.equal([
      { method: 'weight SVD', ratio: 1.8, error: 0.04, at: 2 },
    ]);
    expect(mark(options, COMPRESS_MARKS.errorRule)).to.deep.equal([0.05]);
    expect(mark(options, COMPRESS_MARKS.int8Rule)).to.deep.equal([{ label: 'INT8', error: 0.006 }]);
    expect(mark(options, COMPRESS_MARKS.int4Rule)).to.deep.equal([{ label: 'INT4', error: 0.11 }]);
    // The error axis reaches past the INT4 error and the chosen error; the ratio axis is logarithmic.
    expect(errorDomainTop(layer, 0.05)).to.be.closeTo(0.1375, 1e-12);
    const o = options as unknown as { x: { type: string }; y: { label: string; domain: number[] } };
    expect(o.x.type).to.equal('log');
    expect(o.y.label).to.contain(ERROR_AXIS_LABEL);
    expect(o.y.domain[1]).to.be.closeTo(0.1375, 1e-12);
  });

  it('a text alternative naming the methods, the best points and that it is not accuracy', () => {
    const { title, description } = compressibilityText(layer, 0.05);
    expect(title).to.contain('conv');
    expect(description).to.contain('weight SVD 1.80x (4%)');
    expect(description).to.contain('INT8 error 0.6%');
    expect(description).to.contain('not accuracy');
    const none = { ...layer, weightSvd: null, pruning: null, channelPruning: null };
    expect(compressibilityText(none, 0.05).description).to.contain('No curve: Spatial SVD: none here');
  });
});
