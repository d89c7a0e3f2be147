// Which node owns which weight, and how that weight's elements map to output channels (docs/definitions.md).
// Pure functions over the domain model: no protobuf, no Wasm, no DOM.
import { intAttribute } from '../onnx/attributes.js';
import { WeightlensError } from '../errors.js';
import type { BlockLayout, ChannelLayout } from '../kernels/kernels.js';
import { storedSources } from '../onnx/computed.js';
import { isFloatingPoint } from '../onnx/dtypes.js';
import { graphAt, nodesReading, useCount } from '../onnx/lookup.js';
import { isOverridable, type Graph, type Model, type Node, type TensorRef } from '../onnx/model.js';
import {
  blockQuantizedComputes,
  blockQuantizedWeight,
  isBlockQuantized,
  type BlockQuantizedOp,
} from './block-quantized.js';
import { ConstantInputs } from './constant-input.js';
import { checkConvWindow, convGroups, gemmTranspose, type BadAttribute } from './layer-attributes.js';
import { computedOp, isQOperator, qoperatorWeights, type QOperatorOp } from './qoperator.js';
import { isRecurrent, recurrentWeights, type RecurrentCell, type RecurrentWeights } from './recurrent.js';

/**
 * The node's op type: a float op, a QOperator op with integer weights (laid out as Conv or MatMul), an
 * onnxruntime block-quantized op (laid out as MatMul or Gather), a recurrent cell (one layer for W, one for R)
 * or a Gather from an embedding table.
 */
export type WeightOp =
  'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul' | QOperatorOp | BlockQuantizedOp | RecurrentCell | 'Gather';
const WEIGHT_OPS = new Set<string>(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightLayer {
  /** Node name, or its first output when unnamed; recurrent layers add "/W" or "/R". */
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
  /** Where the input (reduction) axis runs, for per-group quantization (docs/definitions.md). */
  readonly blocks: BlockLayout;
  /** The BatchNormalization that alone consumes this layer's output, if any. */
  readonly batchNorm?: Node;
  /** The weight is also a graph input, so a runtime may replace it. */
  readonly overridable: boolean;
  /** What the figures mean where that is not obvious (QOperator: integer units, a bias left out). */
  readonly notes?: readonly string[];
  /** LSTM/GRU/RNN weights: which direction, gate and hidden unit each channel is. */
  readonly recurrent?: RecurrentWeights;
}

/** A weight a node reads, before its channel layout is worked out. */
interface FoundWeight {
  weight: TensorRef;
  bias?: TensorRef;
  notes?: string[];
  recurrent?: RecurrentWeights;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Every Conv, ConvTranspose, Gemm and MatMul with a constant weight; every QLinearConv, QLinearMatMul,
 * ConvInteger and MatMulInteger with constant integer weights; every com.microsoft MatMulNBits (weight
 * [K, N]) and GatherBlockQuantized embedding with constant packed weights; the constant W and R of every LSTM,
 * GRU and RNN (two layers, "<node>/W" and "<node>/R"); every Gather from a constant rank-2 table along axis 0
 * (an embedding: one channel per row). In every graph, in graph order.
 */
export function findWeightLayers(model: Model): WeightLayer[] {
  const layers: WeightLayer[] = [];
  const inputs = new ConstantInputs(model.fileName);
  for (const graph of model.graphs) {
    const constant = (name: string | undefined) => inputs.resolve(graph, name);
    for (const node of graph.nodes) {
      if (node.domain !== '' && node.domain !== 'ai.onnx' && !isBlockQuantized(node)) continue;
      for (const found of weightsOf(node, constant, model.fileName))
        layers.push(describeLayer(model, graph, node, found));
    }
  }
  return layers;
}

/** The weights `node` reads from constants (none when it is not a weight op, or its weight is computed). */
function weightsOf(
  node: Node,
  constant: (name: string | undefined) => TensorRef | undefined,
  fileName: string,
): FoundWeight[] {
  if (isQOperator(node.opType)) {
    const found = qoperatorWeights(node as Node & { opType: QOperatorOp }, constant, fileName);
    return found ? [found] : [];
  }
  if (isBlockQuantized(node)) {
    const found = blockQuantizedWeight(node, constant, fileName);
    return found ? [found] : [];
  }
  if (isRecurrent(node.opType)) return recurrentWeights(node as Node & { opType: RecurrentCell }, constant, fileName);
  if (node.opType === 'Gather') {
    const table = embeddingTable(node, constant);
    return table ? [{ weight: table }] : [];
  }
  if (!WEIGHT_OPS.has(node.opType)) return [];
  const weight = constant(node.inputs[1]);
  if (!weight) return [];
  const bias = node.opType === 'MatMul' ? undefined : constant(node.inputs[2]);
  return [{ weight, bias }];
}

/**
 * Gather's data when it is an embedding table: constant, rank 2, real-valued (float or dequantized), gathered
 * along axis 0. Other Gathers (shape arithmetic, axis 1, integer lookups) are not weight layers.
 */
function embeddingTable(
  node: Node,
  constant: (name: string | undefined) => TensorRef | undefined,
): TensorRef | undefined {
  const table = constant(node.inputs[0]);
  if (!table || table.shape.length !== 2) return undefined;
  if (table.origin !== 'dequantized' && table.origin !== 'computed' && !isFloatingPoint(table.dtype)) return undefined;
  const axis = intAttribute(node, 'axis', 0);
  return axis === 0 || axis === -2 ? table : undefined;
}

function describeLayer(model: Model, graph: Graph, node: Node, found: FoundWeight): WeightLayer {
  const { weight, bias, notes = [], recurrent } = found;
  const shape = weight.shape;
  const bad = (problem: string) =>
    new WeightlensError(
      'BAD_GRAPH',
      `${model.fileName}: ${node.opType} "${node.name}" weight "${weight.name}" ${problem}`,
      {
        file: model.fileName,
        tensor: weight.name,
      },
    );
  const badAttribute: BadAttribute = (name, value, problem) =>
    new WeightlensError(
      'BAD_GRAPH',
      `${model.fileName}: ${node.opType} "${node.name}" attribute ${name}${value === undefined ? '' : `=${value}`} ${problem}`,
      {
        file: model.fileName,
        tensor: weight.name,
        field: name,
      },
    );
  let channelAxis: number | null;
  let groups = 1;
  let layout: ChannelLayout;
  let blocks: BlockLayout;
  // QOperator and block-quantized ops share the weight layout of the float op they stand for.
  const computes = isQOperator(node.opType)
    ? computedOp(node.opType)
    : isBlockQuantized(node)
      ? blockQuantizedComputes(node.opType)
      : node.opType;
  switch (recurrent ? 'recurrent' : computes) {
    case 'recurrent': {
      // [D, G·H, input or H] (shape checked by recurrentWeights): channel d·G·H + r over axis 1.
      channelAxis = 1;
      layout = { groups: shape[0]!, outer: 1, cg: shape[1]!, inner: shape[2]! };
      blocks = { mats: shape[0]! * shape[1]!, rows: shape[2]!, cols: 1 };
      break;
    }
    case 'Conv': {
      if (shape.length < 3) throw bad(`has shape [${shape}], ${node.opType} needs [Cout, Cin/group, k…]`);
      groups = convGroups(node, weight, badAttribute);
      checkConvWindow(node, weight, badAttribute);
      channelAxis = 0;
      layout = { groups: 1, outer: 1, cg: shape[0]!, inner: product(shape.slice(1)) };
      // Blocks along Cin/group, one block row per kernel position (as DequantizeLinear's block_size on axis 1).
      blocks = { mats: shape[0]!, rows: shape[1]!, cols: product(shape.slice(2)) };
      break;
    }
    case 'ConvTranspose': {
      // [Cin, Cout/g, k…]: output channel g*(Cout/g)+j gathers axis 1 within group g.
      if (shape.length < 3) throw bad(`has shape [${shape}], ConvTranspose needs [Cin, Cout/group, k…]`);
      groups = convGroups(node, weight, badAttribute);
      checkConvWindow(node, weight, badAttribute);
      channelAxis = 1;
      layout = { groups, outer: shape[0]! / groups, cg: shape[1]!, inner: product(shape.slice(2)) };
      // The input channels of group g (axis 0) are the reduction axis of its output channels.
      blocks = { mats: groups, rows: shape[0]! / groups, cols: product(shape.slice(1)) };
      break;
    }
    case 'Gemm': {
      if (shape.length !== 2) throw bad(`has shape [${shape}], Gemm needs a matrix`);
      gemmTranspose(node, 'transA', badAttribute);
      const transB = gemmTranspose(node, 'transB', badAttribute);
      channelAxis = transB ? 0 : 1;
      layout = transB
        ? { groups: 1, outer: 1, cg: shape[0]!, inner: shape[1]! }
        : { groups: 1, outer: shape[0]!, cg: shape[1]!, inner: 1 };
      blocks = transB ? { mats: shape[0]!, rows: shape[1]!, cols: 1 } : { mats: 1, rows: shape[0]!, cols: shape[1]! };
      break;
    }
    case 'Gather': {
      // An embedding table [rows, width]: one channel per row.
      channelAxis = 0;
      layout = { groups: 1, outer: 1, cg: shape[0]!, inner: shape[1]! };
      // No reduction axis: blocks along each row (GatherBlockQuantized quantizes the last axis).
      blocks = { mats: shape[0]!, rows: shape[1]!, cols: 1 };
      break;
    }
    default: {
      // MatMul x·W with W [..., in, out]: output channels on the last axis.
      if (shape.length === 0) throw bad('is a scalar');
      channelAxis = shape.length === 1 ? null : shape.length - 1;
      layout =
        shape.length === 1
          ? { groups: 1, outer: 1, cg: 1, inner: shape[0]! }
          : { groups: 1, outer: product(shape.slice(0, -1)), cg: shape[shape.length - 1]!, inner: 1 };
      // [..., in, out]: blocks along `in`, separately for each leading index.
      blocks =
        shape.length === 1
          ? { mats: 1, rows: shape[0]!, cols: 1 }
          : { mats: product(shape.slice(0, -2)), rows: shape.at(-2)!, cols: shape.at(-1)! };
    }
  }
  const output = node.outputs[0] ?? '';
  const onlyConsumer = useCount(model, output) === 1 ? nodesReading(graph, output)[0] : undefined;
  // A recurrent node's output Y [seq, D, batch, H] has no channel axis a BatchNorm could fold into.
  const batchNorm =
    !recurrent && onlyConsumer?.opType === 'BatchNormalization' && onlyConsumer.inputs[0] === output
      ? onlyConsumer
      : undefined;
  const depthwise = computes === 'Conv' && groups > 1 && groups === shape[0] && shape[1] === 1;
  return {
    name: recurrent ? `${node.name}/${recurrent.input}` : node.name,
    op: node.opType as WeightOp,
    graph: graph.path,
    node,
    weight,
    bias,
    channelAxis,
    groups,
    depthwise,
    layout,
    blocks,
    batchNorm,
    // The stored tensors' own names (through Identity or a computation the node input is a node output).
    overridable: storedSources(weight).some((s) => isOverridable(graphAt(model, s.graph) ?? graph, s.name)),
    ...(notes.length > 0 ? { notes } : {}),
    ...(recurrent ? { recurrent } : {}),
  };
}
