// The bias of a MatMul layer. PyTorch exports nn.Linear as MatMul(x, W[in, out]) followed by
// Add(y, b[out]); ONNX MatMul has no bias input, so the Add's constant is the layer's bias: it is scaled with
// the output channels and takes part in high-bias absorption. Pure graph analysis.
import { graphAt, nodesReading, useCount } from '../onnx/lookup.js';
import { resolveConstant, type Model, type Node, type TensorRef } from '../onnx/model.js';
import type { WeightLayer } from './layers.js';

export interface LinearBias {
  /** The Add that adds the bias to the MatMul's output. */
  readonly add: Node;
  readonly bias: TensorRef;
}

const FLOAT_TYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/**
 * Every rank-2 MatMul layer whose output is read only by an Add of a float constant holding one value per
 * output channel along the last axis (shape [out], [1, out], [1, 1, out]…).
 */
export function linearBiases(model: Model, layers: readonly WeightLayer[]): Map<WeightLayer, LinearBias> {
  const found = new Map<WeightLayer, LinearBias>();
  for (const layer of layers) {
    if (layer.op !== 'MatMul' || layer.weight.shape.length !== 2) continue;
    const graph = graphAt(model, layer.graph)!;
    const output = layer.node.outputs[0] ?? '';
    if (useCount(model, output) !== 1) continue;
    const add = nodesReading(graph, output)[0];
    if (add?.opType !== 'Add' || add.inputs.length !== 2) continue;
    const other = add.inputs[0] === output ? add.inputs[1] : add.inputs[0];
    const bias = other ? resolveConstant(graph, other) : undefined;
    if (bias && isChannelVector(bias, layer.weight.shape[1]!)) found.set(layer, { add, bias });
  }
  return found;
}

function isChannelVector(t: TensorRef, channels: number): boolean {
  const { shape } = t;
  return (
    FLOAT_TYPES.has(t.dtype) &&
    shape.length >= 1 &&
    shape.at(-1) === channels &&
    shape.slice(0, -1).every((d) => d === 1)
  );
}
