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
