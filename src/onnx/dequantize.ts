/**
 * Weights stored quantized (QDQ models): `DequantizeLinear(x, x_scale, x_zero_point)` with constant inputs
 * is, for analysis, a float weight. This exposes it as a TensorRef that computes (x - zp) * scale on read:
 * per-tensor, per-axis, or blocked (opset 21 `block_size`).
 */
import { WeightlensError, throwIfAborted } from '../errors.js';
import { DT, dtypeName } from './dtypes.js';
import { resolveConstant, type DTypeName, type ExternalLocation, type Graph, type Node, type QuantizationParams, type TensorRef } from './model.js';
import { readNumbersInto } from './tensor.js';

/** Integer types DequantizeLinear may take as weights. */
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
  const zp = zpName ? resolveConstant(graph, zpName) : undefined;
  if (!x || !scale || (zpName && !zp)) return undefined;

  const bad = (field: string, message: string): never => {
    throw new WeightlensError('BAD_TENSOR', `${fileName}: DequantizeLinear "${producer.name}": ${message}`, {
      file: fileName,
      tensor: x.name,
      field,
    });
  };
  const attr = (key: string, fallback: number): number => {
    const a = producer.attributes.get(key);
    return a?.kind === 'int' ? a.value : fallback;
  };
  const rank = x.shape.length;
  const blockSize = attr('block_size', 0);
  let axis = attr('axis', 1);
  const perTensor = blockSize <= 0 && scale.size === 1 && scale.shape.length <= 1;
  if (!perTensor) {
    if (axis < -rank || axis >= rank) bad('axis', `axis ${attr('axis', 1)} is out of range for "${x.name}" of rank ${rank}`);
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
    const ok = scale.shape.length === rank && scale.shape.every((d, i) => (i === axis ? d === blocks : d === x.shape[i]));
    if (!ok) {
      bad('x_scale', `blocked x_scale of "${x.name}" ${shapeText(x)} with block_size ${blockSize} on axis ${axis} must have shape [${x.shape.map((d, i) => (i === axis ? blocks : d)).join(',')}], got ${shapeText(scale)}`);
    }
    layout = { mode: 'blocked', outer, axisLen, inner, blockSize, blocks };
  } else {
    if (scale.shape.length !== 1 || scale.shape[0] !== axisLen) {
      bad('x_scale', `x_scale of "${x.name}" ${shapeText(x)} must be a scalar or have shape [${axisLen}] (axis ${axis}), got ${shapeText(scale)}`);
    }
    layout = { mode: 'axis', outer, axisLen, inner, blockSize: 0, blocks: 0 };
  }
  if (zp) {
    if (zp.shape.join(',') !== scale.shape.join(',')) bad('x_zero_point', `x_zero_point ${shapeText(zp)} must have the shape of x_scale ${shapeText(scale)}`);
    if (zp.dataType !== x.dataType) bad('x_zero_point', `x_zero_point is ${zp.dtype}, but "${x.name}" is ${x.dtype}`);
  }
  const quantization: QuantizationParams = {
    scale, ...(zp ? { zeroPoint: zp } : {}), mode: layout.mode, axis: perTensor ? null : axis, blockSize: Math.max(blockSize, 0),
  };
  return new DequantizedTensor(x, scale, zp, layout, fileName, quantization);
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

  constructor(
    private readonly x: TensorRef,
    private readonly scale: TensorRef,
    private readonly zp: TensorRef | undefined,
    private readonly layout: Layout,
    private readonly fileName: string,
    readonly quantization: QuantizationParams,
  ) {
    this.name = x.name;
    this.graph = x.graph;
    this.dataType = x.dataType;
    this.dtype = dtypeName(x.dataType);
    this.shape = x.shape;
    this.size = x.size;
    if (x.external) this.external = x.external;
  }

  async readFloat32Into(dest: Float32Array, signal?: AbortSignal): Promise<void> {
    const { x, scale, zp, layout, fileName } = this;
    if (!QUANTIZED.has(x.dataType)) {
      throw new WeightlensError('UNSUPPORTED_DTYPE', `${fileName}: DequantizeLinear input "${x.name}" has data type ${x.dtype} (${x.dataType}), which weightlens cannot dequantize`, {
        file: fileName,
        tensor: x.name,
        field: 'data_type',
      });
    }
    if (dest.length < x.size) {
      throw new WeightlensError('USAGE', `${fileName}: tensor "${x.name}" has ${x.size} elements, the destination only ${dest.length}`, { file: fileName, tensor: x.name });
    }
    // int32 values beyond 2^24 are not exact in float32, so those go through float64 first.
    const q = x.dataType === DT.INT32 ? new Float64Array(x.size) : dest;
    await readNumbersInto(x, q, signal);
    const scales = new Float32Array(scale.size);
    await scale.readFloat32Into(scales, signal);
    const zeros = new Float64Array(scale.size);
    if (zp) await readNumbersInto(zp, zeros, signal);
    throwIfAborted(signal, fileName);

    // (x - zp) is an exact integer and scale a float32, so the double product is exact and the one
    // rounding on store matches float32 arithmetic in onnxruntime.
    const n = x.size;
    const { mode, outer, axisLen, inner, blockSize, blocks } = layout;
    if (mode === 'tensor') {
      const sc = scales[0]!;
      const z = zeros[0]!;
      for (let i = 0; i < n; i++) dest[i] = (q[i]! - z) * sc;
      return;
    }
    let i = 0;
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < axisLen; a++) {
        if (mode === 'axis') {
          const sc = scales[a]!;
          const z = zeros[a]!;
          for (let j = 0; j < inner; j++, i++) dest[i] = (q[i]! - z) * sc;
        } else {
          // blocked: the scale tensor keeps x's other dimensions, so each inner position has its own scale
          const base = (o * blocks + Math.floor(a / blockSize)) * inner;
          for (let j = 0; j < inner; j++, i++) dest[i] = (q[i]! - zeros[base + j]!) * scales[base + j]!;
        }
      }
    }
  }
}
