/**
 * Weights stored quantized: `DequantizeLinear(x, x_scale, x_zero_point)` with constant inputs (QDQ models),
 * or the integer weight inputs of QLinearConv/QLinearMatMul (QOperator models), are, for analysis, float
 * weights. This exposes them as TensorRefs that compute (x - zp) * scale on read: per-tensor, per-axis, or
 * blocked (opset 21 `block_size`).
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import { DT, dtypeName, isFloatingPoint } from './dtypes.js';
import {
  resolveConstant,
  type DTypeName,
  type ExternalLocation,
  type Graph,
  type Node,
  type QuantizationParams,
  type TensorRef,
} from './model.js';
import { readNumbersInto } from './tensor.js';

/** Integer types a weight may be stored in. */
const QUANTIZED = new Set<number>([DT.INT8, DT.UINT8, DT.INT16, DT.UINT16, DT.INT32, DT.INT4, DT.UINT4]);

/** How scale (and zero point) indices map onto x, seen as [outer, axisLen, inner]. */
interface Layout {
  mode: 'tensor' | 'axis' | 'blocked';
  outer: number;
  axisLen: number;
  inner: number;
  /** Blocked only: elements per block along the axis, and blocks along the axis. */
  blockSize: number;
  blocks: number;
}

/** An integer weight and how to dequantize it, wherever in a node's inputs those tensors sit. */
export interface QuantizedInput {
  /** The node that reads the weight (named in messages). */
  node: Node;
  x: TensorRef;
  /** Absent for ConvInteger/MatMulInteger: values are then in integer units, (x - zp). */
  scale?: TensorRef;
  zeroPoint?: TensorRef;
  /** The axis a 1-D scale runs along (negative counts from the end). */
  axis: number;
  /** > 0: blocked along `axis`, the scale keeping x's other dimensions. */
  blockSize: number;
  /** What the op's spec calls the scale and zero-point inputs, for messages and error fields. */
  names: { scale: string; zeroPoint: string };
  /**
   * The op also takes float zero points (MatMulNBits): a value then reads as q·scale + (−scale·zp), each step
   * rounded to float32, as onnxruntime computes it.
   */
  floatZeroPoints?: boolean;
}

/**
 * A float view of a weight produced by DequantizeLinear from constants, or undefined when `producer` is not
 * such a node (its inputs are computed at run time). Bad scale/zero-point shapes throw BAD_TENSOR.
 */
export function dequantizedWeight(graph: Graph, producer: Node, fileName: string): TensorRef | undefined {
  if (producer.opType !== 'DequantizeLinear') return undefined;
  const [xName, scaleName, zpName] = producer.inputs;
  if (!xName || !scaleName) return undefined;
  const x = resolveConstant(graph, xName);
  const scale = resolveConstant(graph, scaleName);
  const zeroPoint = zpName ? resolveConstant(graph, zpName) : undefined;
  if (!x || !scale || (zpName && !zeroPoint)) return undefined;
  const attr = (key: string, fallback: number): number => {
    const a = producer.attributes.get(key);
    return a?.kind === 'int' ? a.value : fallback;
  };
  return quantizedWeight(
    {
      node: producer,
      x,
      scale,
      zeroPoint,
      axis: attr('axis', 1),
      blockSize: Math.max(attr('block_size', 0), 0),
      names: { scale: 'x_scale', zeroPoint: 'x_zero_point' },
    },
    fileName,
  );
}

/**
 * A TensorRef that reads `q.x` as (x - zero point) * scale: per-tensor when the scale (or, without one, the
 * zero point) holds one value, else per-axis or blocked. Bad shapes throw BAD_TENSOR naming the node.
 */
export function quantizedWeight(q: QuantizedInput, fileName: string): TensorRef {
  const { x, scale, zeroPoint: zp, node, names } = q;
  const bad = (field: string, message: string): never => {
    throw new WeightlensError('BAD_TENSOR', `${fileName}: ${node.opType} "${node.name}": ${message}`, {
      file: fileName,
      tensor: x.name,
      field,
    });
  };
  const rank = x.shape.length;
  const { blockSize } = q;
  // Without a scale the zero point alone says how the weight is split.
  const param = scale ?? zp;
  const paramName = scale ? names.scale : names.zeroPoint;
  let axis = q.axis;
  const perTensor = !param || (blockSize <= 0 && param.size === 1 && param.shape.length <= 1);
  if (!perTensor) {
    if (axis < -rank || axis >= rank) bad('axis', `axis ${q.axis} is out of range for "${x.name}" of rank ${rank}`);
    if (axis < 0) axis += rank;
  }
  const shapeText = (t: TensorRef) => `[${t.shape.join(',')}]`;
  let layout: Layout;
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const axisLen = x.shape[axis] ?? 1;
  if (perTensor) {
    layout = { mode: 'tensor', outer: 1, axisLen: 1, inner: 1, blockSize: 0, blocks: 0 };
  } else if (blockSize > 0) {
    const blocks = Math.ceil(axisLen / blockSize);
    const ok =
      param.shape.length === rank && param.shape.every((d, i) => (i === axis ? d === blocks : d === x.shape[i]));
    if (!ok) {
      bad(
        paramName,
        `blocked ${paramName} of "${x.name}" ${shapeText(x)} with block_size ${blockSize} on axis ${axis} must have shape [${x.shape.map((d, i) => (i === axis ? blocks : d)).join(',')}], got ${shapeText(param)}`,
      );
    }
    layout = { mode: 'blocked', outer, axisLen, inner, blockSize, blocks };
  } else {
    if (param.shape.length !== 1 || param.shape[0] !== axisLen) {
      bad(
        paramName,
        `${paramName} of "${x.name}" ${shapeText(x)} must be a scalar or have shape [${axisLen}] (axis ${axis}), got ${shapeText(param)}`,
      );
    }
    layout = { mode: 'axis', outer, axisLen, inner, blockSize: 0, blocks: 0 };
  }
  if (zp && scale && zp.shape.join(',') !== scale.shape.join(',')) {
    bad(
      names.zeroPoint,
      `${names.zeroPoint} ${shapeText(zp)} must have the shape of ${names.scale} ${shapeText(scale)}`,
    );
  }
  const floatZeroPoints = q.floatZeroPoints === true && zp !== undefined && isFloatingPoint(zp.dtype);
  if (zp && zp.dataType !== x.dataType && !floatZeroPoints)
    bad(names.zeroPoint, `${names.zeroPoint} is ${zp.dtype}, but "${x.name}" is ${x.dtype}`);
  const quantization: QuantizationParams = {
    ...(scale ? { scale } : {}),
    ...(zp ? { zeroPoint: zp } : {}),
    mode: layout.mode,
    axis: perTensor ? null : axis,
    blockSize: Math.max(blockSize, 0),
    codes: x,
  };
  const readScales = async (signal?: AbortSignal) => {
    const values = new Float32Array(param?.size ?? 1).fill(1);
    if (scale) await scale.readFloat32Into(values, signal);
    return values;
  };
  return new DequantizedTensor(x, readScales, zp, layout, fileName, node.opType, quantization, floatZeroPoints);
}

/**
 * QLinearConv's int32 bias B, stored with scale x_scale·w_scale (per output channel when w_scale is) and
 * zero point 0. x_scale must be a one-value constant; the caller checks that.
 */
export function dequantizedBias(
  bias: TensorRef,
  xScale: TensorRef,
  wScale: TensorRef,
  node: Node,
  fileName: string,
): TensorRef {
  const channels = wScale.size;
  if (bias.shape.length !== 1 || (channels > 1 && bias.shape[0] !== channels)) {
    throw new WeightlensError(
      'BAD_TENSOR',
      `${fileName}: ${node.opType} "${node.name}": bias "${bias.name}" [${bias.shape.join(',')}] must have one value per output channel${channels > 1 ? ` [${channels}]` : ''}`,
      {
        file: fileName,
        tensor: bias.name,
        field: 'B',
      },
    );
  }
  const perTensor = channels === 1;
  const layout: Layout = perTensor
    ? { mode: 'tensor', outer: 1, axisLen: 1, inner: 1, blockSize: 0, blocks: 0 }
    : { mode: 'axis', outer: 1, axisLen: channels, inner: 1, blockSize: 0, blocks: 0 };
  // The product in float32, as onnxruntime's quantizer computes the bias scale.
  const readScales = async (signal?: AbortSignal) => {
    const xs = new Float32Array(1);
    const ws = new Float32Array(channels);
    await xScale.readFloat32Into(xs, signal);
    await wScale.readFloat32Into(ws, signal);
    return ws.map((w) => Math.fround(w * xs[0]!));
  };
  return new DequantizedTensor(bias, readScales, undefined, layout, fileName, node.opType);
}

class DequantizedTensor implements TensorRef {
  readonly origin = 'dequantized' as const;
  readonly name: string;
  readonly graph: string;
  readonly dataType: number;
  readonly dtype: DTypeName;
  readonly shape: readonly number[];
  readonly size: number;
  readonly external?: ExternalLocation;
  readonly quantization?: QuantizationParams;

  constructor(
    private readonly x: TensorRef,
    private readonly readScales: (signal?: AbortSignal) => Promise<Float32Array>,
    private readonly zp: TensorRef | undefined,
    private readonly layout: Layout,
    private readonly fileName: string,
    /** The op that dequantizes (DequantizeLinear, QLinearConv…), for messages. */
    private readonly opType: string,
    quantization?: QuantizationParams,
    private readonly floatZeroPoints = false,
  ) {
    this.name = x.name;
    this.graph = x.graph;
    this.dataType = x.dataType;
    this.dtype = dtypeName(x.dataType);
    this.shape = x.shape;
    this.size = x.size;
    if (x.external) this.external = x.external;
    if (quantization) this.quantization = quantization;
  }

  async readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void> {
    const { x, zp, layout, fileName } = this;
    if (!QUANTIZED.has(x.dataType)) {
      throw new WeightlensError(
        'UNSUPPORTED_DTYPE',
        `${fileName}: ${this.opType} input "${x.name}" has data type ${x.dtype} (${x.dataType}), which weightlens cannot dequantize`,
        {
          file: fileName,
          tensor: x.name,
          field: 'data_type',
        },
      );
    }
    if (dest.length < x.size) {
      throw new WeightlensError(
        'USAGE',
        `${fileName}: tensor "${x.name}" has ${x.size} elements, the destination only ${dest.length}`,
        { file: fileName, tensor: x.name },
      );
    }
    // int32 values beyond 2^24 are not exact in float32, so those go through float64 first.
    const q = x.dataType === DT.INT32 ? new Float64Array(x.size) : dest;
    await readNumbersInto(x, q, signal);
    const scales = await this.readScales(signal);
    const zeros = new Float64Array(scales.length);
    if (zp) await readNumbersInto(zp, zeros, signal);
    throwIfAborted(signal, fileName);

    // (x - zp) is an exact integer and scale a float32, so the double product is exact and the one
    // rounding on store matches float32 arithmetic in onnxruntime. A float zero point is onnxruntime's
    // q·s + (−s·zp): each double product of two float32 values is exact, rounded once as float32 would.
    const value = this.floatZeroPoints
      ? (v: number, z: number, sc: number) => Math.fround(Math.fround(v * sc) + Math.fround(-sc * z))
      : (v: number, z: number, sc: number) => (v - z) * sc;
    const n = x.size;
    const { mode, outer, axisLen, inner, blockSize, blocks } = layout;
    if (mode === 'tensor') {
      const sc = scales[0]!;
      const z = zeros[0]!;
      for (let i = 0; i < n; i++) dest[i] = value(q[i]!, z, sc);
      return;
    }
    let i = 0;
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < axisLen; a++) {
        if (mode === 'axis') {
          const sc = scales[a]!;
          const z = zeros[a]!;
          for (let j = 0; j < inner; j++, i++) dest[i] = value(q[i]!, z, sc);
        } else {
          // blocked: the scale tensor keeps x's other dimensions, so each inner position has its own scale
          const base = (o * blocks + Math.floor(a / blockSize)) * inner;
          for (let j = 0; j < inner; j++, i++) dest[i] = value(q[i]!, zeros[base + j]!, scales[base + j]!);
        }
      }
    }
  }
}
