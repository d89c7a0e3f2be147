/**
 * Bytes -> Model, in two stages (as hyparquet does): protobufjs decodes the wire format, then this module
 * turns the messages into the small domain types of model.ts, checking as it goes. Protobuf classes end here.
 */
import pkg from 'onnx-proto';
import { WeightlensError } from '../errors.js';
import { DT } from './dtypes.js';
import { ExternalDataReader, type ExternalDataSource } from './external-data.js';
import { describeNonOnnx } from './file-kind.js';
import { checkNesting } from './nesting.js';
import { int64ToNearest, int64ToNumber, type Int64 } from './int64.js';
import type { AttributeValue, Graph, GraphOwner, Model, Node, TensorRef } from './model.js';
import { OnnxTensor, type TensorContext, type TensorFields } from './tensor.js';

const { onnx } = pkg;
type IGraphProto = import('onnx-proto').onnx.IGraphProto;
type IAttributeProto = import('onnx-proto').onnx.IAttributeProto;
type INodeProto = import('onnx-proto').onnx.INodeProto;

export interface DecodeOptions {
  /** Used in every message. */
  fileName: string;
  /** Where tensors with data_location EXTERNAL are read from (lazily). */
  externalData?: ExternalDataSource;
}

/** Decodes an ONNX ModelProto. Throws NOT_ONNX, TRUNCATED, BAD_TENSOR or BAD_GRAPH (also for nesting deeper than onnxruntime reads). */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions): Model {
  const { fileName } = options;
  const notOnnx = (why: string, cause?: unknown) =>
    new WeightlensError('NOT_ONNX', `${fileName}: not an ONNX model (${why})`, { file: fileName, cause });
  if (bytes.byteLength === 0) throw notOnnx('the file is empty');
  try {
    scanTopLevel(bytes, fileName);
  } catch (error) {
    const kind = error instanceof WeightlensError && error.code === 'NOT_ONNX' ? describeNonOnnx(bytes) : undefined;
    if (kind)
      throw new WeightlensError('NOT_ONNX', `${fileName}: this is ${kind}, not an ONNX model`, {
        file: fileName,
        cause: error,
      });
    throw error;
  }
  checkNesting(bytes, fileName);

  let proto: import('onnx-proto').onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    // The top level is intact (scanTopLevel), so a failure here is damage inside a message.
    throw notOnnx(`corrupt protobuf: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const irVersion = int64ToNumber(proto.irVersion as Int64) ?? 0;
  if (!proto.graph) throw notOnnx('it has no graph');
  if (irVersion <= 0) throw notOnnx('ir_version is missing');

  const context: TensorContext = { fileName, external: new ExternalDataReader(fileName, options.externalData) };
  const graphs: Graph[] = [];
  const main = buildGraph(proto.graph, 'main', undefined, context, graphs);

  const opsets: Record<string, number> = {};
  for (const o of proto.opsetImport ?? []) {
    const domain = o.domain === 'ai.onnx' ? '' : (o.domain ?? '');
    opsets[domain] = int64ToNumber(o.version as Int64) ?? 0;
  }
  return {
    fileName,
    byteLength: bytes.byteLength,
    irVersion,
    producer: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    opsets,
    main,
    graphs,
    bytes,
  };
}

/** ModelProto field numbers (onnx.proto 1.16) and their wire types: 0 varint, 2 length-delimited. */
const MODEL_FIELDS: Record<number, { name: string; wire: number }> = {
  1: { name: 'ir_version', wire: 0 },
  2: { name: 'producer_name', wire: 2 },
  3: { name: 'producer_version', wire: 2 },
  4: { name: 'domain', wire: 2 },
  5: { name: 'model_version', wire: 0 },
  6: { name: 'doc_string', wire: 2 },
  7: { name: 'graph', wire: 2 },
  8: { name: 'opset_import', wire: 2 },
  14: { name: 'metadata_props', wire: 2 },
  20: { name: 'training_info', wire: 2 },
  25: { name: 'functions', wire: 2 },
};

/**
 * Walks the top-level fields before protobufjs sees the bytes, to tell "not ONNX" (a field no ModelProto
 * has: PNG, HTML, random bytes) from "truncated" (valid fields, then the file ends inside one). protobufjs
 * alone says "index out of range" for both.
 */
function scanTopLevel(bytes: Uint8Array, fileName: string): void {
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return NaN; // more than 10 bytes: not a varint
  };
  while (pos < bytes.length) {
    const at = pos;
    const tag = varint();
    const field = tag === undefined ? undefined : MODEL_FIELDS[Math.floor(tag / 8)];
    if (tag === undefined || Number.isNaN(tag) || !field || tag % 8 !== field.wire) {
      throw new WeightlensError('NOT_ONNX', `${fileName}: not an ONNX model (byte ${at} is no ModelProto field)`, {
        file: fileName,
      });
    }
    const value = varint();
    const truncated = (needed: string) =>
      new WeightlensError(
        'TRUNCATED',
        `${fileName}: the file ends inside field ${field.name} at byte ${at} (${needed}, the file has ${bytes.length} bytes); was the download cut short?`,
        {
          file: fileName,
          field: field.name,
        },
      );
    if (value === undefined) throw truncated('its value is cut off');
    if (Number.isNaN(value))
      throw new WeightlensError('NOT_ONNX', `${fileName}: not an ONNX model (bad varint at byte ${at})`, {
        file: fileName,
      });
    if (field.wire === 2) {
      if (pos + value > bytes.length) throw truncated(`it needs ${pos + value} bytes`);
      pos += value;
    }
  }
}

function buildGraph(
  gp: IGraphProto,
  path: string,
  parent: Graph | undefined,
  context: TensorContext,
  all: Graph[],
  owner?: GraphOwner,
): Graph {
  const constants = new Map<string, TensorRef>();
  const overridable = new Set<string>();
  const nodes: Node[] = [];
  const inputs = (gp.input ?? []).map((v) => v.name ?? '');
  const graph: Graph = {
    path,
    name: gp.name ?? '',
    nodes,
    inputs,
    outputs: (gp.output ?? []).map((v) => v.name ?? ''),
    constants,
    overridable,
    ...(parent ? { parent } : {}),
    ...(owner ? { owner } : {}),
  };
  all.push(graph); // before the subgraphs: Model.graphs is depth-first, parents first

  const inputSet = new Set(inputs);
  const declared = new DeclaredNames(context.fileName, path);
  for (const init of gp.initializer ?? []) {
    const name = init.name ?? '';
    declared.add(name, 'an initializer');
    constants.set(name, OnnxTensor.fromProto(init as TensorFields, name, path, 'initializer', context));
    if (inputSet.has(name)) overridable.add(name);
  }
  (gp.node ?? []).forEach((np, index) => {
    const node = buildNode(np, index, graph, context, all);
    nodes.push(node);
    if (node.opType === 'Constant' && node.domain === '' && node.outputs[0]) {
      declared.add(node.outputs[0], `Constant node "${node.name}"`);
      const value = constantValue(np, node.outputs[0], path, context, node.attributes.get('value'));
      if (value) constants.set(value.name, value);
    }
  });
  return graph;
}

/**
 * The constant names of one graph, each declared once. Two tensors under one name are refused: readers
 * disagree on which one a consumer gets, and CLE would rewrite one and leave the other stale.
 */
class DeclaredNames {
  private readonly by = new Map<string, string>();

  constructor(
    private readonly fileName: string,
    private readonly path: string,
  ) {}

  add(name: string, what: string): void {
    const first = this.by.get(name);
    if (first !== undefined) {
      throw new WeightlensError(
        'BAD_GRAPH',
        `${this.fileName}: graph ${this.path} declares "${name}" twice (${first} and ${what}); ONNX names are unique in a graph`,
        {
          file: this.fileName,
          tensor: name,
        },
      );
    }
    this.by.set(name, what);
  }
}

/** Shared by every node without attributes: an empty Map per node is most of a big graph's memory. */
const NO_ATTRIBUTES: ReadonlyMap<string, AttributeValue> = new Map();

function buildNode(np: INodeProto, index: number, graph: Graph, context: TensorContext, all: Graph[]): Node {
  // Exact-size copies: protobufjs grows repeated fields by push, leaving room for ~17 names in every list.
  const outputs = np.output ? np.output.slice() : [];
  const inputs = np.input ? np.input.slice() : [];
  const opType = np.opType ?? '';
  if (!opType) {
    // The ONNX checker and onnxruntime refuse it too; caught here, a file of a million empty nodes fails fast.
    throw new WeightlensError(
      'BAD_GRAPH',
      `${context.fileName}: graph ${graph.path}, node ${index}${np.name ? ` "${np.name}"` : ''} has no op_type; every ONNX node names its operator`,
      {
        file: context.fileName,
        field: 'op_type',
      },
    );
  }
  const name = np.name || outputs[0] || `${opType}_${index}`;
  const domain = np.domain === 'ai.onnx' ? '' : (np.domain ?? '');
  if (!np.attribute?.length)
    return { name, opType, domain, inputs, outputs, attributes: NO_ATTRIBUTES, graph: graph.path, index };
  const attributes = new Map<string, AttributeValue>();
  for (const a of np.attribute) {
    const attrName = a.name ?? '';
    if (!attrName) {
      // The ONNX checker refuses a nameless attribute too; nothing could ever read it.
      throw new WeightlensError(
        'BAD_GRAPH',
        `${context.fileName}: graph ${graph.path}, node "${name}" (${opType}) has an attribute without a name`,
        {
          file: context.fileName,
          field: 'attribute',
        },
      );
    }
    // A Constant's tensor is named after the node's output: that is the name consumers refer to.
    const tensorName = opType === 'Constant' && attrName === 'value' && outputs[0] ? outputs[0] : undefined;
    attributes.set(
      attrName,
      attributeValue(a, `${graph.path}/${name}.${attrName}`, name, index, tensorName, graph, context, all),
    );
  }
  return { name, opType, domain, inputs, outputs, attributes, graph: graph.path, index };
}

const A = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 };
const utf8 = new TextDecoder();

/** Old exporters leave AttributeProto.type unset; infer it from the field that holds a value. */
function attributeType(a: IAttributeProto): number {
  if (a.type) return a.type;
  if (a.g) return A.GRAPH;
  if (a.t) return A.TENSOR;
  if (a.graphs?.length) return A.GRAPHS;
  if (a.tensors?.length) return A.TENSORS;
  if (a.floats?.length) return A.FLOATS;
  if (a.ints?.length) return A.INTS;
  if (a.strings?.length) return A.STRINGS;
  if (a.s?.length) return A.STRING;
  if (a.f) return A.FLOAT;
  return A.INT;
}

function attributeValue(
  a: IAttributeProto,
  subPath: string,
  nodeName: string,
  nodeIndex: number,
  tensorName: string | undefined,
  graph: Graph,
  context: TensorContext,
  all: Graph[],
): AttributeValue {
  const int = (v: Int64 | null | undefined): number => {
    const n = int64ToNumber(v);
    if (n === undefined) {
      throw new WeightlensError(
        'BAD_GRAPH',
        `${context.fileName}: attribute ${a.name} of node "${nodeName}" holds an integer too large for a number`,
        {
          file: context.fileName,
          field: a.name ?? undefined,
        },
      );
    }
    return n;
  };
  switch (attributeType(a)) {
    case A.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case A.INT:
      return { kind: 'int', value: int(a.i as Int64) };
    case A.STRING:
      return { kind: 'string', value: utf8.decode(a.s ?? new Uint8Array(0)) };
    case A.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    // Nearest double beyond 2^53: Slice (opset 1–9) writes INT64_MAX as "to the end" in its ends.
    case A.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map((v) => int64ToNearest(v as Int64)) };
    case A.STRINGS:
      return { kind: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case A.TENSOR:
      if (!a.t) return { kind: 'other' };
      return {
        kind: 'tensor',
        value: OnnxTensor.fromProto(
          a.t as TensorFields,
          tensorName ?? (a.t.name || `${nodeName}.${a.name}`),
          graph.path,
          'constant',
          context,
        ),
      };
    case A.GRAPH:
      if (!a.g) return { kind: 'other' };
      return {
        kind: 'graph',
        value: buildGraph(a.g, subPath, graph, context, all, { nodeIndex, attribute: a.name ?? '' }),
      };
    case A.GRAPHS:
      return {
        kind: 'graphs',
        value: (a.graphs ?? []).map((g, i) =>
          buildGraph(g, `${subPath}[${i}]`, graph, context, all, { nodeIndex, attribute: a.name ?? '', listIndex: i }),
        ),
      };
    default:
      return { kind: 'other' };
  }
}

/**
 * The tensor a Constant node produces, named after its output. `value` is already decoded as an attribute
 * (under the output's name); value_float(s)/value_int(s) become small float32/int64 tensors;
 * sparse_value and strings are not weights, so they are skipped.
 */
function constantValue(
  np: INodeProto,
  output: string,
  path: string,
  context: TensorContext,
  value: AttributeValue | undefined,
): TensorRef | undefined {
  if (value) return value.kind === 'tensor' ? value.value : undefined;
  for (const a of np.attribute ?? []) {
    switch (a.name) {
      case 'value_float':
        return OnnxTensor.fromValues([a.f ?? 0], DT.FLOAT, true, output, path, context);
      case 'value_floats':
        return OnnxTensor.fromValues([...(a.floats ?? [])], DT.FLOAT, false, output, path, context);
      case 'value_int':
        return OnnxTensor.fromValues([Number(int64ToNumber(a.i as Int64))], DT.INT64, true, output, path, context);
      case 'value_ints':
        return OnnxTensor.fromValues(
          (a.ints ?? []).map((v) => Number(int64ToNumber(v as Int64))),
          DT.INT64,
          false,
          output,
          path,
          context,
        );
    }
  }
  return undefined;
}
