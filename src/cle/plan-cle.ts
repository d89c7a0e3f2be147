// Cross Layer Equalization as a plan of edits: fold BatchNorms, equalize every chain, absorb high
// biases, and describe the result as an ExportPlan (src/onnx/export/) plus what was done and skipped.
import { namingTensor, throwIfAborted, WeightlensError } from '../errors.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { absorbableAcross, zeroPaddedAverage } from '../analysis/cle-crossing.js';
import { findBatchNormFolds, findCleChains, readClipBounds, type BnFold, type Skip } from '../analysis/cle-sets.js';
import type { Kernels } from '../kernels/kernels.js';
import { CleKernels } from '../kernels/cle-kernels.js';
import { graphAt, isNameTaken, nodeProducing, useCount } from '../onnx/lookup.js';
import type { Model, Node, TensorRef } from '../onnx/model.js';
import type { ExportPlan, NewInitializer, NodeRewrite, TensorEdit } from '../onnx/export/plan.js';
import { absMaxMatrix, connectivity, outputAbsMax, scaleWeights, weightedShift, type Connectivity } from './weights.js';
import { chainSets, equalizeChain, type LayerMatrix } from './equalize-chain.js';
import { chainScaleProblem, countNonFinite, firstBeyondFloat32, foldFactors } from './float32-bounds.js';

export interface PlanCleOptions {
  /** High-bias absorption across a Relu after a folded BatchNorm (default true). */
  biasAbsorption?: boolean;
  /** Treat Clip(0, 6) as Relu (changes the float model; the Clips come back in clipRewrites). */
  relu6ToRelu?: boolean;
  /** The realm's kernels (their exclusive() guard is shared with the statistics kernels). */
  kernels?: Kernels;
  signal?: AbortSignal;
  /** Layers whose weights have been read and rewritten so far (of `total`: every layer CLE touches). */
  onProgress?: (p: { done: number; total: number; phase: 'fold' | 'equalize' }) => void;
}

export interface CleResult {
  plan: ExportPlan;
  folded: { batchNorm: string; into: string }[];
  sets: { kind: 'pair' | 'triplet'; layers: string[]; between: string[] }[];
  chains: { layers: string[]; sweeps: number; maxScaleDeviation: number }[];
  skipped: Skip[];
  biasAbsorbed: { from: string; to: string; channels: number }[];
  clipRewrites: Node[];
  /** The tensors written for each layer CLE changed (a new bias included): which layer an export figure is about. */
  rewritten: RewrittenLayer[];
}

export interface RewrittenLayer {
  layer: string;
  /** Each tensor by the path of the graph holding it, and its name. */
  weight: TensorKey;
  bias?: TensorKey;
}

export interface TensorKey {
  graph: string;
  name: string;
}

/** A layer's weights and bias as float32 copies while they are being rewritten. */
interface Working {
  layer: WeightLayer;
  conn: Connectivity;
  weight: Float32Array;
  bias: Float32Array;
  /** Where the bias is stored: its own input, or a MatMul's Add. */
  biasTensor?: TensorRef;
  /** No bias yet: Conv, ConvTranspose and Gemm gain one (a new initializer and input); MatMul cannot. */
  newBias: boolean;
  touched: boolean;
  /** Why the stored weight or bias must stay as it is (it already holds NaN or ±Inf), or undefined. */
  nonFinite?: string;
}

async function read(t: TensorRef, signal: AbortSignal | undefined): Promise<Float32Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/** Names for new values: unused in the model and distinct from each other (two layers may share a name). */
function newNames(model: Model): (wanted: string) => string {
  const chosen = new Set<string>();
  return (wanted) => {
    let name = wanted;
    for (let i = 2; chosen.has(name) || isNameTaken(model, name); i++) name = `${wanted}_${i}`;
    chosen.add(name);
    return name;
  };
}

/**
 * Equalization works on each layer's dense [Cout × Cin] matrix of kernel maxima. A grouped layer's matrix
 * can be far larger than its weights (depthwise: C² for C·k² weights); beyond this (4096 depthwise channels)
 * and beyond the weights themselves, a small file could ask for gigabytes: the chain is skipped instead.
 */
const MAX_DENSE_RANGES = 2 ** 24;

export async function planCle(model: Model, options: PlanCleOptions = {}): Promise<CleResult> {
  const { signal } = options;
  const biasAbsorption = options.biasAbsorption ?? true;
  const kernels = await CleKernels.load(options.kernels);
  // A kernel step on one layer's weight: its typed errors come back naming the file and the tensor.
  const onWeight = <T>(w: Working, step: () => Promise<T>) => namingTensor(model.fileName, w.layer.weight.name, step);
  const layers = findWeightLayers(model);
  // QDQ (DequantizeLinear) and QOperator (QLinearConv…) weights alike: scaling integers would not round-trip.
  const quantized = layers.filter((l) => l.weight.origin === 'dequantized');
  if (quantized.length > 0) {
    const [first] = quantized as [WeightLayer];
    throw new WeightlensError(
      'USAGE',
      `${model.fileName}: ${quantized.length} ${quantized.length === 1 ? 'layer has' : 'layers have'} quantized weights ` +
        `(e.g. ${first.op} "${first.name}" reads ${first.weight.dtype} "${first.weight.name}"); apply CLE to the float model before quantization`,
      { file: model.fileName, tensor: first.weight.name },
    );
  }
  const { folds: foldable, skipped: foldSkips } = findBatchNormFolds(model, layers);
  const scalars = await readClipBounds(model, signal);
  const chainOptions = { relu6ToRelu: options.relu6ToRelu ?? false };
  const candidates = findCleChains(model, layers, foldable, scalars, chainOptions);
  const absorptionSkips: Skip[] = [];
  const numericSkips: Skip[] = [];

  const working = new Map<WeightLayer, Working>();
  let total = new Set([...foldable.map((f) => f.layer), ...candidates.chains.flatMap((c) => c.layers)]).size;
  let phase: 'fold' | 'equalize' = 'fold';
  const work = async (layer: WeightLayer): Promise<Working> => {
    let w = working.get(layer);
    if (!w) {
      throwIfAborted(signal, model.fileName);
      const conn = connectivity(layer);
      const weight = await read(layer.weight, signal);
      const biasTensor = layer.bias ?? candidates.linearBiases.get(layer)?.bias;
      const bias = biasTensor ? await read(biasTensor, signal) : new Float32Array(conn.cout);
      const newBias = !biasTensor && layer.op !== 'MatMul';
      const nonFinite = storedNonFinite(layer, weight, biasTensor, bias);
      w = {
        layer,
        conn,
        weight,
        bias,
        ...(biasTensor ? { biasTensor } : {}),
        newBias,
        touched: false,
        ...(nonFinite ? { nonFinite } : {}),
      };
      working.set(layer, w);
      options.onProgress?.({ done: working.size, total, phase });
    }
    return w;
  };

  // 1. BatchNorm folding: W' = W·γ/σ per output channel, b' = β + (b − μ)·γ/σ, σ = sqrt(var + ε). A fold
  // whose values would not be finite float32 is skipped, and the chains are found again without it.
  const bnStats = new Map<WeightLayer, { beta: Float32Array; gamma: Float32Array }>();
  const folds: BnFold[] = [];
  for (const fold of foldable) {
    throwIfAborted(signal, model.fileName);
    const w = await work(fold.layer);
    const [gamma, beta, mean, variance] = await Promise.all(
      [fold.gamma, fold.beta, fold.mean, fold.variance].map((t) => read(t, signal)),
    );
    const parameters = { gamma: gamma!, beta: beta!, mean: mean!, variance: variance!, epsilon: fold.epsilon };
    const fit = w.nonFinite
      ? { reason: w.nonFinite }
      : foldFactors(parameters, await onWeight(w, () => outputAbsMax(kernels, w.weight, w.conn)), w.bias);
    if ('reason' in fit) {
      numericSkips.push({
        layers: [fold.layer.name, fold.bn.name],
        reason: `${fold.bn.name} not folded: ${fit.reason}`,
      });
      continue;
    }
    const factors = fit.factors.map((f) => 1 / f);
    await onWeight(w, () => scaleWeights(kernels, w.weight, w.conn, factors, new Float64Array(w.conn.cin).fill(1)));
    w.bias.set(fit.bias);
    w.touched = true;
    folds.push(fold);
    bnStats.set(fold.layer, { beta: beta!, gamma: gamma! });
  }
  const {
    chains,
    skipped: chainSkips,
    clipRewrites,
  } = folds.length === foldable.length ? candidates : findCleChains(model, layers, folds, scalars, chainOptions);
  total = new Set([...working.keys(), ...chains.flatMap((c) => c.layers)]).size;

  // 2. Equalization, chain by chain, on the absmax matrices; full weights touched once per layer.
  const sets: CleResult['sets'] = [];
  const chainReports: CleResult['chains'] = [];
  const biasAbsorbed: CleResult['biasAbsorbed'] = [];
  phase = 'equalize';
  for (const chain of chains) {
    throwIfAborted(signal, model.fileName);
    const ws = await Promise.all(chain.layers.map(work));
    const names = chain.layers.map((l) => l.name);
    const notEqualized = (reason: string) =>
      numericSkips.push({ layers: names, reason: `${names.join(' → ')} not equalized: ${reason}` });
    const stored = ws.find((w) => w.nonFinite);
    if (stored) {
      notEqualized(stored.nonFinite!);
      continue;
    }
    const oversized = ws.find((w) => w.conn.cout * w.conn.cin > Math.max(w.weight.length, MAX_DENSE_RANGES));
    if (oversized) {
      const { cout, cin } = oversized.conn;
      notEqualized(
        `${oversized.layer.name}'s [${cout} × ${cin}] range matrix would be larger than its ${oversized.weight.length} weights and ${MAX_DENSE_RANGES} entries`,
      );
      continue;
    }
    const matrices: LayerMatrix[] = [];
    for (const w of ws)
      matrices.push({
        m: await onWeight(w, () => absMaxMatrix(kernels, w.weight, w.conn)),
        cout: w.conn.cout,
        cin: w.conn.cin,
        depthwise: w.layer.depthwise,
      });
    const { scales, sweeps, maxScaleDeviation } = equalizeChain(matrices);
    const overflow = chainScaleProblem(
      ws.map((w, k) => ({ name: w.layer.name, matrix: matrices[k]!, bias: w.bias })),
      scales,
    );
    if (overflow) {
      notEqualized(overflow);
      continue;
    }
    for (const [k, w] of ws.entries()) {
      const out = scales[k] ?? new Float64Array(w.conn.cout).fill(1);
      const inn = scales[k - 1] ?? new Float64Array(w.conn.cin).fill(1);
      await onWeight(w, () => scaleWeights(kernels, w.weight, w.conn, out, inn));
      for (let o = 0; o < w.conn.cout; o++) w.bias[o] = w.bias[o]! / out[o]!;
      w.touched = true;
    }
    chainReports.push({ layers: chain.layers.map((l) => l.name), sweeps, maxScaleDeviation });
    for (const set of chainSets(matrices)) {
      const span = set.kind === 'triplet' ? 2 : 1;
      sets.push({
        kind: set.kind,
        layers: chain.layers.slice(set.first, set.first + span + 1).map((l) => l.name),
        between: chain.between
          .slice(set.first, set.first + span)
          .flat()
          .map((n) => n.opType),
      });
    }

    // 3. High-bias absorption after a folded BN, across one Relu (and ops that keep a constant shift):
    // c = max(0, β/s − 3|γ/s|).
    if (!biasAbsorption) continue;
    for (let k = 0; k + 1 < ws.length; k++) {
      const stats = bnStats.get(chain.layers[k]!);
      const ops = chain.between[k]!;
      if (!stats || !absorbableAcross(ops)) continue;
      const s = scales[k]!;
      const c = Float64Array.from({ length: ws[k]!.conn.cout }, (_, i) =>
        Math.max(0, stats.beta[i]! / s[i]! - 3 * Math.abs(stats.gamma[i]! / s[i]!)),
      );
      const absorbed = c.filter((v) => v > 0).length;
      if (absorbed === 0) continue;
      const [from, to] = [ws[k]!, ws[k + 1]!];
      const why = absorptionRefused(ops, to);
      if (why) {
        const reason = `high-bias absorption from ${from.layer.name} into ${to.layer.name} not applied: ${why}`;
        absorptionSkips.push({ layers: [from.layer.name, to.layer.name], reason });
        continue;
      }
      const shift = await onWeight(to, () => weightedShift(kernels, to.weight, to.conn, c));
      const fromBias = Float64Array.from(from.bias, (b, i) => b - c[i]!);
      const toBias = Float64Array.from(to.bias, (b, o) => b + shift[o]!);
      if (firstBeyondFloat32(fromBias) >= 0 || firstBeyondFloat32(toBias) >= 0) {
        const reason = `high-bias absorption from ${from.layer.name} into ${to.layer.name} not applied: the biases would leave float32`;
        absorptionSkips.push({ layers: [from.layer.name, to.layer.name], reason });
        continue;
      }
      from.bias.set(fromBias);
      to.bias.set(toBias);
      biasAbsorbed.push({ from: from.layer.name, to: to.layer.name, channels: absorbed });
    }
  }

  const touched = [...working.values()].filter((w) => w.touched);
  for (const w of touched) refuseNonFinite(model, w);
  const plan = buildPlan(model, touched, folds, clipRewrites);
  const newBiases = new Map(plan.appendInputs.map((a) => [a.node, a.name]));
  return {
    plan,
    folded: folds.map((f) => ({ batchNorm: f.bn.name, into: f.layer.name })),
    sets,
    chains: chainReports,
    skipped: [...foldSkips, ...numericSkips, ...chainSkips, ...absorptionSkips],
    biasAbsorbed,
    clipRewrites,
    rewritten: touched.map((w) => {
      const added = newBiases.get(w.layer.node);
      const bias = w.biasTensor
        ? { graph: w.biasTensor.graph, name: w.biasTensor.name }
        : added
          ? { graph: w.layer.graph, name: added }
          : undefined;
      return {
        layer: w.layer.name,
        weight: { graph: w.layer.weight.graph, name: w.layer.weight.name },
        ...(bias ? { bias } : {}),
      };
    }),
  };
}

/** Why a layer's stored weight or bias may not be rewritten because it already holds NaN or ±Inf, or undefined. */
function storedNonFinite(
  layer: WeightLayer,
  weight: Float32Array,
  biasTensor: TensorRef | undefined,
  bias: Float32Array,
): string | undefined {
  const [inWeight, inBias] = [countNonFinite(weight), countNonFinite(bias)];
  if (inWeight > 0)
    return `${layer.name}'s weight "${layer.weight.name}" already holds ${inWeight} NaN/±Inf values: left as it is`;
  if (inBias > 0)
    return `${layer.name}'s bias "${biasTensor!.name}" already holds ${inBias} NaN/±Inf values: left as it is`;
  return undefined;
}

/**
 * The last guard before anything is written: CLE only touches layers whose weight and bias were finite and
 * checks every factor first, so a NaN or ±Inf here is a bug of ours; the model must not be written with it.
 */
function refuseNonFinite(model: Model, w: Working): void {
  for (const [values, name] of [
    [w.weight, w.layer.weight.name],
    [w.bias, w.biasTensor?.name ?? `${w.layer.name}'s new bias`],
  ] as const) {
    const count = countNonFinite(values);
    if (count > 0) {
      throw new WeightlensError(
        'INTERNAL',
        `${model.fileName}: CLE computed ${count} NaN/±Inf values for "${name}" from finite inputs; nothing was written`,
        {
          file: model.fileName,
          tensor: name,
        },
      );
    }
  }
}

/** Why absorption into `to` across `ops` would not be exact or has nowhere to go, or undefined. */
function absorptionRefused(ops: readonly Node[], to: Working): string | undefined {
  const padded = zeroPaddedAverage(ops);
  if (padded)
    return `AveragePool ${padded.name} averages zero padding in (count_include_pad=1), so a shift does not pass it evenly`;
  if (!to.biasTensor && !to.newBias)
    return `${to.layer.op} ${to.layer.name} has no bias (no Add of a constant after it) to take the shift`;
  return undefined;
}

function buildPlan(model: Model, touched: Working[], folds: BnFold[], clipRewrites: Node[]): ExportPlan {
  const tensors: TensorEdit[] = [];
  const addInitializers: NewInitializer[] = [];
  const appendInputs: { node: Node; name: string }[] = [];
  const newName = newNames(model);
  for (const w of touched) {
    tensors.push({ tensor: w.layer.weight, values: w.weight });
    if (w.biasTensor) tensors.push({ tensor: w.biasTensor, values: w.bias });
    else if (w.newBias) {
      const graph = graphAt(model, w.layer.graph)!;
      const name = newName(`${w.layer.name || w.layer.weight.name}.bias_folded`);
      addInitializers.push({ graph, name, dims: [w.conn.cout], dataType: w.layer.weight.dataType, values: w.bias });
      appendInputs.push({ node: w.layer.node, name });
    }
  }
  const removeNodes: Node[] = [];
  const removeInitializers: TensorRef[] = [];
  for (const fold of folds) {
    removeNodes.push(fold.bn);
    // The BN's parameters go too when nothing else reads them (PaddleOCR keeps them in Constant nodes).
    const graph = graphAt(model, fold.bn.graph)!;
    for (const t of [fold.gamma, fold.beta, fold.mean, fold.variance]) {
      // Read by this BN only (a graph output counts as a read).
      if (useCount(model, t.name) !== 1) continue;
      if (t.origin === 'initializer' && t.graph === graph.path && !graph.inputs.includes(t.name))
        removeInitializers.push(t);
      if (t.origin === 'constant') {
        const producer = nodeProducing(graph, t.name);
        if (producer?.opType === 'Constant') removeNodes.push(producer);
      }
    }
  }
  const rewriteNodes: NodeRewrite[] = clipRewrites.map((clip) => ({
    node: clip,
    opType: 'Relu',
    inputs: [clip.inputs[0]!],
    removeAttributes: ['min', 'max'],
  }));
  return {
    tensors,
    removeNodes,
    renameOutputs: folds.map((f) => ({ node: f.layer.node, index: 0, name: f.bn.outputs[0]! })),
    appendInputs,
    addInitializers,
    rewriteNodes,
    removeInitializers,
  };
}
