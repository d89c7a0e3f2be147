// The package's public entry ('weightlens/node', which re-exports 'weightlens'): what the README's API table
// promises — statistics with SQNR, CLE with the equalized model's bytes, a layer histogram and the viewers'
// files — works from it on a real model, and the results fit together.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import {
  Kernels,
  computeStats,
  equalizeModel,
  findWeightLayers,
  layerHistogram,
  openModel,
  openModelFile,
  toModelExplorerNodeData,
  toNetronAttachment,
  type Model,
  type StatsReport,
} from '../../src/node/index.js';
import { realModel } from '../support/node-paths.js';

const FILE = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';

describe('public API (weightlens/node)', () => {
  let model: Model;
  let report: StatsReport;

  before(async () => {
    model = await openModelFile(realModel(FILE));
    report = await computeStats(model, { quant: true });
  });

  it('computeStats with quant: every layer has its SQNR figures', () => {
    expect(report.layers.length).to.be.greaterThan(10);
    for (const l of report.layers) expect(l.quant!.int8.symmetric.perChannel, l.name).to.be.a('number');
  });

  it('equalizeModel: the CLE report before/after and bytes that re-open with the same layers and the "after" statistics', async () => {
    const { report: cle, bytes } = await equalizeModel(model);
    expect(cle.file).to.equal(report.file);
    expect(cle.layers.map((l) => l.name)).to.deep.equal(report.layers.map((l) => l.name));
    expect(cle.layers.every((l) => l.before.quant && l.after.quant)).to.equal(true);
    const reopened = await computeStats(await openModel(bytes, { fileName: 'cls.cle.onnx' }));
    const first = cle.layers.find((l) => l.before.channels.max[0] !== l.after.channels.max[0])!;
    expect(first, 'CLE changed some layer').to.not.equal(undefined);
    expect(reopened.layers.find((l) => l.name === first.name)!.channels.max).to.deep.equal(first.after.channels.max);
  });

  it("layerHistogram: a layer's counts cover its weights; a zoom counts the rest below and above", async () => {
    const layers = findWeightLayers(model);
    const kernels = await Kernels.load();
    const layer = report.layers[3]!;
    const whole = await layerHistogram(model, layers, { layer: layer.name, channel: null, bins: 64 }, { kernels });
    expect(whole.counts.reduce((a, b) => a + b, 0)).to.equal(
      layer.parameters - (layer.bias ? layer.channels.min.length : 0),
    );
    const zoomed = await layerHistogram(
      model,
      layers,
      { layer: layer.name, channel: null, bins: 64, range: [0, whole.hi / 2] },
      { kernels },
    );
    expect(zoomed.counts.reduce((a, b) => a + b, 0) + zoomed.below + zoomed.above).to.equal(whole.elements);
  });

  it('the Netron and Model Explorer files as objects', () => {
    expect(toNetronAttachment(report).signature).to.equal('netron:attachment');
    const data = toModelExplorerNodeData(report, model, 'sqnr');
    expect(Object.keys(data).length).to.be.greaterThan(0);
  });
});
