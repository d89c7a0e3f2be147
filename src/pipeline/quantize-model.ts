// Weight-only quantization of a model into a QDQ ONNX model: each layer the plan quantizes gets integer
// codes from its min-max quantizer and a DequantizeLinear; every other byte of the model stays as it was.
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { throwIfAborted, WeightlensError } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { QuantSearchKernels } from '../kernels/quant-search-kernels.js';
import type { Spill } from '../onnx/export/data-file.js';
import { exportModel, type ExportResult } from '../onnx/export/export.js';
import { mergePlans } from '../onnx/export/plan.js';
import { opsetUpgrade } from '../onnx/opset-upgrade.js';
import { byteLengthOf } from '../onnx/dtypes.js';
import type { Model } from '../onnx/model.js';
import type { Progress } from '../progress.js';
import { BiasCorrector, type BiasCorrectionReport } from '../quant/bias-correction.js';
import { opsetNeeded, qdqPlan, storageProblem, type StorageFormat, type WeightToStore } from '../quant/qdq-plan.js';
import { nbitsProblem } from '../quant/matmul-nbits.js';
import { newNames, useCount } from '../onnx/lookup.js';
import { choiceFor, type QuantPlan } from '../quant/plan.js';
import type { Budget } from '../quant/planner.js';
import { planQuantization, type PlanReport } from './plan-quantization.js';
import { quantizeWeight } from '../quant/quantize-weight.js';
import { schemeName, type QuantScheme } from '../quant/scheme.js';
import { dequantizeGrid } from '../quant/weight-grid.js';

export interface QuantizeOptions {
  /** Which scheme each layer gets; or `budget`: the data-free planner chooses (plan-quantization.ts). */
  plan?: QuantPlan;
  budget?: Budget;
  /** With `budget`: the block sizes of the planner's per-group candidates (default 32, 64, 128). */
  blocks?: readonly number[];
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Name of the new external-data file (default: `<model>.weightlens.data`). */
  dataFileName?: string;
  /** Take unchanged external tensors along into the new data file (the output goes to another folder). */
  relocateExternal?: boolean;
  /** Where the codes of large external weights wait until written (Node: `fileSpill(output).spill`). */
  spill?: Spill;
  /** The most weight elements staged at once (default CHUNK_ELEMENTS): larger weights go chunk by chunk. */
  chunkElements?: number;
  /** INT4 per-group MatMuls as com.microsoft.MatMulNBits (where they can be) instead of DequantizeLinear. */
  matMulNBits?: boolean;
  /** Analytic bias correction of layers whose input is a BatchNorm's (docs/definitions.md, "Bias correction"). */
  biasCorrection?: boolean;
}

export interface QuantizedLayer {
  name: string;
  weight: string;
  scheme: QuantScheme;
  /** e.g. "int4 asymmetric per-group 32". */
  schemeName: string;
  /** SQNR (dB) of the stored weight against the float one, exactly as written; null when exact. */
  sqnr: number | null;
  /** SQNR (dB) min-max parameters would give: what the scheme's method (clipping search, HQQ) improved on. */
  minMaxSqnr: number | null;
  /** Bytes of the float weight, and of its codes, scales and zero points. */
  bytes: { before: number; after: number };
  /** Integer codes read through DequantizeLinear, or the MatMul rewritten as MatMulNBits. */
  format: StorageFormat;
}

export interface QuantizeReport {
  file: string;
  /** The default-domain opset before and after (raised only as far as DequantizeLinear needs). */
  opset: { before: number; after: number };
  layers: QuantizedLayer[];
  /** Layers the plan asked to quantize that stay float, and why. */
  kept: { name: string; reason: string }[];
  /** With a budget: the plan the planner chose, the front it sits on, the uniform plans beside it. */
  planner?: PlanReport & { plan: QuantPlan };
  /** With `biasCorrection`: each corrected layer, and each quantized layer left uncorrected with the reason. */
  biasCorrection?: BiasCorrectionReport;
}

export interface QuantizeOutcome extends Pick<ExportResult, 'bytes' | 'dataFiles'> {
  report: QuantizeReport;
  /** Every external-data location the quantized model refers to (the input's it still reads, and the new one). */
  dataLocations: string[];
}

/** Whether the layer can be written as MatMulNBits (matmul-nbits.ts). */
const asMatMulNBits = (model: Model, layer: WeightLayer, scheme: QuantScheme) =>
  nbitsProblem(layer, scheme, useCount(model, layer.weight.name)) === undefined;

/** Codes spilled when a Spill is given: 1 MB and more (smaller ones cost more in files than in memory). */
const SPILL_BYTES = 1 << 20;

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** The layers to quantize with their schemes, and those that cannot be (with the reason). */
function choose(model: Model, layers: readonly WeightLayer[], plan: QuantPlan, nbits: boolean) {
  const chosen: { layer: WeightLayer; scheme: QuantScheme }[] = [];
  const kept: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    const choice = choiceFor(plan, layer.name);
    if (choice === 'float') continue;
    const key = `${layer.weight.graph}\0${layer.weight.name}`;
    const problem =
      storageProblem(layer) ?? (seen.has(key) ? 'its weight is shared with a layer quantized before it' : undefined);
    if (problem) kept.push({ name: layer.name, reason: problem });
    else {
      seen.add(key);
      chosen.push({ layer, scheme: choice });
    }
  }
  return { ...withinOpset(model, chosen, nbits), kept };
}

/**
 * The opset the export imports: the highest any chosen scheme needs that the model can be raised to
 * (onnx/opset-upgrade.ts). Layers needing more stay float, with the nodes that stopped the raise.
 */
function withinOpset(model: Model, chosen: { layer: WeightLayer; scheme: QuantScheme }[], nbits: boolean) {
  // A MatMul written as MatMulNBits reads no DequantizeLinear: it needs no default-domain opset.
  const need = ({ layer, scheme }: { layer: WeightLayer; scheme: QuantScheme }) =>
    nbits && asMatMulNBits(model, layer, scheme) ? 0 : opsetNeeded(scheme, layer.weight.dataType);
  const from = model.opsets[''] ?? 0;
  const levels = [...new Set(chosen.map(need).filter((v) => v > from))].sort((a, b) => b - a);
  const refusals = new Map<number, string>();
  let opset = from;
  for (const level of levels) {
    const attempt = opsetUpgrade(model, level);
    if (attempt.refused.length === 0) {
      opset = level;
      break;
    }
    const more = attempt.refused.length > 1 ? ` (and ${attempt.refused.length - 1} more)` : '';
    refusals.set(level, `${attempt.refused[0]}${more}`);
  }
  const kept: { name: string; reason: string }[] = [];
  const fits = chosen.filter(({ layer, scheme }) => {
    const needed = need({ layer, scheme });
    if (needed <= opset) return true;
    kept.push({
      name: layer.name,
      reason: `${schemeName(scheme)} needs DequantizeLinear of opset ${needed}; the model imports opset ${from} and cannot be raised to ${needed}: ${refusals.get(needed) ?? 'a lower raise was chosen'}`,
    });
    return false;
  });
  return { chosen: fits, keptForOpset: kept };
}

export async function quantizeModel(model: Model, options: QuantizeOptions): Promise<QuantizeOutcome> {
  const kernels = options.kernels ?? (await Kernels.load());
  const search = await QuantSearchKernels.load(kernels);
  const { signal } = options;
  if ((options.plan === undefined) === (options.budget === undefined))
    throw new WeightlensError('USAGE', 'quantizeModel takes a plan or a budget (one of them)');
  const planned = options.budget
    ? await planQuantization(model, {
        budget: options.budget,
        kernels,
        ...(options.blocks ? { blocks: options.blocks } : {}),
        ...(signal ? { signal } : {}),
        ...(options.onProgress
          ? {
              onProgress: (p: Progress) =>
                options.onProgress!({ fraction: p.fraction / 2, text: `planning: ${p.text}` }),
            }
          : {}),
      })
    : undefined;
  const plan = planned?.plan ?? options.plan!;
  const {
    chosen,
    kept: keptChoice,
    keptForOpset,
  } = choose(model, findWeightLayers(model), plan, !!options.matMulNBits);
  const kept = [...keptChoice, ...keptForOpset];
  const total = chosen.reduce((n, c) => n + c.layer.weight.size, 0);
  let done = 0;
  const corrector = options.biasCorrection ? await BiasCorrector.create(model, signal) : undefined;
  const stored: WeightToStore[] = [];
  const layers: QuantizedLayer[] = [];
  for (const { layer, scheme } of chosen) {
    throwIfAborted(signal, model.fileName);
    const from = planned ? 0.5 : 0; // the planner's statistics took the first half
    options.onProgress?.({
      fraction: from + (1 - from) * (total ? done / total : 1),
      text: `quantizing ${layer.name}`,
    });
    const dq = dequantizeGrid(layer, scheme);
    if ('reason' in dq) {
      kept.push({ name: layer.name, reason: dq.reason });
      continue;
    }
    const quantized = await kernels
      .exclusive(async () =>
        quantizeWeight(kernels, search, layer, scheme, dq, {
          file: model.fileName,
          ...(signal ? { signal } : {}),
          ...(options.chunkElements ? { chunkElements: options.chunkElements } : {}),
          // MatMulNBits repacks a weight's codes by column: those stay in memory.
          ...(options.spill && layer.weight.external && !(options.matMulNBits && asMatMulNBits(model, layer, scheme))
            ? { spill: options.spill }
            : {}),
        }),
      )
      .catch((e: unknown) => {
        // A weight holding NaN/±Inf has no scale: that layer stays float, the others are quantized.
        if (e instanceof WeightlensError && e.code === 'BAD_TENSOR' && e.field === 'values') return e;
        throw e;
      });
    if (quantized instanceof WeightlensError) {
      kept.push({ name: layer.name, reason: `its weight holds NaN/±Inf values (no scale can hold them)` });
      continue;
    }
    await corrector?.add(layer, scheme, quantized); // reads the codes: before they are spilled
    const { raw } = quantized;
    const codeBytes = raw instanceof Blob ? raw.size : raw.byteLength;
    // Codes of a large external weight wait outside the heap until written: memory stays flat (a weight
    // quantized chunk by chunk streamed its codes there already).
    // MatMulNBits repacks the codes by column: they stay in memory until then.
    const format: StorageFormat =
      options.matMulNBits && asMatMulNBits(model, layer, scheme) && raw instanceof Uint8Array
        ? 'MatMulNBits'
        : 'DequantizeLinear';
    const codes =
      format === 'DequantizeLinear' &&
      !(raw instanceof Blob) &&
      options.spill &&
      layer.weight.external &&
      codeBytes >= SPILL_BYTES
        ? await options.spill(once(raw))
        : raw;
    stored.push({ layer, scheme, dq, quantizer: quantized.quantizer, codes, format });
    const scaleBytes = byteLengthOf(layer.weight.dataType, 1) ?? 4;
    const paramBytes = quantized.quantizer.scales.length * (scaleBytes + (scheme.symmetric ? 0 : scheme.bits / 8));
    layers.push({
      name: layer.name,
      weight: layer.weight.name,
      scheme,
      schemeName: schemeName(scheme),
      sqnr: quantized.sqnr,
      minMaxSqnr: quantized.minMaxSqnr,
      format,
      bytes: {
        before: byteLengthOf(layer.weight.dataType, layer.weight.size) ?? 0,
        after: codeBytes + paramBytes,
      },
    });
    done += layer.weight.size;
  }
  if (stored.length === 0) {
    const why = kept[0] ? ` (e.g. ${kept[0].name}: ${kept[0].reason})` : '';
    throw new WeightlensError('USAGE', `${model.fileName}: the plan quantizes no layer${why}; nothing was written`, {
      file: model.fileName,
    });
  }
  const before = model.opsets[''] ?? 0;
  const after = Math.max(
    before,
    ...stored.map((s) => (s.format === 'MatMulNBits' ? 0 : opsetNeeded(s.scheme, s.layer.weight.dataType))),
  );
  const fresh = newNames(model); // one allocator: the merged plans' new names never collide
  const exportPlan = qdqPlan(model, stored, fresh);
  // A raise to `after` crosses a subset of the changes the chosen one did: it is never refused.
  const upgrade = after > before ? opsetUpgrade(model, after, fresh) : undefined;
  if (upgrade && upgrade.refused.length > 0)
    throw new WeightlensError(
      'INTERNAL',
      `${model.fileName}: opset ${after} was chosen but cannot be reached (${upgrade.refused[0]})`,
    );
  const raise = upgrade?.plan ?? {};
  const merged = mergePlans(exportPlan, raise);
  const exported = exportModel(model, corrector ? corrector.extend(merged) : merged, {
    ...(options.dataFileName ? { dataFileName: options.dataFileName } : {}),
    ...(options.relocateExternal ? { relocateExternal: true } : {}),
  });
  options.onProgress?.({ fraction: 1, text: 'quantized' });
  return {
    report: {
      file: model.fileName,
      opset: { before, after },
      layers,
      kept,
      ...(planned ? { planner: { ...planned.report, plan } } : {}),
      ...(corrector ? { biasCorrection: corrector.report() } : {}),
    },
    bytes: exported.bytes,
    dataFiles: exported.dataFiles,
    dataLocations: [...exported.keptLocations, ...exported.dataFiles.keys()],
  };
}
