// What a model's parameter counts mean: float constants are parameters; integer constants that a
// quantization op dequantizes are quantized parameters; scales and zero points are neither (they describe
// how other tensors are stored).
import { isFloatingPoint } from '../onnx/dtypes.js';
import { resolveConstant, type Model, type TensorRef } from '../onnx/model.js';

interface QuantizationInputs {
  /** Inputs holding integer-stored weights (or biases) the op dequantizes. */
  stored: number[];
  /** Scale and zero-point inputs. */
  metadata: number[];
}

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
  const stored = new Set<TensorRef>();
  const metadata = new Set<TensorRef>();
  for (const graph of model.graphs) {
    for (const node of graph.nodes) {
      const roles = node.domain === '' || node.domain === 'ai.onnx' ? QUANTIZATION_OPS[node.opType] : undefined;
      if (!roles) continue;
      const mark = (indices: number[], into: Set<TensorRef>) => {
        for (const i of indices) {
          const name = node.inputs[i];
          const tensor = name ? resolveConstant(graph, name) : undefined;
          if (tensor) into.add(tensor);
        }
      };
      mark(roles.stored, stored);
      mark(roles.metadata, metadata);
    }
  }
  let parameters = 0;
  let quantizedParameters = 0;
  for (const graph of model.graphs) {
    for (const t of graph.constants.values()) {
      if (stored.has(t)) quantizedParameters += t.size;
      else if (isFloatingPoint(t.dtype) && !metadata.has(t)) parameters += t.size;
    }
  }
  return { parameters, quantizedParameters };
}
