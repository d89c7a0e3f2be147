// Reading tensors of a decoded model in tests.
import { expect } from 'chai';
import { resolveConstant, type Graph, type Model, type TensorRef } from '../../src/onnx/model.js';

/** A tensor's values as float32 numbers (it must exist). */
export async function tensorValues(t: TensorRef | undefined): Promise<number[]> {
  expect(t, 'tensor').to.not.equal(undefined);
  const out = new Float32Array(t!.size);
  await t!.readFloat32Into(out);
  return [...out];
}

/** The constant named `name` visible from `graph` (main by default); throws if there is none. */
export function constant(model: Model, name: string, graph: Graph = model.main): TensorRef {
  const t = resolveConstant(graph, name);
  if (!t) throw new Error(`no constant ${name} in ${graph.path}`);
  return t;
}
