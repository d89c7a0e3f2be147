// The nesting limit is onnxruntime's own: what onnxruntime-node loads, weightlens reads; one level deeper
// both refuse (onnxruntime: "protobuf parsing failed"; weightlens: BAD_GRAPH saying the depth).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { openModel } from '../../src/onnx/open.js';
import { nestedIfModel } from '../fixtures/onnx-bytes.js';
import { rejects } from '../support/rejects.js';

describe("nesting limit = onnxruntime's", () => {
  it('32 levels of If subgraphs: both read it; 33: both refuse it', async () => {
    await ort.InferenceSession.create(nestedIfModel(32)); // throws if onnxruntime refuses it
    await openModel(nestedIfModel(32));
    let ortError: unknown;
    await ort.InferenceSession.create(nestedIfModel(33)).catch((e: unknown) => (ortError = e));
    expect(String(ortError)).to.match(/protobuf parsing failed/i);
    await rejects(openModel(nestedIfModel(33)), 'BAD_GRAPH');
  });
});
