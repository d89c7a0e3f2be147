// Analytic bias correction (Nagel et al. 2019, "Data-Free Quantization", §4.2; docs/definitions.md, "Bias
// correction"): quantizing a layer's weight W to W_q shifts the mean of its output channel c by
// Σ_{i,k} ε[c,i,k]·E[x_i], ε = W_q − W, and the shift is taken off the bias. When the layer's input is a
// BatchNorm's output, through at most one Relu, Clip or HardSwish, E[x_i] follows from the BatchNorm's γ and
// β alone (the input channel is taken as N(β, γ²) through the activation): the paper's method. Otherwise
// (BatchNorms folded into the convs at export) E[x_i] is propagated from the model's inputs or the nearest
// BatchNorm upstream (input-moments.ts). Padding is ignored: border outputs of a padded Conv see fewer
// inputs, so their shift is smaller than the one removed.
import { floatAttribute, intAttribute } from '../onnx/attributes.js';
import { readScalarInputs } from '../analysis/cle-sets.js';
import type { WeightLayer } from '../analysis/layers.js';
import { connectivity, type Connectivity } from '../cle/weights.js';
import { blockRows, type GridQuantizer } from '../kernels/quantizer.js';
import type { ExportPlan, NewInitializer, TensorEdit } from '../onnx/export/plan.js';
import { graphAt, newNames, nodeProducing, useCount } from '../onnx/lookup.js';
import { isOverridable, resolveConstant, type Graph, type Model, type Node, type TensorRef } from '../onnx/model.js';
import { inputDistribution } from './input-distribution.js';
import { InputMoments } from './input-moments.js';
import { clippedNormalMean, hardSwishNormalMean } from './normal.js';
import type { QuantizedWeight } from './quantize-weight.js';
import type { QuantScheme } from './scheme.js';

/** What sits between the BatchNorm and the layer: nothing, Relu ([0, ∞)), Clip([lo, hi]) or HardSwish. */
export interface InputActivation {
  readonly op: 'none' | 'Relu' | 'Clip' | 'HardSwish';
  readonly lo: number;
  readonly hi: number;
}

export const NO_ACTIVATION: InputActivation = { op: 'none', lo: -Infinity, hi: Infinity };
export const RELU: InputActivation = { op: 'Relu', lo: 0, hi: Infinity };
export const HARD_SWISH: InputActivation = { op: 'HardSwish', lo: -0.375, hi: Infinity };

/** e.g. "none", "Relu", "Clip(0, 6)". */
export const activationName = (a: InputActivation) => (a.op === 'Clip' ? `Clip(${a.lo}, ${a.hi})` : a.op);

/** The BatchNorm (and activation) a layer's input comes from. */
export interface BatchNormSource {
  readonly batchNorm: Node;
  readonly gamma: TensorRef;
  readonly beta: TensorRef;
  readonly activation: InputActivation;
}

/** Where a corrected layer's E[x] came from. */
export type ExpectedInputSource =
  /** The BatchNormalization right before the layer (γ, β), and the activation between them. */
  | { readonly kind: 'batchnorm'; readonly batchNorm: string; readonly activation: string }
  /** Propagated over `nodes` nodes from `origin`: the model input or a BatchNorm further up. */
  | { readonly kind: 'propagated'; readonly origin: string; readonly nodes: number };

/** One corrected layer, as reported. */
export interface CorrectedLayer {
  readonly name: string;
  readonly expectedInput: ExpectedInputSource;
  /** The layer had no bias and gains one. */
  readonly newBias: boolean;
  /** ‖Δb‖₂: the size of the correction as stored. */
  readonly delta: number;
  /**
   * Mean over output channels of |expected output shift|: before the correction (|Σ ε·E[x]|), and after it
   * (what float32 rounding of the new bias leaves).
   */
  readonly meanShift: { readonly before: number; readonly after: number };
}

export interface BiasCorrectionReport {
  readonly layers: CorrectedLayer[];
  /** Quantized layers left uncorrected, and why. */
  readonly skipped: { name: string; reason: string }[];
}

/** E[x_i] of each input channel: N(β_i, γ_i²) through the activation (|γ| is the deviation). */
export function expectedInputs(
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  activation: InputActivation = NO_ACTIVATION,
): Float64Array {
  const ex = new Float64Array(beta.length);
  for (let i = 0; i < ex.length; i++)
    ex[i] =
      activation.op === 'none'
        ? beta[i]!
        : activation.op === 'HardSwish'
          ? hardSwishNormalMean(beta[i]!, gamma[i]!)
          : clippedNormalMean(beta[i]!, gamma[i]!, activation.lo, activation.hi);
  return ex;
}

/**
 * Σ_{i,k} delta[c,i,k]·ex[i] for each output channel c, the weight's elements joined to output and input
 * channels as `conn` lays them out (grouped convolutions: only the inputs of the output's group).
 */
export function outputShift(delta: ArrayLike<number>, conn: Connectivity, ex: ArrayLike<number>): Float64Array {
  const shift = new Float64Array(conn.cout);
  const { k } = conn;
  const run = (r: number) => {
    let s = 0;
    for (let j = r * k; j < r * k + k; j++) s += delta[j]!;
    return s;
  };
  if (conn.grid) {
    const { rows, cols, rowsAreOutputs } = conn.grid;
    for (let row = 0; row < rows; row++)
      for (let col = 0; col < cols; col++) {
        const [o, i] = rowsAreOutputs ? [row, col] : [col, row];
        shift[o] = shift[o]! + run(row * cols + col) * ex[i]!;
      }
  } else {
    const { out, in: inn } = conn.table!;
    for (let r = 0; r < out.length; r++) shift[out[r]!] = shift[out[r]!]! + run(r) * ex[inn[r]!]!;
  }
  return shift;
}

/** The float32 weight the codes dequantize to, (q − zp)·s as DequantizeLinear computes it. */
export function dequantizeCodes(raw: Uint8Array, quantizer: GridQuantizer, bits: 8 | 4, size: number): Float32Array {
  const signed = quantizer.qmin < 0;
  const code = (i: number) => {
    const byte = raw[bits === 8 ? i : i >> 1]!;
    const v = bits === 8 ? byte : i & 1 ? byte >> 4 : byte & 15;
    return signed && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
  };
  const { grid, scales, zeroPoints } = quantizer;
  const entry = (i: number): number => {
    if (grid.kind === 'channel') {
      const { outer, cg, inner } = grid.layout;
      return Math.floor(i / (outer * cg * inner)) * cg + (Math.floor(i / inner) % cg);
    }
    const { rows, cols } = grid.layout;
    const m = Math.floor(i / (rows * cols));
    const r = Math.floor(i / cols) % rows;
    return (m * blockRows(grid.layout, grid.block) + Math.floor(r / grid.block)) * cols + (i % cols);
  };
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const e = entry(i);
    out[i] = (code(i) - zeroPoints[e]!) * scales[e]!;
  }
  return out;
}

/** Why a layer's bias cannot be corrected (whatever its input), or undefined. */
export function biasProblem(model: Model, layer: WeightLayer): string | undefined {
  const { node } = layer;
  if (layer.op === 'MatMul')
    return 'MatMul reduces its input along the last axis while a BatchNorm normalizes axis 1, and its bias (an Add) cannot be added to';
  if (layer.op === 'ConvTranspose')
    return 'ConvTranspose outputs receive different numbers of kernel taps, so the shift is not one value per channel';
  if (layer.op !== 'Conv' && layer.op !== 'Gemm') return `bias correction covers Conv and Gemm layers, not ${layer.op}`;
  if (layer.op === 'Gemm') {
    if (intAttribute(node, 'transA', 0) !== 0) return 'it is a Gemm with transA=1';
    if (floatAttribute(node, 'alpha', 1) !== 1 || floatAttribute(node, 'beta', 1) !== 1)
      return 'it is a Gemm with alpha or beta other than 1';
  }
  const bias = layer.bias;
  const graph = graphAt(model, layer.graph)!;
  const cout = layer.weight.shape[layer.channelAxis ?? 0]!;
  if (!bias) {
    if (node.inputs.length > 2 && node.inputs[2])
      return `its bias "${node.inputs[2]}" is not a constant (computed at run time)`;
    if (node.inputs.length > 2) return 'it has an empty bias input a new bias cannot be appended after';
    return undefined;
  }
  if (bias.origin !== 'initializer' && bias.origin !== 'constant') return `its bias "${bias.name}" is ${bias.origin}`;
  if (!['float32', 'float16', 'bfloat16', 'float64'].includes(bias.dtype))
    return `its bias "${bias.name}" is ${bias.dtype}`;
  if (bias.size !== cout)
    return `its bias "${bias.name}" has shape [${bias.shape}], not one value per output channel (${cout})`;
  if (useCount(model, bias.name) > 1) return `its bias "${bias.name}" is shared with other nodes`;
  if (isOverridable(graph, bias.name)) return `its bias "${bias.name}" is a graph input a runtime may replace`;
  return undefined;
}

/**
 * The BatchNormalization a layer's input (its first input) comes from, directly or through one Relu or Clip
 * with constant bounds, with `cin` parameters — or why there is none. `clipBounds` holds the Clip bounds
 * given as inputs (readScalarInputs).
 */
export function batchNormBefore(
  model: Model,
  layer: WeightLayer,
  cin: number,
  clipBounds: ReadonlyMap<string, number>,
): BatchNormSource | { reason: string } {
  const graph = graphAt(model, layer.graph)!;
  const input = layer.node.inputs[0] ?? '';
  const what = (n: Node | undefined, value: string) =>
    n ? `${n.opType} "${n.name}"` : graph.inputs.includes(value) ? `the graph input "${value}"` : `"${value}"`;
  let producer = nodeProducing(graph, input);
  let activation = NO_ACTIVATION;
  let through = '';
  const swished = producer && hardSwishInput(graph, producer, clipBounds);
  if (producer && swished !== undefined) {
    activation = HARD_SWISH;
    through = ` through HardSwish "${producer.name}"`;
    producer = nodeProducing(graph, swished);
  } else if (producer?.opType === 'Relu' || producer?.opType === 'Clip') {
    const act = producer;
    if (act.opType === 'Relu') activation = RELU;
    else {
      const bound = (index: number, attribute: string, fallback: number) => {
        const name = act.inputs[index];
        if (name) return clipBounds.get(name);
        return floatAttribute(act, attribute, fallback);
      };
      const lo = bound(1, 'min', -Infinity);
      const hi = bound(2, 'max', Infinity);
      if (lo === undefined || hi === undefined)
        return { reason: `its input comes from Clip "${act.name}" whose bounds are not constant scalars` };
      activation = { op: 'Clip', lo, hi };
    }
    through = ` through ${act.opType} "${act.name}"`;
    producer = nodeProducing(graph, act.inputs[0] ?? '');
  }
  const source = producer ? producer.outputs[0]! : through ? '' : input;
  if (producer?.opType !== 'BatchNormalization')
    return {
      reason: `its input comes from ${what(producer, source)}${through}, not from a BatchNormalization (directly or through one Relu/Clip/HardSwish)`,
    };
  const bn = producer;
  if (bn.outputs.filter(Boolean).length > 1)
    return { reason: `BatchNormalization "${bn.name}" is in training mode (more than one output)` };
  const [gamma, beta] = [1, 2].map((k) => (bn.inputs[k] ? resolveConstant(graph, bn.inputs[k]) : undefined));
  if (!gamma || !beta) return { reason: `BatchNormalization "${bn.name}" has a scale or bias that is not constant` };
  if (gamma.size !== cin || beta.size !== cin)
    return {
      reason: `BatchNormalization "${bn.name}" has ${gamma.size} scales and ${beta.size} biases, the layer ${cin} input channels`,
    };
  return { batchNorm: bn, gamma, beta, activation };
}

/**
 * x when `node` computes HardSwish(x): the op itself, or spelled out as Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)
 * (PaddleOCR's export), the constants given as scalar inputs (`scalars`) or Clip attributes.
 */
function hardSwishInput(graph: Graph, node: Node, scalars: ReadonlyMap<string, number>): string | undefined {
  if (node.opType === 'HardSwish') return node.inputs[0];
  const is = (name: string | undefined, value: number) => name !== undefined && scalars.get(name) === value;
  if (node.opType !== 'Div' || !is(node.inputs[1], 6)) return undefined;
  const mul = nodeProducing(graph, node.inputs[0] ?? '');
  if (mul?.opType !== 'Mul' || mul.inputs.length !== 2) return undefined;
  for (const [x, gate] of [mul.inputs, [...mul.inputs].reverse()] as [string, string][]) {
    const clip = nodeProducing(graph, gate);
    if (clip?.opType !== 'Clip') continue;
    const bound = (index: number, attribute: string) =>
      clip.inputs[index] ? scalars.get(clip.inputs[index]!) : floatAttribute(clip, attribute, NaN);
    if (bound(1, 'min') !== 0 || bound(2, 'max') !== 6) continue;
    const add = nodeProducing(graph, clip.inputs[0] ?? '');
    if (add?.opType !== 'Add') continue;
    if ((add.inputs[0] === x && is(add.inputs[1], 3)) || (add.inputs[1] === x && is(add.inputs[0], 3))) return x;
  }
  return undefined;
}

async function read(t: TensorRef, signal?: AbortSignal): Promise<Float32Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/** A layer's corrected bias, and where it goes. */
interface Correction {
  layer: WeightLayer;
  values: Float32Array;
}

/**
 * Bias correction across a quantization run: `add` each quantized layer, then `extend` the export plan with
 * the corrected biases and `report` what was done.
 */
export class BiasCorrector {
  private readonly corrections: Correction[] = [];
  private readonly layers: CorrectedLayer[] = [];
  private readonly skipped: { name: string; reason: string }[] = [];

  private constructor(
    private readonly model: Model,
    private readonly clipBounds: ReadonlyMap<string, number>,
    private readonly moments: InputMoments,
    private readonly signal?: AbortSignal,
  ) {}

  static async create(model: Model, signal?: AbortSignal): Promise<BiasCorrector> {
    const scalars = await readScalarInputs(model, signal);
    const moments = await InputMoments.propagate(model, await inputDistribution(model, signal), signal);
    return new BiasCorrector(model, scalars, moments, signal);
  }

  /** E[x] of each of the layer's `cin` input channels, and where it came from; or why it is unknown. */
  private async expectedInput(
    layer: WeightLayer,
    cin: number,
  ): Promise<{ ex: Float64Array; source: ExpectedInputSource } | { reason: string }> {
    const bn = batchNormBefore(this.model, layer, cin, this.clipBounds);
    if (!('reason' in bn)) {
      const [gamma, beta] = [await read(bn.gamma, this.signal), await read(bn.beta, this.signal)];
      const source = {
        kind: 'batchnorm',
        batchNorm: bn.batchNorm.name,
        activation: activationName(bn.activation),
      } as const;
      return { ex: expectedInputs(gamma, beta, bn.activation), source };
    }
    const propagated = this.moments.of(layer.graph, layer.node.inputs[0] ?? '', cin);
    if ('reason' in propagated) return { reason: `${bn.reason}; and E[x] cannot be propagated: ${propagated.reason}` };
    const ex = Float64Array.from({ length: cin }, (_, i) => propagated.mean[propagated.mean.length === 1 ? 0 : i]!);
    return { ex, source: { kind: 'propagated', origin: propagated.origin, nodes: propagated.nodes } };
  }

  /** Corrects `layer`'s bias for its quantized weight, or records why not. */
  async add(layer: WeightLayer, scheme: QuantScheme, quantized: QuantizedWeight): Promise<void> {
    const skip = (reason: string) => void this.skipped.push({ name: layer.name, reason });
    const { raw } = quantized;
    if (raw instanceof Blob) return skip('its weight was quantized chunk by chunk, its codes streamed to disk');
    const problem = biasProblem(this.model, layer);
    if (problem) return skip(problem);
    const conn = connectivity(layer);
    const expected = await this.expectedInput(layer, conn.cin);
    if ('reason' in expected) return skip(expected.reason);
    const { ex } = expected;
    if (ex.every((v) => v === 0)) return skip('its expected input is 0 in every channel: there is no shift to correct');
    const w = await read(layer.weight, this.signal);
    const wq = dequantizeCodes(raw, quantized.quantizer, scheme.bits, w.length);
    const delta = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) delta[i] = wq[i]! - w[i]!;
    const shift = outputShift(delta, conn, ex);
    const bias = layer.bias ? await read(layer.bias, this.signal) : new Float32Array(conn.cout);
    const values = Float32Array.from(shift, (s, c) => bias[c]! - s);
    if (values.some((v) => !Number.isFinite(v)))
      return skip('the corrected bias is not finite (non-finite BatchNorm parameters, bias or propagated E[x])');
    let delta2 = 0,
      before = 0,
      after = 0;
    for (let c = 0; c < conn.cout; c++) {
      const d = values[c]! - bias[c]!;
      delta2 += d * d;
      before += Math.abs(shift[c]!);
      after += Math.abs(shift[c]! + d);
    }
    this.corrections.push({ layer, values });
    this.layers.push({
      name: layer.name,
      expectedInput: expected.source,
      newBias: !layer.bias,
      delta: Math.sqrt(delta2),
      meanShift: { before: before / conn.cout, after: after / conn.cout },
    });
  }

  /** `plan` with the corrected biases: existing ones edited in place, missing ones added as a third input. */
  extend(plan: ExportPlan): ExportPlan {
    const fresh = newNames(this.model, [
      ...plan.addInitializers.map((t) => t.name),
      ...(plan.addEncodedInitializers ?? []).map((t) => t.name),
      ...(plan.addNodes ?? []).flatMap((n) => [n.name, ...n.outputs]),
      ...(plan.replaceNodes ?? []).flatMap((r) => r.nodes.flatMap((n) => [n.name, ...n.outputs])),
    ]);
    const tensors: TensorEdit[] = [];
    const addInitializers: NewInitializer[] = [];
    const appendInputs: { node: Node; name: string }[] = [];
    for (const { layer, values } of this.corrections) {
      if (layer.bias) tensors.push({ tensor: layer.bias, values });
      else {
        const name = fresh(`${layer.name || layer.weight.name}.bias_corrected`);
        const graph = graphAt(this.model, layer.graph)!;
        addInitializers.push({ graph, name, dims: [values.length], dataType: layer.weight.dataType, values });
        appendInputs.push({ node: layer.node, name });
      }
    }
    return {
      ...plan,
      tensors: [...plan.tensors, ...tensors],
      addInitializers: [...plan.addInitializers, ...addInitializers],
      appendInputs: [...plan.appendInputs, ...appendInputs],
    };
  }

  report(): BiasCorrectionReport {
    return { layers: [...this.layers], skipped: [...this.skipped] };
  }
}
