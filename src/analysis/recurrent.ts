// LSTM, GRU and RNN weights as weight layers: W [D, G·H, I] and R [D, G·H, H] stack G gates of H hidden units
// per direction along axis 1, so output channel d·G·H + r is direction d, gate ⌊r/H⌋, unit r mod H.
import { WeightlensError } from '../errors.js';
import type { Node, TensorRef } from '../onnx/model.js';

export type RecurrentCell = 'LSTM' | 'GRU' | 'RNN';

/** Gates in the order ONNX stacks them along axis 1 (RNN has one, which ONNX calls the input gate). */
const GATES: Record<RecurrentCell, readonly string[]> = {
  LSTM: ['i', 'o', 'f', 'c'],
  GRU: ['z', 'r', 'h'],
  RNN: ['i'],
};

export const isRecurrent = (opType: string): opType is RecurrentCell => Object.hasOwn(GATES, opType);

/** Which rows of a recurrent weight are which: plain data, so it travels in the JSON report too. */
export interface RecurrentWeights {
  cell: RecurrentCell;
  /** W: input weights [D, G·H, input]; R: recurrence weights [D, G·H, H]. */
  input: 'W' | 'R';
  /** ONNX gate order along axis 1. */
  gates: string[];
  hidden: number;
  /** 2 for direction="bidirectional" (the reverse direction's channels come second), else 1. */
  directions: number;
}

export interface RecurrentLayerWeight {
  weight: TensorRef;
  /** B [D, 2·G·H] (Wb and Rb): attached to the first weight layer of the node, so it is counted once. */
  bias?: TensorRef;
  recurrent: RecurrentWeights;
}

const DIRECTIONS: Record<string, number> = { forward: 1, reverse: 1, bidirectional: 2 };

/**
 * The constant W and R of an LSTM/GRU/RNN node (either may be computed at run time and is then left out).
 * Shapes that do not fit the op's attributes throw BAD_GRAPH naming the file, node and tensor.
 */
export function recurrentWeights(
  node: Node & { opType: RecurrentCell },
  constant: (name: string | undefined) => TensorRef | undefined,
  fileName: string,
): RecurrentLayerWeight[] {
  const cell = node.opType;
  const gates = GATES[cell];
  const G = gates.length;
  const bad = (input: 'W' | 'R' | 'B', tensor: TensorRef, problem: string) =>
    new WeightlensError(
      'BAD_GRAPH',
      `${fileName}: ${cell} "${node.name}" ${input} "${tensor.name}" has shape [${tensor.shape}]: ${problem}`,
      {
        file: fileName,
        tensor: tensor.name,
      },
    );
  const direction = node.attributes.get('direction');
  const directionName = direction?.kind === 'string' ? direction.value : 'forward';
  const D = DIRECTIONS[directionName];
  const found = (['W', 'R'] as const).flatMap((input, k) => {
    const weight = constant(node.inputs[k + 1]);
    return weight ? [{ input, weight }] : [];
  });
  const bias = constant(node.inputs[3]);
  if (found.length === 0) return [];
  if (D === undefined) {
    throw new WeightlensError(
      'BAD_GRAPH',
      `${fileName}: ${cell} "${node.name}" has direction="${directionName}", not forward, reverse or bidirectional`,
      {
        file: fileName,
        field: 'direction',
      },
    );
  }
  for (const { input, weight } of found) {
    if (weight.shape.length !== 3)
      throw bad(
        input,
        weight,
        `${cell} ${input} needs [num_directions, ${G}·hidden_size, ${input === 'W' ? 'input_size' : 'hidden_size'}]`,
      );
  }
  const first = found[0]!;
  const H = hiddenSize(node, first.weight, G, (problem) => bad(first.input, first.weight, problem));
  for (const { input, weight } of found) {
    const [dirs, rows, cols] = weight.shape as [number, number, number];
    if (dirs !== D)
      throw bad(input, weight, `dim 0 is ${dirs}, but direction="${directionName}" needs num_directions = ${D}`);
    if (rows !== G * H) throw bad(input, weight, `dim 1 is ${rows}, not ${G} gates × hidden_size ${H} = ${G * H}`);
    if (input === 'R' && cols !== H) throw bad(input, weight, `dim 2 is ${cols}, not hidden_size ${H}`);
  }
  if (bias && (bias.shape.length !== 2 || bias.shape[0] !== D || bias.shape[1] !== 2 * G * H)) {
    throw bad('B', bias, `${cell} B needs [num_directions, 2·${G}·hidden_size] = [${D}, ${2 * G * H}]`);
  }
  return found.map(({ input, weight }, k) => ({
    weight,
    ...(bias && k === 0 ? { bias } : {}),
    recurrent: { cell, input, gates: [...gates], hidden: H, directions: D },
  }));
}

/** hidden_size from the attribute, or from dim 1 of a weight (G·H) when the attribute is absent. */
function hiddenSize(node: Node, weight: TensorRef, G: number, bad: (problem: string) => WeightlensError): number {
  const attr = node.attributes.get('hidden_size');
  if (attr?.kind === 'int') {
    if (attr.value < 1) throw bad(`hidden_size is ${attr.value}`);
    return attr.value;
  }
  const rows = weight.shape[1]!;
  if (rows % G !== 0 || rows === 0)
    throw bad(`without a hidden_size attribute, dim 1 (${rows}) must be a positive multiple of the ${G} gates`);
  return rows / G;
}

/** The node a layer belongs to: its name, less the "/W" or "/R" of a recurrent weight. */
export function layerNodeName(layer: { readonly name: string; readonly recurrent?: RecurrentWeights }): string {
  return layer.recurrent ? layer.name.slice(0, -`/${layer.recurrent.input}`.length) : layer.name;
}

/**
 * "Channel 140", and for a recurrent weight where the channel sits: "Channel 140 (reverse, gate o, unit 12)"
 * (direction only when bidirectional, gate only when the cell has more than one).
 */
export function channelLabel(layer: { readonly recurrent?: RecurrentWeights }, channel: number): string {
  const r = layer.recurrent;
  if (!r) return `Channel ${channel}`;
  const perDirection = r.gates.length * r.hidden;
  const row = channel % perDirection;
  const where = [
    ...(r.directions === 2 ? [channel < perDirection ? 'forward' : 'reverse'] : []),
    ...(r.gates.length > 1 ? [`gate ${r.gates[Math.floor(row / r.hidden)]}`] : []),
    `unit ${row % r.hidden}`,
  ];
  return `Channel ${channel} (${where.join(', ')})`;
}
