// Node-only: exported models on disk. External data written beside the model and re-opened from files;
// exported files checked by Debian's python3-onnx (onnx.checker) and run by onnxruntime-node, including
// the real PP-OCR cls model with every Conv -> BatchNormalization folded by hand in this test.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openModelFile } from '../../src/node/open-file.js';
import { exportModel, type ExportResult } from '../../src/onnx/export/export.js';
import { emptyPlan, type ExportPlan, type NewInitializer, type TensorEdit } from '../../src/onnx/export/plan.js';
import { resolveConstant, type Model, type Node, type TensorRef } from '../../src/onnx/model.js';
import { openModel } from '../../src/onnx/open.js';
import {
  DataType,
  convBatchNormModel,
  externalTensor,
  f32Bytes,
  f32Tensor,
  initializersModel,
  modelBytes,
  node,
  valueInfo,
} from '../fixtures/onnx-bytes.js';
import pkg from 'onnx-proto';
import { PYTHON, realModel } from '../support/node-paths.js';
import { checkModel } from '../support/onnx-checker.js';
import { seededRandom } from '../support/random.js';
import { inMemoryDataFile } from '../support/data-parts.js';

const CLS_MODEL = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');
const { onnx } = pkg;

/** A fixture as Debian's onnx 1.12 checker accepts it: IR version 8, opset 13 (the fixtures use 9 and 21). */
function forChecker(bytes: Uint8Array, shapes: Record<string, number[]>): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  m.irVersion = 8;
  m.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })];
  for (const v of [...m.graph!.input!, ...m.graph!.output!]) {
    const dims = shapes[v.name!];
    if (!dims) throw new Error(`forChecker: no shape for ${v.name}`);
    v.type = onnx.TypeProto.create({
      tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } },
    });
  }
  return onnx.ModelProto.encode(m).finish();
}

async function read(t: TensorRef | undefined): Promise<Float32Array> {
  expect(t, 'tensor').to.not.equal(undefined);
  const out = new Float32Array(t!.size);
  await t!.readFloat32Into(out);
  return out;
}

function constant(model: Model, name: string): TensorRef {
  const t = resolveConstant(model.main, name);
  if (!t) throw new Error(`no constant ${name}`);
  return t;
}

/** Writes the model and its new data files into `dir`; returns the model's path. */
function writeExport(dir: string, name: string, result: ExportResult): string {
  mkdirSync(dir, { recursive: true });
  for (const [location, parts] of result.dataFiles) {
    mkdirSync(dirname(join(dir, location)), { recursive: true });
    writeFileSync(join(dir, location), inMemoryDataFile(parts));
  }
  const path = join(dir, name);
  writeFileSync(path, result.bytes);
  return path;
}

async function run(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; shape: number[] }>,
): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  const inputs = Object.fromEntries(
    Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)]),
  );
  const result = await session.run(inputs);
  return session.outputNames.map((n) => result[n]!.data as Float32Array);
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(b.length).to.equal(a.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Folds every BatchNormalization whose input comes only from a Conv into that Conv (the plan the CLE
 * planner makes): the weight is scaled per output channel, the bias edited or added, the BN removed with
 * the Constant nodes that held its parameters, and the Conv writes the BN's output.
 */
async function foldAllBatchNorms(model: Model): Promise<{ plan: ExportPlan; folded: number }> {
  const g = model.main;
  const producer = new Map<string, Node>();
  const consumers = new Map<string, number>();
  for (const n of g.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  }
  for (const o of g.outputs) consumers.set(o, (consumers.get(o) ?? 0) + 1);
  const tensors: TensorEdit[] = [];
  const removeNodes: Node[] = [];
  const renameOutputs: ExportPlan['renameOutputs'][number][] = [];
  const appendInputs: ExportPlan['appendInputs'][number][] = [];
  const addInitializers: NewInitializer[] = [];
  for (const bn of g.nodes) {
    if (bn.opType !== 'BatchNormalization' || bn.outputs.length !== 1) continue;
    const conv = producer.get(bn.inputs[0]!);
    if (!conv || conv.opType !== 'Conv' || consumers.get(bn.inputs[0]!) !== 1 || consumers.get(conv.inputs[1]!) !== 1)
      continue;
    const a = bn.attributes.get('epsilon');
    const eps = a?.kind === 'float' ? a.value : 1e-5;
    const [scale, beta, mean, variance] = (await Promise.all(
      bn.inputs.slice(1, 5).map((n) => read(resolveConstant(g, n))),
    )) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const weight = resolveConstant(g, conv.inputs[1]!)!;
    const w = await read(weight);
    const cout = weight.shape[0]!;
    const per = w.length / cout;
    const bias = conv.inputs[2] ? resolveConstant(g, conv.inputs[2])! : undefined;
    const b = bias ? await read(bias) : new Float32Array(cout);
    const newBias = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      const s = scale[o]! / Math.sqrt(variance[o]! + eps);
      for (let k = 0; k < per; k++) w[o * per + k] = w[o * per + k]! * s;
      newBias[o] = (b[o]! - mean[o]!) * s + beta[o]!;
    }
    tensors.push({ tensor: weight, values: w });
    if (bias) tensors.push({ tensor: bias, values: newBias });
    else {
      const name = `${conv.name}.folded_bias`;
      appendInputs.push({ node: conv, name });
      addInitializers.push({ graph: g, name, dims: [cout], dataType: weight.dataType, values: newBias });
    }
    removeNodes.push(bn);
    for (const p of bn.inputs.slice(1)) {
      const c = producer.get(p);
      if (c?.opType === 'Constant' && consumers.get(p) === 1) removeNodes.push(c);
    }
    renameOutputs.push({ node: conv, index: 0, name: bn.outputs[0]! });
  }
  return {
    plan: { ...emptyPlan(), tensors, removeNodes, renameOutputs, appendInputs, addInitializers },
    folded: renameOutputs.length,
  };
}

describe('export to files', () => {
  let root = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-export-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('external data: the edited tensor goes to the new data file, the other keeps weights.bin', async () => {
    const input = join(root, 'in');
    mkdirSync(input);
    // A Conv whose weight and bias are external, in one weights.bin (bias at an unaligned offset).
    const weights = new Uint8Array(4 + 16 + 8);
    weights.set(f32Bytes([1, 2, 3, 4]), 4);
    weights.set(f32Bytes([0.5, -0.5]), 20);
    writeFileSync(join(input, 'weights.bin'), weights);
    writeFileSync(
      join(input, 'net.onnx'),
      forChecker(
        modelBytes({
          input: [valueInfo('x')],
          output: [valueInfo('y')],
          initializer: [
            externalTensor('w', [2, 1, 1, 2], 'weights.bin', 4, 16),
            externalTensor('b', [2], 'weights.bin', 20, 8),
          ],
          node: [node('Conv', ['x', 'w', 'b'], ['y'], 'conv')],
        }),
        { x: [1, 1, 3, 4], y: [1, 2, 3, 3] },
      ),
    );
    const model = await openModelFile(join(input, 'net.onnx'));
    const result = exportModel(
      model,
      { ...emptyPlan(), tensors: [{ tensor: constant(model, 'w'), values: new Float32Array([-1, -2, -3, -4]) }] },
      { dataFileName: 'net-out.data' },
    );
    expect([...result.dataFiles.keys()]).to.deep.equal(['net-out.data']);
    expect(result.keptLocations).to.deep.equal(['weights.bin']);

    const out = join(root, 'out');
    const path = writeExport(out, 'net-out.onnx', result);
    writeFileSync(join(out, 'weights.bin'), weights); // what the CLI does for keptLocations
    const reopened = await openModelFile(path);
    expect(constant(reopened, 'w').external).to.deep.equal({ location: 'net-out.data', offset: 0, length: 16 });
    expect(constant(reopened, 'b').external).to.deep.equal({ location: 'weights.bin', offset: 20, length: 8 });
    expect([...(await read(constant(reopened, 'w')))]).to.deep.equal([-1, -2, -3, -4]);
    expect([...(await read(constant(reopened, 'b')))]).to.deep.equal([0.5, -0.5]);
    checkModel(path);
    // onnx's own loader agrees on the values and where they live
    const py = `import onnx, sys, json
from onnx import numpy_helper
where = {t.name: {e.key: e.value for e in t.external_data} for t in onnx.load(sys.argv[1], load_external_data=False).graph.initializer}
m = onnx.load(sys.argv[1])
print(json.dumps({t.name: [numpy_helper.to_array(t).ravel().tolist(), where[t.name]] for t in m.graph.initializer}))`;
    const seen = JSON.parse(execFileSync(PYTHON, ['-c', py, path], { encoding: 'utf8' }));
    expect(seen).to.deep.equal({
      w: [[-1, -2, -3, -4], { location: 'net-out.data', offset: '0', length: '16' }],
      b: [[0.5, -0.5], { location: 'weights.bin', offset: '20', length: '8' }],
    });
  });

  it('several external tensors in one new file: 64-byte aligned offsets (4096 for large tensors)', async () => {
    const dir = join(root, 'aligned');
    mkdirSync(dir);
    const big = 20000; // 80 kB: 4096-aligned
    const data = new Uint8Array(12 + big * 4);
    writeFileSync(join(dir, 'w.bin'), data);
    writeFileSync(
      join(dir, 'm.onnx'),
      forChecker(
        initializersModel([
          externalTensor('small', [3], 'w.bin', 0, 12),
          externalTensor('large', [big], 'w.bin', 12, big * 4),
          externalTensor('tiny', [1], 'w.bin', 0, 4),
        ]),
        { y: [1] },
      ),
    );
    const model = await openModelFile(join(dir, 'm.onnx'));
    const values = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => i * k);
    const result = exportModel(model, {
      ...emptyPlan(),
      tensors: [
        { tensor: constant(model, 'small'), values: values(3, 1) },
        { tensor: constant(model, 'large'), values: values(big, 2) },
        { tensor: constant(model, 'tiny'), values: values(1, 7) },
      ],
    });
    expect(result.keptLocations).to.deep.equal([]);
    const path = writeExport(join(dir, 'out'), 'm.onnx', result);
    const reopened = await openModelFile(path);
    expect(constant(reopened, 'small').external).to.deep.equal({
      location: 'm.weightlens.data',
      offset: 0,
      length: 12,
    });
    expect(constant(reopened, 'large').external).to.deep.equal({
      location: 'm.weightlens.data',
      offset: 4096,
      length: big * 4,
    });
    expect(constant(reopened, 'tiny').external!.offset % 64).to.equal(0);
    expect([...(await read(constant(reopened, 'large')))]).to.deep.equal([...values(big, 2)]);
    expect([...(await read(constant(reopened, 'tiny')))]).to.deep.equal([0]);
    checkModel(path);
  });

  it('a folded Conv + BN fixture passes onnx.checker and computes the same in onnxruntime', async () => {
    const original = forChecker(convBatchNormModel('none'), { x: [2, 1, 3, 4], y: [2, 2, 3, 4] });
    const model = await openModel(original, { fileName: 'bn.onnx' });
    const { plan, folded } = await foldAllBatchNorms(model);
    expect(folded).to.equal(1);
    const result = exportModel(model, plan);
    const path = writeExport(join(root, 'bn'), 'folded.onnx', result);
    checkModel(path);
    const reopened = await openModel(result.bytes);
    expect(reopened.main.nodes.map((n) => n.opType)).to.deep.equal(['Conv']);
    const x = { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i)), shape: [2, 1, 3, 4] };
    const [expected] = await run(original, { x });
    const [actual] = await run(result.bytes, { x });
    expect(maxDiff(expected!, actual!)).to.be.at.most(1e-5 * Math.max(maxAbs(expected!), 0.01));
  });

  it('the real PP-OCR cls model: every Conv -> BN folded; onnx.checker passes; onnxruntime gives the same outputs', async () => {
    const original = new Uint8Array(readFileSync(CLS_MODEL));
    const model = await openModelFile(CLS_MODEL);
    const { plan, folded } = await foldAllBatchNorms(model);
    expect(folded).to.equal(35);
    expect(plan.tensors.every((t) => t.tensor.origin === 'constant')).to.equal(true); // weights in Constant nodes
    const result = exportModel(model, plan);
    const path = writeExport(join(root, 'cls'), 'cls-folded.onnx', result);
    checkModel(path);

    const reopened = await openModel(result.bytes, { fileName: 'cls-folded.onnx' });
    const ops = (m: Model) => m.main.nodes.filter((n) => n.opType === 'BatchNormalization').length;
    expect(ops(reopened)).to.equal(0);
    expect(reopened.main.nodes.length).to.equal(model.main.nodes.length - 35 * 5);
    expect(reopened.main.outputs).to.deep.equal(model.main.outputs);

    const shape = [1, 3, 48, 192];
    const size = shape.reduce((a, b) => a * b, 1);
    const zeros = await run(result.bytes, { x: { data: new Float32Array(size), shape } });
    expect(zeros[0]!.length).to.equal(2);
    expect(zeros[0]!.every(Number.isFinite)).to.equal(true);
    for (const seed of [1, 2]) {
      const rand = seededRandom(seed);
      const x = { data: Float32Array.from({ length: size }, () => rand() * 2 - 1), shape };
      const [expected] = await run(original, { x });
      const [actual] = await run(result.bytes, { x });
      expect(maxDiff(expected!, actual!), `seed ${seed}`).to.be.at.most(1e-4 * Math.max(maxAbs(expected!), 0.01));
    }
  });

  it('Silero VAD: a weight inside an If branch edited; only its payload bytes change; checker and onnxruntime accept it', async () => {
    const file = join(process.cwd(), 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');
    const original = new Uint8Array(readFileSync(file));
    const model = await openModelFile(file);
    const branch = model.graphs.find((g) => g.path === 'main/If_0.then_branch')!;
    expect(branch.owner).to.deep.include({ attribute: 'then_branch' });
    const conv = branch.nodes.find(
      (n) => n.opType === 'Conv' && resolveConstant(branch, n.inputs[1]!)?.graph === branch.path,
    )!;
    const weight = resolveConstant(branch, conv.inputs[1]!)!;
    expect([weight.origin, weight.dtype]).to.deep.equal(['constant', 'float32']);
    const before = await read(weight);
    const doubled = before.map((v) => v * 2);
    const result = exportModel(model, { ...emptyPlan(), tensors: [{ tensor: weight, values: doubled }] });

    const payload = new Uint8Array(before.buffer);
    const at = Buffer.from(original).indexOf(Buffer.from(payload));
    expect(at).to.be.greaterThan(0);
    expect(result.bytes.length).to.equal(original.length);
    expect(Buffer.from(result.bytes.subarray(0, at)).equals(original.subarray(0, at))).to.equal(true);
    expect(
      Buffer.from(result.bytes.subarray(at + payload.length)).equals(original.subarray(at + payload.length)),
    ).to.equal(true);

    const reopened = await openModel(result.bytes, { fileName: 'vad.onnx' });
    const again = reopened.graphs.find((g) => g.path === branch.path)!;
    expect([...(await read(resolveConstant(again, conv.inputs[1]!)))]).to.deep.equal([...doubled]);
    const path = writeExport(join(root, 'vad'), 'vad.onnx', result);
    checkModel(path, { fullCheck: false });
    const session = await ort.InferenceSession.create(result.bytes);
    const out = await session.run({
      input: new ort.Tensor('float32', new Float32Array(512), [1, 512]),
      state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    expect(Number.isFinite((out.output!.data as Float32Array)[0]!)).to.equal(true);
  });

  it('an empty plan on the real model gives the same bytes', async () => {
    const model = await openModelFile(CLS_MODEL);
    const result = exportModel(model, emptyPlan());
    expect(Buffer.from(result.bytes).equals(readFileSync(CLS_MODEL))).to.equal(true);
  });

  it('a float_data weight, a filled optional bias and a dropped initializer pass onnx.checker and run', async () => {
    const bytes = forChecker(
      modelBytes({
        input: [valueInfo('x')],
        output: [valueInfo('y')],
        initializer: [
          { name: 'w', dims: [1, 1, 1, 2], dataType: DataType.FLOAT, floatData: [1, 2] },
          f32Tensor('unused', [1], [0]),
        ],
        node: [node('Conv', ['x', 'w', ''], ['y'], 'conv')],
      }),
      { x: [1, 1, 2, 2], y: [1, 1, 2, 1] },
    );
    const model = await openModel(bytes);
    const result = exportModel(model, {
      ...emptyPlan(),
      tensors: [{ tensor: constant(model, 'w'), values: new Float32Array([3, 4]) }],
      appendInputs: [{ node: model.main.nodes[0]!, name: 'b' }],
      addInitializers: [
        { graph: model.main, name: 'b', dims: [1], dataType: DataType.FLOAT, values: new Float32Array([10]) },
      ],
      removeInitializers: [constant(model, 'unused')],
    });
    const path = writeExport(join(root, 'fd'), 'fd.onnx', result);
    checkModel(path);
    const [y] = await run(result.bytes, { x: { data: new Float32Array([1, 1, 2, 2]), shape: [1, 1, 2, 2] } });
    expect([...y!]).to.deep.equal([3 + 4 + 10, 6 + 8 + 10]);
  });
});
