// Node-only: the `--verify` proxy compares an output a final Softmax or Sigmoid writes as the logits behind
// it. Checked against twin models that output those logits themselves (centred over the softmax's rows):
// the same inputs are drawn for both pairs, so the SQNRs must agree.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyQuantized } from '../../src/node/verify-quantized.js';
import { attr, f32Tensor, modelBytes, node, type INodeProto } from '../fixtures/onnx-bytes.js';
import { randomWeights } from '../support/random.js';

const typed = (name: string, dims?: number[]) => ({
  name,
  type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
});

describe('verifyQuantized: outputs of a final Softmax or Sigmoid compared as logits', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'weightlens-verify-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const w = randomWeights(8 * 5, 3, 0, 1);
  const wq = w.map((v, i) => v + 0.05 * Math.sin(i)); // a "quantized" weight: close, not equal

  /** x [2, 3, 8] · W [8, 5] → z, then `tail` from z to y; written as a file, its path returned. */
  function write(name: string, weight: Float32Array, tail: INodeProto[], opset: number): string {
    const path = join(dir, `${name}.onnx`);
    const bytes = modelBytes(
      {
        input: [typed('x', [2, 3, 8])],
        output: [typed('y')],
        initializer: [f32Tensor('w', [8, 5], [...weight])],
        node: [node('MatMul', ['x', 'w'], ['z'], 'matmul'), ...tail],
      },
      opset,
    );
    writeFileSync(path, bytes);
    return path;
  }

  async function agree(
    name: string,
    tail: INodeProto[],
    logits: INodeProto[],
    opset: number,
  ): Promise<Record<string, string>> {
    const viaProbabilities = await verifyQuantized(
      write(`${name}-float`, w, tail, opset),
      write(`${name}-quantized`, wq, tail, opset),
      { runs: 2 },
    );
    const direct = await verifyQuantized(
      write(`${name}-float-logits`, w, logits, opset),
      write(`${name}-quantized-logits`, wq, logits, opset),
      { runs: 2 },
    );
    expect(direct.outputs).to.deep.equal({ y: 'values' });
    expect(direct.outputSqnr).to.be.within(10, 60);
    expect(viaProbabilities.outputSqnr).to.be.closeTo(direct.outputSqnr!, 0.01);
    return viaProbabilities.outputs;
  }

  it('Softmax (opset 13, one axis): centred log-probabilities equal centred logits', async () => {
    const outputs = await agree(
      'softmax13',
      [node('Softmax', ['z'], ['y'], 'sm', [attr.int('axis', -1)])],
      [node('ReduceMean', ['z'], ['m'], 'mean', [attr.ints('axes', [-1])]), node('Sub', ['z', 'm'], ['y'])],
      13,
    );
    expect(outputs).to.deep.equal({ y: 'logits (before Softmax "sm")' });
  });

  it('Softmax before opset 13 (rows flattened from the axis on)', async () => {
    await agree(
      'softmax11',
      [node('Softmax', ['z'], ['y'], 'sm')],
      [node('ReduceMean', ['z'], ['m'], 'mean', [attr.ints('axes', [1, 2])]), node('Sub', ['z', 'm'], ['y'])],
      11,
    );
  });

  it('Sigmoid: logit(p) equals the logits', async () => {
    const outputs = await agree(
      'sigmoid',
      [node('Sigmoid', ['z'], ['y'], 'sig')],
      [node('Identity', ['z'], ['y'])],
      13,
    );
    expect(outputs).to.deep.equal({ y: 'logits (before Sigmoid "sig")' });
  });
});
