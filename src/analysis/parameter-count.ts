// What a model's parameter counts mean: float constants are parameters; integer constants that a
// quantization op dequantizes are quantized parameters; scales and zero points are neither (they describe
// how other tensors are stored).
import { intAttribute } from '../onnx/attributes.js';
import { isFloatingPoint } from '../onnx/dtypes.js';
import { DT } from '../onnx/dtypes.js';
import { resolveConstant, type Model, type Node, type TensorRef } from '../onnx/model.js';

interface QuantizationInputs {
  /** Inputs holding integer-stored weights (or biases) the op dequantizes. */
  stored: number[];
  /** Scale and zero-point inputs (and MatMulNBits' g_idx). */
  metadata: number[];
  /** Weights a stored tensor holds, where that is not its element count (values packed in bytes). */
  values?: (node: Node, t: TensorRef) => number;
}

/** onnxruntime's block-quantized ops (domain com.microsoft), whose uint8 inputs pack several values per byte. */
const BLOCK_QUANTIZED_OPS: Record<string, QuantizationInputs> = {
  // (A, B, scales, zero_points, g_idx, bias): B holds the K×N weight, padded per block.
  MatMulNBits: {
    stored: [1],
    metadata: [2, 3, 4],
    values: (node) => intAttribute(node, 'K', 0) * intAttribute(node, 'N', 0),
  },
  // (data, indices, scales, zero_points): uint8 data packs 8/bits values per byte.
  GatherBlockQuantized: {
    stored: [0],
    metadata: [2, 3],
    values: (node, t) => (t.dataType === DT.UINT8 ? (t.size * 8) / intAttribute(node, 'bits', 4) : t.size),
  },
};

const QUANTIZATION_OPS: Record<string, QuantizationInputs> = {
  DequantizeLinear: { stored: [0], metadata: [1, 2] },
  QuantizeLinear: { stored: [], metadata: [1, 2] },
  // (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B)
  QLinearConv: { stored: [3, 8], metadata: [1, 2, 4, 5, 6, 7] },
  // (a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point)
  QLinearMatMul: { stored: [0, 3], metadata: [1, 2, 4, 5, 6, 7] },
  ConvInteger: { stored: [0, 1], metadata: [2, 3] },
  MatMulInteger: { stored: [0, 1], metadata: [2, 3] },
};

export interface ParameterCounts {
  /** Elements of floating-point constants, other than quantization scales. */
  parameters: number;
  /** Elements of integer-stored constants that a quantization op dequantizes (QDQ and QOperator weights, int32 biases). */
  quantizedParameters: number;
}

/** Counts every constant tensor of every graph once, by what the model does with it. */
export function countParameters(model: Model): ParameterCounts {
  const stored = new Map<TensorRef, number>();
  const metadata = new Set<TensorRef>();
  for (const graph of model.graphs) {
    for (const node of graph.nodes) {
      const roles = rolesOf(node);
      if (!roles) continue;
      const constants = (indices: number[]) =>
        indices.flatMap((i) => {
          const name = node.inputs[i];
          const tensor = name ? resolveConstant(graph, name) : undefined;
          return tensor ? [tensor] : [];
        });
      for (const t of constants(roles.stored)) stored.set(t, roles.values?.(node, t) ?? t.size);
      for (const t of constants(roles.metadata)) metadata.add(t);
    }
  }
  let parameters = 0;
  let quantizedParameters = 0;
  for (const graph of model.graphs) {
    for (const t of graph.constants.values()) {
      const values = stored.get(t);
      if (values !== undefined) quantizedParameters += values;
      else if (isFloatingPoint(t.dtype) && !metadata.has(t)) parameters += t.size;
    }
  }
  return { parameters, quantizedParameters };
}

/** The quantization roles of a node's inputs; own keys only, so an op named "toString" has none. */
function rolesOf(node: Node): QuantizationInputs | undefined {
  const ops =
    node.domain === '' || node.domain === 'ai.onnx'
      ? QUANTIZATION_OPS
      : node.domain === 'com.microsoft'
        ? BLOCK_QUANTIZED_OPS
        : undefined;
  return ops && Object.hasOwn(ops, node.opType) ? ops[node.opType] : undefined;
}
