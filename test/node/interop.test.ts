// `stats --format netron|model-explorer`: the structure those viewers read (Netron's metadata.Attachment:
// signature, metadata/metrics arrays of {kind, target, name, value}; Model Explorer's ModelNodeData:
// graph id -> {results: {node key: {value}}, gradient stops 0..1}), and every name referenced exists in
// the model as onnx (Python) lists it.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON, ROOT, realModel } from '../support/node-paths.js';

const MODEL = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });

/** Node names, node outputs, tensor names (initializers and Constant outputs) and the graph name, from onnx. */
function namesInModel(): { nodes: Set<string>; outputs: Set<string>; tensors: Set<string>; graph: string } {
  const script = `
import json, sys, onnx
m = onnx.load(sys.argv[1])
g = m.graph
print(json.dumps({
  "nodes": [n.name or n.output[0] for n in g.node],
  "outputs": [o for n in g.node for o in n.output],
  "tensors": [t.name for t in g.initializer] + [n.output[0] for n in g.node if n.op_type == "Constant"],
  "graph": g.name,
}))`;
  const parsed = JSON.parse(execFileSync(PYTHON, ['-c', script, MODEL], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  return {
    nodes: new Set(parsed.nodes),
    outputs: new Set(parsed.outputs),
    tensors: new Set(parsed.tensors),
    graph: parsed.graph,
  };
}

describe('viewer formats', () => {
  const names = namesInModel();

  it('Netron attachment: signature, containers, entries on existing nodes and tensors', () => {
    const r = cli('stats', MODEL, '--format', 'netron', '--quant');
    expect(r.status, r.stderr).to.equal(0);
    const data = JSON.parse(r.stdout);
    expect(data.signature).to.equal('netron:attachment');
    expect(data.metadata).to.be.an('array');
    expect(data.metrics).to.be.an('array').that.is.not.empty;
    for (const m of data.metrics) {
      expect(Object.keys(m).sort()).to.deep.equal(['kind', 'name', 'target', 'value']);
      expect(m.kind).to.be.oneOf(['node', 'tensor']);
      expect(m.target, 'no newline: Netron matches the first line only').to.not.contain('\n');
      expect(
        m.kind === 'node' ? names.nodes.has(m.target) : names.tensors.has(m.target),
        `${m.kind} ${m.target}`,
      ).to.equal(true);
      expect(typeof m.value === 'number' || typeof m.value === 'string').to.equal(true);
    }
    const sqnr = data.metrics.filter((m: { name: string }) => m.name === 'INT8 SQNR per-tensor (dB)');
    expect(sqnr).to.have.length(54);
  });

  it('Model Explorer node data: graph id, results keyed by node outputs, a 0..1 gradient', () => {
    const r = cli('stats', MODEL, '--format', 'model-explorer');
    expect(r.status, r.stderr).to.equal(0);
    const data = JSON.parse(r.stdout);
    const graphIds = Object.keys(data);
    expect(graphIds).to.deep.equal([names.graph || 'main']);
    const graph = data[graphIds[0]!];
    const keys = Object.keys(graph.results);
    expect(keys.length).to.equal(54);
    for (const key of keys) {
      expect(names.outputs.has(key), key).to.equal(true);
      expect(graph.results[key].value).to.be.a('number');
    }
    expect(graph.gradient.map((g: { stop: number }) => g.stop)).to.deep.equal([0, 1]);
  });

  it('rejects an unknown format in one line', () => {
    const r = cli('stats', MODEL, '--format', 'svg');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('--format must be');
  });
});
