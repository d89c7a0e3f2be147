// Node-only: two versions of a model compared (src/pipeline/diff-models.ts, `weightlens diff`): a model and
// its CLE'd export (the after side's figures are <cle-compare>'s, the BatchNorms CLE folded are folded into
// the before side), the real PaddleOCR det against a QDQ export made here (each layer's SQNR is the
// quantizer's), a model whose weights and nodes were all renamed, flipped and dead channels, and the CLI.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { openModelFile } from '../../src/node/open-file.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { foldedLayer } from '../../src/pipeline/batchnorm-view.js';
import { diffModels } from '../../src/pipeline/diff-models.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { quantizeModel } from '../../src/pipeline/quantize-model.js';
import type { DiffReport } from '../../src/report/diff-report.js';
import { schemeSqnr } from '../../src/report/quant-error.js';
import { mobilenetV2Bytes } from '../fixtures/mobilenetv2.js';
import { cli } from '../support/cli.js';
import { realModel } from '../support/node-paths.js';

const { onnx } = pkg;
const MOBILENET = mobilenetV2Bytes({ width: 0.25, resolution: 32, activation: 'Relu' }).bytes;
const open = (bytes: Uint8Array, fileName: string) => decodeModel(bytes, { fileName });

/** `bytes` with every initializer, node and intermediate value renamed (the graph's inputs and outputs kept). */
function renamedCopy(bytes: Uint8Array): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const keep = new Set([...g.input!, ...g.output!].map((v) => v.name!));
  const names = new Map<string, string>();
  const rename = (name: string) => {
    if (!name || keep.has(name)) return name;
    if (!names.has(name)) names.set(name, `t${names.size}`);
    return names.get(name)!;
  };
  for (const t of g.initializer!) t.name = rename(t.name!);
  g.node!.forEach((n, i) => {
    n.name = `node${i}`;
    n.input = n.input!.map(rename);
    n.output = n.output!.map(rename);
  });
  return onnx.ModelProto.encode(m).finish();
}

/** `bytes` with the first Conv's weight edited per output channel by `edit(channel, values)`. */
function editedFirstConv(bytes: Uint8Array, edit: (channel: number, values: Float32Array) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const conv = m.graph!.node!.find((n) => n.opType === 'Conv')!;
  const w = m.graph!.initializer!.find((t) => t.name === conv.input![1])!;
  const values = new Float32Array(Uint8Array.from(w.rawData!).buffer);
  const perChannel = values.length / Number(w.dims![0]);
  for (let c = 0; c < Number(w.dims![0]); c++) edit(c, values.subarray(c * perChannel, (c + 1) * perChannel));
  w.rawData = new Uint8Array(values.buffer);
  return onnx.ModelProto.encode(m).finish();
}

describe('diffModels', () => {
  it('a model against its CLE export: the after figures are <cle-compare>’s, and the folded BatchNorms are said', async () => {
    const cle = await equalizeModel(open(MOBILENET, 'm.onnx'));
    const diff = await diffModels(open(MOBILENET, 'm.onnx'), open(cle.bytes, 'm.cle.onnx'));
    expect(diff.onlyBefore).to.deep.equal([]);
    expect(diff.onlyAfter).to.deep.equal([]);
    const byAfter = new Map(diff.layers.map((l) => [l.after, l]));
    for (const change of cle.report.layers) {
      const l = byAfter.get(change.name)!;
      expect(l.afterStats.channels, change.name).to.deep.equal(change.after.channels);
      expect(l.afterStats.relativeRange, change.name).to.deep.equal(change.after.relativeRange);
      expect(l.afterStats.maxRelativeRange, change.name).to.equal(change.after.maxRelativeRange);
    }
    const folded = diff.layers.filter((l) => l.folded).map((l) => [l.folded!.batchNorm, l.before]);
    expect(folded).to.have.deep.members(cle.report.folded.map((f) => [f.batchNorm, f.into]));
    expect(diff.layers.every((l) => l.relativeChange !== null && l.relativeChange > 0)).to.equal(true);
  });

  it('the folded view of a Conv with its BatchNorm reads W·γ/sqrt(var + ε) per output channel', async () => {
    const model = open(MOBILENET, 'm.onnx');
    const layer = findWeightLayers(model).find((l) => l.batchNorm)!;
    const view = await foldedLayer(model, layer);
    if ('reason' in view) throw new Error(view.reason);
    const read = async (t: { size: number; readFloat32Into(d: Float32Array): Promise<void> }) => {
      const v = new Float32Array(t.size);
      await t.readFloat32Into(v);
      return v;
    };
    const [w, folded] = [await read(layer.weight), await read(view.layer.weight)];
    const graph = model.main;
    const [gamma, , , variance] = await Promise.all(
      layer.batchNorm!.inputs.slice(1, 5).map((name) => read(graph.constants.get(name)!)),
    );
    const eps = layer.batchNorm!.attributes.get('epsilon');
    const epsilon = eps?.kind === 'float' ? eps.value : 1e-5;
    const perChannel = w.length / gamma!.length;
    for (let i = 0; i < w.length; i++) {
      const c = Math.floor(i / perChannel);
      expect(folded[i]).to.equal(Math.fround(w[i]! * (gamma![c]! / Math.sqrt(variance![c]! + epsilon))));
    }
    // A range read gives the same values.
    const part = new Float32Array(5);
    await view.layer.weight.readFloat32Range!(perChannel - 2, 5, part);
    expect([...part]).to.deep.equal([...folded.subarray(perChannel - 2, perChannel + 3)]);
  });

  it('PaddleOCR det against its INT8 QDQ export: each layer’s SQNR is the quantizer’s and the statistics’', async () => {
    const det = await openModelFile(realModel('ch_PP-OCRv4_det_infer.onnx'));
    const scheme = { bits: 8, symmetric: true, granularity: 'channel' } as const;
    const quantized = await quantizeModel(det, { plan: { default: scheme } });
    const diff = await diffModels(det, open(quantized.bytes, 'det.qdq.onnx'));
    const stored = new Map(quantized.report.layers.map((l) => [l.name, l.sqnr]));
    expect(diff.layers).to.have.length(stored.size);
    for (const l of diff.layers) {
      expect(l.sqnr!, l.before).to.be.closeTo(stored.get(l.before)!, 1e-3);
      expect(l.sqnr!, l.before).to.be.closeTo(schemeSqnr(l.beforeStats, scheme)!, 1e-3);
      expect(l.afterStats.modelQuantization, l.after).to.not.equal(undefined); // read dequantized
    }
  });

  it('a model whose weights and nodes were all renamed is matched by position: nothing changed', async () => {
    const diff = await diffModels(open(MOBILENET, 'm.onnx'), open(renamedCopy(MOBILENET), 'renamed.onnx'));
    const layers = findWeightLayers(open(MOBILENET, 'm.onnx'));
    expect(diff.layers).to.have.length(layers.length);
    for (const [i, l] of diff.layers.entries()) {
      expect(l.before).to.equal(layers[i]!.name);
      expect(l.after).to.not.equal(l.before);
      expect(l.matchedBy).to.equal('position and shape');
      expect(l.relativeChange).to.equal(0);
      expect(l.sqnr).to.equal(null);
    }
  });

  it('finds flipped and dead channels', async () => {
    const edited = editedFirstConv(MOBILENET, (c, values) => {
      if (c === 2) values.forEach((v, i) => (values[i] = -v));
      if (c === 1) values.fill(0);
    });
    const diff: DiffReport = await diffModels(open(MOBILENET, 'm.onnx'), open(edited, 'edited.onnx'));
    const [first, ...rest] = diff.layers;
    expect(first!.flippedChannels).to.deep.equal([2]);
    expect(first!.diedChannels).to.deep.equal([1]);
    expect(first!.revivedChannels).to.deep.equal([]);
    expect(first!.relativeChange).to.be.greaterThan(0);
    for (const l of rest) expect(l.relativeChange, l.before).to.equal(0);
  });
});

describe('weightlens diff', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-cli-diff-'));
    writeFileSync(join(dir, 'a.onnx'), MOBILENET);
    writeFileSync(join(dir, 'b.onnx'), renamedCopy(MOBILENET));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints how layers were matched and one row per layer; --json is the report', () => {
    const r = cli('diff', join(dir, 'a.onnx'), join(dir, 'b.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    const layers = findWeightLayers(open(MOBILENET, 'm.onnx')).length;
    expect(r.stdout.replace(/\s+/g, ' ')).to.contain(
      `${layers} layers matched (0 by weight name, 0 by node name, ${layers} by position and shape); 0 only before, 0 only after`,
    );
    expect(r.stdout).to.match(/conv_0 -> node\d+ +position and shape +0 +exact/);
    const json = JSON.parse(cli('diff', join(dir, 'a.onnx'), join(dir, 'b.onnx'), '--json').stdout) as DiffReport;
    expect(json.layers).to.have.length(layers);
  });

  it('refuses a missing model and options of other commands', () => {
    const one = cli('diff', join(dir, 'a.onnx'));
    expect(one.status).to.equal(2);
    expect(one.stderr).to.contain('diff takes two model files (before and after), got 1').and.contain('[USAGE]');
    const data = cli('diff', join(dir, 'a.onnx'), join(dir, 'b.onnx'), '--data', dir);
    expect(data.stderr).to.contain('--data is not an option of "diff"');
    const missing = cli('diff', join(dir, 'a.onnx'), join(dir, 'none.onnx'));
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.contain('none.onnx');
  });
});
