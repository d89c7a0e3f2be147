/**
 * exportModel: applies an ExportPlan to the model's own bytes. Only the messages on the path to an edit
 * are rebuilt (wire.ts); every other byte of the file is copied as it was, so metadata, doc strings,
 * opsets, value infos, training info, functions and fields newer than our schema all survive.
 *
 * Tensors keep their data type and their place: raw_data, a typed field (float_data, int32_data for
 * float16/bfloat16, double_data), a Constant node's attribute, or external data. Changed external tensors
 * move to one new data file (returned in dataFiles); unchanged ones keep pointing at their old files.
 */
import { WeightlensError } from '../../errors.js';
import { computingOps } from '../computed.js';
import { DT, byteLengthOf, dtypeName } from '../dtypes.js';
import { validateLocation } from '../external-data.js';
import type { Graph, Model, Node, TensorRef } from '../model.js';
import {
  encodeRaw,
  isWritableFloat,
  packedFloat32,
  packedFloat64,
  packedHalfBits,
  roundingChange,
} from './encode-values.js';
import { isCopiedRange, partLength, type DataPart } from './data-file.js';
import type { ExportPlan, NewEncodedInitializer, NewInitializer, NewNode, StoredValues, TensorEdit } from './plan.js';
import {
  MessageEditor,
  WIRE,
  encodeTag,
  int64Record,
  lenRecord,
  records,
  stringRecord,
  varintRecord,
  type Chunk,
} from './wire.js';

export interface ExportOptions {
  /**
   * Name of the new external-data file for changed external tensors (a path relative to the exported
   * model's folder). Default: `<model name>.weightlens.data`.
   */
  dataFileName?: string;
  /**
   * Also place every unchanged external initializer in the new data file (copied through as a range of the
   * input's file), so the exported model needs none of the input's external-data files: for writing it to
   * another folder without a second copy of data it no longer uses.
   */
  relocateExternal?: boolean;
}

export interface ExportResult {
  /** The new model file. */
  bytes: Uint8Array;
  /** External-data files to write beside the model: location (relative to its folder) -> its parts. */
  dataFiles: Map<string, DataPart[]>;
  /** External-data locations of the input that the new model still refers to (copy them if it moves). */
  keptLocations: string[];
  /** Every float16/bfloat16 tensor written: how much rounding to its type changed the plan's values. */
  rounding: TensorRounding[];
}

export interface TensorRounding {
  /** Path of the tensor's graph, and its name. */
  graph: string;
  tensor: string;
  dtype: 'float16' | 'bfloat16';
  /** ‖stored − given‖ / ‖given‖ (encode-values.ts roundingChange). */
  relativeChange: number;
}

/** ONNX field numbers (onnx.proto, checked against ONNX 1.12's). */
const F = {
  model: { irVersion: 1, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, initializer: 5 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 },
  attribute: { name: 1, f: 2, i: 3, t: 5, g: 6, floats: 7, ints: 8, graphs: 11, type: 20 },
  tensor: {
    dims: 1,
    dataType: 2,
    floatData: 4,
    int32Data: 5,
    name: 8,
    rawData: 9,
    doubleData: 10,
    externalData: 13,
    dataLocation: 14,
  },
  entry: { key: 1, value: 2 },
} as const;

const DATA_LOCATION_EXTERNAL = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;
const utf8 = new TextEncoder();

export function exportModel(model: Model, plan: ExportPlan, options: ExportOptions = {}): ExportResult {
  return new Exporter(model, options).run(plan);
}

interface GraphEdit {
  readonly graph: Graph;
  readonly editor: MessageEditor;
  /** Record index (in the GraphProto) of node i. */
  readonly nodeRecords: number[];
  /** Record index of the first initializer of each name (built on first use). */
  initializers?: Map<string, number>;
}

/** A node's inputs as the export is changing them, to place appended inputs. */
interface InputState {
  names: string[];
  /** Record index of each input that exists in the file (appended ones have none). */
  records: (number | undefined)[];
}

class Exporter {
  private readonly root: MessageEditor;
  private readonly graphsByPath = new Map<string, Graph>();
  private readonly graphEdits = new Map<Graph, GraphEdit>();
  private readonly constantNodes = new Map<Graph, Map<string, Node>>();
  private readonly removed = new Set<string>(); // `${graph path}#${node index}`
  private readonly inputStates = new Map<string, InputState>();
  private readonly rewrittenInputs = new Set<string>();
  private readonly editedTensors = new Set<string>();
  private readonly editedExternal = new Set<TensorRef>();
  private readonly dataParts: DataPart[] = [];
  private readonly rounding: TensorRounding[] = [];
  private dataLength = 0;
  private dataFileName?: string;
  private readonly file: string;

  constructor(
    private readonly model: Model,
    private readonly options: ExportOptions,
  ) {
    this.file = model.fileName;
    this.root = new MessageEditor(model.bytes, 0, model.bytes.byteLength, `${this.file}: ModelProto`);
    for (const g of model.graphs) this.graphsByPath.set(g.path, g);
  }

  run(plan: ExportPlan): ExportResult {
    for (const n of plan.removeNodes) this.removed.add(this.nodeKey(n));
    for (const edit of plan.tensors) this.editTensor(edit);
    for (const r of plan.renameOutputs) this.renameOutput(r.node, r.index, r.name);
    for (const r of plan.rewriteNodes ?? []) this.rewriteNode(r.node, r.opType, r.inputs, r.removeAttributes);
    for (const a of plan.appendInputs) this.appendInput(a.node, a.name);
    for (const init of plan.addInitializers) this.addInitializer(init);
    for (const init of plan.addEncodedInitializers ?? []) this.addEncodedInitializer(init);
    const removedInitializers = new Set<TensorRef>();
    for (const t of plan.removeInitializers ?? []) {
      this.removeInitializer(t);
      removedInitializers.add(t);
    }
    for (const n of plan.removeNodes) {
      const ge = this.graphEdit(this.graphOfNode(n));
      ge.editor.remove(this.nodeRecord(ge, n));
    }
    for (const n of plan.addNodes ?? []) this.addNode(n);
    for (const r of plan.replaceNodes ?? []) this.replaceNode(r.node, r.nodes);
    for (const [domain, version] of Object.entries(plan.opsets ?? {})) this.setOpset(domain, version);
    if (plan.irVersion !== undefined) this.setIrVersion(plan.irVersion);
    if (this.options.relocateExternal) this.relocateUnchanged(removedInitializers);

    const bytes = new Uint8Array(this.root.writtenLength);
    this.root.writeTo(bytes, 0);
    const dataFiles = new Map<string, DataPart[]>();
    if (this.dataFileName !== undefined) dataFiles.set(this.dataFileName, this.dataParts);

    const kept = new Set<string>();
    for (const g of this.model.graphs) {
      for (const t of g.constants.values()) {
        if (t.external && !this.editedExternal.has(t) && !removedInitializers.has(t)) kept.add(t.external.location);
      }
    }
    return { bytes, dataFiles, keptLocations: [...kept], rounding: this.rounding };
  }

  // ---- errors ---------------------------------------------------------------------------------------

  private usage(message: string, tensor?: string): WeightlensError {
    return new WeightlensError('USAGE', `${this.file}: export: ${message}`, {
      file: this.file,
      ...(tensor ? { tensor } : {}),
    });
  }

  private badTensor(tensor: string, field: string, message: string): WeightlensError {
    return new WeightlensError('BAD_TENSOR', `${this.file}: export: ${message}`, { file: this.file, tensor, field });
  }

  // ---- finding things in the bytes ---------------------------------------------------------------------

  private graphOf(path: string): Graph {
    const g = this.graphsByPath.get(path);
    if (!g) throw this.usage(`the plan names graph "${path}", which this model does not have`);
    return g;
  }

  private graphOfNode(node: Node): Graph {
    const g = this.graphOf(node.graph);
    if (g.nodes[node.index] !== node && g.nodes[node.index]?.name !== node.name) {
      throw this.usage(
        `node "${node.name}" is not node ${node.index} of graph ${node.graph} (a plan for another model?)`,
      );
    }
    return g;
  }

  private nodeKey(node: Node): string {
    return `${node.graph}#${node.index}`;
  }

  /** The GraphProto of `graph`: ModelProto.graph, or the attribute of its owner node in the parent graph. */
  private graphEdit(graph: Graph): GraphEdit {
    const known = this.graphEdits.get(graph);
    if (known) return known;
    let editor: MessageEditor;
    const what = `${this.file}: graph ${graph.path}`;
    if (!graph.parent || !graph.owner) {
      const at = this.root.indicesOf(F.model.graph);
      if (at.length !== 1) throw this.badGraph(`the model has ${at.length} graph fields; exactly one is supported`);
      editor = this.root.child(at[0]!, what);
    } else {
      const { nodeIndex, attribute, listIndex } = graph.owner;
      const parent = this.graphEdit(graph.parent);
      const ownerNode = graph.parent.nodes[nodeIndex];
      if (!ownerNode)
        throw this.badGraph(
          `graph ${graph.path} names owner node ${nodeIndex}, which ${graph.parent.path} does not have`,
        );
      if (this.removed.has(this.nodeKey(ownerNode)))
        throw this.usage(`graph ${graph.path} is edited, but its node "${ownerNode.name}" is removed`);
      const nodeEditor = this.nodeEditor(parent, ownerNode);
      const attr = this.attributeEditor(
        nodeEditor,
        attribute,
        `${what} (attribute ${attribute} of "${ownerNode.name}")`,
      );
      if (!attr)
        throw this.badGraph(`node "${ownerNode.name}" has no attribute ${attribute} holding graph ${graph.path}`);
      if (listIndex === undefined) {
        const at = attr.indicesOf(F.attribute.g);
        if (at.length !== 1)
          throw this.badGraph(`attribute ${attribute} of "${ownerNode.name}" has ${at.length} g fields`);
        editor = attr.child(at[0]!, what);
      } else {
        const at = attr.indicesOf(F.attribute.graphs)[listIndex];
        if (at === undefined)
          throw this.badGraph(`attribute ${attribute} of "${ownerNode.name}" has no graph ${listIndex}`);
        editor = attr.child(at, what);
      }
    }
    const edit: GraphEdit = { graph, editor, nodeRecords: editor.indicesOf(F.graph.node) };
    if (edit.nodeRecords.length !== graph.nodes.length) {
      throw this.badGraph(
        `graph ${graph.path} has ${edit.nodeRecords.length} node records, the model ${graph.nodes.length} nodes`,
      );
    }
    this.graphEdits.set(graph, edit);
    return edit;
  }

  private badGraph(message: string): WeightlensError {
    return new WeightlensError('BAD_GRAPH', `${this.file}: export: ${message}`, { file: this.file });
  }

  private nodeRecord(ge: GraphEdit, node: Node): number {
    const at = ge.nodeRecords[node.index];
    if (at === undefined) throw this.usage(`graph ${ge.graph.path} has no node ${node.index} ("${node.name}")`);
    return at;
  }

  /** The NodeProto of `node` (checked: its op_type in the file is the node's). */
  private nodeEditor(ge: GraphEdit, node: Node): MessageEditor {
    const editor = ge.editor.child(
      this.nodeRecord(ge, node),
      `${this.file}: node "${node.name}" of graph ${ge.graph.path}`,
    );
    const op = editor.indicesOf(F.node.opType).at(-1);
    const opType = op === undefined ? '' : editor.string(op);
    if (opType !== node.opType)
      throw this.usage(
        `node ${node.index} of graph ${ge.graph.path} is a ${opType}, the plan expects "${node.name}" (${node.opType})`,
      );
    return editor;
  }

  /** A node the plan edits (not one it removes). */
  private editedNode(node: Node, what: string): MessageEditor {
    if (this.removed.has(this.nodeKey(node)))
      throw this.usage(`the plan removes node "${node.name}" and also ${what} it`);
    return this.nodeEditor(this.graphEdit(this.graphOfNode(node)), node);
  }

  /** Record index of the node's attribute `name`, or undefined. */
  private attributeIndex(node: MessageEditor, name: string): number | undefined {
    for (const i of node.indicesOf(F.node.attribute)) if (node.innerString(i, F.attribute.name) === name) return i;
    return undefined;
  }

  private attributeEditor(node: MessageEditor, name: string, what: string): MessageEditor | undefined {
    const i = this.attributeIndex(node, name);
    return i === undefined ? undefined : node.child(i, what);
  }

  private initializerIndex(ge: GraphEdit, name: string): number | undefined {
    if (!ge.initializers) {
      const map = new Map<string, number>();
      const { editor } = ge;
      for (const i of editor.indicesOf(F.graph.initializer)) {
        const tensorName = editor.innerString(i, F.tensor.name);
        if (!map.has(tensorName)) map.set(tensorName, i); // the first one wins, as when reading
      }
      ge.initializers = map;
    }
    return ge.initializers.get(name);
  }

  // ---- tensors ---------------------------------------------------------------------------------------

  private editTensor({ tensor, values }: TensorEdit): void {
    const name = tensor.name;
    if (tensor.origin === 'dequantized') {
      throw this.usage(
        `tensor "${name}" is dequantized from integer weights; it cannot be written back as floats`,
        name,
      );
    }
    if (tensor.origin === 'computed') {
      throw this.usage(
        `tensor "${name}" is computed at run time from constants (${computingOps(tensor).join('/')}); only stored tensors can be written`,
        name,
      );
    }
    const key = `${tensor.graph}\0${tensor.origin}\0${name}`;
    if (this.editedTensors.has(key))
      throw this.usage(`the plan edits tensor "${name}" of graph ${tensor.graph} twice`, name);
    this.editedTensors.add(key);
    const count = values instanceof Float32Array ? values.length : values.elements;
    if (count !== tensor.size) {
      throw this.badTensor(
        name,
        'values',
        `new values for "${name}" have ${count} elements, its shape [${tensor.shape}] has ${tensor.size}`,
      );
    }
    if (!isWritableFloat(tensor.dataType)) {
      throw new WeightlensError(
        'UNSUPPORTED_DTYPE',
        `${this.file}: export: tensor "${name}" is ${dtypeName(tensor.dataType)}; only float32, float16, bfloat16 and float64 weights can be written`,
        {
          file: this.file,
          tensor: name,
          field: 'data_type',
        },
      );
    }
    const graph = this.graphOf(tensor.graph);
    const ge = this.graphEdit(graph);
    const change = values instanceof Float32Array ? roundingChange(tensor.dataType, values) : values.roundingChange;
    this.noteRounding(graph, name, tensor.dataType, change);
    if (tensor.origin === 'initializer') {
      const at = this.initializerIndex(ge, name);
      if (at === undefined) throw this.usage(`graph ${graph.path} has no initializer "${name}"`, name);
      this.writeTensor(ge.editor.child(at, `${this.file}: initializer "${name}"`), tensor, values);
      return;
    }
    const node = this.constantNode(graph, name);
    if (!node) throw this.usage(`graph ${graph.path} has no Constant node for "${name}"`, name);
    const nodeEditor = this.editedNode(node, 'edits the tensor of');
    const what = `${this.file}: Constant "${node.name}"`;
    const value = this.attributeEditor(nodeEditor, 'value', what);
    if (value) {
      const t = value.indicesOf(F.attribute.t);
      if (t.length !== 1) throw this.badGraph(`Constant "${node.name}" has ${t.length} tensors in its value attribute`);
      this.writeTensor(value.child(t[0]!, what), tensor, values);
      return;
    }
    if (!(values instanceof Float32Array))
      throw this.usage(`spilled values for "${name}", which is not stored as external data`, name);
    const floats = this.attributeEditor(nodeEditor, 'value_floats', what);
    if (floats) {
      this.replaceRepeated(floats, F.attribute.floats, lenRecord(F.attribute.floats, packedFloat32(values)));
      return;
    }
    const single = this.attributeEditor(nodeEditor, 'value_float', what);
    if (single) {
      const record = [encodeTag(F.attribute.f, WIRE.I32), packedFloat32(values).slice()];
      const at = single.indicesOf(F.attribute.f);
      if (at.length === 0) single.append(record);
      else {
        at.slice(0, -1).forEach((i) => single.remove(i));
        single.replaceRecord(at.at(-1)!, record);
      }
      return;
    }
    throw this.usage(`Constant "${node.name}" holds no float tensor to edit`, name);
  }

  /** Narrow types round what they store: by how much (roundingChange), where the values are written. */
  private noteRounding(graph: Graph, tensor: string, dataType: number, relativeChange: number): void {
    if (dataType !== DT.FLOAT16 && dataType !== DT.BFLOAT16) return;
    this.rounding.push({
      graph: graph.path,
      tensor,
      dtype: dataType === DT.FLOAT16 ? 'float16' : 'bfloat16',
      relativeChange,
    });
  }

  /** The Constant node of `graph` whose first output is `name` (the first such node, as when reading). */
  private constantNode(graph: Graph, name: string): Node | undefined {
    let map = this.constantNodes.get(graph);
    if (!map) {
      map = new Map();
      for (const n of graph.nodes) {
        if (n.opType === 'Constant' && n.domain === '' && n.outputs[0] && !map.has(n.outputs[0]))
          map.set(n.outputs[0], n);
      }
      this.constantNodes.set(graph, map);
    }
    return map.get(name);
  }

  /** Writes all records of a repeated field as one (packed) record at the place of the first. */
  private replaceRepeated(editor: MessageEditor, field: number, record: Chunk): void {
    const at = editor.indicesOf(field);
    if (at.length === 0) {
      editor.append(record);
      return;
    }
    editor.replaceRecord(at[0]!, record);
    for (const i of at.slice(1)) editor.remove(i);
  }

  /** New values into a TensorProto, in its own data type and place (as decode/tensor.ts reads it). */
  private writeTensor(editor: MessageEditor, tensor: TensorRef, values: Float32Array | StoredValues): void {
    if (tensor.size === 0) return;
    const { dataType, name } = tensor;
    const location = editor.indicesOf(F.tensor.dataLocation).at(-1);
    const external = location !== undefined && editor.varint(location) === DATA_LOCATION_EXTERNAL;
    if (!(values instanceof Float32Array)) {
      if (!external) throw this.usage(`spilled values for "${name}", which is not stored as external data`, name);
      const expected = byteLengthOf(dataType, tensor.size);
      if (values.bytes.size !== expected)
        throw this.badTensor(
          name,
          'values',
          `spilled values for "${name}" have ${values.bytes.size} bytes, not ${expected}`,
        );
      this.placeExternal(editor, tensor, values.bytes);
      return;
    }
    if (external) {
      this.placeExternal(editor, tensor, encodeRaw(dataType, values));
      return;
    }
    const raw = editor.indicesOf(F.tensor.rawData).at(-1);
    if (raw !== undefined && editor.data(raw).byteLength > 0) {
      const bytes = encodeRaw(dataType, values);
      if (bytes.byteLength !== editor.data(raw).byteLength) {
        throw this.badTensor(
          name,
          'raw_data',
          `raw_data of "${name}" has ${editor.data(raw).byteLength} bytes, ${bytes.byteLength} were written`,
        );
      }
      editor.replacePayload(raw, bytes);
      return;
    }
    switch (dataType) {
      case DT.FLOAT:
        this.replaceRepeated(editor, F.tensor.floatData, lenRecord(F.tensor.floatData, packedFloat32(values)));
        return;
      case DT.DOUBLE:
        this.replaceRepeated(editor, F.tensor.doubleData, lenRecord(F.tensor.doubleData, packedFloat64(values)));
        return;
      default: // float16, bfloat16: their bits in int32_data
        this.replaceRepeated(
          editor,
          F.tensor.int32Data,
          lenRecord(F.tensor.int32Data, packedHalfBits(dataType, values)),
        );
    }
  }

  /**
   * Every external initializer the plan neither rewrote nor removed, copied through into the new data file
   * (its checksum, if any, stays true: the bytes are the same).
   */
  private relocateUnchanged(removed: ReadonlySet<TensorRef>): void {
    for (const graph of this.model.graphs) {
      for (const t of graph.constants.values()) {
        if (!t.external || t.origin !== 'initializer' || this.editedExternal.has(t) || removed.has(t)) continue;
        const ge = this.graphEdit(graph);
        const at = this.initializerIndex(ge, t.name);
        if (at === undefined) throw this.usage(`graph ${graph.path} has no initializer "${t.name}"`, t.name);
        const { location, offset, length } = t.external;
        const copied = { location, offset, length: length ?? byteLengthOf(t.dataType, t.size) ?? 0 };
        this.placeExternal(ge.editor.child(at, `${this.file}: initializer "${t.name}"`), t, copied);
      }
    }
  }

  /** Appends a part to the new data file (aligned) and points the tensor's external_data at it. */
  private placeExternal(editor: MessageEditor, tensor: TensorRef, part: DataPart): void {
    const fresh = this.appendData(part);
    this.editedExternal.add(tensor);
    // location/offset/length are replaced where the first of them was; a checksum of new bytes would be
    // wrong now, so it goes (copied bytes keep theirs); any other key stays.
    const replaced = new Set(['location', 'offset', 'length', ...(isCopiedRange(part) ? [] : ['checksum'])]);
    let placed = false;
    for (const i of editor.indicesOf(F.tensor.externalData)) {
      if (!replaced.has(editor.innerString(i, F.entry.key))) continue;
      if (placed) editor.remove(i);
      else editor.replaceRecord(i, fresh);
      placed = true;
    }
    if (!placed) editor.append(fresh);
  }

  /** Appends a part to the new data file (aligned): the external_data records that point at it. */
  private appendData(part: DataPart): Uint8Array[] {
    const location = (this.dataFileName ??= this.chooseDataFileName(this.options.dataFileName));
    const length = partLength(part);
    const align = length >= 65536 ? 4096 : 64;
    const pad = (align - (this.dataLength % align)) % align;
    if (pad) this.dataParts.push(new Uint8Array(pad));
    const offset = this.dataLength + pad;
    this.dataParts.push(part);
    this.dataLength = offset + length;
    const entry = (key: string, value: string) =>
      lenRecord(F.tensor.externalData, records(stringRecord(F.entry.key, key), stringRecord(F.entry.value, value)));
    return records(entry('location', location), entry('offset', String(offset)), entry('length', String(length)));
  }

  /** Reserves a new initializer's name in its graph: the graph edit it goes into. */
  private newInitializer(graphPath: string, name: string): GraphEdit {
    const graph = this.graphOf(graphPath);
    if (graph.constants.has(name))
      throw this.usage(
        `graph ${graph.path} already has a constant "${name}"; the new initializer needs another name`,
        name,
      );
    const ge = this.graphEdit(graph);
    if (this.initializerIndex(ge, name) !== undefined)
      throw this.usage(`the plan adds initializer "${name}" to graph ${graph.path} twice`, name);
    ge.initializers!.set(name, -1);
    return ge;
  }

  private tensorHead(name: string, dims: readonly number[], dataType: number): Uint8Array[] {
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw this.badTensor(name, 'dims', `new initializer "${name}" has dims [${dims}]`);
    return records(
      ...dims.map((d) => varintRecord(F.tensor.dims, d)),
      varintRecord(F.tensor.dataType, dataType),
      stringRecord(F.tensor.name, name),
    );
  }

  private addInitializer(init: NewInitializer): void {
    const { name, dims, dataType, values } = init;
    const ge = this.newInitializer(init.graph.path, name);
    const head = this.tensorHead(name, dims, dataType);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) {
      throw this.badTensor(name, 'values', `new initializer "${name}" has ${values.length} values for dims [${dims}]`);
    }
    if (!isWritableFloat(dataType)) {
      throw new WeightlensError(
        'UNSUPPORTED_DTYPE',
        `${this.file}: export: new initializer "${name}" cannot be ${dtypeName(dataType)}`,
        { file: this.file, tensor: name, field: 'data_type' },
      );
    }
    this.noteRounding(ge.graph, name, dataType, roundingChange(dataType, values));
    ge.editor.append(
      lenRecord(F.graph.initializer, records(head, lenRecord(F.tensor.rawData, encodeRaw(dataType, values)))),
    );
  }

  private addEncodedInitializer(init: NewEncodedInitializer): void {
    const { name, dims, dataType, raw } = init;
    const ge = this.newInitializer(init.graph.path, name);
    const head = this.tensorHead(name, dims, dataType);
    const length = raw instanceof Blob ? raw.size : raw.byteLength;
    if (
      length !==
      byteLengthOf(
        dataType,
        dims.reduce((a, b) => a * b, 1),
      )
    )
      throw this.badTensor(name, 'values', `new initializer "${name}" has ${length} bytes for dims [${dims}]`);
    if (raw instanceof Blob && !init.external)
      throw this.usage(`new initializer "${name}" is held in a Blob but not stored as external data`, name);
    const data = init.external
      ? records(this.appendData(raw), varintRecord(F.tensor.dataLocation, DATA_LOCATION_EXTERNAL))
      : lenRecord(F.tensor.rawData, raw as Uint8Array);
    ge.editor.append(lenRecord(F.graph.initializer, records(head, data)));
  }

  /** A new node, before the graph's first node (it reads only initializers; ONNX keeps nodes in topological order). */
  private addNode(node: NewNode): void {
    const ge = this.graphEdit(this.graphOf(node.graph.path));
    ge.editor.prepend(lenRecord(F.graph.node, this.nodeRecords(node)));
  }

  /** `nodes` written where `node` was, in order (each reads what the one before it wrote). */
  private replaceNode(node: Node, nodes: readonly NewNode[]): void {
    const key = this.nodeKey(node);
    if (this.removed.has(key)) throw this.usage(`the plan removes node "${node.name}" and also replaces it`);
    this.removed.add(key); // no other edit may touch it now
    const ge = this.graphEdit(this.graphOfNode(node));
    ge.editor.replaceRecord(
      this.nodeRecord(ge, node),
      records(...nodes.map((n) => lenRecord(F.graph.node, this.nodeRecords(n)))),
    );
  }

  private nodeRecords(node: NewNode): Uint8Array[] {
    const attributes = Object.entries(node.intAttributes ?? {}).map(([name, value]) =>
      lenRecord(
        F.node.attribute,
        records(
          stringRecord(F.attribute.name, name),
          ...(typeof value === 'number'
            ? [int64Record(F.attribute.i, value), varintRecord(F.attribute.type, ATTRIBUTE_INT)]
            : [...value.map((v) => int64Record(F.attribute.ints, v)), varintRecord(F.attribute.type, ATTRIBUTE_INTS)]),
        ),
      ),
    );
    const copied: Chunk[] = [];
    if (node.copyAttributes) {
      const { from, names } = node.copyAttributes;
      const ge = this.graphEdit(this.graphOfNode(from));
      const source = ge.editor.child(this.nodeRecord(ge, from), `${this.file}: node "${from.name}"`);
      for (const i of source.indicesOf(F.node.attribute))
        if (names.includes(source.innerString(i, F.attribute.name)))
          copied.push(lenRecord(F.node.attribute, source.data(i)));
    }
    return records(
      ...node.inputs.map((i) => stringRecord(F.node.input, i)),
      ...node.outputs.map((o) => stringRecord(F.node.output, o)),
      stringRecord(F.node.name, node.name),
      stringRecord(F.node.opType, node.opType),
      ...attributes,
      ...copied,
      ...(node.domain ? [stringRecord(F.node.domain, node.domain)] : []),
    );
  }

  /** The model imports `domain` at `version` (its entry replaced, or a new one). */
  private setOpset(domain: string, version: number): void {
    const entry = lenRecord(
      F.model.opsetImport,
      records(...(domain ? [stringRecord(F.opset.domain, domain)] : []), varintRecord(F.opset.version, version)),
    );
    const existing = this.root
      .indicesOf(F.model.opsetImport)
      .filter((i) => [domain, domain === '' ? 'ai.onnx' : domain].includes(this.root.innerString(i, F.opset.domain)));
    existing.slice(1).forEach((i) => this.root.remove(i));
    if (existing.length > 0) this.root.replaceRecord(existing[0]!, entry);
    else this.root.append(entry);
  }

  private setIrVersion(version: number): void {
    const at = this.root.indicesOf(F.model.irVersion);
    at.slice(0, -1).forEach((i) => this.root.remove(i));
    if (at.length > 0) this.root.replaceRecord(at.at(-1)!, varintRecord(F.model.irVersion, version));
    else this.root.prepend(varintRecord(F.model.irVersion, version));
  }

  private removeInitializer(tensor: TensorRef): void {
    if (tensor.origin !== 'initializer') {
      throw this.usage(
        `"${tensor.name}" is not an initializer (${tensor.origin}); remove its node instead`,
        tensor.name,
      );
    }
    const ge = this.graphEdit(this.graphOf(tensor.graph));
    const at = this.initializerIndex(ge, tensor.name);
    if (at === undefined || at < 0)
      throw this.usage(`graph ${tensor.graph} has no initializer "${tensor.name}"`, tensor.name);
    if (this.editedTensors.has(`${tensor.graph}\0initializer\0${tensor.name}`)) {
      throw this.usage(`the plan edits initializer "${tensor.name}" and also removes it`, tensor.name);
    }
    ge.editor.remove(at);
  }

  // ---- nodes -----------------------------------------------------------------------------------------

  private renameOutput(node: Node, index: number, name: string): void {
    const editor = this.editedNode(node, 'renames an output of');
    const at = editor.indicesOf(F.node.output)[index];
    if (at === undefined) throw this.usage(`node "${node.name}" has no output ${index}`);
    editor.replacePayload(at, utf8.encode(name));
  }

  private inputState(node: Node, editor: MessageEditor): InputState {
    const key = this.nodeKey(node);
    let state = this.inputStates.get(key);
    if (!state) {
      const records = editor.indicesOf(F.node.input);
      state = { names: records.map((i) => editor.string(i)), records };
      this.inputStates.set(key, state);
    }
    return state;
  }

  /** `name` becomes the input after the last non-empty one: a trailing '' (omitted optional) is filled. */
  private appendInput(node: Node, name: string): void {
    if (this.rewrittenInputs.has(this.nodeKey(node)))
      throw this.usage(`the plan rewrites the inputs of "${node.name}" and also appends one`);
    const editor = this.editedNode(node, 'appends an input to');
    const state = this.inputState(node, editor);
    let next = state.names.length;
    while (next > 0 && state.names[next - 1] === '') next--;
    const record = state.records[next];
    if (next < state.names.length && record !== undefined) {
      editor.replacePayload(record, utf8.encode(name));
      state.names[next] = name;
    } else {
      editor.append(stringRecord(F.node.input, name));
      state.names.push(name);
      state.records.push(undefined);
    }
  }

  private rewriteNode(
    node: Node,
    opType?: string,
    inputs?: readonly string[],
    removeAttributes?: readonly string[],
  ): void {
    const editor = this.editedNode(node, 'rewrites');
    if (opType !== undefined) {
      const at = editor.indicesOf(F.node.opType);
      at.slice(0, -1).forEach((i) => editor.remove(i));
      if (at.length > 0) editor.replacePayload(at.at(-1)!, utf8.encode(opType));
      else editor.append(stringRecord(F.node.opType, opType));
    }
    if (inputs !== undefined) {
      if (this.inputStates.has(this.nodeKey(node)) || this.rewrittenInputs.has(this.nodeKey(node))) {
        throw this.usage(`the plan changes the inputs of "${node.name}" twice`);
      }
      this.rewrittenInputs.add(this.nodeKey(node));
      this.replaceRepeated(editor, F.node.input, records(...inputs.map((n) => stringRecord(F.node.input, n))));
    }
    for (const attribute of removeAttributes ?? []) {
      const at = this.attributeIndex(editor, attribute);
      if (at !== undefined) editor.remove(at);
    }
  }

  // ---- the new data file -----------------------------------------------------------------------------

  /** Chosen when the first external tensor is written, so a name is only checked when a file is made. */
  private chooseDataFileName(requested: string | undefined): string {
    const used = new Set<string>();
    for (const g of this.model.graphs)
      for (const t of g.constants.values()) if (t.external) used.add(t.external.location.replace(/\\/g, '/'));
    if (requested !== undefined) {
      const location = validateLocation(requested);
      if (used.has(location) || used.has(requested)) {
        throw this.usage(
          `data file "${requested}" is already an external-data file of the input model; choose another name`,
        );
      }
      return location;
    }
    const base = this.file.split(/[\\/]/).pop() || 'model.onnx';
    const stem = base.replace(/\.onnx$/i, '') || 'model';
    let name = `${stem}.weightlens.data`;
    for (let n = 2; used.has(name); n++) name = `${stem}.weightlens-${n}.data`;
    return validateLocation(name);
  }
}
