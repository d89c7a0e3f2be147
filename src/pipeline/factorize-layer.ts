// One layer replaced by its rank-k factorization (docs/definitions.md, "Compressibility"): the weight's
// singular vectors (Wasm, kernels/svd-kernels.ts) split as A = (U·√Σ)(√Σ·Vᵀ) into two nodes written where the
// layer was — Weight SVD: a Conv with k filters then a 1×1 Conv (MatMul then MatMul/Gemm for a matrix weight);
// Spatial SVD: a 1×kw Conv then a kh×1 Conv. So a user can try the compression in their own pipeline.
import { intAttribute, intsAttribute } from '../onnx/attributes.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { WeightlensError } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { MAX_GRAM_SIDE, SvdKernels, spatialMatrix, type SingularVectors } from '../kernels/svd-kernels.js';
import { exportModel } from '../onnx/export/export.js';
import type { ExportPlan, NewInitializer, NewNode } from '../onnx/export/plan.js';
import { graphAt, newNames, nodeProducing, useCount } from '../onnx/lookup.js';
import type { Model, TensorRef } from '../onnx/model.js';
import { selectLayers } from './compute-stats.js';

export type FactorizationMethod = 'weight' | 'spatial';

export interface FactorizeOptions {
  /** The layer (node name, first output or weight name). */
  layer: string;
  rank: number;
  /** Default 'weight' (Weight SVD). */
  method?: FactorizationMethod;
  kernels?: Kernels;
  dataFileName?: string;
  relocateExternal?: boolean;
}

export interface FactorizeReport {
  file: string;
  layer: string;
  op: string;
  method: FactorizationMethod;
  rank: number;
  /** The largest rank there is: min(rows, cols) of the matrix factorized. */
  maxRank: number;
  /** The matrix factorized, [rows, cols]. */
  matrix: [number, number];
  parameters: { before: number; after: number };
  /** ‖W − W_k‖ / ‖W‖ of the rank kept (the singular values dropped). */
  error: number;
  /** The two nodes written in the layer's place. */
  nodes: [string, string];
}

export interface FactorizeOutcome {
  report: FactorizeReport;
  bytes: Uint8Array;
  dataFiles: ReturnType<typeof exportModel>['dataFiles'];
  dataLocations: string[];
}

/** Why `layer` cannot be factorized by `method`, or undefined. */
function factorizeProblem(model: Model, layer: WeightLayer, method: FactorizationMethod): string | undefined {
  const { node, weight } = layer;
  if (!['Conv', 'Gemm', 'MatMul'].includes(layer.op))
    return `${layer.op} layers are not factorized (Conv, Gemm and MatMul are)`;
  if (weight.origin !== 'initializer' && weight.origin !== 'constant') return `its weight is ${weight.origin}`;
  if (layer.overridable) return 'its weight is a graph input a runtime may replace';
  if (useCount(model, weight.name) > 1) return `its weight "${weight.name}" is shared with other nodes`;
  if (!['float32', 'float16', 'bfloat16'].includes(weight.dtype)) return `its weight is ${weight.dtype}`;
  if (layer.op === 'Conv') {
    if (layer.groups !== 1) return `it is a grouped Conv (${layer.groups} groups)`;
    const pad = node.attributes.get('auto_pad');
    if (pad?.kind === 'string' && pad.value !== 'NOTSET') return `its auto_pad is ${pad.value}; give explicit pads`;
    if (method === 'spatial' && weight.shape.length !== 4) return 'Spatial SVD needs a 2-D Conv';
    if (method === 'spatial' && weight.shape[2]! * weight.shape[3]! === 1)
      return 'its kernel is 1×1: Spatial SVD splits a larger one';
    return undefined;
  }
  if (method === 'spatial') return `Spatial SVD factorizes Conv layers, not ${layer.op}`;
  if (weight.shape.length !== 2) return `its weight has shape [${weight.shape.join(', ')}], not a matrix`;
  if (layer.op === 'Gemm') return intAttribute(node, 'transA', 0) !== 0 ? 'it is a Gemm with transA=1' : undefined;
  return node.inputs[1] === weight.name ? undefined : 'its weight is the MatMul’s first input';
}

/** Rows of `v` [s, n] (first `rank`) scaled by √σ: a [rank, n] factor. */
function scaledRows(v: Float64Array, n: number, sigma: Float64Array, rank: number): Float32Array {
  const out = new Float32Array(rank * n);
  for (let j = 0; j < rank; j++) {
    const s = Math.sqrt(sigma[j]!);
    for (let i = 0; i < n; i++) out[j * n + i] = v[j * n + i]! * s;
  }
  return out;
}

/** [a, b] → [b, a]. */
function transposed(m: Float32Array, a: number, b: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = m[i * b + j]!;
  return out;
}

export async function factorizeLayer(model: Model, options: FactorizeOptions): Promise<FactorizeOutcome> {
  const method = options.method ?? 'weight';
  const layer = selectLayers(model, findWeightLayers(model), options.layer)[0]!;
  const bad = (why: string) =>
    new WeightlensError('USAGE', `${model.fileName}: layer "${layer.name}" cannot be factorized: ${why}`, {
      file: model.fileName,
      tensor: layer.weight.name,
    });
  const problem = factorizeProblem(model, layer, method);
  if (problem) throw bad(problem);
  const w: TensorRef = layer.weight;
  const shape = w.shape;
  const [rows, cols] =
    method === 'spatial' ? [shape[0]! * shape[2]!, shape[1]! * shape[3]!] : [shape[0]!, w.size / shape[0]!];
  const maxRank = Math.min(rows, cols);
  if (!(Number.isInteger(options.rank) && options.rank >= 1 && options.rank <= maxRank))
    throw bad(`the rank must be an integer from 1 to ${maxRank} (the [${rows}, ${cols}] matrix's smaller side)`);
  if (maxRank > MAX_GRAM_SIDE)
    throw bad(`its [${rows}, ${cols}] matrix is beyond ${MAX_GRAM_SIDE} on its smaller side`);
  const values = new Float32Array(w.size);
  await w.readFloat32Into(values);
  if (!values.every(Number.isFinite)) throw bad('its weight holds NaN or ±Inf');
  const kernels = options.kernels ?? (await Kernels.load());
  const svd = await SvdKernels.load(kernels);
  const vectors: SingularVectors = await kernels.exclusive(async () => {
    const staged = await kernels.stage(
      w.size,
      (dest) =>
        method === 'spatial'
          ? spatialMatrix(values, shape as [number, number, number, number], dest)
          : dest.set(values),
      { file: model.fileName, tensor: w.name },
    );
    return svd.singularVectors(staged, rows, cols);
  });
  const k = options.rank;
  const sigma = vectors.values;
  // A ≈ F2·F1: F1 = √Σ_k·V_kᵀ [k, cols], F2 = U_k·√Σ_k [rows, k].
  const f1 = scaledRows(vectors.right, cols, sigma, k);
  const f2 = transposed(scaledRows(vectors.left, rows, sigma, k), k, rows);
  let total = 0;
  let kept = 0;
  sigma.forEach((s, j) => {
    total += s * s;
    if (j < k) kept += s * s;
  });

  const graph = graphAt(model, layer.graph)!;
  const fresh = newNames(model);
  const node = layer.node;
  const [first, second] = [fresh(`${layer.name}/factor_1`), fresh(`${layer.name}/factor_2`)];
  const middle = fresh(`${layer.name}/factor_1_output`);
  const [w1, w2] = [fresh(`${w.name}_factor_1`), fresh(`${w.name}_factor_2`)];
  const init = (name: string, dims: number[], data: Float32Array): NewInitializer => ({
    graph,
    name,
    dims,
    dataType: w.dataType,
    values: data,
  });
  const x = node.inputs[0]!;
  const rest = node.inputs.slice(2).filter(Boolean);
  let nodes: [NewNode, NewNode];
  let initializers: NewInitializer[];
  if (layer.op === 'Conv' && method === 'weight') {
    initializers = [init(w1, [k, ...shape.slice(1)], f1), init(w2, [shape[0]!, k, ...shape.slice(2).map(() => 1)], f2)];
    nodes = [
      {
        graph,
        name: first,
        opType: 'Conv',
        inputs: [x, w1],
        outputs: [middle],
        copyAttributes: { from: node, names: ['kernel_shape', 'strides', 'pads', 'dilations'] },
      },
      { graph, name: second, opType: 'Conv', inputs: [middle, w2, ...rest], outputs: [...node.outputs] },
    ];
  } else if (layer.op === 'Conv') {
    const [cout, cin, kh, kw] = shape as [number, number, number, number];
    const [sh, sw] = intsAttribute(node, 'strides', [1, 1]);
    const [dh, dw] = intsAttribute(node, 'dilations', [1, 1]);
    const [pt, pl, pb, pr] = intsAttribute(node, 'pads', [0, 0, 0, 0]);
    // F1 [k, cin·kw] is W1 [k, cin, 1, kw]; F2 [cout·kh, k] becomes W2 [cout, k, kh, 1].
    const second2 = new Float32Array(cout * k * kh);
    for (let o = 0; o < cout; o++)
      for (let j = 0; j < k; j++)
        for (let y = 0; y < kh; y++) second2[(o * k + j) * kh + y] = f2[(o * kh + y) * k + j]!;
    initializers = [init(w1, [k, cin, 1, kw], f1), init(w2, [cout, k, kh, 1], second2)];
    nodes = [
      {
        graph,
        name: first,
        opType: 'Conv',
        inputs: [x, w1],
        outputs: [middle],
        intAttributes: { kernel_shape: [1, kw], strides: [1, sw!], pads: [0, pl!, 0, pr!], dilations: [1, dw!] },
      },
      {
        graph,
        name: second,
        opType: 'Conv',
        inputs: [middle, w2, ...rest],
        outputs: [...node.outputs],
        intAttributes: { kernel_shape: [kh, 1], strides: [sh!, 1], pads: [pt!, 0, pb!, 0], dilations: [dh!, 1] },
      },
    ];
  } else {
    // The matrix as stored: Gemm transB=1 [N, K] = F2·F1, so x·Wᵀ = (x·F1ᵀ)·F2ᵀ; else [K, N], x·W = (x·F2)·F1.
    const transB = layer.op === 'Gemm' && intAttribute(node, 'transB', 0) !== 0;
    const [left, right] = transB ? [transposed(f1, k, cols), f2] : [f2, f1];
    const [leftDims, rightDims] = transB
      ? [
          [cols, k],
          [rows, k],
        ]
      : [
          [rows, k],
          [k, cols],
        ];
    initializers = [init(w1, leftDims, left), init(w2, rightDims, right)];
    nodes = [
      { graph, name: first, opType: 'MatMul', inputs: [x, w1], outputs: [middle] },
      layer.op === 'Gemm'
        ? {
            graph,
            name: second,
            opType: 'Gemm',
            inputs: [middle, w2, ...rest],
            outputs: [...node.outputs],
            copyAttributes: { from: node, names: ['alpha', 'beta', 'transB'] },
          }
        : { graph, name: second, opType: 'MatMul', inputs: [middle, w2], outputs: [...node.outputs] },
    ];
  }
  const constant = w.origin === 'constant' ? nodeProducing(graph, w.name) : undefined;
  const plan: ExportPlan = {
    tensors: [],
    removeNodes: constant ? [constant] : [],
    renameOutputs: [],
    appendInputs: [],
    addInitializers: initializers,
    removeInitializers: w.origin === 'initializer' ? [w] : [],
    replaceNodes: [{ node, nodes }],
  };
  const exported = exportModel(model, plan, {
    ...(options.dataFileName ? { dataFileName: options.dataFileName } : {}),
    ...(options.relocateExternal ? { relocateExternal: true } : {}),
  });
  return {
    report: {
      file: model.fileName,
      layer: layer.name,
      op: layer.op,
      method,
      rank: k,
      maxRank,
      matrix: [rows, cols],
      parameters: { before: w.size, after: f1.length + f2.length },
      error: total > 0 ? Math.sqrt(Math.max(0, total - kept) / total) : 0,
      nodes: [first, second],
    },
    bytes: exported.bytes,
    dataFiles: exported.dataFiles,
    dataLocations: [...exported.keptLocations, ...exported.dataFiles.keys()],
  };
}
