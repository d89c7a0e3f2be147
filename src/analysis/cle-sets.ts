// Which BatchNorms can be folded and which layers can be equalized together (docs/definitions.md). Pure graph
// analysis: no weights are read here. Every candidate that is left alone comes back with a reason.
import { floatAttribute, intAttribute } from '../onnx/attributes.js';
import { computingOps } from '../onnx/computed.js';
import { graphAt, nodesReading, useCount } from '../onnx/lookup.js';
import { resolveConstant, type Graph, type Model, type Node, type TensorRef } from '../onnx/model.js';
import { cross, outputPlace, placeMismatch, type ChannelPlace } from './cle-crossing.js';
import { findWeightLayers, type WeightLayer } from './layers.js';
import { linearBiases, type LinearBias } from './linear-bias.js';

export interface Skip {
  layers: string[];
  reason: string;
}

export interface BnFold {
  layer: WeightLayer;
  bn: Node;
  gamma: TensorRef;
  beta: TensorRef;
  mean: TensorRef;
  variance: TensorRef;
  epsilon: number;
}

/** Consecutive equalizable layers; `between[k]` are the ops between layers k and k+1. */
export interface CleChain {
  layers: WeightLayer[];
  between: Node[][];
}

/** A CLE set inside a chain: two layers, or Conv -> depthwise Conv -> Conv. */
export interface CleSet {
  kind: 'pair' | 'triplet';
  layers: WeightLayer[];
  /** The ops crossed between the set's layers, in order (a folded BatchNorm is not among them). */
  between: Node[];
}

const FOLDABLE = new Set(['Conv', 'ConvTranspose', 'Gemm']);
/** BatchNormalization's inputs 1 to 4, by their ONNX names. */
const BN_PARAMETERS = ['scale', 'B', 'input_mean', 'input_var'] as const;
/**
 * The weight ops CLE scales. Every other weight layer (recurrent, embedding, quantized, whatever the kit
 * learns to read next) is declined by name, without a change here.
 */
const CLE_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
const CLE_ONLY = 'CLE equalizes Conv, ConvTranspose, Gemm and MatMul layers only';

/** The reason a layer's weights may not be rewritten, or undefined. `bias`: a MatMul's comes from its Add. */
function notRewritable(model: Model, layer: WeightLayer, bias = layer.bias): string | undefined {
  const { weight } = layer;
  if (layer.op === 'Gemm') {
    // Y = alpha·A'·B' + beta·C: per-channel scaling of B' and C is exact only in the plain form.
    const node = layer.node;
    if (intAttribute(node, 'transA', 0) !== 0)
      return `${layer.name} is a Gemm with transA=1 (its input channels are not the previous layer's outputs)`;
    if (floatAttribute(node, 'alpha', 1) !== 1 || (bias && floatAttribute(node, 'beta', 1) !== 1))
      return `${layer.name} is a Gemm with alpha or beta other than 1`;
    if (bias && bias.size !== channelsOut(layer))
      return `${layer.name}'s bias "${bias.name}" has shape [${bias.shape}], not one value per output channel`;
  }
  if (weight.origin === 'dequantized')
    return `${layer.name} has quantized weights (apply CLE to the float model before quantization)`;
  if (weight.origin === 'computed') return `${layer.name}'s ${computedAtRunTime('weight', weight)}`;
  if (!['float32', 'float16', 'bfloat16', 'float64'].includes(weight.dtype))
    return `${layer.name}'s weight is ${weight.dtype}`;
  if (layer.overridable) return `${layer.name}'s weight "${weight.name}" is a graph input a runtime may replace`;
  if (useCount(model, weight.name) > 1) return `${layer.name}'s weight "${weight.name}" is shared with other nodes`;
  if (bias && useCount(model, bias.name) > 1) return `${layer.name}'s bias "${bias.name}" is shared with other nodes`;
  if (bias && bias.origin === 'dequantized') return `${layer.name} has a quantized bias`;
  if (bias && bias.origin === 'computed') return `${layer.name}'s ${computedAtRunTime('bias', bias)}`;
  return undefined;
}

/** Why a computed tensor cannot be rewritten: `weight "w" is computed at run time from constants (Slice/Concat): …`. */
function computedAtRunTime(role: 'weight' | 'bias', t: TensorRef): string {
  return `${role} "${t.name}" is computed at run time from constants (${computingOps(t).join('/')}): CLE can only rewrite stored tensors`;
}

/**
 * BatchNormalization nodes that can be folded into the Conv/ConvTranspose/Gemm before them: the BN alone
 * reads the layer's output (WeightLayer.batchNorm), its four parameters are constants, and the layer's
 * weight and bias are rewritable (not graph inputs, not shared, not quantized). Every other candidate comes
 * back in `skipped` with the reason.
 */
export function findBatchNormFolds(
  model: Model,
  layers: WeightLayer[] = findWeightLayers(model),
): { folds: BnFold[]; skipped: Skip[] } {
  const folds: BnFold[] = [];
  const skipped: Skip[] = [];
  for (const layer of layers) {
    const bn = layer.batchNorm;
    if (!bn) continue;
    const skip = (reason: string) => skipped.push({ layers: [layer.name, bn.name], reason });
    if (!FOLDABLE.has(layer.op)) {
      skip(`${bn.name} follows ${layer.op} ${layer.name}, which cannot take a folded BatchNorm`);
      continue;
    }
    const why = notRewritable(model, layer);
    if (why) {
      skip(`${bn.name} not folded: ${why}`);
      continue;
    }
    if (bn.outputs.filter(Boolean).length > 1) {
      skip(`${bn.name} not folded: it is in training mode (more than one output)`);
      continue;
    }
    const graph = graphAt(model, bn.graph)!;
    const params = bn.inputs.slice(1, 5).map((name) => resolveConstant(graph, name));
    if (params.length < 4 || params.some((p) => !p)) {
      skip(`${bn.name} not folded: its scale, bias, mean and variance are not all constants`);
      continue;
    }
    const channels = channelsOut(layer);
    const misfit = (params as TensorRef[]).findIndex((p) => p.size !== channels);
    if (misfit >= 0) {
      const p = params[misfit]!;
      skip(
        `${bn.name} not folded: its ${BN_PARAMETERS[misfit]} "${p.name}" has ${p.size} values, ${layer.name} has ${channels} output channels`,
      );
      continue;
    }
    const eps = bn.attributes.get('epsilon');
    if (eps && (eps.kind !== 'float' || !Number.isFinite(eps.value))) {
      skip(
        `${bn.name} not folded: its epsilon is ${eps.kind === 'float' ? eps.value : `of type ${eps.kind}`}, not a finite float`,
      );
      continue;
    }
    const [gamma, beta, mean, variance] = params as TensorRef[];
    folds.push({
      layer,
      bn,
      gamma: gamma!,
      beta: beta!,
      mean: mean!,
      variance: variance!,
      epsilon: eps?.kind === 'float' ? eps.value : 1e-5,
    });
  }
  return { folds, skipped };
}

export interface ChainOptions {
  /** Clip(0, 6) counts as Relu; the Clips crossed are returned in clipRewrites. */
  relu6ToRelu?: boolean;
}

/**
 * Values of the single-element constants Clip nodes read as min/max (opset ≥ 11), for recognising
 * Relu6. Reads only those tiny tensors.
 */
/**
 * The scalar constants the graph feeds to Clip, Add, Mul and Div nodes (Clip bounds given as inputs, the
 * +3 and /6 of a spelled-out HardSwish), by tensor name: read once, so graph matching can stay synchronous.
 */
export async function readScalarInputs(model: Model, signal?: AbortSignal): Promise<Map<string, number>> {
  const scalars = new Map<string, number>();
  const value = new Float32Array(1);
  for (const graph of model.graphs) {
    for (const node of graph.nodes) {
      if (!SCALAR_READERS.has(node.opType)) continue;
      for (const name of node.opType === 'Clip' ? node.inputs.slice(1, 3) : node.inputs) {
        const t = name ? resolveConstant(graph, name) : undefined;
        if (!t || t.size !== 1 || scalars.has(name)) continue;
        await t.readFloat32Into(value, signal);
        scalars.set(name, value[0]!);
      }
    }
  }
  return scalars;
}

const SCALAR_READERS = new Set(['Clip', 'Add', 'Mul', 'Div']);

/** Splits a chain into the sets it is equalized as: pairs, and triplets around a depthwise middle layer. */
export function chainSets<L extends { depthwise?: boolean }>(
  layers: readonly L[],
): { kind: 'pair' | 'triplet'; first: number }[] {
  const sets: { kind: 'pair' | 'triplet'; first: number }[] = [];
  for (let k = 0; k + 1 < layers.length;) {
    const triplet = !!layers[k + 1]!.depthwise && k + 2 < layers.length;
    sets.push({ kind: triplet ? 'triplet' : 'pair', first: k });
    k += triplet ? 2 : 1;
  }
  return sets;
}

/**
 * CLE sets (pairs and Conv -> DW -> Conv triplets) and the chains they form, with every candidate left
 * alone and its reason. Pure: Clip(0, 6) written with min/max inputs (opset ≥ 11) is recognised from
 * `clipBounds` (see readScalarInputs); without it only the attribute form (opset < 11) is.
 */
export function findCleSets(
  model: Model,
  layers: WeightLayer[],
  folds: BnFold[],
  options: ChainOptions & { clipBounds?: Map<string, number> } = {},
): { sets: CleSet[]; chains: CleChain[]; skipped: Skip[]; clipRewrites: Node[] } {
  const { chains, skipped, clipRewrites } = findCleChains(
    model,
    layers,
    folds,
    options.clipBounds ?? new Map(),
    options,
  );
  const sets = chains.flatMap((chain) =>
    chainSets(chain.layers).map(({ kind, first }) => {
      const span = kind === 'triplet' ? 2 : 1;
      return {
        kind,
        layers: chain.layers.slice(first, first + span + 1),
        between: chain.between.slice(first, first + span).flat(),
      };
    }),
  );
  return { sets, chains, skipped, clipRewrites };
}

/** Clip(x, 0, 6) (inputs, opset ≥ 11, or min/max attributes), given the constants' values. */
export function isRelu6(node: Node, scalars: Map<string, number>): boolean {
  if (node.opType !== 'Clip') return false;
  const attr = (n: string) => {
    const a = node.attributes.get(n);
    return a?.kind === 'float' ? a.value : undefined;
  };
  const min = node.inputs[1] ? scalars.get(node.inputs[1]) : attr('min');
  const max = node.inputs[2] ? scalars.get(node.inputs[2]) : attr('max');
  return min === 0 && max === 6;
}

/** Why CLE does not take `layer` at all, or undefined. */
function declined(layer: WeightLayer): string | undefined {
  if (!CLE_OPS.has(layer.op)) return `${layer.name} ("${layer.weight.name}") is a weight of ${layer.op}: ${CLE_ONLY}`;
  const rank = layer.weight.shape.length;
  // Its channel counts are not backed by any values: allocating for them would be sized by the shape alone.
  if (layer.weight.size === 0)
    return `${layer.name}'s weight "${layer.weight.name}" [${layer.weight.shape}] has no elements`;
  if (layer.op === 'MatMul' && rank !== 2) {
    return `${layer.name}'s weight "${layer.weight.name}" has rank ${rank}: CLE equalizes MatMul layers with an [in, out] matrix only`;
  }
  return undefined;
}

const HOPS = 16;

/** Where the walk from a layer's output ended: at the next layer, at an op CLE may not cross, or nowhere. */
type Walk =
  | { kind: 'reached'; layer: WeightLayer; between: Node[]; place: ChannelPlace }
  | { kind: 'blocked'; reason: string; after?: string }
  | { kind: 'deadEnd'; reason: string };

interface WalkContext {
  model: Model;
  byNode: Map<Node, WeightLayer>;
  /** Where each layer's output leaves it: after its folded BatchNorm or its bias Add. */
  start: (layer: WeightLayer) => string;
  scalars: Map<string, number>;
  options: ChainOptions;
}

/** Follows `layer`'s output through single-reader values and crossable ops to the next weight layer. */
function walkFrom(layer: WeightLayer, { model, byNode, start, scalars, options }: WalkContext): Walk {
  const graph = graphAt(model, layer.graph)!;
  const isConstant = (value: string) => !!resolveConstant(graph, value);
  const between: Node[] = [];
  let place = outputPlace(layer);
  let value = start(layer);
  for (let hops = 0; hops < HOPS; hops++) {
    const readers = useCount(model, value);
    if (graph.outputs.includes(value)) {
      // The model's output: nothing to equalize with, unless a layer also reads it (then it may not change).
      return readers > 1
        ? { kind: 'blocked', reason: `${layer.name}'s output "${value}" is a graph output` }
        : {
            kind: 'deadEnd',
            reason: `${layer.name}'s output "${value}" is a graph output, with no weight layer after it`,
          };
    }
    if (readers === 0) return { kind: 'deadEnd', reason: `${layer.name}'s output "${value}" is not read by any node` };
    if (readers > 1)
      return { kind: 'blocked', reason: `${layer.name}'s output "${value}" is read by ${readers} nodes (fan-out)` };
    const consumer = nodesReading(graph, value)[0];
    if (!consumer) return { kind: 'blocked', reason: `${layer.name}'s output is read in a subgraph` };
    const target = byNode.get(consumer);
    if (target) {
      if (!CLE_OPS.has(target.op)) {
        // A recurrent node holds two layers (W and R): name the node.
        const node = consumer.name || target.name;
        return {
          kind: 'blocked',
          reason: `${target.op} ${node} reads ${layer.name}'s output: ${CLE_ONLY}`,
          after: node,
        };
      }
      if (consumer.inputs[0] !== value)
        return { kind: 'blocked', reason: `${layer.name}'s output is the weight of ${consumer.name}` };
      return { kind: 'reached', layer: target, between, place };
    }
    if (!(options.relu6ToRelu && isRelu6(consumer, scalars))) {
      // Names the two layers in a reason; found only when there is one (it walks the graph again).
      const after = () => nextLayerName(graph, consumer, byNode);
      const pair = () => (after() ? `between ${layer.name} and ${after()}` : `after ${layer.name}`);
      if (isRelu6(consumer, scalars)) {
        const reason = `Relu6 (Clip 0..6) ${pair()} is not scale-equivariant (--relu6-to-relu would allow it, changing the model)`;
        return { kind: 'blocked', reason, after: after() };
      }
      const step = cross(consumer, place, layer, pair, isConstant);
      if (step.reason !== undefined) return { kind: 'blocked', reason: step.reason, after: after() };
      place = step.place;
    }
    between.push(consumer);
    value = consumer.outputs[0] ?? '';
  }
  return { kind: 'deadEnd', reason: `${layer.name}'s output meets no weight layer within ${HOPS} ops` };
}

/**
 * Chains of layers linked output -> (equivariant ops) -> input, each value on the way read by exactly
 * one node. `scalars` holds the values of small constants (Clip bounds), read by the caller. Every layer
 * that ends up in no chain is named in `skipped` with the reason. `linearBiases`: the MatMul layers whose
 * bias is the constant of the Add after them (PyTorch's Linear); a chain starts after that Add.
 */
export function findCleChains(
  model: Model,
  layers: WeightLayer[],
  folds: BnFold[],
  scalars: Map<string, number>,
  options: ChainOptions = {},
): { chains: CleChain[]; skipped: Skip[]; clipRewrites: Node[]; linearBiases: Map<WeightLayer, LinearBias> } {
  const biases = linearBiases(model, layers);
  const biasOf = (l: WeightLayer) => l.bias ?? biases.get(l)?.bias;
  const foldedBn = new Map(folds.map((f) => [f.layer, f.bn]));
  const context: WalkContext = {
    model,
    scalars,
    options,
    byNode: new Map(layers.map((l) => [l.node, l])),
    start: (l) => (foldedBn.get(l) ?? biases.get(l)?.add ?? l.node).outputs[0] ?? '',
  };
  // Skips in model order: each at the index of the layer it is about.
  const found: { at: number; skip: Skip }[] = [];
  const clipRewrites: Node[] = [];
  const next = new Map<WeightLayer, { layer: WeightLayer; between: Node[] }>();
  const hasPrevious = new Set<WeightLayer>();
  /** Why a layer's output reaches no next layer; reported only if the layer ends up in no chain. */
  const deadEnds = new Map<WeightLayer, { at: number; reason: string }>();

  for (const [at, layer] of layers.entries()) {
    const skip = (reason: string, ...others: string[]) =>
      found.push({ at, skip: { layers: [layer.name, ...others], reason } });
    const refused = declined(layer);
    if (refused) {
      skip(refused);
      continue;
    }
    const walk = walkFrom(layer, context);
    if (walk.kind === 'blocked') skip(walk.reason, ...(walk.after ? [walk.after] : []));
    else if (walk.kind === 'deadEnd') deadEnds.set(layer, { at, reason: walk.reason });
    else {
      const problem = linkProblem(model, layer, walk.layer, biasOf) ?? placeMismatch(layer, walk.place, walk.layer);
      if (problem) {
        skip(problem, walk.layer.name);
        continue;
      }
      next.set(layer, { layer: walk.layer, between: walk.between });
      hasPrevious.add(walk.layer);
      for (const n of walk.between) if (n.opType === 'Clip') clipRewrites.push(n);
    }
  }

  const chains: CleChain[] = [];
  for (const start of layers) {
    if (!next.has(start) || hasPrevious.has(start)) continue;
    const chain: CleChain = { layers: [start], between: [] };
    for (let link = next.get(start); link; link = next.get(link.layer)) {
      chain.layers.push(link.layer);
      chain.between.push(link.between);
    }
    chains.push(chain);
  }
  const equalized = new Set(chains.flatMap((c) => c.layers));
  const named = new Set(found.flatMap((f) => f.skip.layers));
  for (const [layer, { at, reason }] of deadEnds) {
    if (!equalized.has(layer) && !named.has(layer.name)) found.push({ at, skip: { layers: [layer.name], reason } });
  }
  const skipped = found.sort((a, b) => a.at - b.at).map((f) => f.skip);
  return { chains, skipped, clipRewrites, linearBiases: biases };
}

/** The first weight layer downstream of `node` along single-consumer edges, for messages. */
function nextLayerName(graph: Graph, node: Node, byNode: Map<Node, WeightLayer>): string | undefined {
  let current: Node | undefined = node;
  for (let hops = 0; current && hops < 8; hops++) {
    const consumer: Node | undefined = nodesReading(graph, current.outputs[0] ?? '')[0];
    if (consumer && byNode.has(consumer)) return byNode.get(consumer)!.name;
    current = consumer;
  }
  return undefined;
}

function channelsOut(l: WeightLayer): number {
  return l.op === 'ConvTranspose'
    ? l.weight.shape[1]! * l.groups
    : l.channelAxis === 0
      ? l.weight.shape[0]!
      : l.weight.shape[1]!;
}

function channelsIn(l: WeightLayer): number {
  if (l.op === 'Conv') return l.weight.shape[1]! * l.groups;
  if (l.op === 'ConvTranspose') return l.weight.shape[0]!;
  return l.channelAxis === 0 ? l.weight.shape[1]! : l.weight.shape[0]!;
}

const groupedNotDepthwise = (l: WeightLayer) => l.op === 'Conv' && l.groups > 1 && !l.depthwise;

function linkProblem(
  model: Model,
  a: WeightLayer,
  b: WeightLayer,
  biasOf: (l: WeightLayer) => TensorRef | undefined,
): string | undefined {
  const refused = declined(b);
  if (refused) return refused;
  for (const l of [a, b]) {
    if (groupedNotDepthwise(l)) return `${l.name} is a grouped convolution (group ${l.groups}) that is not depthwise`;
    const why = notRewritable(model, l, biasOf(l));
    if (why) return why;
  }
  if (channelsOut(a) !== channelsIn(b))
    return `${a.name} has ${channelsOut(a)} output channels but ${b.name} reads ${channelsIn(b)}`;
  return undefined;
}
