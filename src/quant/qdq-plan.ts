// The export plan of a weight-only QDQ model: each quantized weight becomes an integer initializer, its
// scale (and zero point), and a DequantizeLinear whose output takes the weight's own name, so every node
// that read the float weight now reads its dequantized value and no other node changes.
import type { WeightLayer } from '../analysis/layers.js';
import { WeightlensError } from '../errors.js';
import { DT, dtypeName } from '../onnx/dtypes.js';
import { encodeRaw } from '../onnx/export/encode-values.js';
import type { ExportPlan, NewEncodedInitializer, NewNode } from '../onnx/export/plan.js';
import { graphAt, newNames, nodeProducing } from '../onnx/lookup.js';
import { matMulNBits } from './matmul-nbits.js';
import type { Graph, Model, Node, TensorRef } from '../onnx/model.js';
import type { GridQuantizer } from '../kernels/quantizer.js';
import { packNibbles } from './nibbles.js';
import type { QuantScheme } from './scheme.js';
import type { DequantizeGrid } from './weight-grid.js';

/** A layer's weight, quantized, with where its scales sit. */
export interface WeightToStore {
  readonly layer: WeightLayer;
  readonly scheme: QuantScheme;
  readonly dq: DequantizeGrid;
  readonly quantizer: GridQuantizer;
  /** The codes as raw_data (QuantizedWeight.raw), or the Blob they were spilled to (external weights only). */
  readonly codes: Uint8Array | Blob;
  /** How it is stored: integer codes read through DequantizeLinear, or its MatMul as MatMulNBits. */
  readonly format: StorageFormat;
}

export type StorageFormat = 'DequantizeLinear' | 'MatMulNBits';

/** ONNX integer type of a scheme's codes: signed when symmetric (zero point 0), unsigned otherwise. */
export function codeType(scheme: QuantScheme): number {
  if (scheme.bits === 8) return scheme.symmetric ? DT.INT8 : DT.UINT8;
  return scheme.symmetric ? DT.INT4 : DT.UINT4;
}

/**
 * The default-domain opset DequantizeLinear needs for a scheme: 10, `axis` 13, a float16/bfloat16 output
 * (the weight's type) 19, 4-bit and `block_size` 21.
 */
export function opsetNeeded(scheme: QuantScheme, weightType: number): number {
  if (scheme.bits === 4 || scheme.granularity === 'group') return 21;
  if (weightType !== DT.FLOAT) return 19;
  return scheme.granularity === 'channel' ? 13 : 10;
}

/** Whether a stored weight can be replaced by a DequantizeLinear output: the reason it cannot, or undefined. */
export function storageProblem(layer: WeightLayer): string | undefined {
  const w = layer.weight;
  if (w.origin !== 'initializer' && w.origin !== 'constant') return `its weight is ${w.origin}, not stored as floats`;
  if (![DT.FLOAT, DT.FLOAT16, DT.BFLOAT16].includes(w.dataType as 1))
    return `its weight is ${dtypeName(w.dataType)}, not a float type DequantizeLinear writes`;
  if (layer.overridable) return 'its weight is also a graph input, which a runtime may replace';
  return undefined;
}

/** Each weight through a DequantizeLinear, or (format 'MatMulNBits') its MatMul replaced (matmul-nbits.ts). */
export function qdqPlan(
  model: Model,
  weights: readonly WeightToStore[],
  fresh: (wanted: string) => string = newNames(model),
): ExportPlan {
  const addEncodedInitializers: NewEncodedInitializer[] = [];
  const addNodes: NewNode[] = [];
  const removeInitializers: TensorRef[] = [];
  const removeNodes: Node[] = [];
  const replaceNodes: { node: Node; nodes: NewNode[] }[] = [];
  const removeStored = (graph: Graph, w: TensorRef) => {
    if (w.origin === 'initializer') return void removeInitializers.push(w);
    const constant = nodeProducing(graph, w.name);
    if (constant?.opType !== 'Constant')
      throw new WeightlensError('INTERNAL', `${model.fileName}: no Constant node produces "${w.name}"`);
    removeNodes.push(constant);
  };
  for (const { layer, scheme, dq, quantizer, codes, format } of weights) {
    const w = layer.weight;
    const graph = graphAt(model, w.graph);
    if (!graph) throw new Error(`no graph ${w.graph}`);
    if (format === 'MatMulNBits') {
      if (!(codes instanceof Uint8Array)) throw new Error(`${w.name}: MatMulNBits needs the codes in memory`);
      const packed = matMulNBits(graph, layer, scheme, quantizer, codes, fresh);
      addEncodedInitializers.push(...packed.initializers);
      replaceNodes.push({ node: layer.node, nodes: [packed.node] });
      removeStored(graph, w);
      continue;
    }
    const external = w.external !== undefined;
    const [q, scale, zp] = [fresh(`${w.name}_quantized`), fresh(`${w.name}_scale`), fresh(`${w.name}_zero_point`)];
    addEncodedInitializers.push({
      graph,
      name: q,
      dims: w.shape,
      dataType: codeType(scheme),
      raw: codes,
      external,
    });
    // DequantizeLinear's output takes its scale's type: the weight's own. Beside an external weight, its
    // scales go to the data file too (the per-group scales of a large weight are megabytes).
    const scales = encodeRaw(w.dataType, quantizer.scales);
    addEncodedInitializers.push({
      graph,
      name: scale,
      dims: dq.scaleDims,
      dataType: w.dataType,
      raw: scales,
      external,
    });
    // Zero points in the codes' own type (uint8, or uint4 two per byte); symmetric codes have none (0).
    const zpBytes = Uint8Array.from(quantizer.zeroPoints);
    const zeroPoints = !scheme.symmetric && (scheme.bits === 8 ? zpBytes : packNibbles(zpBytes));
    if (zeroPoints)
      addEncodedInitializers.push({
        graph,
        name: zp,
        dims: dq.scaleDims,
        dataType: codeType(scheme),
        raw: zeroPoints,
        external,
      });
    addNodes.push({
      graph,
      name: fresh(`${w.name}_DequantizeLinear`),
      opType: 'DequantizeLinear',
      inputs: zeroPoints ? [q, scale, zp] : [q, scale],
      outputs: [w.name],
      intAttributes: {
        ...(dq.axis !== undefined ? { axis: dq.axis } : {}),
        ...(dq.blockSize !== undefined ? { block_size: dq.blockSize } : {}),
      },
    });
    removeStored(graph, w);
  }
  return {
    tensors: [],
    removeNodes,
    renameOutputs: [],
    appendInputs: [],
    addInitializers: [],
    addEncodedInitializers,
    addNodes,
    removeInitializers,
    replaceNodes,
    ...(replaceNodes.length > 0 ? { opsets: { 'com.microsoft': 1 } } : {}),
  };
}
