// Mutations for the fuzzer: byte-level (flips, varint corruption, truncation, chunk duplication) and
// structural (node attributes, tensor dims, BatchNormalization parameters, weight payloads; re-encoded with
// onnx-proto).
// Every choice comes from the `random` passed in, so a seed reproduces a mutated file exactly.
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = pkg;
export type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const below = (random: Random, n: number) => Math.floor(random() * n);

/** Integers an attacker would try for a count, an index or a flag. */
const HOSTILE_INTS = [
  0,
  -1,
  -3,
  1,
  2,
  3,
  7,
  2 ** 16,
  2 ** 26,
  2 ** 28,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 31),
];
const HOSTILE_FLOATS = [0, -0, -1, 1e-45, 1e-38, 3.4e38, -3.4e38, Infinity, -Infinity, NaN];
const ATTRIBUTES = [
  'group',
  'kernel_shape',
  'strides',
  'pads',
  'dilations',
  'transA',
  'transB',
  'axis',
  'epsilon',
  'hidden_size',
  'block_size',
  'alpha',
];

export type MutationKind =
  'flip' | 'varint' | 'truncate' | 'duplicate' | 'attribute' | 'dims' | 'batchnorm' | 'payload';
export const MUTATIONS: readonly MutationKind[] = [
  'flip',
  'varint',
  'truncate',
  'duplicate',
  'attribute',
  'dims',
  'batchnorm',
  'payload',
];
type StructuralKind = 'attribute' | 'dims' | 'batchnorm' | 'payload';

function flip(bytes: Uint8Array, random: Random): Uint8Array {
  const out = bytes.slice();
  for (let n = 1 + below(random, 8); n > 0 && out.length > 0; n--) {
    const at = below(random, out.length);
    out[at] = random() < 0.5 ? out[at]! ^ (1 << below(random, 8)) : below(random, 256);
  }
  return out;
}

/** Rewrites the varint starting at a random byte that ends one: longer, overlong, or huge. */
function varint(bytes: Uint8Array, random: Random): Uint8Array {
  if (bytes.length === 0) return bytes;
  const at = below(random, bytes.length);
  const replacement = pick(random, [
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), // 2^32 - 1
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // 2^64 - 1 (also -1)
    new Uint8Array(11).fill(0x80), // never ends within 10 bytes
    Uint8Array.of(0x80 | below(random, 128)), // a continuation bit with nothing after it
    Uint8Array.of(0x80, 0x80, 0x80, 0x00), // overlong zero
  ]);
  let end = at;
  while (end < bytes.length && bytes[end]! >= 0x80) end++;
  return concatBytes(bytes.subarray(0, at), replacement, bytes.subarray(Math.min(end + 1, bytes.length)));
}

function truncate(bytes: Uint8Array, random: Random): Uint8Array {
  return bytes.subarray(0, below(random, bytes.length + 1));
}

/** A copied chunk, inserted (shifts everything after it) or written over other bytes (keeps the framing). */
function duplicate(bytes: Uint8Array, random: Random): Uint8Array {
  if (bytes.length === 0) return bytes;
  const from = below(random, bytes.length);
  const length = 1 + below(random, Math.min(4096, bytes.length - from));
  const to = below(random, bytes.length + 1);
  if (random() < 0.5)
    return concatBytes(bytes.subarray(0, to), bytes.subarray(from, from + length), bytes.subarray(to));
  const out = bytes.slice();
  out.set(bytes.subarray(from, from + Math.min(length, out.length - to)), to);
  return out;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Graph = OnnxTypes.IGraphProto;
type Tensor = OnnxTypes.ITensorProto;
type NodeProto = OnnxTypes.INodeProto;

/** Every graph of the model, subgraphs included. */
function graphsOf(graph: Graph, out: Graph[] = []): Graph[] {
  out.push(graph);
  for (const n of graph.node ?? [])
    for (const a of n.attribute ?? []) {
      if (a.g) graphsOf(a.g, out);
      for (const g of a.graphs ?? []) graphsOf(g, out);
    }
  return out;
}

/** Initializers and Constant-node tensors: the places weights live. */
function tensorsOf(graphs: Graph[]): Tensor[] {
  return graphs.flatMap((g) => [
    ...(g.initializer ?? []),
    ...(g.node ?? []).flatMap((n) => (n.attribute ?? []).flatMap((a) => (a.t ? [a.t] : []))),
  ]);
}

function mutateAttribute(node: NodeProto, random: Random): void {
  const AT = onnx.AttributeProto.AttributeType;
  const name = pick(random, ATTRIBUTES);
  const attributes = (node.attribute ?? []).filter((a) => a.name !== name);
  const kind = below(random, 3);
  if (kind === 0) attributes.push({ name, type: AT.INT, i: pick(random, HOSTILE_INTS) });
  else if (kind === 1)
    attributes.push({
      name,
      type: AT.INTS,
      ints: Array.from({ length: below(random, 6) }, () => pick(random, HOSTILE_INTS)),
    });
  else attributes.push({ name, type: AT.FLOAT, f: pick(random, HOSTILE_FLOATS) });
  node.attribute = attributes;
}

/** Hostile dims (the payload no longer fits), or a reshape that keeps the element count (it still opens). */
function mutateDims(tensor: Tensor, random: Random): void {
  const dims = [...(tensor.dims ?? [])].map(Number);
  const what = below(random, 4);
  if (what === 0 || dims.length === 0) dims.push(pick(random, HOSTILE_INTS));
  else if (what === 1) dims[below(random, dims.length)] = pick(random, HOSTILE_INTS);
  else if (what === 2)
    dims.reverse().splice(below(random, dims.length + 1), 0, 1); // transposed, a 1 inserted
  else
    dims.splice(
      0,
      dims.length,
      dims.reduce((a, b) => a * b, 1),
    ); // flattened to rank 1
  tensor.dims = dims;
}

/** Hostile float32 values (or flipped bits) inside one tensor's raw_data: the file stays well formed. */
function mutatePayload(graphs: Graph[], random: Random): boolean {
  const tensors = tensorsOf(graphs).filter((t) => (t.rawData?.length ?? 0) >= 4);
  if (!tensors.length) return false;
  const tensor = pick(random, tensors);
  const bytes = tensor.rawData!.slice();
  const view = new DataView(bytes.buffer);
  for (let n = 1 + below(random, 4); n > 0; n--) {
    const at = below(random, bytes.length >> 2) * 4;
    if (tensor.dataType === 1 && random() < 0.7) view.setFloat32(at, pick(random, HOSTILE_FLOATS), true);
    else {
      const flipped = at + below(random, 4);
      bytes[flipped] = bytes[flipped]! ^ (1 << below(random, 8));
    }
  }
  tensor.rawData = bytes;
  return true;
}

/** Rewrites one BatchNormalization parameter: hostile values, or a length that no longer fits. */
function mutateBatchNorm(graphs: Graph[], random: Random): boolean {
  const tensors = new Map(tensorsOf(graphs).map((t) => [t.name ?? '', t]));
  const inputs = graphs.flatMap((g) =>
    (g.node ?? []).filter((n) => n.opType === 'BatchNormalization').flatMap((n) => (n.input ?? []).slice(1)),
  );
  const target = inputs.length ? tensors.get(pick(random, inputs)) : undefined;
  if (!target) return false;
  const n = Math.max(0, Number(target.dims?.[0] ?? 1) + (random() < 0.3 ? pick(random, [-1, 1, 5]) : 0));
  const values = Array.from({ length: n }, () => (random() < 0.5 ? pick(random, HOSTILE_FLOATS) : random() * 2 - 1));
  target.rawData = new Uint8Array(new Float32Array(values).buffer);
  target.floatData = [];
  target.dataType = 1;
  if (random() < 0.7) target.dims = [n];
  return true;
}

/**
 * A structural mutation, or undefined when the bytes do not decode (or nest too deep for onnx-proto's
 * recursive decoder and encoder) or hold nothing to mutate: a byte mutation will do for those.
 */
function structural(bytes: Uint8Array, kind: StructuralKind, random: Random): Uint8Array | undefined {
  try {
    return rewrite(onnx.ModelProto.decode(bytes), kind, random);
  } catch {
    return undefined;
  }
}

function rewrite(model: OnnxTypes.ModelProto, kind: StructuralKind, random: Random): Uint8Array | undefined {
  if (!model.graph) return undefined;
  const graphs = graphsOf(model.graph);
  if (kind === 'attribute') {
    const nodes = graphs.flatMap((g) => g.node ?? []);
    if (!nodes.length) return undefined;
    mutateAttribute(pick(random, nodes), random);
  } else if (kind === 'dims') {
    const tensors = tensorsOf(graphs);
    if (!tensors.length) return undefined;
    mutateDims(pick(random, tensors), random);
  } else if (kind === 'payload') {
    if (!mutatePayload(graphs, random)) return undefined;
  } else if (!mutateBatchNorm(graphs, random)) return undefined;
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Applies `kind` to `bytes`. A structural kind that does not apply (no BatchNorm, say) tries an attribute
 * mutation, then a byte flip.
 */
export function mutate(bytes: Uint8Array, kind: MutationKind, random: Random): Uint8Array {
  switch (kind) {
    case 'flip':
      return flip(bytes, random);
    case 'varint':
      return varint(bytes, random);
    case 'truncate':
      return truncate(bytes, random);
    case 'duplicate':
      return duplicate(bytes, random);
    default:
      return structural(bytes, kind, random) ?? structural(bytes, 'attribute', random) ?? flip(bytes, random);
  }
}
