// The decoded model of each analysis session, kept where it was analysed (the Worker, or the page when
// there is no Worker) so later jobs — histograms — read its weights without reading the file again.
// One entry per ModelHandle load; the handle releases it when it loads another model or is disposed.
import { WeightlensError } from '../errors.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { Kernels } from '../kernels/kernels.js';
import type { Model } from '../onnx/model.js';
import { layerHistogram } from './weight-histogram.js';
import { needsModelError, type HistogramRequest, type LayerHistogram } from '../report/weight-histogram.js';

/** A model with its layers found once; null: the session loaded results JSON, which holds no weights. */
type Kept = { model: Model; layers: WeightLayer[]; file: string } | { model: null; file: string };

const kept = new Map<number, Kept>();
let kernels: Promise<Kernels> | undefined;

export function keepModel(session: number, model: Model): void {
  kept.set(session, { model, layers: findWeightLayers(model), file: model.fileName });
}

/** Results JSON was loaded: histograms must say they need the model. */
export function keepNoWeights(session: number, file: string): void {
  kept.set(session, { model: null, file });
}

export function releaseModel(session: number): void {
  kept.delete(session);
}

/** The file kept under `session`, if any (named in errors about it). */
export function keptFileName(session: number): string | undefined {
  return kept.get(session)?.file;
}

export async function keptHistogram(
  session: number,
  request: HistogramRequest,
  signal?: AbortSignal,
): Promise<LayerHistogram> {
  const entry = kept.get(session);
  if (!entry)
    throw new WeightlensError(
      'USAGE',
      `no model is loaded for this histogram (session ${session} was released or never analysed): load the model again`,
    );
  if (!entry.model) throw needsModelError(entry.file);
  return layerHistogram(entry.model, entry.layers, request, {
    kernels: await (kernels ??= Kernels.load()),
    ...(signal ? { signal } : {}),
  });
}
