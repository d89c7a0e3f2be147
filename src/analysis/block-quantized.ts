// onnxruntime's block-quantized weight ops (domain com.microsoft) as weight layers, read as
// docs/definitions.md states: MatMulNBits' packed B becomes the MatMul weight B_deq [K, N], and a
// GatherBlockQuantized table of rank 2 gathered along axis 0 an embedding. Each is the blocked dequantization
// DequantizeLinear does (src/onnx/dequantize.ts), over views that unpack the stored bytes.
import { WeightlensError } from '../errors.js';
import { quantizedWeight } from '../onnx/dequantize.js';
import { DT, isFloatingPoint } from '../onnx/dtypes.js';
import type { Node, TensorRef } from '../onnx/model.js';
import { filledTensor, rowsView } from '../onnx/packed-values.js';
import { OnnxTensor } from '../onnx/tensor.js';

export type BlockQuantizedOp = 'MatMulNBits' | 'GatherBlockQuantized';

/** The float op whose weight layout each shares. */
const COMPUTES = { MatMulNBits: 'MatMul', GatherBlockQuantized: 'Gather' } as const;

export const isBlockQuantized = (node: Node): node is Node & { opType: BlockQuantizedOp } =>
  node.domain === 'com.microsoft' && Object.hasOwn(COMPUTES, node.opType);

export const blockQuantizedComputes = (opType: BlockQuantizedOp) => COMPUTES[opType];

export interface BlockQuantizedWeight {
  weight: TensorRef;
  /** MatMulNBits' bias [N]. */
  bias?: TensorRef;
}

type Constant = (name: string | undefined) => TensorRef | undefined;

/**
 * The dequantized weight of a MatMulNBits or GatherBlockQuantized node; undefined when its weight, scales or
 * zero points are computed at run time, or (GatherBlockQuantized) when the table is not an embedding.
 * Attributes no valid model has are BAD_GRAPH, inputs of the wrong shape or type BAD_TENSOR, valid features
 * weightlens does not read UNSUPPORTED; each names the file, the node and the input.
 */
export function blockQuantizedWeight(
  node: Node & { opType: BlockQuantizedOp },
  constant: Constant,
  fileName: string,
): BlockQuantizedWeight | undefined {
  const input = (i: number) => node.inputs[i] ?? '';
  const [weight, scales] = [constant(input(node.opType === 'MatMulNBits' ? 1 : 0)), constant(input(2))];
  const zeroPoints = constant(input(3));
  if (!weight || !scales || (input(3) && !zeroPoints)) return undefined;
  const errors = new NodeErrors(node, fileName);
  return node.opType === 'MatMulNBits'
    ? matMulNBits(node, { weight, scales, zeroPoints }, constant, errors)
    : gatherBlockQuantized(node, { weight, scales, zeroPoints }, errors);
}

interface Inputs {
  weight: TensorRef;
  scales: TensorRef;
  zeroPoints: TensorRef | undefined;
}

class NodeErrors {
  constructor(
    private readonly node: Node,
    readonly fileName: string,
  ) {}

  private error(code: 'BAD_GRAPH' | 'BAD_TENSOR' | 'UNSUPPORTED', field: string, tensor: string, problem: string) {
    const { node, fileName } = this;
    return new WeightlensError(code, `${fileName}: ${node.opType} "${node.name}" ${problem}`, {
      file: fileName,
      tensor,
      field,
    });
  }

  attribute(name: string, value: number | undefined, problem: string, tensor: string) {
    return this.error(
      'BAD_GRAPH',
      name,
      tensor,
      `attribute ${name}${value === undefined ? '' : `=${value}`} ${problem}`,
    );
  }

  tensor(field: string, t: TensorRef, problem: string) {
    return this.error(
      'BAD_TENSOR',
      field,
      t.name,
      `input ${field} "${t.name}" [${t.shape.join(',')}] ${t.dtype} ${problem}`,
    );
  }

  unsupported(field: string, tensor: string, problem: string) {
    return this.error('UNSUPPORTED', field, tensor, problem);
  }
}

function intAttribute(node: Node, name: string): number | undefined {
  const a = node.attributes.get(name);
  return a?.kind === 'int' ? a.value : undefined;
}

/** block_size: a power of 2, at least 16 (both ops' specs). */
function checkBlockSize(blockSize: number | undefined, errors: NodeErrors, tensor: string): number {
  if (blockSize === undefined || blockSize < 16 || !Number.isInteger(Math.log2(blockSize)))
    throw errors.attribute('block_size', blockSize, 'must be a power of 2 and at least 16', tensor);
  return blockSize;
}

const sameShape = (t: TensorRef, ...shapes: number[][]) => shapes.some((s) => s.join(',') === t.shape.join(','));

/**
 * B [N, k_blocks, block_size·bits/8] uint8, column n of the weight packed along K (padding after K quantized
 * as anything); scales [N, k_blocks] or [N·k_blocks]; zero points packed uint8 [N, ⌈k_blocks·bits/8⌉] (each
 * column starting a byte), float [N, k_blocks] of the scales' type, or 2^(bits−1). Seen as [K, N] blocked
 * along axis 0. A bias [N] is the layer's bias; g_idx is read only when it is the identity grouping k ↦ ⌊k/block_size⌋.
 */
function matMulNBits(node: Node, inputs: Inputs, constant: Constant, errors: NodeErrors): BlockQuantizedWeight {
  const { weight: b, scales, zeroPoints } = inputs;
  const K = intAttribute(node, 'K');
  const N = intAttribute(node, 'N');
  if (K === undefined || K < 1) throw errors.attribute('K', K, 'must be at least 1', b.name);
  if (N === undefined || N < 1) throw errors.attribute('N', N, 'must be at least 1', b.name);
  const bits = intAttribute(node, 'bits') ?? 4;
  if (bits === 2) throw errors.unsupported('bits', b.name, 'has bits=2: weightlens reads 4- and 8-bit weights');
  if (bits !== 4 && bits !== 8) throw errors.attribute('bits', bits, 'must be 2, 4 or 8', b.name);
  const blockSize = checkBlockSize(intAttribute(node, 'block_size'), errors, b.name);
  if ((intAttribute(node, 'weight_prepacked') ?? 0) !== 0)
    throw errors.unsupported(
      'weight_prepacked',
      b.name,
      'holds B prepacked for one execution provider (weight_prepacked)',
    );

  const blocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  if (b.dataType !== DT.UINT8 || !sameShape(b, [N, blocks, blob]))
    throw errors.tensor('B', b, `must be uint8 [${N},${blocks},${blob}] (N, ⌈K/block_size⌉, block_size·bits/8)`);
  if (!isFloatingPoint(scales.dtype) || !sameShape(scales, [N, blocks], [N * blocks]))
    throw errors.tensor('scales', scales, `must be float [${N},${blocks}] (N, ⌈K/block_size⌉) or [${N * blocks}]`);
  const dataType = bits === 4 ? DT.UINT4 : DT.UINT8;
  const fileName = errors.fileName;
  const columns = (t: TensorRef, stride: number, packed: boolean) =>
    rowsView(
      t,
      packed ? dataType : t.dataType,
      { rows: N, stride, used: blocks, bits: packed ? bits : 0, transposed: true },
      fileName,
    );
  let zeroPoint: TensorRef;
  if (!zeroPoints) {
    zeroPoint = filledTensor(`${node.name}/zero_points`, b.graph, dataType, [blocks, N], 2 ** (bits - 1), fileName);
  } else if (zeroPoints.dataType === DT.UINT8) {
    const bytes = Math.ceil((blocks * bits) / 8);
    if (!sameShape(zeroPoints, [N, bytes], [N * bytes]))
      throw errors.tensor(
        'zero_points',
        zeroPoints,
        `packed as uint8 must be [${N},${bytes}] (N, ⌈k_blocks·bits/8⌉) or [${N * bytes}]`,
      );
    zeroPoint = columns(zeroPoints, (bytes * 8) / bits, true);
  } else {
    if (zeroPoints.dataType !== scales.dataType || !sameShape(zeroPoints, [N, blocks], [N * blocks]))
      throw errors.tensor(
        'zero_points',
        zeroPoints,
        `must be uint8, or ${scales.dtype} (the scales' type) [${N},${blocks}] or [${N * blocks}]`,
      );
    zeroPoint = columns(zeroPoints, blocks, false);
  }
  checkGroupIndex(node, constant, K, blockSize, errors);
  const bias = constant(node.inputs[5]);
  if (bias && (!isFloatingPoint(bias.dtype) || !sameShape(bias, [N])))
    throw errors.tensor('bias', bias, `must be float [${N}]`);
  const x = rowsView(b, dataType, { rows: N, stride: blocks * blockSize, used: K, bits, transposed: true }, fileName);
  const weight = quantizedWeight(
    {
      node,
      x,
      scale: columns(scales, blocks, false),
      zeroPoint,
      axis: 0,
      blockSize,
      names: { scale: 'scales', zeroPoint: 'zero_points' },
      floatZeroPoints: true,
    },
    fileName,
  );
  return bias ? { weight, bias } : { weight };
}

/** g_idx (deprecated) maps row k of B to a block: only k ↦ ⌊k/block_size⌋, the layout without it, is read. */
function checkGroupIndex(node: Node, constant: Constant, K: number, blockSize: number, errors: NodeErrors) {
  const name = node.inputs[4];
  if (!name) return;
  const gIdx = constant(name);
  const values = gIdx instanceof OnnxTensor ? gIdx.integersInFile() : undefined;
  const identity =
    values !== undefined && values.length >= K && values.every((g, k) => g === Math.floor(k / blockSize));
  if (!identity)
    throw errors.unsupported(
      'g_idx',
      name,
      `input g_idx "${name}" regroups the rows of B (act-order): weightlens reads MatMulNBits only with g_idx absent or k ↦ ⌊k/${blockSize}⌋, stored in the file`,
    );
}

/**
 * data [rows, width]: int4/uint4 (zero points of the same type, default 0), or uint8 holding 8/bits values per
 * byte along the last axis (quantize_axis must be last; zero points packed the same way per row, default
 * 2^(bits−1)); scales of data's shape with quantize_axis in blocks. An embedding when gathered along axis 0.
 */
function gatherBlockQuantized(node: Node, inputs: Inputs, errors: NodeErrors): BlockQuantizedWeight | undefined {
  const { weight: data, scales, zeroPoints } = inputs;
  const gatherAxis = intAttribute(node, 'gather_axis') ?? 0;
  if (data.shape.length !== 2 || (gatherAxis !== 0 && gatherAxis !== -2)) return undefined;
  const blockSize = checkBlockSize(intAttribute(node, 'block_size') ?? 128, errors, data.name);
  const quantizeAxis = intAttribute(node, 'quantize_axis') ?? 1;
  if (quantizeAxis < -2 || quantizeAxis > 1)
    throw errors.attribute('quantize_axis', quantizeAxis, `is out of range for "${data.name}" of rank 2`, data.name);
  const axis = quantizeAxis < 0 ? quantizeAxis + 2 : quantizeAxis;
  const bits = intAttribute(node, 'bits') ?? 4;
  const fileName = errors.fileName;
  let x = data;
  let zeroPoint = zeroPoints;
  if (data.dataType === DT.UINT8) {
    if (bits === 2) throw errors.unsupported('bits', data.name, 'has bits=2: weightlens reads 4- and 8-bit weights');
    if (bits !== 4 && bits !== 8) throw errors.attribute('bits', bits, 'must be 2, 4 or 8 for uint8 data', data.name);
    if (axis !== 1)
      throw errors.attribute('quantize_axis', quantizeAxis, 'must be the last axis for uint8 data', data.name);
    const perByte = 8 / bits;
    const [rows, bytes] = data.shape as [number, number];
    const width = bytes * perByte;
    const blocks = Math.ceil(width / blockSize);
    const unpacked = (t: TensorRef, used: number, stride: number) =>
      rowsView(
        t,
        bits === 4 ? DT.UINT4 : DT.UINT8,
        { rows, stride, used, bits: bits as 4 | 8, transposed: false },
        fileName,
      );
    if (bits === 4) x = unpacked(data, width, width);
    if (!zeroPoints) {
      zeroPoint = filledTensor(
        `${node.name}/zero_points`,
        data.graph,
        x.dataType,
        [rows, blocks],
        2 ** (bits - 1),
        fileName,
      );
    } else if (bits === 4) {
      const zpBytes = Math.ceil(blocks / 2);
      if (zeroPoints.dataType !== DT.UINT8 || !sameShape(zeroPoints, [rows, zpBytes]))
        throw errors.tensor('zero_points', zeroPoints, `must be uint8 [${rows},${zpBytes}] (two per byte)`);
      zeroPoint = unpacked(zeroPoints, blocks, zpBytes * 2);
    }
  } else if (data.dataType === DT.INT4 || data.dataType === DT.UINT4) {
    if (bits !== 4) throw errors.attribute('bits', bits, `must be 4 for ${data.dtype} data`, data.name);
  } else {
    throw new WeightlensError(
      'UNSUPPORTED_DTYPE',
      `${fileName}: ${node.opType} "${node.name}" input data "${data.name}" is ${data.dtype}: weightlens reads int4, uint4 and uint8 tables`,
      { file: fileName, tensor: data.name, field: 'data' },
    );
  }
  if (!isFloatingPoint(scales.dtype)) throw errors.tensor('scales', scales, 'must be float');
  const weight = quantizedWeight(
    { node, x, scale: scales, zeroPoint, axis, blockSize, names: { scale: 'scales', zeroPoint: 'zero_points' } },
    fileName,
  );
  return { weight };
}
