// What a CLE chain may cross between two weight layers, and why it stops where it does. A positive scale
// on a layer's output channel passes to the next layer's input channel only through ops f with
// f(x / s) = f(x) / s channel by channel; any other op ends the chain with a reason that names it.
import { intAttribute } from '../onnx/attributes.js';
import type { Node } from '../onnx/model.js';
import type { WeightLayer } from './layers.js';

/** Positively homogeneous elementwise ops. */
const EQUIVARIANT = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Identity']);
/** Each channel pooled on its own: max and mean commute with a positive scale (channels on axis 1). */
const POOLING = new Set(['MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool']);
const NOT_EQUIVARIANT = new Set([
  'Clip',
  'HardSwish',
  'HardSigmoid',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Softplus',
  'Softsign',
  'Mish',
  'Swish',
  'Exp',
  'Log',
  'Erf',
]);
const NORMALIZING = new Set([
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'LayerNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'LpNormalization',
  'MeanVarianceNormalization',
  'BatchNormalization',
]);
const RESHAPING = new Set([
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Slice',
  'Split',
  'Gather',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);
/** Ops after which a constant shift of each channel is still that shift. */
const SHIFT_PRESERVING = new Set([
  'Identity',
  'MaxPool',
  'GlobalMaxPool',
  'GlobalAveragePool',
  'AveragePool',
  'Flatten',
]);

/**
 * Where a layer's output channels are: axis 1 of [N, C, …] (Conv, ConvTranspose), the last axis (MatMul,
 * whatever the rank of its input), or both at once in a matrix [N, C] (Gemm; after Flatten).
 */
export type ChannelPlace = 'axis1' | 'last' | 'matrix';

const WHERE: Record<ChannelPlace, string> = {
  axis1: 'on axis 1',
  last: 'on the last axis',
  matrix: 'in a matrix [N, C]',
};

export function outputPlace(layer: WeightLayer): ChannelPlace {
  return layer.op === 'MatMul' ? 'last' : layer.op === 'Gemm' ? 'matrix' : 'axis1';
}

/** Why `reader` does not read its input channels where `from` put its output channels, or undefined. */
export function placeMismatch(from: WeightLayer, place: ChannelPlace, reader: WeightLayer): string | undefined {
  // Gemm reads a matrix, where axis 1 is the last axis: a valid model hands it one.
  const needs: ChannelPlace | undefined = reader.op === 'MatMul' ? 'last' : reader.op === 'Gemm' ? undefined : 'axis1';
  if (!needs || place === needs || (needs === 'last' && place === 'matrix')) return undefined;
  return `${from.name} puts its channels ${WHERE[place]}, but ${reader.op} ${reader.name} reads its input channels ${WHERE[needs]}`;
}

export type Crossing = { place: ChannelPlace; reason?: undefined } | { reason: string };

/**
 * Whether the chain from `layer` (channels at `place`) crosses `op`, and where the channels are after it.
 * `pair()` names the two layers for messages ("between a and b", or "after a"); `isConstant` tells
 * constants from activations.
 */
export function cross(
  op: Node,
  place: ChannelPlace,
  layer: WeightLayer,
  pair: () => string,
  isConstant: (value: string) => boolean,
): Crossing {
  const type = op.opType;
  if (EQUIVARIANT.has(type)) return { place };
  if (POOLING.has(type)) {
    return place === 'axis1'
      ? { place }
      : { reason: `${type} ${pair()} pools along the axes where ${layer.name} puts its channels` };
  }
  // Flatten from axis 1 keeps each channel's position when the rest of its dims are 1 (after a global
  // pool); else the next layer reads more inputs than there are channels, and the counts disagree.
  if (type === 'Flatten' && intAttribute(op, 'axis', 1) === 1) return { place: 'matrix' };
  if (NOT_EQUIVARIANT.has(type)) return { reason: `${type} ${pair()} is not scale-equivariant` };
  if (NORMALIZING.has(type))
    return { reason: `${type} ${pair()} normalizes its input, so a scale does not pass through it` };
  if (type.startsWith('Reduce')) return { reason: `${type} ${pair()} is a reduction that CLE does not follow` };
  if (RESHAPING.has(type))
    return { reason: `${type} ${pair()} moves or selects elements, so channels cannot be followed through it` };
  if (type === 'Concat') return { reason: `Concat ${pair()} joins other tensors to ${layer.name}'s channels` };
  if (BINARY.has(type)) {
    const activations = op.inputs.filter((i) => i && !isConstant(i)).length;
    return {
      reason: `${type} ${activations > 1 ? 'of two activations' : 'with a constant'} ${pair()} breaks the chain`,
    };
  }
  return { reason: `${type} ${pair()} breaks the chain` };
}

/**
 * High-bias absorption takes a constant off each channel before the Relu and adds what it makes back
 * after: exact only when the ops between pass a constant shift through unchanged, so it needs exactly one
 * Relu and otherwise only Identity, max and mean pooling, and Flatten.
 */
export function absorbableAcross(ops: readonly Node[]): boolean {
  return (
    ops.filter((op) => op.opType === 'Relu').length === 1 &&
    ops.every((op) => op.opType === 'Relu' || SHIFT_PRESERVING.has(op.opType))
  );
}

/**
 * An AveragePool among `ops` that averages zero padding in (count_include_pad=1 with pads, SAME padding
 * or ceil_mode): it shifts border outputs by less than the rest, so absorption across it is not exact.
 */
export function zeroPaddedAverage(ops: readonly Node[]): Node | undefined {
  return ops.find((op) => op.opType === 'AveragePool' && countsPadding(op));
}

function countsPadding(op: Node): boolean {
  if (intAttribute(op, 'count_include_pad', 0) !== 1) return false;
  const pads = op.attributes.get('pads');
  const autoPad = op.attributes.get('auto_pad');
  const padded =
    (pads?.kind === 'ints' && pads.value.some((p) => p !== 0)) ||
    (autoPad?.kind === 'string' && autoPad.value.startsWith('SAME'));
  return padded || intAttribute(op, 'ceil_mode', 0) === 1;
}
