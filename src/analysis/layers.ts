// Which node owns which weight, and how that weight's elements map to output channels (DESIGN.md §2).
// Pure functions over the domain model: no protobuf, no Wasm, no DOM.
import { WeightlensError } from '../errors.js';
import type { ChannelLayout } from '../kernels/channel-stats.js';
import { dequantizedWeight } from '../onnx/dequantize.js';
import { isOverridable, resolveConstant, type Graph, type Model, type Node, type TensorRef } from '../onnx/model.js';
import { computedOp, isQOperator, qoperatorWeights, type QOperatorOp } from './qoperator.js';

/** The node's op type: a float op, or a QOperator op with integer weights (laid out as Conv or MatMul). */
export type WeightOp = 'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul' | QOperatorOp;
const WEIGHT_OPS = new Set<string>(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightLayer {
  /** Node name, or its first output when unnamed. */
  readonly name: string;
  readonly op: WeightOp;
  readonly graph: string;
  readonly node: Node;
  readonly weight: TensorRef;
  readonly bias?: TensorRef;
  /** Axis of the weight holding output channels; null for a rank-1 MatMul weight (one channel). */
  readonly channelAxis: number | null;
  readonly groups: number;
  /** Conv with one input channel per group and as many groups as outputs. */
  readonly depthwise: boolean;
  readonly layout: ChannelLayout;
  /** The BatchNormalization that alone consumes this layer's output, if any. */
  readonly batchNorm?: Node;
  /** The weight is also a graph input, so a runtime may replace it. */
  readonly overridable: boolean;
  /** What the figures mean where that is not obvious (QOperator: integer units, a bias left out). */
  readonly notes?: readonly string[];
}

const intAttr = (node: Node, name: string, fallback: number) => {
  const a = node.attributes.get(name);
  return a?.kind === 'int' ? a.value : fallback;
};

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Every Conv, ConvTranspose, Gemm and MatMul with a constant weight, and every QLinearConv, QLinearMatMul,
 * ConvInteger and MatMulInteger with constant integer weights, in every graph, in graph order.
 */
export function findWeightLayers(model: Model): WeightLayer[] {
  const layers: WeightLayer[] = [];
  for (const graph of model.graphs) {
    const producers = new Map<string, Node>();
    for (const node of graph.nodes) for (const out of node.outputs) producers.set(out, node);
    const consumers = consumerCounts(graph);
    const constant = (name: string | undefined) => constantInput(model, graph, producers, name);
    for (const node of graph.nodes) {
      if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
      if (isQOperator(node.opType)) {
        const found = qoperatorWeights(node as Node & { opType: QOperatorOp }, constant, model.fileName);
        if (found) layers.push(describeLayer(model, graph, node, found.weight, found.bias, consumers, found.notes));
        continue;
      }
      if (!WEIGHT_OPS.has(node.opType)) continue;
      const weight = constant(node.inputs[1]);
      if (!weight) continue;
      const bias = node.opType === 'MatMul' ? undefined : constant(node.inputs[2]);
      layers.push(describeLayer(model, graph, node, weight, bias, consumers));
    }
  }
  return layers;
}

/** A node input that is a constant: directly, through Identity, or as a DequantizeLinear of constants. */
function constantInput(model: Model, graph: Graph, producers: Map<string, Node>, name: string | undefined): TensorRef | undefined {
  for (let hops = 0; name && hops < 8; hops++) {
    const found = resolveConstant(graph, name);
    if (found) return found;
    const producer = producers.get(name);
    if (producer?.opType === 'DequantizeLinear') return dequantizedWeight(graph, producer, model.fileName);
    if (producer?.opType !== 'Identity') return undefined;
    name = producer.inputs[0];
  }
  return undefined;
}

/** How many nodes (including those inside subgraphs) and graph outputs read each value. */
function consumerCounts(graph: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  const visit = (g: Graph) => {
    for (const node of g.nodes) {
      node.inputs.forEach((i) => i && add(i));
      for (const attr of node.attributes.values()) {
        if (attr.kind === 'graph') visit(attr.value);
        if (attr.kind === 'graphs') attr.value.forEach(visit);
      }
    }
    g.outputs.forEach(add);
  };
  visit(graph);
  return counts;
}

function describeLayer(
  model: Model, graph: Graph, node: Node, weight: TensorRef, bias: TensorRef | undefined,
  consumers: Map<string, number>, notes: string[] = [],
): WeightLayer {
  const shape = weight.shape;
  const bad = (problem: string) =>
    new WeightlensError('BAD_GRAPH', `${model.fileName}: ${node.opType} "${node.name}" weight "${weight.name}" ${problem}`, {
      file: model.fileName, tensor: weight.name,
    });
  let channelAxis: number | null;
  let groups = 1;
  let layout: ChannelLayout;
  // QOperator ops share the weight layout of the float op they stand for.
  const computes = isQOperator(node.opType) ? computedOp(node.opType) : node.opType;
  switch (computes) {
    case 'Conv': {
      if (shape.length < 3) throw bad(`has shape [${shape}], ${node.opType} needs [Cout, Cin/group, k…]`);
      groups = intAttr(node, 'group', 1);
      channelAxis = 0;
      layout = { groups: 1, outer: 1, cg: shape[0]!, inner: product(shape.slice(1)) };
      break;
    }
    case 'ConvTranspose': {
      // [Cin, Cout/g, k…]: output channel g*(Cout/g)+j gathers axis 1 within group g.
      if (shape.length < 3) throw bad(`has shape [${shape}], ConvTranspose needs [Cin, Cout/group, k…]`);
      groups = intAttr(node, 'group', 1);
      if (groups < 1 || shape[0]! % groups !== 0) throw bad(`has ${shape[0]} input channels, not divisible by group=${groups}`);
      channelAxis = 1;
      layout = { groups, outer: shape[0]! / groups, cg: shape[1]!, inner: product(shape.slice(2)) };
      break;
    }
    case 'Gemm': {
      if (shape.length !== 2) throw bad(`has shape [${shape}], Gemm needs a matrix`);
      const transB = intAttr(node, 'transB', 0) === 1;
      channelAxis = transB ? 0 : 1;
      layout = transB ? { groups: 1, outer: 1, cg: shape[0]!, inner: shape[1]! } : { groups: 1, outer: shape[0]!, cg: shape[1]!, inner: 1 };
      break;
    }
    default: {
      // MatMul x·W with W [..., in, out]: output channels on the last axis.
      if (shape.length === 0) throw bad('is a scalar');
      channelAxis = shape.length === 1 ? null : shape.length - 1;
      layout = shape.length === 1
        ? { groups: 1, outer: 1, cg: 1, inner: shape[0]! }
        : { groups: 1, outer: product(shape.slice(0, -1)), cg: shape[shape.length - 1]!, inner: 1 };
    }
  }
  const output = node.outputs[0] ?? '';
  const onlyConsumer = consumers.get(output) === 1 ? graph.nodes.find((n) => n.inputs.includes(output)) : undefined;
  const batchNorm = onlyConsumer?.opType === 'BatchNormalization' && onlyConsumer.inputs[0] === output ? onlyConsumer : undefined;
  const depthwise = computes === 'Conv' && groups > 1 && groups === shape[0] && shape[1] === 1;
  return {
    name: node.name, op: node.opType as WeightOp, graph: graph.path, node, weight, bias,
    channelAxis, groups, depthwise, layout, batchNorm,
    // The weight's own name: through Identity the node input is the Identity's output, never an initializer.
    overridable: isOverridable(graph, weight.name),
    ...(notes.length > 0 ? { notes } : {}),
  };
}
