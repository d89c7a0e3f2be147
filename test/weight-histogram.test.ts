// Layer histograms over a hand-made model: edges from the finite min and max, non-finite weights counted
// and never binned, typed errors naming the file, layer and weight; and the realm's kept models.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { findWeightLayers } from '../src/analysis/layers.js';
import { Kernels } from '../src/kernels/kernels.js';
import { openModel } from '../src/onnx/open.js';
import type { Model } from '../src/onnx/model.js';
import { layerHistogram } from '../src/pipeline/weight-histogram.js';
import { type HistogramRequest } from '../src/report/weight-histogram.js';
import { keepModel, keepNoWeights, keptHistogram, releaseModel } from '../src/pipeline/kept-models.js';
import { f32Tensor, modelBytes, node, valueInfo } from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';
import { referenceHistogram } from './support/reference-histogram.js';

/** Conv weight [3, 1, 1, 3]: channel 0 finite, channel 1 with one -Inf, channel 2 nothing finite. */
const WEIGHTS = [-1, 0.25, 3, -Infinity, 0.5, 2, NaN, Infinity, -Infinity];

function histogramModel(): Promise<Model> {
  const bytes = modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer: [f32Tensor('conv.weight', [3, 1, 1, 3], WEIGHTS)],
    node: [node('Conv', ['x', 'conv.weight'], ['y'], 'conv')],
  });
  return openModel(bytes, { fileName: 'hist.onnx' });
}

describe('layer histograms', () => {
  let model: Model;
  let kernels: Kernels;
  const histogram = (request: Partial<HistogramRequest>) =>
    layerHistogram(model, findWeightLayers(model), { layer: 'conv', channel: null, bins: 4, ...request }, { kernels });
  before(async () => {
    model = await histogramModel();
    kernels = await Kernels.load();
  });

  it('whole tensor: bins over the finite min..max, the same counts as a plain loop, non-finite counted apart', async () => {
    const h = await histogram({ bins: 4 });
    expect(h).to.deep.include({
      file: 'hist.onnx',
      layer: 'conv',
      weight: 'conv.weight',
      channel: null,
      lo: -1,
      hi: 3,
      elements: 9,
      nonFinite: 4,
    });
    expect(h.counts).to.deep.equal(referenceHistogram(WEIGHTS, -1, 3, 4).counts);
    expect(h.counts).to.deep.equal([1, 2, 0, 2]); // [-1,0): -1 · [0,1): 0.25, 0.5 · [1,2): none · [2,3]: 2, 3
  });

  it('one channel: its own range; a channel with no finite value has empty bins and says why', async () => {
    const one = await histogram({ channel: 1, bins: 3 });
    expect(one).to.deep.include({ channel: 1, lo: 0.5, hi: 2, elements: 3, nonFinite: 1 });
    expect(one.counts).to.deep.equal([1, 0, 1]);
    const none = await histogram({ channel: 2, bins: 3 });
    expect(none).to.deep.include({ lo: 0, hi: 0, elements: 3, nonFinite: 3 });
    expect(none.counts).to.deep.equal([0, 0, 0]);
  });

  it('a weight name finds its layer; bad names, channels and bins are typed errors naming file, layer and weight', async () => {
    expect((await histogram({ layer: 'conv.weight' })).layer).to.equal('conv');
    const layer = await rejects(histogram({ layer: 'nope' }), 'LAYER_NOT_FOUND');
    expect(layer.message).to.contain('hist.onnx').and.contain('"nope"').and.contain('"conv"');
    for (const channel of [3, -1, 0.5]) {
      const bad = await rejects(histogram({ channel }), 'USAGE');
      expect(bad.message)
        .to.contain('hist.onnx')
        .and.contain('"conv"')
        .and.contain('"conv.weight"')
        .and.contain(`no channel ${channel}`);
      expect(bad).to.deep.include({ file: 'hist.onnx', tensor: 'conv.weight', field: 'channel' });
    }
    expect((await rejects(histogram({ bins: 0 }), 'USAGE')).message).to.contain(
      'bins must be an integer from 1 to 1024, got 0',
    );
  });

  it('a zoomed range: bins over it, the finite weights outside counted below and above; a bad range is a typed error', async () => {
    const h = await histogram({ bins: 2, range: [0, 1] });
    expect(h).to.deep.include({ lo: 0, hi: 1, zoomed: true, below: 1, above: 2, nonFinite: 4 }); // -1 | 2, 3
    expect(h.counts).to.deep.equal(referenceHistogram(WEIGHTS, 0, 1, 2).counts);
    expect(h.counts).to.deep.equal([1, 1]); // 0.25 · 0.5
    expect(await histogram({ bins: 2 })).to.deep.include({ zoomed: false, below: 0, above: 0 });
    for (const range of [
      [1, 0],
      [0, 0],
      [0, Infinity],
      [NaN, 1],
    ] as [number, number][]) {
      const bad = await rejects(histogram({ range }), 'USAGE');
      expect(bad.message)
        .to.contain('hist.onnx')
        .and.contain('"conv.weight"')
        .and.contain('range must be two finite numbers');
      expect(bad).to.deep.include({ field: 'range' });
    }
  });

  it('kept models: a session answers until released; results JSON answers NO_WEIGHTS', async () => {
    keepModel(101, model);
    const h = await keptHistogram(101, { layer: 'conv', channel: 0, bins: 2 });
    expect(h.counts).to.deep.equal([2, 1]); // -1, 0.25 | 3
    releaseModel(101);
    expect((await rejects(keptHistogram(101, { layer: 'conv', channel: 0, bins: 2 }), 'USAGE')).message).to.contain(
      'released',
    );
    keepNoWeights(102, 'stats.json');
    const json = await rejects(keptHistogram(102, { layer: 'conv', channel: null, bins: 2 }), 'NO_WEIGHTS');
    expect(json.message).to.contain('stats.json').and.contain('needs the ONNX model');
    releaseModel(102);
  });
});
