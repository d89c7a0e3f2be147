// Cross Layer Equalization end to end: statistics before, the CLE plan (BN fold, equalization, bias
// absorption), the export that patches only what changed, and statistics of the exported model re-opened
// from its bytes (so "after" is what a user will get, and the export is proven to re-open in the kit).
import { throwIfAborted } from '../errors.js';
import { planCle, type CleResult, type PlanCleOptions } from '../cle/plan-cle.js';
import { Kernels } from '../kernels/kernels.js';
import { decodeModel } from '../onnx/decode.js';
import { dataFileReader, type DataPart, type Spill } from '../onnx/export/data-file.js';
import { exportModel, type ExportOptions, type ExportResult } from '../onnx/export/export.js';
import type { ExternalDataSource } from '../onnx/external-data.js';
import type { Model } from '../onnx/model.js';
import { ProgressMeter, type Progress } from '../progress.js';
import type { CleLayerChange, CleOptions, CleOutcome } from '../report/cle-report.js';
import { cleRounding } from '../report/cle-rounding.js';
import type { StatsReport } from '../report/stats-report.js';
import { computeStats } from './compute-stats.js';

export interface EqualizeOptions extends CleOptions {
  kernels?: Kernels;
  signal?: AbortSignal;
  /** One overall fraction (0..1, never decreasing) and what is being done. */
  onProgress?: (p: Progress) => void;
  /** Where the input's external data comes from (to re-open the exported model). */
  externalData?: ExternalDataSource;
  /** Name of the data file for changed external tensors (default: the exporter's). */
  dataFileName?: string;
  /** Copy unchanged external tensors into the new data file too (ExportOptions.relocateExternal). */
  relocateExternal?: boolean;
  /** Where large rewritten external weights wait, outside the JS heap, until written (PlanCleOptions.spill). */
  spill?: Spill;
  /** The most weight elements read at once, by the statistics and by CLE (default CHUNK_ELEMENTS). */
  chunkElements?: number;
  /**
   * This model's statistics, already computed with `quant: true`: used as the "before" side instead of
   * computing them again (the report has them anyway).
   */
  before?: StatsReport;
}

/** Serves the exporter's new data files (from memory and the input's files), everything else from the input's source. */
function withDataFiles(
  files: ReadonlyMap<string, readonly DataPart[]>,
  fallback: ExternalDataSource | undefined,
): ExternalDataSource | undefined {
  if (files.size === 0) return fallback;
  return async (location, signal) => {
    const parts = files.get(location);
    if (parts) return dataFileReader(location, parts, fallback);
    if (!fallback) throw new Error(`external data "${location}" has no source`);
    return fallback(location, signal);
  };
}

/**
 * Plans CLE and writes the plan out. The plan (every new weight and bias) is dropped once written: it is
 * not kept alive while the exported model is re-opened and measured.
 */
async function planAndExport(
  model: Model,
  options: PlanCleOptions,
  exportOptions: ExportOptions,
  onWriting: () => void,
): Promise<{ cle: Omit<CleResult, 'plan'>; exported: ExportResult }> {
  const { plan, ...cle } = await planCle(model, options);
  throwIfAborted(options.signal, model.fileName);
  onWriting();
  return { cle, exported: exportModel(model, plan, exportOptions) };
}

export async function equalizeModel(model: Model, options: EqualizeOptions = {}): Promise<CleOutcome> {
  const { signal, spill, chunkElements } = options;
  const settings = { biasAbsorption: options.biasAbsorption ?? true, relu6ToRelu: options.relu6ToRelu ?? false };
  const kernels = options.kernels ?? (await Kernels.load());
  const meter = new ProgressMeter(options.onProgress ?? (() => {}));
  const span = (from: number, to: number, what: string) => {
    const part = meter.span(from, to);
    return (p: Progress) => part(p.fraction, `${what} ${p.text}`);
  };

  const before =
    options.before ??
    (await computeStats(model, {
      kernels,
      signal,
      quant: true,
      chunkElements,
      onProgress: span(0, 0.3, 'before CLE:'),
    }));
  meter.report(0.3, 'planning CLE');
  const planning = meter.span(0.3, 0.7);
  const onProgress: PlanCleOptions['onProgress'] = ({ done, total, phase }) =>
    planning(total > 0 ? done / total : 1, phase === 'fold' ? 'folding BatchNorms' : 'equalizing chains');
  const exportOptions = {
    ...(options.dataFileName ? { dataFileName: options.dataFileName } : {}),
    ...(options.relocateExternal ? { relocateExternal: true } : {}),
  };
  const planOptions = {
    ...settings,
    kernels,
    signal,
    onProgress,
    ...(spill ? { spill } : {}),
    ...(chunkElements ? { chunkElements } : {}),
  };
  const { cle, exported } = await planAndExport(model, planOptions, exportOptions, () =>
    meter.report(0.7, 'writing the equalized model'),
  );
  const externalData = withDataFiles(exported.dataFiles, options.externalData);
  const reopened = decodeModel(exported.bytes, { fileName: model.fileName, ...(externalData ? { externalData } : {}) });
  // Layers CLE did not rewrite keep their bytes: their "after" is their "before".
  const written = new Set(cle.rewritten.flatMap((r) => [r.weight, r.bias].map((t) => t && `${t.graph}\0${t.name}`)));
  const rewritten = new Set(cle.rewritten.map((r) => r.layer));
  const known = new Map(
    before.layers
      .filter((l) => !rewritten.has(l.name) && !written.has(`${l.graph}\0${l.weight}`))
      .map((l) => [l.name, l]),
  );
  const after = await computeStats(reopened, {
    kernels,
    signal,
    quant: true,
    chunkElements,
    known,
    onProgress: span(0.8, 1, 'after CLE:'),
  });

  const afterByName = new Map(after.layers.map((l) => [l.name, l]));
  const layers: CleLayerChange[] = before.layers.flatMap((b) => {
    const a = afterByName.get(b.name);
    return a ? [{ name: b.name, op: b.op, before: b, after: a }] : [];
  });
  const dataLocations = new Set<string>();
  for (const graph of reopened.graphs)
    for (const t of graph.constants.values()) if (t.external) dataLocations.add(t.external.location);
  const rounding = cleRounding(cle.rewritten, exported.rounding);
  meter.done();
  return {
    report: {
      file: model.fileName,
      options: settings,
      folded: cle.folded,
      sets: cle.sets,
      chains: cle.chains,
      skipped: cle.skipped,
      biasAbsorbed: cle.biasAbsorbed,
      relu6Rewritten: cle.clipRewrites.map((n) => n.name),
      ...(rounding ? { rounding } : {}),
      layers,
    },
    bytes: exported.bytes,
    dataFiles: exported.dataFiles,
    dataLocations: [...dataLocations],
  };
}
