/**
 * How deep a model's protobuf messages nest, measured before anything recursive (protobufjs's decoders, our
 * graph builder) sees the bytes. An explicit stack walks the message tree, so no file can overflow the call
 * stack here. The limit is the one onnxruntime's parser applies (protobuf's default recursion limit of 100
 * messages below ModelProto: 32 nested If/Loop/Scan subgraphs), so every file onnxruntime reads is read.
 */
import { WeightlensError } from '../errors.js';
import { WIRE } from './export/wire.js';

/** Messages below ModelProto that onnxruntime accepts (protobuf's CodedInputStream default). */
export const MAX_MESSAGE_DEPTH = 100;
/** Subgraph levels that fit: each costs three messages (NodeProto, AttributeProto, GraphProto), and the
 * innermost graph's own nodes and tensors need the last few (1 + 3·32 = 97). */
const MAX_SUBGRAPH_LEVELS = 32;

type MessageType =
  | 'model'
  | 'graph'
  | 'node'
  | 'attribute'
  | 'tensor'
  | 'sparseTensor'
  | 'valueInfo'
  | 'type'
  | 'typeTensor'
  | 'typeElement'
  | 'typeMap'
  | 'shape'
  | 'function'
  | 'trainingInfo'
  | 'leaf';

/** The fields of each message that hold messages (onnx.proto 1.16); every other field is a leaf. */
const CHILDREN: Record<MessageType, Readonly<Record<number, MessageType>>> = {
  model: { 7: 'graph', 8: 'leaf', 14: 'leaf', 20: 'trainingInfo', 25: 'function' },
  graph: {
    1: 'node',
    5: 'tensor',
    11: 'valueInfo',
    12: 'valueInfo',
    13: 'valueInfo',
    14: 'leaf',
    15: 'sparseTensor',
    16: 'leaf',
  },
  node: { 5: 'attribute', 9: 'leaf' },
  attribute: {
    5: 'tensor',
    6: 'graph',
    10: 'tensor',
    11: 'graph',
    14: 'type',
    15: 'type',
    22: 'sparseTensor',
    23: 'sparseTensor',
  },
  tensor: { 3: 'leaf', 13: 'leaf', 16: 'leaf' },
  sparseTensor: { 1: 'tensor', 2: 'tensor' },
  valueInfo: { 2: 'type', 4: 'leaf' },
  type: { 1: 'typeTensor', 4: 'typeElement', 5: 'typeMap', 7: 'leaf', 8: 'typeTensor', 9: 'typeElement' },
  typeTensor: { 2: 'shape' },
  typeElement: { 1: 'type' },
  typeMap: { 2: 'type' },
  shape: { 1: 'leaf' },
  function: { 7: 'node', 9: 'leaf', 11: 'attribute', 12: 'valueInfo', 14: 'leaf' },
  trainingInfo: { 1: 'graph', 2: 'graph', 3: 'leaf', 4: 'leaf' },
  leaf: {},
};

interface Open {
  type: MessageType;
  pos: number;
  end: number;
  /** GraphProtos on the path to this message, itself included. */
  graphs: number;
}

/**
 * Throws BAD_GRAPH when messages nest deeper than MAX_MESSAGE_DEPTH, saying how deep they go. Damaged bytes
 * end the walk of the message holding them (protobufjs then reports them); they are not this check's concern.
 */
export function checkNesting(bytes: Uint8Array, fileName: string): void {
  const stack: Open[] = [{ type: 'model', pos: 0, end: bytes.length, graphs: 0 }];
  let deepest = 0;
  let deepestGraphs = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const child = nextChild(bytes, top);
    if (!child) {
      stack.pop();
      continue;
    }
    stack.push(child);
    if (stack.length - 1 > deepest) deepest = stack.length - 1;
    if (child.graphs > deepestGraphs) deepestGraphs = child.graphs;
  }
  if (deepest > MAX_MESSAGE_DEPTH) {
    throw new WeightlensError(
      'BAD_GRAPH',
      `${fileName}: protobuf messages are nested ${deepest} deep (${Math.max(deepestGraphs - 1, 0)} levels of subgraphs), more than ` +
        `the limit of ${MAX_MESSAGE_DEPTH} that onnxruntime also applies (${MAX_SUBGRAPH_LEVELS} levels of If/Loop/Scan subgraphs)`,
      { file: fileName },
    );
  }
}

/** Where the varint read last ended (a module-level cursor: no allocation per field). */
let cursor = 0;

/** Reads a varint at `pos` (below `end`) and sets `cursor` past it; NaN when it is cut off or too long. */
function varintAt(bytes: Uint8Array, pos: number, end: number): number {
  let value = 0;
  for (let scale = 1; scale <= 2 ** 63; scale *= 128) {
    // 10 bytes: negative int64s take them all
    if (pos >= end) return NaN;
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      cursor = pos;
      return value;
    }
  }
  return NaN;
}

/** Advances `open` to its next field holding a message and returns that message, or undefined at its end. */
function nextChild(bytes: Uint8Array, open: Open): Open | undefined {
  const children = CHILDREN[open.type];
  const { end } = open;
  let pos = open.pos;
  while (pos < end) {
    const key = varintAt(bytes, pos, end);
    if (Number.isNaN(key)) break;
    pos = cursor;
    const wire = key & 7;
    if (wire === WIRE.VARINT) {
      if (Number.isNaN(varintAt(bytes, pos, end))) break;
      pos = cursor;
    } else if (wire === WIRE.I64) pos += 8;
    else if (wire === WIRE.I32) pos += 4;
    else if (wire === WIRE.LEN) {
      const length = varintAt(bytes, pos, end);
      const start = cursor;
      if (Number.isNaN(length) || start + length > end) break;
      pos = start + length;
      const type = children[Math.floor(key / 8)];
      if (type) {
        open.pos = pos;
        return { type, pos: start, end: pos, graphs: open.graphs + (type === 'graph' ? 1 : 0) };
      }
    } else break;
  }
  open.pos = end;
  return undefined;
}
