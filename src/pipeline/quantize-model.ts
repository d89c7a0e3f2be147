// Weight-only quantization of a model into a QDQ ONNX model: each layer the plan quantizes gets integer
// codes from its min-max quantizer and a DequantizeLinear; every other byte of the model stays as it was.
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { throwIfAborted, WeightlensError } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { exportModel, type ExportResult } from '../onnx/export/export.js';
import { byteLengthOf } from '../onnx/dtypes.js';
import type { Model } from '../onnx/model.js';
import type { Progress } from '../progress.js';
import { BiasCorrector, type BiasCorrectionReport } from '../quant/bias-correction.js';
import { opsetNeeded, qdqPlan, storageProblem, type WeightToStore } from '../quant/qdq-plan.js';
import { choiceFor, type QuantPlan } from '../quant/plan.js';
import { quantizeWeight } from '../quant/quantize-weight.js';
import { schemeName, type QuantScheme } from '../quant/scheme.js';
import { dequantizeGrid } from '../quant/weight-grid.js';

export interface QuantizeOptions {
  plan: QuantPlan;
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Name of the new external-data file (default: `<model>.weightlens.data`). */
  dataFileName?: string;
  /** Take unchanged external tensors along into the new data file (the output goes to another folder). */
  relocateExternal?: boolean;
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
  /** Bytes of the float weight, and of its codes, scales and zero points. */
  bytes: { before: number; after: number };
}

export interface QuantizeReport {
  file: string;
  /** The default-domain opset before and after (raised only as far as DequantizeLinear needs). */
  opset: { before: number; after: number };
  layers: QuantizedLayer[];
  /** Layers the plan asked to quantize that stay float, and why. */
  kept: { name: string; reason: string }[];
  /** With `biasCorrection`: each corrected layer, and each quantized layer left uncorrected with the reason. */
  biasCorrection?: BiasCorrectionReport;
}

export interface QuantizeOutcome extends Pick<ExportResult, 'bytes' | 'dataFiles'> {
  report: QuantizeReport;
  /** Every external-data location the quantized model refers to (the input's it still reads, and the new one). */
  dataLocations: string[];
}

/** The layers to quantize with their schemes, and those that cannot be (with the reason). */
function choose(model: Model, layers: readonly WeightLayer[], plan: QuantPlan) {
  const modelOpset = model.opsets[''] ?? 0;
  const chosen: { layer: WeightLayer; scheme: QuantScheme }[] = [];
  const kept: { name: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    const choice = choiceFor(plan, layer.name);
    if (choice === 'float') continue;
    const key = `${layer.weight.graph}\0${layer.weight.name}`;
    const problem =
      storageProblem(layer) ??
      (seen.has(key) ? 'its weight is shared with a layer quantized before it' : undefined) ??
      (opsetNeeded(choice) > modelOpset
        ? `${schemeName(choice)} needs DequantizeLinear of opset ${opsetNeeded(choice)}; the model imports opset ${modelOpset}, and raising a model's opset is not supported yet`
        : undefined);
    if (problem) kept.push({ name: layer.name, reason: problem });
    else {
      seen.add(key);
      chosen.push({ layer, scheme: choice });
    }
  }
  return { chosen, kept };
}

export async function quantizeModel(model: Model, options: QuantizeOptions): Promise<QuantizeOutcome> {
  const kernels = options.kernels ?? (await Kernels.load());
  const { signal } = options;
  const { chosen, kept } = choose(model, findWeightLayers(model), options.plan);
  const total = chosen.reduce((n, c) => n + c.layer.weight.size, 0);
  let done = 0;
  const corrector = options.biasCorrection ? await BiasCorrector.create(model, signal) : undefined;
  const stored: WeightToStore[] = [];
  const layers: QuantizedLayer[] = [];
  for (const { layer, scheme } of chosen) {
    throwIfAborted(signal, model.fileName);
    options.onProgress?.({ fraction: total ? done / total : 1, text: `quantizing ${layer.name}` });
    const dq = dequantizeGrid(layer, scheme);
    if ('reason' in dq) {
      kept.push({ name: layer.name, reason: dq.reason });
      continue;
    }
    const quantized = await kernels.exclusive(() =>
      quantizeWeight(kernels, layer, scheme, dq, { file: model.fileName, ...(signal ? { signal } : {}) }),
    );
    stored.push({ layer, scheme, dq, quantized });
    await corrector?.add(layer, scheme, quantized);
    const paramBytes = quantized.quantizer.scales.length * (4 + (scheme.symmetric ? 0 : scheme.bits / 8));
    layers.push({
      name: layer.name,
      weight: layer.weight.name,
      scheme,
      schemeName: schemeName(scheme),
      sqnr: quantized.sqnr,
      bytes: {
        before: byteLengthOf(layer.weight.dataType, layer.weight.size) ?? 0,
        after: quantized.raw.byteLength + paramBytes,
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
  const after = Math.max(before, ...stored.map((s) => opsetNeeded(s.scheme)));
  const plan = qdqPlan(model, stored, after);
  const exported = exportModel(model, corrector ? corrector.extend(plan) : plan, {
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
      ...(corrector ? { biasCorrection: corrector.report() } : {}),
    },
    bytes: exported.bytes,
    dataFiles: exported.dataFiles,
    dataLocations: [...exported.keptLocations, ...exported.dataFiles.keys()],
  };
}
