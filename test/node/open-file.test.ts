// Node-only: models and external data on disk, symlinks, and a real trained model checked against the
// Python onnx package (/usr/bin/python3 has numpy + onnx).
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySource } from '../../src/node/external-data.js';
import { openModelFile } from '../../src/node/open-file.js';
import { resolveConstant, type TensorRef } from '../../src/onnx/model.js';
import { openModel } from '../../src/onnx/open.js';
import { externalTensor, f32Bytes, initializersModel } from '../fixtures/onnx-bytes.js';
import { realModel, PYTHON } from '../support/node-paths.js';
import { rejects } from '../support/rejects.js';

// The bundle runs from build/test-node/node/; resolve from there so the test does not depend on the cwd.
const CLS_MODEL = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');

async function read(t: TensorRef | undefined): Promise<Float32Array> {
  expect(t, 'tensor').to.not.equal(undefined);
  const out = new Float32Array(t!.size);
  await t!.readFloat32Into(out);
  return out;
}

describe('openModelFile', () => {
  let root = '';
  const weights = f32Bytes([9, 1, 2, 3, 4, 5]);
  const model = (location: string) => initializersModel([externalTensor('w', [2, 2], location, 4, 16)]);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-open-'));
    mkdirSync(join(root, 'model', 'data'), { recursive: true });
    mkdirSync(join(root, 'elsewhere'));
    mkdirSync(join(root, 'outside'));
    writeFileSync(join(root, 'model', 'net.onnx'), model('data/weights.bin'));
    writeFileSync(join(root, 'model', 'data', 'weights.bin'), weights);
    writeFileSync(join(root, 'elsewhere', 'weights.bin'), f32Bytes([0, 10, 20, 30, 40]));
    writeFileSync(join(root, 'outside', 'secret.bin'), weights);
    symlinkSync(join(root, 'outside', 'secret.bin'), join(root, 'model', 'escape.bin'));
    symlinkSync(join(root, 'model', 'data', 'weights.bin'), join(root, 'model', 'inside.bin'));
    writeFileSync(join(root, 'model', 'escape.onnx'), model('escape.bin'));
    writeFileSync(join(root, 'model', 'inside.onnx'), model('inside.bin'));
    writeFileSync(join(root, 'model', 'flat.onnx'), model('weights.bin'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads external data next to the model, with progress', async () => {
    const path = join(root, 'model', 'net.onnx');
    const progress: string[] = [];
    const m = await openModelFile(path, { onProgress: (p) => progress.push(`${p.phase} ${p.loaded}/${p.total}`) });
    expect(m.fileName).to.equal(path);
    const size = readFileSync(path).length;
    expect(progress).to.deep.equal([
      `read 0/${size}`,
      `read ${size}/${size}`,
      `decode 0/${size}`,
      `decode ${size}/${size}`,
    ]);
    expect([...(await read(resolveConstant(m.main, 'w')))]).to.deep.equal([1, 2, 3, 4]);
  });

  it('reads external data from dataDir when given', async () => {
    const m = await openModelFile(join(root, 'model', 'flat.onnx'), { dataDir: join(root, 'elsewhere') });
    expect([...(await read(resolveConstant(m.main, 'w')))]).to.deep.equal([10, 20, 30, 40]);
  });

  it('follows a symlink that stays inside the folder, rejects one that leaves it', async () => {
    const inside = await openModelFile(join(root, 'model', 'inside.onnx'));
    expect([...(await read(resolveConstant(inside.main, 'w')))]).to.deep.equal([1, 2, 3, 4]);
    const escape = await openModelFile(join(root, 'model', 'escape.onnx'));
    const e = await rejects(read(resolveConstant(escape.main, 'w')), 'UNSAFE_PATH');
    expect(e.message).to.contain('escape.bin').and.contain('outside');
  });

  it('directorySource rejects unsafe and missing locations', async () => {
    const source = directorySource(join(root, 'model'));
    await rejects(source('../outside/secret.bin'), 'UNSAFE_PATH');
    await rejects(source('/etc/passwd'), 'UNSAFE_PATH');
    const missing = await rejects(source('data/nope.bin'), 'EXTERNAL_DATA');
    expect(missing.message).to.contain('"data/nope.bin" not found');
    const file = await source('data/weights.bin');
    expect(file.size).to.equal(24);
    expect([...new Float32Array((await file.read(8, 8)).slice().buffer)]).to.deep.equal([2, 3]);
  });

  it('directorySource reads straight into a given view and says how many bytes it got', async () => {
    const file = await directorySource(join(root, 'model'))('data/weights.bin');
    const memory = new Uint8Array(32);
    expect(await file.readInto!(8, memory.subarray(4, 12))).to.equal(8);
    expect([...memory.subarray(4, 12)]).to.deep.equal([...(await file.read(8, 8))]);
    expect([...memory.subarray(0, 4), ...memory.subarray(12)].every((b) => b === 0)).to.equal(true);
    expect(await file.readInto!(16, new Uint8Array(16))).to.equal(8); // past the end: what there is
  });

  it('directorySource reads a range of several pieces (read side by side) byte for byte, short at the end', async () => {
    const bytes = new Uint8Array(21 * 1024 * 1024 + 13); // pieces of 8 MB: two whole, one partial
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 27;
    writeFileSync(join(root, 'model', 'data', 'large.bin'), bytes);
    const file = await directorySource(join(root, 'model'))('data/large.bin');
    const whole = new Uint8Array(bytes.length - 7);
    expect(await file.readInto!(7, whole)).to.equal(whole.length);
    expect(Buffer.compare(whole, bytes.subarray(7))).to.equal(0);
    const beyond = new Uint8Array(bytes.length);
    expect(await file.readInto!(5 * 1024 * 1024, beyond)).to.equal(bytes.length - 5 * 1024 * 1024);
    expect(
      Buffer.compare(beyond.subarray(0, bytes.length - 5 * 1024 * 1024), bytes.subarray(5 * 1024 * 1024)),
    ).to.equal(0);
  });

  it('a missing model file is IO naming the path', async () => {
    const path = join(root, 'model', 'missing.onnx');
    const e = await rejects(openModelFile(path), 'IO');
    expect(e.message).to.equal(`${path}: cannot read the model: no such file`);
  });

  it('a cancelled signal is ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await rejects(openModelFile(join(root, 'model', 'net.onnx'), { signal: ac.signal }), 'ABORTED');
  });
});

describe('a real model: PaddleOCR mobile cls', () => {
  interface PyConv {
    node: string;
    weight: string;
    source: string;
    shape: number[];
    absSum: number;
  }
  const python = `
import json, sys, numpy as np, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
consts = {n.output[0]: n for n in m.graph.node if n.op_type == 'Constant'}
out = []
for n in m.graph.node:
    if n.op_type != 'Conv': continue
    w = n.input[1]
    t = numpy_helper.to_array(consts[w].attribute[0].t) if w in consts else None
    out.append({'node': n.name or n.output[0], 'weight': w, 'source': 'constant' if t is not None else 'other',
                'shape': list(t.shape) if t is not None else [], 'absSum': float(np.abs(t.astype(np.float64)).sum()) if t is not None else 0})
print(json.dumps(out))
`;

  it('opens, has ≥ 50 Conv nodes whose Constant-node weights match Python onnx', async () => {
    const reference = JSON.parse(execFileSync(PYTHON, ['-c', python, CLS_MODEL], { encoding: 'utf8' })) as PyConv[];
    const m = await openModelFile(CLS_MODEL);
    expect(m.irVersion).to.be.greaterThan(0);
    const convs = m.main.nodes.filter((n) => n.opType === 'Conv');
    expect(convs.length).to.be.at.least(50);
    expect(convs.map((n) => n.name)).to.deep.equal(reference.map((r) => r.node));
    for (const [i, conv] of convs.entries()) {
      const ref = reference[i]!;
      const w = resolveConstant(m.main, conv.inputs[1]!);
      expect(w, conv.name).to.not.equal(undefined);
      expect(ref.source).to.equal('constant');
      expect(w!).to.include({ name: ref.weight, origin: 'constant', dtype: 'float32' });
      expect(w!.shape, conv.name).to.deep.equal(ref.shape);
      const values = await read(w);
      let absSum = 0;
      for (const v of values) absSum += Math.abs(v);
      expect(absSum, conv.name).to.be.closeTo(ref.absSum, 1e-9 * Math.max(1, ref.absSum));
    }
  });

  it('the same file cut short is TRUNCATED', async () => {
    const bytes = readFileSync(CLS_MODEL);
    await rejects(
      openModel(new Uint8Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2)), { fileName: 'cls.onnx' }),
      'TRUNCATED',
    );
  });
});
