// Auditing an already-quantized model (docs/definitions.md, "Auditing a quantized model"): every weight layer
// stored as integer codes (QDQ, QOperator, MatMulNBits, GatherBlockQuantized) gets its saturation and grid
// levels per channel and block, its scales checked, its bias's int32 headroom and, with the float model, the
// SQNR and clipping of what it dequantizes to. One layer's tensors are held at a time.
import { isBlockQuantized } from '../analysis/block-quantized.js';
import { matchLayers, signatureOf, type MatchMethod } from '../analysis/layer-matching.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { isQOperator } from '../analysis/qoperator.js';
import { throwIfAborted, WeightlensError } from '../errors.js';
import { computingOps, storedSources } from '../onnx/computed.js';
import { DT, isFloatingPoint } from '../onnx/dtypes.js';
import { graphAt, nodeProducing } from '../onnx/lookup.js';
import { resolveConstant, type Model, type TensorRef } from '../onnx/model.js';
import { readNumbersInto } from '../onnx/tensor.js';
import type { Progress } from '../progress.js';
import {
  auditCodes,
  codeType,
  compareWithFloat,
  countScales,
  unitCount,
  unitLayout,
  type CodeCounts,
} from '../quant/audit-codes.js';
import {
  DEFAULT_BLOCK_DETAIL,
  type AuditFormat,
  type AuditReport,
  type BiasAudit,
  type BlockFigures,
  type CodeFigures,
  type FloatAudit,
  type LayerAudit,
} from '../report/audit-report.js';

export interface AuditOptions {
  /** The float model the quantized one was made from: adds each layer's SQNR and clipping (`float`). */
  float?: Model;
  /** Blocks per layer up to which every block's figures are listed (default DEFAULT_BLOCK_DETAIL, 65,536). */
  maxBlockDetail?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

const INT32_LIMIT = 2 ** 31;

/** The audit of every weight layer of `model` stored as integer codes. */
export async function auditModel(model: Model, options: AuditOptions = {}): Promise<AuditReport> {
  const { signal } = options;
  const all = findWeightLayers(model);
  const layers: WeightLayer[] = [];
  const skipped: AuditReport['skipped'] = [];
  for (const layer of all) {
    const codes = layer.weight.quantization?.codes;
    if (codes && codeType(codes.dataType)) layers.push(layer);
    else if (layer.weight.computation && storedSources(layer.weight).some((t) => t.origin === 'dequantized'))
      skipped.push({
        name: layer.name,
        reason: `its weight is computed at run time (${computingOps(layer.weight).join(', ')}) from dequantized codes`,
      });
  }
  const pairs = options.float ? pairLayers(model, layers, options.float) : undefined;
  const total = layers.reduce((n, l) => n + l.weight.size, 0);
  let done = 0;
  const reports: LayerAudit[] = [];
  for (const [i, layer] of layers.entries()) {
    throwIfAborted(signal, model.fileName);
    options.onProgress?.({ fraction: total ? done / total : 1, text: `auditing ${layer.name}` });
    reports.push(await auditLayer(model, layer, pairs?.[i], options.maxBlockDetail ?? DEFAULT_BLOCK_DETAIL, signal));
    done += layer.weight.size;
  }
  options.onProgress?.({ fraction: 1, text: 'audited' });
  return { file: model.fileName, float: options.float?.fileName ?? null, layers: reports, skipped };
}

const formatOf = (layer: WeightLayer): AuditFormat =>
  isQOperator(layer.node.opType)
    ? 'QOperator'
    : isBlockQuantized(layer.node)
      ? (layer.node.opType as 'MatMulNBits' | 'GatherBlockQuantized')
      : 'QDQ';

async function readAll(
  t: TensorRef,
  signal: AbortSignal | undefined,
  wide = false,
): Promise<Float32Array | Float64Array> {
  const values = wide ? new Float64Array(t.size) : new Float32Array(t.size);
  await readNumbersInto(t, values, signal);
  return values;
}

const figures = (c: CodeCounts): CodeFigures => ({
  atMin: Array.from(c.atMin),
  atMax: Array.from(c.atMax),
  elements: Array.from(c.elements),
  levels: c.levels ? Array.from(c.levels) : null,
});

async function auditLayer(
  model: Model,
  layer: WeightLayer,
  pair: FloatPair | undefined,
  maxBlockDetail: number,
  signal: AbortSignal | undefined,
): Promise<LayerAudit> {
  const q = layer.weight.quantization!;
  const codesTensor = q.codes!;
  const type = codeType(codesTensor.dataType)!;
  const units = unitLayout(layer.weight.shape, q);
  const nUnits = unitCount(units);
  const codes = await readAll(codesTensor, signal, type.bits > 24);
  const scaleValues = q.scale ? await readAll(q.scale, signal) : null;
  const zeroPoints = q.zeroPoint ? await readAll(q.zeroPoint, signal, true) : new Float64Array(nUnits);
  throwIfAborted(signal, model.fileName);
  const symmetric = zeroPoints.every((z) => z === 0);
  const audit = auditCodes(codes, type, layer.layout, units, symmetric);
  const shares = Array.from(audit.channels.atMin, (lo, c) => {
    const n = audit.channels.elements[c]!;
    return n ? (lo + audit.channels.atMax[c]!) / n : 0;
  });
  const elements = layer.weight.size;
  let float: FloatAudit | null = null;
  const notes = [...(layer.notes ?? [])];
  if (pair && !scaleValues)
    notes.push(`not compared with the float model's "${pair.layer.name}": the codes carry no scale (integer units)`);
  if (pair && scaleValues) {
    const reference = new Float32Array(elements);
    await pair.layer.weight.readFloat32Into(reference, signal);
    const dequantized = new Float32Array(elements);
    await layer.weight.readFloat32Into(dequantized, signal);
    const cmp = compareWithFloat(
      reference,
      dequantized,
      scaleValues,
      zeroPoints,
      audit.qmin,
      audit.qmax,
      layer.layout,
      units,
    );
    const sum = (a: Float64Array | Uint32Array) => {
      let total = 0;
      for (const v of a) total += v;
      return total;
    };
    float = {
      layer: pair.layer.name,
      weight: pair.layer.weight.name,
      matchedBy: pair.matchedBy,
      sqnr: sqnrOf(sum(cmp.signal), sum(cmp.noise)),
      outside: sum(cmp.outside),
      clipped: sum(cmp.clipped),
      channels: {
        sqnr: Array.from(cmp.signal, (s, c) => sqnrOf(s, cmp.noise[c]!)),
        outside: Array.from(cmp.outside),
        clipped: Array.from(cmp.clipped),
      },
    };
  }
  return {
    name: layer.name,
    op: layer.op,
    format: formatOf(layer),
    weight: codesTensor.name,
    graph: layer.graph,
    dtype: codesTensor.dtype,
    bits: type.bits,
    shape: [...layer.weight.shape],
    mode: q.mode,
    axis: q.axis,
    blockSize: q.blockSize,
    range: { qmin: audit.qmin, qmax: audit.qmax, restricted: audit.restricted },
    elements,
    saturation: {
      atMin: audit.atMin,
      atMax: audit.atMax,
      share: elements ? (audit.atMin + audit.atMax) / elements : 0,
      worstChannelShare: shares.reduce((a, b) => Math.max(a, b), 0),
    },
    levels: { used: audit.levels, of: 2 ** type.bits },
    channels: figures(audit.channels),
    blocks: q.mode === 'blocked' ? blockFigures(audit.units, maxBlockDetail) : null,
    scales: q.scale && scaleValues ? countScales(scaleValues, q.scale.dataType) : null,
    bias: await biasAudit(model, layer, scaleValues, signal),
    float,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

function blockFigures(c: CodeCounts, maxDetail: number): BlockFigures {
  const count = c.elements.length;
  let saturated = 0;
  let worstShare = 0;
  for (let b = 0; b < count; b++) {
    const ends = c.atMin[b]! + c.atMax[b]!;
    if (ends > 0) saturated++;
    if (c.elements[b]) worstShare = Math.max(worstShare, ends / c.elements[b]!);
  }
  let levels: BlockFigures['levels'] = null;
  if (c.levels && count > 0) {
    let min = Infinity;
    let total = 0;
    for (const l of c.levels) {
      min = Math.min(min, l);
      total += l;
    }
    levels = { min, mean: total / count };
  }
  return { count, saturated, worstShare, levels, detail: count <= maxDetail ? figures(c) : null };
}

/** SQNR in dB from Σx² and Σ(x − x̂)²: null when the copy is exact (or the signal is zero). */
const sqnrOf = (signal: number, noise: number) => (signal > 0 && noise > 0 ? 10 * Math.log10(signal / noise) : null);

/** log2(2^31 / |q|): null for q = 0. */
const headroom = (q: number) => (q === 0 ? null : 31 - Math.log2(Math.abs(q)));

/** The constant one-value input scale of a layer's activation, or why there is none. */
async function inputScale(model: Model, layer: WeightLayer, signal: AbortSignal | undefined): Promise<number | string> {
  const graph = graphAt(model, layer.graph);
  if (!graph) return 'its graph is not found';
  const { node } = layer;
  let scale: TensorRef | undefined;
  let what: string;
  if (node.opType === 'QLinearConv' || node.opType === 'QLinearMatMul') {
    scale = node.inputs[1] ? resolveConstant(graph, node.inputs[1]) : undefined;
    what = `x_scale "${node.inputs[1] ?? ''}"`;
  } else {
    const producer = node.inputs[0] ? nodeProducing(graph, node.inputs[0]) : undefined;
    if (producer?.opType !== 'DequantizeLinear')
      return `the input "${node.inputs[0] ?? ''}" is float (no DequantizeLinear gives it a scale)`;
    scale = producer.inputs[1] ? resolveConstant(graph, producer.inputs[1]) : undefined;
    what = `the input DequantizeLinear's scale "${producer.inputs[1] ?? ''}"`;
  }
  if (!scale || scale.size !== 1) return `${what} is not a one-value constant`;
  const v = await readAll(scale, signal);
  return v[0]!;
}

async function biasAudit(
  model: Model,
  layer: WeightLayer,
  wScales: Float32Array | Float64Array | null,
  signal: AbortSignal | undefined,
): Promise<BiasAudit | null> {
  const graph = graphAt(model, layer.graph);
  const { node } = layer;
  // QLinearConv's B is int32 itself; other layers' biases are float (or dequantized from int32, QDQ).
  const qlinearBias =
    node.opType === 'QLinearConv' && node.inputs[8] && graph ? resolveConstant(graph, node.inputs[8]) : undefined;
  const bias = qlinearBias ?? layer.bias;
  if (!bias) return null;
  const channels = layer.layout.groups * layer.layout.cg;
  const xs = await inputScale(model, layer, signal);
  const xScale = typeof xs === 'number' ? xs : null;
  const stored = qlinearBias ?? bias.quantization?.codes;
  const unknown = (name: string, kind: 'int32' | 'float', reason: string): BiasAudit => ({
    name,
    stored: kind,
    xScale,
    status: 'unknown',
    reason,
    headroomBits: null,
    minHeadroomBits: null,
    overflow: 0,
  });
  let codes: Float64Array;
  let kind: 'int32' | 'float';
  if (stored && stored.dataType === DT.INT32) {
    kind = 'int32';
    codes = (await readAll(stored, signal, true)) as Float64Array;
  } else if (isFloatingPoint(bias.dtype) || bias.origin === 'dequantized') {
    kind = 'float';
    const name = bias.name;
    if (xScale === null) return unknown(name, kind, `x_scale is unknown: ${xs as string}`);
    const q = layer.weight.quantization!;
    const perChannel = q.mode === 'axis' && q.axis === layer.channelAxis;
    if (!wScales || !(q.mode === 'tensor' || perChannel))
      return unknown(
        name,
        kind,
        `the weight has no ${q.mode === 'blocked' ? 'per-channel ' : ''}scale per output channel`,
      );
    const values = (await readAll(bias, signal, true)) as Float64Array;
    codes = values.map((b, c) => b / (xScale * Math.fround(wScales[q.mode === 'tensor' ? 0 : c]!)));
  } else {
    return null;
  }
  if (codes.length !== channels && codes.length !== 1)
    return unknown(stored?.name ?? bias.name, kind, `the bias has ${codes.length} values for ${channels} channels`);
  const headroomBits = Array.from(codes, headroom);
  const finite = headroomBits.filter((h): h is number => h !== null && Number.isFinite(h));
  const overflow = codes.reduce(
    (n, q) =>
      n + (kind === 'int32' ? (q <= -INT32_LIMIT || q >= INT32_LIMIT - 1 ? 1 : 0) : Math.abs(q) >= INT32_LIMIT ? 1 : 0),
    0,
  );
  return {
    name: stored?.name ?? bias.name,
    stored: kind,
    xScale,
    status: 'known',
    headroomBits: headroomBits.map((h) => (h === null || Number.isFinite(h) ? h : null)),
    minHeadroomBits: finite.length ? finite.reduce((a, b) => Math.min(a, b)) : null,
    overflow,
  };
}

interface FloatPair {
  layer: WeightLayer;
  matchedBy: MatchMethod;
}

/**
 * Each quantized layer's float counterpart (analysis/layer-matching.ts: by weight name, node name, or
 * position and shape). A layer left without one, or paired with a weight of another shape, throws USAGE
 * naming both.
 */
function pairLayers(model: Model, layers: readonly WeightLayer[], float: Model): FloatPair[] {
  const floatLayers = findWeightLayers(float).filter((l) => l.weight.origin !== 'dequantized');
  const matching = matchLayers(floatLayers.map(signatureOf), layers.map(signatureOf));
  const matched = new Map(matching.pairs.map((p) => [p.after, p]));
  return layers.map((layer, i) => {
    const match = matched.get(i);
    if (!match) {
      const left = matching.onlyBefore.slice(0, 3).map((k) => {
        const l = floatLayers[k]!;
        return `"${l.name}" (weight "${l.weight.name}" [${l.weight.shape.join(', ')}])`;
      });
      throw new WeightlensError(
        'USAGE',
        `${float.fileName}: the float model has no layer for "${layer.name}" of ${model.fileName} (weight "${layer.weight.name}" [${layer.weight.shape.join(', ')}]): none of its ${floatLayers.length} weight layers matches it by weight name, node name, or position and shape${left.length ? ` (unmatched: ${left.join(', ')})` : ''}; is it the model ${model.fileName} was quantized from?`,
        { file: float.fileName },
      );
    }
    const pair = { layer: floatLayers[match.before]!, matchedBy: match.by };
    const a = layer.weight.shape.join(',');
    const b = pair.layer.weight.shape.join(',');
    if (a !== b)
      throw new WeightlensError(
        'USAGE',
        `${float.fileName}: layer "${pair.layer.name}" (weight "${pair.layer.weight.name}" [${b}], paired by ${pair.matchedBy}) does not match "${layer.name}" of ${model.fileName} (weight [${a}]); is it the model ${model.fileName} was quantized from?`,
        { file: float.fileName, tensor: pair.layer.weight.name },
      );
    return pair;
  });
}
