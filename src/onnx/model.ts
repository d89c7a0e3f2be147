/**
 * The small domain types the rest of weightlens sees. Protobuf classes never leave src/onnx/:
 * analysis, kernels and elements work on these.
 */

/** Readable names of ONNX TensorProto.DataType codes (onnx.proto 1.16 numbering). */
export type DTypeName =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'undefined'
  | `unknown(${number})`;

/** Where an external tensor's bytes live, as written in the model (validated before use). */
export interface ExternalLocation {
  location: string;
  offset: number;
  /** Byte count; undefined means "to the end of the file". */
  length?: number;
}

/** How a weight stored as integers (QDQ or QOperator) is quantized in the file. */
export interface QuantizationParams {
  /** Absent for ConvInteger/MatMulInteger, which carry no weight scale (values in integer units). */
  readonly scale?: TensorRef;
  readonly zeroPoint?: TensorRef;
  /** 'tensor': one scale; 'axis': one per index of `axis`; 'blocked': per block of `blockSize` along `axis`. */
  readonly mode: 'tensor' | 'axis' | 'blocked';
  readonly axis: number | null;
  readonly blockSize: number;
  /** The stored integer codes as the op reads them (packed n-bit values unpacked), of the weight's shape. */
  readonly codes?: TensorRef;
}

/** A weight tensor whose payload is read lazily, so opening a model never copies all weights. */
export interface TensorRef {
  /** The tensor's name in the file (initializer name or the Constant node's output). */
  readonly name: string;
  /** 'main' or the subgraph path, e.g. 'main/If_3.then_branch'. */
  readonly graph: string;
  readonly origin: 'initializer' | 'constant' | 'dequantized' | 'computed';
  /** ONNX data type code of the stored elements. */
  readonly dataType: number;
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  /** Element count (product of shape; 1 for a scalar). */
  readonly size: number;
  readonly external?: ExternalLocation;
  /** Dequantized weights only: the model's own quantization parameters (scale and zero point inputs). */
  readonly quantization?: QuantizationParams;
  /** Computed weights only: the op that builds the value at run time from constants, and what it reads. */
  readonly computation?: Computation;
  /**
   * Decodes the payload as float32 into dest[0..size). Throws WeightlensError (BAD_TENSOR,
   * UNSUPPORTED_DTYPE, EXTERNAL_DATA, UNSAFE_PATH) naming file, tensor and field.
   */
  readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void>;
  /**
   * Decodes elements [first, first + count) (row-major) as float32 into dest[0..count), reading only what
   * holds them. Present on tensors stored as values (raw, typed or external data), which can be larger than
   * any one buffer: they are analysed chunk by chunk. Same errors as readFloat32Into.
   */
  readFloat32Range?(first: number, count: number, dest: Float32Array, signal?: AbortSignal): Promise<void>;
}

/** A data-movement op (Slice, Concat, Unsqueeze, Squeeze, Reshape, Transpose) over constants. */
export interface Computation {
  readonly op: string;
  /** The node's name (or first output). */
  readonly node: string;
  /** Its data inputs (index inputs such as Slice's starts are not among them). */
  readonly inputs: readonly TensorRef[];
}

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorRef }
  | { kind: 'graph'; value: Graph }
  | { kind: 'graphs'; value: Graph[] }
  | { kind: 'other' };

export interface Node {
  /** The node's name, or its first output when unnamed (what users see in Netron). */
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Input names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, AttributeValue>;
  /** Path of the graph holding this node. */
  readonly graph: string;
  /** Position in its graph's node list (how the exporter finds it again in the file). */
  readonly index: number;
}

/** Where a subgraph sits: an attribute of a node of the parent graph (list position for GRAPHS). */
export interface GraphOwner {
  readonly nodeIndex: number;
  readonly attribute: string;
  readonly listIndex?: number;
}

export interface Graph {
  /** 'main' or e.g. 'main/If_3.then_branch' (parent path / owning node name . attribute name). */
  readonly path: string;
  /** GraphProto.name as written in the file ('' when unnamed). */
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Initializers and Constant-node outputs declared in this graph (not its parents). */
  readonly constants: ReadonlyMap<string, TensorRef>;
  /** Initializer names that are also graph inputs: a runtime may override them. */
  readonly overridable: ReadonlySet<string>;
  readonly parent?: Graph;
  /** Set for subgraphs: which node attribute of the parent holds this graph. */
  readonly owner?: GraphOwner;
}

export interface Model {
  /** The file name as the user gave it (used in every message). */
  readonly fileName: string;
  readonly byteLength: number;
  readonly irVersion: number;
  readonly producer: string;
  readonly producerVersion: string;
  /** Opset version per domain; '' is the default ONNX domain. */
  readonly opsets: Readonly<Record<string, number>>;
  readonly main: Graph;
  /** main first, then every subgraph depth-first. */
  readonly graphs: readonly Graph[];
  /** The file's bytes (a view, not a copy): the exporter patches them instead of re-encoding. */
  readonly bytes: Uint8Array;
}

/** Finds a constant visible from `graph`: its own constants first, then its ancestors' (ONNX scoping). */
export function resolveConstant(graph: Graph, name: string): TensorRef | undefined {
  for (let g: Graph | undefined = graph; g; g = g.parent) {
    const found = g.constants.get(name);
    if (found) return found;
  }
  return undefined;
}

/** Is `name` produced by a node or a graph input in this graph (so not a constant)? */
export function isOverridable(graph: Graph, name: string): boolean {
  for (let g: Graph | undefined = graph; g; g = g.parent) {
    if (g.constants.has(name)) return g.overridable.has(name);
  }
  return false;
}
