// INT4 per-group MatMul weights as onnxruntime's com.microsoft.MatMulNBits (its contrib-op spec): the
// MatMul becomes MatMulNBits(A, B, scales[, zero_points]) with K, N, bits 4 and block_size, B holding each
// column's 4-bit codes block by block, two per byte (the first in the low nibble), the last block padded.
// Codes are unsigned: a symmetric code c ∈ [−7, 7] is stored as c + 8 with the default zero point 8, so
// (q − zp)·scale dequantizes exactly as the DequantizeLinear form does.
import type { WeightLayer } from '../analysis/layers.js';
import type { GridQuantizer } from '../kernels/quantizer.js';
import { DT } from '../onnx/dtypes.js';
import { encodeRaw } from '../onnx/export/encode-values.js';
import type { NewEncodedInitializer, NewNode } from '../onnx/export/plan.js';
import type { Graph } from '../onnx/model.js';
import type { QuantScheme } from './scheme.js';

/** Why `layer` cannot be written as MatMulNBits with `scheme`; undefined when it can. */
export function nbitsProblem(layer: WeightLayer, scheme: QuantScheme, weightUses: number): string | undefined {
  if (layer.op !== 'MatMul' || layer.weight.shape.length !== 2) return 'MatMulNBits replaces a MatMul by a 2-D weight';
  if (scheme.bits !== 4 || scheme.granularity !== 'group') return 'MatMulNBits stores 4-bit per-group weights';
  const block = scheme.block!;
  if (block < 16 || !Number.isInteger(Math.log2(block)))
    return `MatMulNBits needs a block size that is a power of 2 of at least 16, not ${block}`;
  if (layer.node.inputs[1] !== layer.weight.name || weightUses !== 1)
    return 'its weight is read elsewhere too (or through another node), so the MatMul cannot take it packed';
  return undefined;
}

/** One unpacked code of row-major [K, N] 4-bit codes (packed two per byte, the first in the low nibble). */
const codeAt = (packed: Uint8Array, i: number) => (packed[i >> 1]! >> ((i & 1) * 4)) & 15;

/** The MatMulNBits node and its initializers in place of `layer`'s MatMul. */
export function matMulNBits(
  graph: Graph,
  layer: WeightLayer,
  scheme: QuantScheme,
  quantizer: GridQuantizer,
  codes: Uint8Array,
  fresh: (wanted: string) => string,
): { node: NewNode; initializers: NewEncodedInitializer[] } {
  const [K, N] = layer.weight.shape as [number, number];
  const block = scheme.block!;
  const blocks = Math.ceil(K / block);
  const blob = block / 2;
  // A signed code's two's-complement nibble, plus 8 mod 16, is its unsigned code for zero point 8: nibble ^ 8.
  const flip = scheme.symmetric ? 8 : 0;
  const b = new Uint8Array(N * blocks * blob);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const code = codeAt(codes, k * N + n) ^ flip;
      const at = (n * blocks + Math.floor(k / block)) * blob + ((k % block) >> 1);
      b[at]! |= code << ((k & 1) * 4);
    }
  // The grid's entries are [blocks, N] (DequantizeLinear's layout); MatMulNBits takes them per column.
  const scales = new Float32Array(N * blocks);
  const zpBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(N * zpBytes);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < blocks; j++) {
      scales[n * blocks + j] = quantizer.scales[j * N + n]!;
      zeroPoints[n * zpBytes + (j >> 1)]! |= (quantizer.zeroPoints[j * N + n]! & 15) << ((j & 1) * 4);
    }
  const w = layer.weight;
  const external = w.external !== undefined;
  const names = { b: fresh(`${w.name}_nbits`), scales: fresh(`${w.name}_scales`), zp: fresh(`${w.name}_zero_points`) };
  const initializers: NewEncodedInitializer[] = [
    { graph, name: names.b, dims: [N, blocks, blob], dataType: DT.UINT8, raw: b, external },
    {
      graph,
      name: names.scales,
      dims: [N * blocks],
      dataType: w.dataType,
      raw: encodeRaw(w.dataType, scales),
      external,
    },
  ];
  if (!scheme.symmetric)
    initializers.push({ graph, name: names.zp, dims: [N * zpBytes], dataType: DT.UINT8, raw: zeroPoints, external });
  const node: NewNode = {
    graph,
    name: layer.node.name,
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inputs: [layer.node.inputs[0]!, names.b, names.scales, ...(scheme.symmetric ? [] : [names.zp])],
    outputs: [...layer.node.outputs],
    intAttributes: { K, N, bits: 4, block_size: block },
  };
  return { node, initializers };
}
