// Cross Layer Equalization as a plan of edits: fold BatchNorms, equalize every chain, absorb high
// biases, and describe the result as an ExportPlan (src/onnx/export/) plus what was done and skipped.
// Memory stays flat in the model's size: between passes a layer is known by small per-channel vectors
// (its bias, fold and equalization factors); its weight is read block by block (rows.ts) for each pass and
// written once, when final: kept in memory, or given to a Spill when the export will store it externally.
import { namingTensor, throwIfAborted, WeightlensError } from '../errors.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { absorbableAcross, zeroPaddedAverage } from '../analysis/cle-crossing.js';
import { findBatchNormFolds, findCleChains, readScalarInputs, type BnFold, type Skip } from '../analysis/cle-sets.js';
import type { Kernels } from '../kernels/kernels.js';
import { CleKernels } from '../kernels/cle-kernels.js';
import { graphAt, newNames, nodeProducing, useCount } from '../onnx/lookup.js';
import type { Model, Node, TensorRef } from '../onnx/model.js';
import type { ExportPlan, NewInitializer, NodeRewrite, StoredValues, TensorEdit } from '../onnx/export/plan.js';
import type { Spill } from '../onnx/export/data-file.js';
import { addRoundingSums, encodeRaw, roundingChangeOf } from '../onnx/export/encode-values.js';
import { byteLengthOf } from '../onnx/dtypes.js';
import { CHUNK_ELEMENTS } from '../kernels/tensor-chunks.js';
import {
  addRanges,
  addShift,
  connectivity,
  layerFactors,
  scaleRows,
  type Connectivity,
  type LayerFactors,
  type RunRanges,
} from './weights.js';
import { weightRows, type WeightRows } from './rows.js';
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
  /**
   * Weight elements read so far, over every pass, of `total` (an estimate from the layers CLE will touch,
   * revised as chains are found or split; `done` never passes it), after each block read.
   */
  onProgress?: (p: { done: number; total: number; phase: 'fold' | 'equalize' }) => void;
  /**
   * Where each rewritten weight of SPILL_MIN_BYTES or more that the export stores externally goes as soon
   * as it is final; without it, every new weight stays in memory until exported.
   */
  spill?: Spill;
  /** The most weight elements read at once (default CHUNK_ELEMENTS). */
  chunkElements?: number;
  /** The most range-matrix entries a piece of a chain holds at once (default MAX_CHAIN_RANGES). */
  chainRanges?: number;
}

/** Smaller rewritten weights stay in memory: a spill per tiny layer would cost more than it frees. */
export const SPILL_MIN_BYTES = 1024 * 1024;

export interface CleResult {
  plan: ExportPlan;
  folded: { batchNorm: string; into: string }[];
  sets: { kind: 'pair' | 'triplet'; layers: string[]; between: string[] }[];
  chains: { layers: string[]; sweeps: number; maxScaleDeviation: number; pieces?: number }[];
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

/** What CLE holds of a layer between passes over its weight: per-channel vectors, never the weight. */
interface LayerState {
  layer: WeightLayer;
  conn: Connectivity;
  /** The bias as rewritten so far (float32, one per output). */
  bias: Float32Array;
  /** Where the bias is stored: its own input, or a MatMul's Add. */
  biasTensor?: TensorRef;
  /** No bias yet: Conv, ConvTranspose and Gemm gain one (a new initializer and input); MatMul cannot. */
  newBias: boolean;
  /** BatchNorm fold: output o's weights are divided by foldOut[o] (= σ/γ). */
  foldOut?: Float64Array;
  /** Equalization: outputs divided by chainOut, inputs multiplied by chainIn. */
  chainOut?: Float64Array;
  chainIn?: Float64Array;
  /** NaN/±Inf values in the stored bias, and in the stored weight once a pass has read it. */
  biasNonFinite: number;
  weightNonFinite?: number;
  touched: boolean;
  /** The final weight, once written. */
  written?: Float32Array | StoredValues;
}

async function read(t: TensorRef, signal: AbortSignal | undefined): Promise<Float32Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/**
 * Equalization works on each inner layer's dense [Cout × Cin] matrix of kernel maxima (a chain's two ends
 * need only per-channel maxima). A grouped layer's matrix can be far larger than its weights (depthwise:
 * C² for C·k² weights); beyond this (4096 depthwise channels) and beyond the weights themselves, a small
 * file could ask for gigabytes: such a layer ends a piece of its chain, or (depthwise, inside a triplet)
 * the chain is skipped.
 */
const MAX_DENSE_RANGES = 2 ** 24;
/** The most matrix entries a piece of a chain holds at once (256 MB of float32), however large its weights. */
const MAX_CHAIN_RANGES = 2 ** 26;

const ones = (n: number) => new Float64Array(n).fill(1);

export async function planCle(model: Model, options: PlanCleOptions = {}): Promise<CleResult> {
  const { signal, spill } = options;
  const biasAbsorption = options.biasAbsorption ?? true;
  const chunkElements = options.chunkElements ?? CHUNK_ELEMENTS;
  const kernels = await CleKernels.load(options.kernels);
  // A kernel step on one layer's weight: its typed errors come back naming the file and the tensor.
  const onWeight = <T>(st: LayerState, step: () => Promise<T>) =>
    namingTensor(model.fileName, st.layer.weight.name, step);
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
  const scalars = await readScalarInputs(model, signal);
  const chainOptions = { relu6ToRelu: options.relu6ToRelu ?? false };
  const candidates = findCleChains(model, layers, foldable, scalars, chainOptions);
  const absorptionSkips: Skip[] = [];
  const numericSkips: Skip[] = [];

  const states = new Map<WeightLayer, LayerState>();
  let phase: 'fold' | 'equalize' = 'fold';
  // Passes planned: a fold reads its layer once; a chain reads each layer for its ranges, then writes it;
  // a folded layer in no chain is written alone.
  const sizeOf = (layers: Iterable<WeightLayer>) => [...layers].reduce((n, l) => n + l.weight.size, 0);
  const passes = (folded: readonly WeightLayer[], chained: readonly WeightLayer[]) =>
    2 * sizeOf(new Set(chained)) + sizeOf(folded.filter((l) => !chained.includes(l)));
  const work = { done: 0, total: 0 };
  const chainLayers = (cs: readonly { layers: WeightLayer[] }[]) => cs.flatMap((c) => c.layers);
  work.total =
    sizeOf(foldable.map((f) => f.layer)) +
    passes(
      foldable.map((f) => f.layer),
      chainLayers(candidates.chains),
    );
  const advance = (elements: number) => {
    work.done += elements;
    work.total = Math.max(work.total, work.done);
    options.onProgress?.({ done: work.done, total: work.total, phase });
  };
  const state = async (layer: WeightLayer): Promise<LayerState> => {
    let st = states.get(layer);
    if (!st) {
      throwIfAborted(signal, model.fileName);
      const conn = connectivity(layer);
      const biasTensor = layer.bias ?? candidates.linearBiases.get(layer)?.bias;
      const bias = biasTensor ? await read(biasTensor, signal) : new Float32Array(conn.cout);
      st = {
        layer,
        conn,
        bias,
        ...(biasTensor ? { biasTensor } : {}),
        newBias: !biasTensor && layer.op !== 'MatMul',
        biasNonFinite: countNonFinite(bias),
        touched: false,
      };
      states.set(layer, st);
    }
    return st;
  };

  /**
   * The weight block by block with the edits decided so far (fold, then equalization). The first pass over
   * a layer also counts the stored weight's NaN/±Inf values.
   */
  async function* edited(st: LayerState): AsyncGenerator<WeightRows> {
    const { conn } = st;
    const factors: LayerFactors[] = [];
    if (st.foldOut) factors.push(layerFactors(conn, st.foldOut, ones(conn.cin)));
    if (st.chainOut || st.chainIn)
      factors.push(layerFactors(conn, st.chainOut ?? ones(conn.cout), st.chainIn ?? ones(conn.cin)));
    const first = st.weightNonFinite === undefined;
    let nonFinite = 0;
    for await (const rows of weightRows(st.layer.weight, conn.rows, chunkElements, model.fileName, signal)) {
      if (first) nonFinite += countNonFinite(rows.values);
      for (const f of factors) await onWeight(st, () => scaleRows(kernels, rows, conn, f));
      yield rows;
      advance(rows.values.length);
    }
    if (first) st.weightNonFinite = nonFinite;
  }

  /** Per-channel maxima of the weight as edited so far. */
  const ranges = async (st: LayerState, into: RunRanges): Promise<RunRanges> => {
    for await (const rows of edited(st)) await onWeight(st, () => addRanges(kernels, rows, st.conn, into));
    return into;
  };

  /** Why the stored weight or bias may not be rewritten (it already holds NaN or ±Inf), or undefined. */
  const storedNonFinite = ({ layer, weightNonFinite, biasNonFinite, biasTensor }: LayerState) => {
    if (weightNonFinite)
      return `${layer.name}'s weight "${layer.weight.name}" already holds ${weightNonFinite} NaN/±Inf values: left as it is`;
    if (biasNonFinite)
      return `${layer.name}'s bias "${biasTensor!.name}" already holds ${biasNonFinite} NaN/±Inf values: left as it is`;
    return undefined;
  };

  /**
   * The layer's final weight (every edit applied), in memory or spilled; with `shift`, also what a constant
   * shift of each input adds to each output (high-bias absorption into this layer).
   */
  const write = async (st: LayerState, shift?: Float64Array): Promise<Float64Array | undefined> => {
    const tensor = st.layer.weight;
    const { name, dataType } = tensor;
    const added = shift && new Float64Array(st.conn.cout);
    let nonFinite = 0;
    const finish = async (rows: WeightRows) => {
      if (shift) await onWeight(st, () => addShift(kernels, rows, st.conn, shift, added!));
      nonFinite += countNonFinite(rows.values);
    };
    if (spill && tensor.external && (byteLengthOf(dataType, tensor.size) ?? 0) >= SPILL_MIN_BYTES) {
      const sums = { change: 0, norm: 0 };
      const pieces = async function* () {
        for await (const rows of edited(st)) {
          await finish(rows);
          addRoundingSums(dataType, rows.values, sums);
          yield encodeRaw(dataType, rows.values);
        }
      };
      const bytes = await spill(pieces());
      st.written = { bytes, elements: tensor.size, roundingChange: roundingChangeOf(sums) };
    } else {
      let values: Float32Array | undefined;
      for await (const rows of edited(st)) {
        await finish(rows);
        // A weight read whole is its own result; blocks go into one array.
        if (rows.first === 0 && rows.count === st.conn.rows) values = rows.values;
        else (values ??= new Float32Array(tensor.size)).set(rows.values, rows.first * (tensor.size / st.conn.rows));
      }
      st.written = values ?? new Float32Array(0);
    }
    // CLE only rewrites finite weights and checks every factor first: a NaN or ±Inf here is a bug of ours.
    if (nonFinite > 0) throw computedNonFinite(model, name, nonFinite);
    return added;
  };

  // 1. BatchNorm folding: W' = W·γ/σ per output channel, b' = β + (b − μ)·γ/σ, σ = sqrt(var + ε). A fold
  // whose values would not be finite float32 is skipped, and the chains are found again without it.
  const bnStats = new Map<WeightLayer, { beta: Float32Array; gamma: Float32Array }>();
  const folds: BnFold[] = [];
  for (const fold of foldable) {
    throwIfAborted(signal, model.fileName);
    const st = await state(fold.layer);
    const { outMax } = await ranges(st, { outMax: new Float64Array(st.conn.cout) });
    const [gamma, beta, mean, variance] = await Promise.all(
      [fold.gamma, fold.beta, fold.mean, fold.variance].map((t) => read(t, signal)),
    );
    const parameters = { gamma: gamma!, beta: beta!, mean: mean!, variance: variance!, epsilon: fold.epsilon };
    const stored = storedNonFinite(st);
    const fit = stored ? { reason: stored } : foldFactors(parameters, outMax!, st.bias);
    if ('reason' in fit) {
      numericSkips.push({
        layers: [fold.layer.name, fold.bn.name],
        reason: `${fold.bn.name} not folded: ${fit.reason}`,
      });
      continue;
    }
    st.foldOut = fit.factors.map((f) => 1 / f);
    st.bias.set(fit.bias);
    st.touched = true;
    folds.push(fold);
    bnStats.set(fold.layer, { beta: beta!, gamma: gamma! });
  }
  const {
    chains,
    skipped: chainSkips,
    clipRewrites,
  } = folds.length === foldable.length ? candidates : findCleChains(model, layers, folds, scalars, chainOptions);
  work.total =
    work.done +
    passes(
      folds.map((f) => f.layer),
      chainLayers(chains),
    );

  // 2. Equalization, chain by chain: per-channel maxima (and inner layers' matrices) in one pass over each
  // weight, the scales from those, then one more pass that writes each weight out. A chain whose inner
  // matrices would not fit MAX_CHAIN_RANGES is equalized in consecutive pieces sharing their end layers,
  // each piece seeing the scales of the pieces before it.
  const sets: CleResult['sets'] = [];
  const chainReports: CleResult['chains'] = [];
  const biasAbsorbed: CleResult['biasAbsorbed'] = [];
  phase = 'equalize';
  for (const chain of chains) {
    throwIfAborted(signal, model.fileName);
    const sts: LayerState[] = [];
    for (const layer of chain.layers) sts.push(await state(layer));
    const names = chain.layers.map((l) => l.name);
    const biases = sts.map((st) => st.bias.slice());
    const notEqualized = (reason: string) => {
      // Nothing is written before the whole chain is equalized: undo what its first pieces decided.
      sts.forEach((st, k) => {
        delete st.chainOut;
        delete st.chainIn;
        st.bias.set(biases[k]!);
      });
      numericSkips.push({ layers: names, reason: `${names.join(' → ')} not equalized: ${reason}` });
    };
    const scales: Float64Array[] = [];
    let [sweeps, maxScaleDeviation] = [0, 0];
    const pieces = chainPieces(sts, options.chainRanges ?? MAX_CHAIN_RANGES);
    work.total += sizeOf(pieces.slice(1).map(([first]) => chain.layers[first]!)); // shared layers: read twice
    let failed: string | undefined;
    for (const [from, to] of pieces) {
      const piece = sts.slice(from, to + 1);
      const last = piece.length - 1;
      const matrices: LayerMatrix[] = [];
      for (const [k, st] of piece.entries()) {
        const { cout, cin } = st.conn;
        const { outMax, inMax, matrix } = await ranges(
          st,
          k === 0
            ? { outMax: new Float64Array(cout) }
            : k === last
              ? { inMax: new Float64Array(cin) }
              : { matrix: new Float32Array(cout * cin) },
        );
        matrices.push({
          cout,
          cin,
          depthwise: st.layer.depthwise,
          ...(matrix ? { m: matrix } : {}),
          ...(outMax ? { outMax } : {}),
          ...(inMax ? { inMax } : {}),
        });
      }
      failed = piece.map(storedNonFinite).find((why) => why) ?? oversizedInner(piece);
      if (failed) break;
      const equalized = equalizeChain(matrices);
      failed = chainScaleProblem(
        piece.map((st, k) => ({ name: st.layer.name, matrix: matrices[k]!, bias: st.bias })),
        equalized.scales,
      );
      if (failed) break;
      for (const [k, st] of piece.entries()) {
        const [out, inn] = [equalized.scales[k], equalized.scales[k - 1]];
        if (out) {
          st.chainOut = out;
          for (let o = 0; o < st.conn.cout; o++) st.bias[o] = st.bias[o]! / out[o]!;
        }
        if (inn) st.chainIn = inn;
      }
      scales.push(...equalized.scales);
      sweeps = Math.max(sweeps, equalized.sweeps);
      maxScaleDeviation = Math.max(maxScaleDeviation, equalized.maxScaleDeviation);
      for (const set of chainSets(matrices)) {
        const span = set.kind === 'triplet' ? 2 : 1;
        const first = from + set.first;
        sets.push({
          kind: set.kind,
          layers: names.slice(first, first + span + 1),
          between: chain.between
            .slice(first, first + span)
            .flat()
            .map((n) => n.opType),
        });
      }
    }
    if (failed) {
      notEqualized(failed);
      continue;
    }
    for (const st of sts) st.touched = true;
    chainReports.push({
      layers: names,
      sweeps,
      maxScaleDeviation,
      ...(pieces.length > 1 ? { pieces: pieces.length } : {}),
    });

    // 3. High-bias absorption after a folded BN, across one Relu (and ops that keep a constant shift):
    // c = max(0, β/s − 3|γ/s|), taken out of layer k's bias and added, through layer k+1's weights, to its
    // bias. Layer k+1's pass that writes it also sums the shift.
    for (const [k, st] of sts.entries()) {
      const absorb = k > 0 && biasAbsorption ? absorption(sts[k - 1]!, st, k - 1) : undefined;
      const shift = await write(st, absorb?.c);
      if (!absorb) continue;
      const [from, to] = [sts[k - 1]!, st];
      const fromBias = Float64Array.from(from.bias, (b, i) => b - absorb.c[i]!);
      const toBias = Float64Array.from(to.bias, (b, o) => b + shift![o]!);
      if (firstBeyondFloat32(fromBias) >= 0 || firstBeyondFloat32(toBias) >= 0) {
        const reason = `high-bias absorption from ${from.layer.name} into ${to.layer.name} not applied: the biases would leave float32`;
        absorptionSkips.push({ layers: [from.layer.name, to.layer.name], reason });
        continue;
      }
      from.bias.set(fromBias);
      to.bias.set(toBias);
      biasAbsorbed.push({ from: from.layer.name, to: to.layer.name, channels: absorb.absorbed });
    }

    /** The shift c out of layer k into the next, when a folded BN's statistics call for one and it can go there. */
    function absorption(from: LayerState, to: LayerState, k: number) {
      const stats = bnStats.get(from.layer);
      const ops = chain.between[k]!;
      if (!stats || !absorbableAcross(ops)) return undefined;
      const s = scales[k]!;
      const c = Float64Array.from({ length: from.conn.cout }, (_, i) =>
        Math.max(0, stats.beta[i]! / s[i]! - 3 * Math.abs(stats.gamma[i]! / s[i]!)),
      );
      const absorbed = c.filter((v) => v > 0).length;
      if (absorbed === 0) return undefined;
      const why = absorptionRefused(ops, to);
      if (why) {
        const reason = `high-bias absorption from ${from.layer.name} into ${to.layer.name} not applied: ${why}`;
        absorptionSkips.push({ layers: [from.layer.name, to.layer.name], reason });
        return undefined;
      }
      return { c, absorbed };
    }
  }

  // Folded layers no equalized chain wrote.
  const touched = [...states.values()].filter((st) => st.touched);
  for (const st of touched) if (!st.written) await write(st);
  for (const st of touched) refuseNonFiniteBias(model, st);
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
    rewritten: touched.map((st) => {
      const added = newBiases.get(st.layer.node);
      const bias = st.biasTensor
        ? { graph: st.biasTensor.graph, name: st.biasTensor.name }
        : added
          ? { graph: st.layer.graph, name: added }
          : undefined;
      return {
        layer: st.layer.name,
        weight: { graph: st.layer.weight.graph, name: st.layer.weight.name },
        ...(bias ? { bias } : {}),
      };
    }),
  };
}

const rangeEntries = (st: LayerState) => st.conn.cout * st.conn.cin;

/** A grouped layer whose dense range matrix would be larger than its weights and MAX_DENSE_RANGES. */
const oversizedMatrix = (st: LayerState) => rangeEntries(st) > Math.max(st.layer.weight.size, MAX_DENSE_RANGES);

/**
 * The chain as consecutive pieces [first, last] sharing their end layers, each piece's inner matrices within
 * `maxEntries`: any layer can end a piece (an end needs per-channel maxima only) except a
 * depthwise one, which stays inside its Conv → DW → Conv triplet.
 */
function chainPieces(sts: readonly LayerState[], maxEntries: number): [number, number][] {
  const pieces: [number, number][] = [];
  let [first, entries] = [0, 0];
  for (let k = 1; k < sts.length - 1; k++) {
    const st = sts[k]!;
    const fits = !oversizedMatrix(st) && entries + rangeEntries(st) <= maxEntries;
    if (fits || st.layer.depthwise) {
      entries += rangeEntries(st);
      continue;
    }
    pieces.push([first, k]);
    [first, entries] = [k, 0];
  }
  pieces.push([first, sts.length - 1]);
  return pieces;
}

/** Why a piece cannot be equalized for the size of an inner (depthwise) layer's matrix, or undefined. */
function oversizedInner(piece: readonly LayerState[]): string | undefined {
  const st = piece.slice(1, -1).find(oversizedMatrix);
  if (!st) return undefined;
  const { cout, cin } = st.conn;
  return `${st.layer.name}'s [${cout} × ${cin}] range matrix would be larger than its ${st.layer.weight.size} weights and ${MAX_DENSE_RANGES} entries`;
}

/** CLE computed NaN/±Inf from finite inputs: a bug of ours, and the model must not be written with it. */
function computedNonFinite(model: Model, name: string, count: number): WeightlensError {
  return new WeightlensError(
    'INTERNAL',
    `${model.fileName}: CLE computed ${count} NaN/±Inf values for "${name}" from finite inputs; nothing was written`,
    { file: model.fileName, tensor: name },
  );
}

/** The last guard on biases before anything is written (weights are checked as they are written). */
function refuseNonFiniteBias(model: Model, st: LayerState): void {
  const count = countNonFinite(st.bias);
  if (count > 0) throw computedNonFinite(model, st.biasTensor?.name ?? `${st.layer.name}'s new bias`, count);
}

/** Why absorption into `to` across `ops` would not be exact or has nowhere to go, or undefined. */
function absorptionRefused(ops: readonly Node[], to: LayerState): string | undefined {
  const padded = zeroPaddedAverage(ops);
  if (padded)
    return `AveragePool ${padded.name} averages zero padding in (count_include_pad=1), so a shift does not pass it evenly`;
  if (!to.biasTensor && !to.newBias)
    return `${to.layer.op} ${to.layer.name} has no bias (no Add of a constant after it) to take the shift`;
  return undefined;
}

function buildPlan(model: Model, touched: LayerState[], folds: BnFold[], clipRewrites: Node[]): ExportPlan {
  const tensors: TensorEdit[] = [];
  const addInitializers: NewInitializer[] = [];
  const appendInputs: { node: Node; name: string }[] = [];
  const newName = newNames(model);
  for (const w of touched) {
    tensors.push({ tensor: w.layer.weight, values: w.written! });
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
