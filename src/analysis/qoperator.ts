// QOperator layers (onnxruntime's QuantFormat.QOperator, and the integer ops of its dynamic quantization):
// which input is the weight, where its scale and zero point sit, and which float op the layer stands for.
// com.microsoft QGemm/QAttention/DynamicQuantizeMatMul are not recognised (their own input conventions).
import { dequantizedBias, quantizedWeight } from '../onnx/dequantize.js';
import type { Node, TensorRef } from '../onnx/model.js';

export type QOperatorOp = 'QLinearConv' | 'QLinearMatMul' | 'ConvInteger' | 'MatMulInteger';

interface QOperatorInputs {
  /** The float op whose weight layout this one shares. */
  computes: 'Conv' | 'MatMul';
  weight: number;
  /** Absent for the *Integer ops: they carry no scale. */
  scale?: number;
  zeroPoint: number;
  names: { scale: string; zeroPoint: string };
}

const W = { scale: 'w_scale', zeroPoint: 'w_zero_point' };
const B = { scale: 'b_scale', zeroPoint: 'b_zero_point' };
const QOPERATOR: Record<QOperatorOp, QOperatorInputs> = {
  // (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B)
  QLinearConv: { computes: 'Conv', weight: 3, scale: 4, zeroPoint: 5, names: W },
  // (a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point)
  QLinearMatMul: { computes: 'MatMul', weight: 3, scale: 4, zeroPoint: 5, names: B },
  // (x, w, x_zero_point, w_zero_point)
  ConvInteger: { computes: 'Conv', weight: 1, zeroPoint: 3, names: W },
  // (A, B, a_zero_point, b_zero_point)
  MatMulInteger: { computes: 'MatMul', weight: 1, zeroPoint: 3, names: B },
};

export const isQOperator = (opType: string): opType is QOperatorOp => Object.hasOwn(QOPERATOR, opType);

/** The float op (Conv, MatMul) whose weight layout a QOperator op shares. */
export const computedOp = (opType: QOperatorOp) => QOPERATOR[opType].computes;

export interface QOperatorWeights {
  weight: TensorRef;
  bias?: TensorRef;
  /** What the figures mean where that is not obvious (integer units, a bias left out). */
  notes: string[];
}

/**
 * The dequantized weight (and QLinearConv's bias) of a QOperator node, or undefined when the weight, its
 * scale or its zero point is computed at run time. `constant` resolves a node input to a constant tensor.
 */
export function qoperatorWeights(
  node: Node & { opType: QOperatorOp },
  constant: (name: string | undefined) => TensorRef | undefined,
  fileName: string,
): QOperatorWeights | undefined {
  const spec = QOPERATOR[node.opType];
  const named = (index: number | undefined) => (index === undefined ? '' : (node.inputs[index] ?? ''));
  const x = constant(named(spec.weight));
  const scale = constant(named(spec.scale));
  const zeroPoint = constant(named(spec.zeroPoint));
  if (!x || (spec.scale !== undefined && !scale) || (named(spec.zeroPoint) && !zeroPoint)) return undefined;

  const weight = quantizedWeight(
    { node, x, scale, zeroPoint, names: spec.names, ...weightAxis(spec.computes, x, scale ?? zeroPoint) },
    fileName,
  );
  const notes: string[] = [];
  if (!scale) {
    notes.push(
      `${node.opType} carries no weight scale (in onnxruntime's dynamic quantization a later Mul applies it): statistics are in integer units, w - ${spec.names.zeroPoint}`,
    );
  }
  if (node.opType !== 'QLinearConv' || !named(8)) return { weight, notes };

  // B is int32 with scale x_scale·w_scale: only a constant x_scale gives its float values.
  const bias = constant(named(8));
  const xScale = constant(named(1));
  if (bias && scale && xScale?.size === 1)
    return { weight, bias: dequantizedBias(bias, xScale, scale, node, fileName), notes };
  notes.push(
    `bias "${named(8)}" is not dequantized: ${bias ? `x_scale "${named(1)}" is not a one-value constant` : 'it is not a constant'}`,
  );
  return { weight, notes };
}

/**
 * Where per-channel scales run. Conv ops: the output channels (axis 0). MatMul ops (ONNX QLinearMatMul-21 and
 * MatMulInteger): per column, as a [N] vector along the last axis, or for b [..., K, N] with the batched
 * shape [..., 1, N] — one block spanning K per column.
 */
function weightAxis(
  computes: 'Conv' | 'MatMul',
  x: TensorRef,
  param: TensorRef | undefined,
): { axis: number; blockSize: number } {
  if (computes === 'Conv') return { axis: 0, blockSize: 0 };
  const rank = x.shape.length;
  if (param && param.size > 1 && rank >= 2 && param.shape.length === rank)
    return { axis: rank - 2, blockSize: x.shape[rank - 2]! };
  return { axis: -1, blockSize: 0 };
}
