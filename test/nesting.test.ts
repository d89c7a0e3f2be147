// Deep nesting in both runners (Node and Chromium's page): subgraphs and nested types are read as deep as
// onnxruntime reads them (test/node/nesting-onnxruntime.test.ts checks that bound against onnxruntime
// itself); deeper files get a typed error that says the depth, never a stack overflow or "corrupt".
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { WeightlensError } from '../src/errors.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import { openModel } from '../src/onnx/open.js';
import { MAX_MESSAGE_DEPTH } from '../src/onnx/nesting.js';
import { concat, lenRecord, records } from '../src/onnx/export/wire.js';
import { modelBytes, nestedIfModel, valueInfo } from './fixtures/onnx-bytes.js';
import { rejects } from './support/rejects.js';

/** A graph input whose type is a Sequence of a Sequence … `levels` times, of a float tensor. */
function nestedTypeModel(levels: number): Uint8Array {
  let type: import('onnx-proto').onnx.ITypeProto = { tensorType: { elemType: 1 } };
  for (let i = 0; i < levels; i++) type = { sequenceType: { elemType: type } };
  return modelBytes({ input: [{ name: 'x', type }], output: [valueInfo('x')] });
}

describe('deep nesting', () => {
  it("32 levels of If subgraphs (onnxruntime's most) are read, the innermost Conv included", async () => {
    const model = await openModel(nestedIfModel(32), { fileName: 'deep32.onnx' });
    expect(model.graphs.length).to.equal(1 + 2 * 32);
    const report = await computeStats(model);
    expect(report.layers.map((l) => l.name)).to.deep.equal(['deep_conv']);
    expect(report.layers[0]!.graph.split('/').length).to.equal(33);
    expect(report.layers[0]!.channels.max).to.deep.equal([1, 2]);
  });

  it('33 levels and far deeper: BAD_GRAPH saying how deep, naming the file', async () => {
    for (const levels of [33, 1000, 3000]) {
      const e = await rejects(openModel(nestedIfModel(levels), { fileName: `deep${levels}.onnx` }), 'BAD_GRAPH');
      expect(e.message).to.equal(
        `deep${levels}.onnx: protobuf messages are nested ${3 * levels + 2} deep (${levels} levels of subgraphs), more than the ` +
          `limit of ${MAX_MESSAGE_DEPTH} that onnxruntime also applies (32 levels of If/Loop/Scan subgraphs)`,
      );
      expect(e.file).to.equal(`deep${levels}.onnx`);
    }
  });

  it('nested types count too: 100 messages deep is read, 101 is BAD_GRAPH', async () => {
    // input ValueInfo (2) > TypeProto (3) > [Sequence > TypeProto] x n > Tensor: 4 + 2n messages deep
    const model = await openModel(nestedTypeModel(48), { fileName: 'seq48.onnx' });
    expect(model.main.inputs).to.deep.equal(['x']);
    const e = await rejects(openModel(nestedTypeModel(49), { fileName: 'seq49.onnx' }), 'BAD_GRAPH');
    expect(e.message).to.match(/^seq49\.onnx: protobuf messages are nested 102 deep \(0 levels of subgraphs\)/);
  });

  it('a negative int64 (a 10-byte varint) before a subgraph does not hide the subgraph from the depth check', async () => {
    const minusOne = [0x18, ...new Array<number>(9).fill(0xff), 0x01]; // AttributeProto.i = -1
    let graph: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 40; i++) {
      const attribute = concat(records(new Uint8Array(minusOne), lenRecord(6, graph))); // then AttributeProto.g
      graph = concat(records(lenRecord(1, concat(records(lenRecord(5, attribute)))))); // GraphProto.node > NodeProto.attribute
    }
    const bytes = concat(records(new Uint8Array([0x08, 0x08]), lenRecord(7, graph))); // ir_version 8, graph
    const e = await rejects(openModel(bytes, { fileName: 'hidden.onnx' }), 'BAD_GRAPH');
    expect(e.message).to.contain('nested 121 deep (40 levels of subgraphs)');
  });

  it('damaged deep files: a typed error at every cut and flipped byte tried, never a stack overflow', async () => {
    const bytes = nestedIfModel(3000);
    for (const at of [10, 1000, bytes.length >> 1, bytes.length - 300]) {
      for (const damaged of [bytes.slice(0, at), Object.assign(bytes.slice(), { [at]: 0xff })]) {
        try {
          await openModel(damaged, { fileName: 'damaged.onnx' });
        } catch (e) {
          expect(e, String(e)).to.be.instanceOf(WeightlensError);
          expect((e as WeightlensError).code, (e as Error).message).to.not.equal('INTERNAL');
          expect((e as Error).message).to.not.match(/call stack/);
        }
      }
    }
  });
});
