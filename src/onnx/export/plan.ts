// What an export changes in a model, and nothing else: the exporter patches exactly these places in the
// original bytes and copies every other byte through unchanged (fields newer than our schema included).
import type { Graph, Node, TensorRef } from '../model.js';

/** New values for an existing tensor, written in its own data type and in its own place. */
export interface TensorEdit {
  readonly tensor: TensorRef;
  /**
   * Same element count as the tensor; converted to the tensor's dtype (float16/bfloat16: round to nearest
   * even), or already converted and spilled (external tensors only).
   */
  readonly values: Float32Array | StoredValues;
}

/** New values already in the tensor's own data type, held in a Blob (a Spill's): for external tensors. */
export interface StoredValues {
  readonly bytes: Blob;
  readonly elements: number;
  /** ‖stored − given‖ / ‖given‖ of the conversion (encode-values.ts roundingChange). */
  readonly roundingChange: number;
}

/** A tensor that did not exist (e.g. the bias a Conv gains when a BatchNorm is folded into it). */
export interface NewInitializer {
  readonly graph: Graph;
  readonly name: string;
  readonly dims: readonly number[];
  /** ONNX data type to store (match the layer's weight, so a float16 model stays float16). */
  readonly dataType: number;
  readonly values: Float32Array;
}

/** A new integer tensor, its raw_data already encoded (int8/uint8 codes; 4-bit codes two per byte). */
export interface NewEncodedInitializer {
  readonly graph: Graph;
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** A Blob (e.g. spilled to disk) only when `external`. */
  readonly raw: Uint8Array | Blob;
  /** Store it in the new external-data file instead of the model file (as the weight it replaces was). */
  readonly external?: boolean;
}

/** A new node: placed before every node of its graph (addNodes: it reads only initializers), or in place of one. */
export interface NewNode {
  readonly graph: Graph;
  readonly name: string;
  readonly opType: string;
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes (e.g. DequantizeLinear's axis and block_size); a list is written as INTS (e.g. strides). */
  readonly intAttributes?: Readonly<Record<string, number | readonly number[]>>;
  /** Attributes copied from an existing node, by name. */
  readonly copyAttributes?: { readonly from: Node; readonly names: readonly string[] };
}

export interface ExportPlan {
  readonly tensors: readonly TensorEdit[];
  readonly removeNodes: readonly Node[];
  /** Output `index` of `node` becomes `name` (a folded BN's output moves to the Conv before it). */
  readonly renameOutputs: readonly { node: Node; index: number; name: string }[];
  /** `name` becomes the next input of `node` (a Conv/Gemm gaining a bias). */
  readonly appendInputs: readonly { node: Node; name: string }[];
  readonly addInitializers: readonly NewInitializer[];
  /** Optional: nodes changed in place, e.g. Clip(x, 0, 6) -> Relu(x) for `--relu6-to-relu`. */
  readonly rewriteNodes?: readonly NodeRewrite[];
  /** Optional: initializers nothing uses any more (a folded BatchNorm's parameters); origin 'initializer' only. */
  readonly removeInitializers?: readonly TensorRef[];
  /** Optional: new integer tensors (e.g. a quantized weight, its zero points). */
  readonly addEncodedInitializers?: readonly NewEncodedInitializer[];
  /** Optional: new nodes (e.g. the DequantizeLinear before each quantized weight). */
  readonly addNodes?: readonly NewNode[];
  /** Optional: nodes replaced, in place, by a sequence of new ones (an op rewritten for a newer opset). */
  readonly replaceNodes?: readonly { node: Node; nodes: readonly NewNode[] }[];
  /** Optional: operator set versions to import (replacing the model's entry for that domain), and the IR version. */
  readonly opsets?: Readonly<Record<string, number>>;
  readonly irVersion?: number;
}

/** A node changed in place: its op_type and/or its whole input list replaced, attributes dropped by name. */
export interface NodeRewrite {
  readonly node: Node;
  readonly opType?: string;
  readonly inputs?: readonly string[];
  readonly removeAttributes?: readonly string[];
}

export const emptyPlan = (): ExportPlan => ({
  tensors: [],
  removeNodes: [],
  renameOutputs: [],
  appendInputs: [],
  addInitializers: [],
});

/** One plan doing what both do (their edits must not touch the same node or tensor: the export checks). */
export function mergePlans(a: ExportPlan, b: Partial<ExportPlan>): ExportPlan {
  const list = <K extends keyof ExportPlan>(k: K) => [
    ...((a[k] as readonly unknown[] | undefined) ?? []),
    ...((b[k] as readonly unknown[] | undefined) ?? []),
  ];
  return {
    tensors: list('tensors'),
    removeNodes: list('removeNodes'),
    renameOutputs: list('renameOutputs'),
    appendInputs: list('appendInputs'),
    addInitializers: list('addInitializers'),
    rewriteNodes: list('rewriteNodes'),
    removeInitializers: list('removeInitializers'),
    addEncodedInitializers: list('addEncodedInitializers'),
    addNodes: list('addNodes'),
    replaceNodes: list('replaceNodes'),
    opsets: { ...a.opsets, ...b.opsets },
    ...((b.irVersion ?? a.irVersion) !== undefined ? { irVersion: Math.max(a.irVersion ?? 0, b.irVersion ?? 0) } : {}),
  } as ExportPlan;
}
