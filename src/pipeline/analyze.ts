// The analysis itself: input -> results, with one overall progress figure and cancellation. Runs inside
// the Worker (src/worker/worker-main.ts) and, when no Worker can be started, on the calling thread
// (src/worker/client.ts).
import { WeightlensError, throwIfAborted } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { decodeModel } from '../onnx/decode.js';
import type { DataPart, Spill } from '../onnx/export/data-file.js';
import { copiedRangesAsSlices } from '../onnx/export/file-slices.js';
import { filesSource, type ExternalDataSource } from '../onnx/external-data.js';
import type { Model } from '../onnx/model.js';
import { readModelSource, type ModelSource, type OpenOptions } from '../onnx/open.js';
import { ProgressMeter, type Progress } from '../progress.js';
import type { CleOptions, CleOutcome } from '../report/cle-report.js';
import { looksLikeJson, parseReport } from '../report/results-json.js';
import type { StatsReport } from '../report/stats-report.js';
import { megabytes } from '../text/megabytes.js';
import type { CompressReport } from '../report/compress-report.js';
import { compressibility } from './compressibility.js';
import { computeStats } from './compute-stats.js';
import { diffModels } from './diff-models.js';
import type { DiffReport } from '../report/diff-report.js';
import { equalizeModel } from './equalize-model.js';
import { keepModel, keepNoWeights } from './kept-models.js';
import { browserSpill } from './opfs-spill.js';
import type { AnalysisInput } from './model-input.js';
import { planQuantization, type PlanReport } from './plan-quantization.js';
import { quantizeModel, type QuantizeOutcome } from './quantize-model.js';
import type { Budget, PlannedLayer } from '../quant/planner.js';
import type { QuantPlan } from '../quant/plan.js';

export interface PipelineOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Keep the decoded model under this id in this realm (kept-models.ts) for later histogram jobs. */
  session?: number;
}

/**
 * Where each phase ends on the overall 0..1 scale, from a ResNet-50-sized model (100 MB) in Chromium:
 * reading a File ~220 ms (a network is slower still), decoding 2-20 ms, statistics 30-60 ms.
 */
const PHASES = { withRead: { read: 0.75, decode: 0.78 }, inMemory: { read: 0, decode: 0.08 } };

/** A model read and decoded, or results JSON that needed no decoding. */
type Loaded =
  | { kind: 'report'; report: StatsReport }
  | {
      kind: 'model';
      model: Model;
      externalData?: ExternalDataSource;
      kernels: Promise<Kernels>;
      meter: ProgressMeter;
      from: number;
    };

async function load(input: AnalysisInput, options: PipelineOptions): Promise<Loaded> {
  const { signal } = options;
  const meter = new ProgressMeter(options.onProgress ?? (() => {}));
  // Compile the kernels while the model is read (the first job of a realm pays for it once).
  const kernels = Kernels.load();
  kernels.catch(() => {}); // observed below; a read error must not leave an unhandled rejection
  const { source, open } = sourceOf(input);
  const ends = input.kind === 'bytes' ? PHASES.inMemory : PHASES.withRead;

  const readPart = meter.span(0, ends.read);
  meter.report(0, `opening ${open.fileName ?? 'the model'}`);
  const read = await readModelSource(source, {
    ...open,
    ...(signal ? { signal } : {}),
    onProgress: (p) => readPart(p.fraction, p.text),
  });

  if (looksLikeJson(read.bytes)) {
    const report = parseReport(read.bytes, read.fileName);
    meter.done();
    return { kind: 'report', report };
  }

  meter.report(ends.read, `decoding ${read.fileName} (${megabytes(read.bytes.byteLength)} MB)`);
  const model = decodeModel(read.bytes, {
    fileName: read.fileName,
    ...(read.externalData ? { externalData: read.externalData } : {}),
  });
  throwIfAborted(signal, read.fileName);
  return {
    kind: 'model',
    model,
    kernels,
    meter,
    from: ends.decode,
    ...(read.externalData ? { externalData: read.externalData } : {}),
  };
}

/** Statistics of a model (or the results JSON itself). */
export async function runPipeline(input: AnalysisInput, options: PipelineOptions = {}): Promise<StatsReport> {
  const loaded = await load(input, options);
  const { signal, session } = options;
  if (loaded.kind === 'report') {
    if (session !== undefined) keepNoWeights(session, loaded.report.file);
    return loaded.report;
  }
  const { model, meter, from } = loaded;
  const statsPart = meter.span(from, 1);
  const report = await computeStats(model, {
    kernels: await loaded.kernels,
    quant: true, // the page's elements show quantization error too; 8 cheap passes per weight
    ...(signal ? { signal } : {}),
    onProgress: (p) => statsPart(p.fraction, p.text),
  });
  throwIfAborted(signal, model.fileName); // a cancelled session keeps nothing
  if (session !== undefined) keepModel(session, model);
  meter.done();
  return report;
}

/** Cross Layer Equalization of a model: the report and the equalized model's bytes. */
export async function runCle(
  input: AnalysisInput,
  cle: CleOptions,
  options: PipelineOptions = {},
): Promise<CleOutcome> {
  const loaded = await load(input, options);
  if (loaded.kind === 'report') throw needsModel(loaded.report.file, 'CLE');
  const { model, meter, from, externalData } = loaded;
  const part = meter.span(from, 1);
  const kernels = await loaded.kernels;
  const outcome = await exportedFor(input, (exporting) =>
    equalizeModel(model, {
      ...cle,
      ...exporting,
      kernels,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(externalData ? { externalData } : {}),
      onProgress: (p) => part(p.fraction, p.text),
    }),
  );
  meter.done();
  return outcome;
}

/**
 * Runs an export (CLE, quantization) as a page saves it. From the user's Files, the new model takes every
 * external tensor along in its own data file, whose copied ranges are then slices of those Files (no byte
 * read here): one model and one data file to save anywhere. From a URL it keeps pointing at the input's data
 * files for the tensors it did not change. Large new weights wait in the origin's private file system (or
 * Blobs); a failed or cancelled run's are released.
 */
async function exportedFor<T extends { dataFiles: Map<string, DataPart[]> }>(
  input: AnalysisInput,
  run: (exporting: { relocateExternal?: true; spill: Spill }) => Promise<T>,
): Promise<T & { spillFolder?: string }> {
  const files = input.kind === 'files' ? externalFiles(input.files) : undefined;
  const spill = browserSpill();
  try {
    const outcome = await run({ ...(files ? { relocateExternal: true as const } : {}), spill: spill.spill });
    return {
      ...outcome,
      ...(files ? { dataFiles: copiedRangesAsSlices(outcome.dataFiles, files) } : {}),
      ...(spill.folder ? { spillFolder: spill.folder } : {}),
    };
  } catch (e) {
    await spill.release(); // a failed or cancelled run's weights are no one's
    throw e;
  }
}

/** What a 'plan' job asks: the budget, and the statistics the page already has (not measured again). */
export interface PlanJobOptions {
  budget: Budget;
  blocks?: readonly number[];
  stats?: StatsReport;
}

/** What a 'quantize' job asks: the plan (methods in its schemes), and whether to correct biases. */
export interface QuantizeJobOptions {
  plan: QuantPlan;
  biasCorrection?: boolean;
}

/** The data-free planner's answer: the plan, its report (front, chosen, uniform), each layer's candidates. */
export interface PlanOutcome {
  plan: QuantPlan;
  report: PlanReport;
  layers: PlannedLayer[];
}

/** A quantized model as a browser job returns it: with the OPFS folder its spilled codes wait in. */
export interface QuantizedOutcome extends QuantizeOutcome {
  spillFolder?: string;
}

/** The data-free planner on a model (quant/planner.ts) for a budget. */
export async function runPlan(
  input: AnalysisInput,
  job: PlanJobOptions,
  options: PipelineOptions = {},
): Promise<PlanOutcome> {
  const loaded = await load(input, options);
  if (loaded.kind === 'report') throw needsModel(loaded.report.file, 'planning');
  const { model, meter, from } = loaded;
  const part = meter.span(from, 1);
  const planned = await planQuantization(model, {
    budget: job.budget,
    kernels: await loaded.kernels,
    ...(job.blocks ? { blocks: job.blocks } : {}),
    ...(job.stats ? { stats: job.stats } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => part(p.fraction, p.text),
  });
  throwIfAborted(options.signal, model.fileName);
  meter.done();
  return planned;
}

/** Weight-only quantization of a model by `job.plan` into a QDQ model: the report and the model's bytes. */
export async function runQuantize(
  input: AnalysisInput,
  job: QuantizeJobOptions,
  options: PipelineOptions = {},
): Promise<QuantizedOutcome> {
  const loaded = await load(input, options);
  if (loaded.kind === 'report') throw needsModel(loaded.report.file, 'quantization');
  const { model, meter, from } = loaded;
  const part = meter.span(from, 1);
  const kernels = await loaded.kernels;
  const outcome = await exportedFor(input, async (exporting) => {
    const quantized = await quantizeModel(model, {
      plan: job.plan,
      ...(job.biasCorrection ? { biasCorrection: true } : {}),
      ...exporting,
      kernels,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) => part(p.fraction, p.text),
    });
    throwIfAborted(options.signal, model.fileName);
    return quantized;
  });
  meter.done();
  return outcome;
}

/**
 * Two versions of a model compared weight by weight (diffModels): both read and decoded (the first 30 % and
 * the next 30 % of the progress), then compared; cancelled at any step by `signal`.
 */
export async function runDiff(
  before: AnalysisInput,
  after: AnalysisInput,
  options: PipelineOptions = {},
): Promise<DiffReport> {
  const { signal } = options;
  const meter = new ProgressMeter(options.onProgress ?? (() => {}));
  const loadSide = async (input: AnalysisInput, from: number, to: number) => {
    const part = meter.span(from, to);
    const loaded = await load(input, { ...(signal ? { signal } : {}), onProgress: (p) => part(p.fraction, p.text) });
    if (loaded.kind === 'report') throw needsModel(loaded.report.file, 'comparing');
    part(1, `decoded ${loaded.model.fileName}`);
    return loaded;
  };
  const a = await loadSide(before, 0, 0.3);
  const b = await loadSide(after, 0.3, 0.6);
  const part = meter.span(0.6, 1);
  const report = await diffModels(a.model, b.model, {
    kernels: await a.kernels,
    ...(signal ? { signal } : {}),
    onProgress: (p) => part(p.fraction, p.text),
  });
  throwIfAborted(signal, a.model.fileName);
  meter.done('compared');
  return report;
}

/** What a 'compress' job asks: the error the best choices are taken within, and the page's statistics (INT8/INT4 references, not measured again). */
export interface CompressJobOptions {
  error?: number;
  stats?: StatsReport;
}

/** Compressibility of a model (compressibility()): each layer's curves and best choice within `job.error`. */
export async function runCompress(
  input: AnalysisInput,
  job: CompressJobOptions,
  options: PipelineOptions = {},
): Promise<CompressReport> {
  const loaded = await load(input, options);
  if (loaded.kind === 'report') throw needsModel(loaded.report.file, 'compressibility');
  const { model, meter, from } = loaded;
  const part = meter.span(from, 1);
  const report = await compressibility(model, {
    kernels: await loaded.kernels,
    ...(job.error === undefined ? {} : { error: job.error }),
    ...(job.stats ? { stats: job.stats } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p) => part(p.fraction, p.text),
  });
  throwIfAborted(options.signal, model.fileName);
  meter.done();
  return report;
}

const needsModel = (file: string, what: string) =>
  new WeightlensError('USAGE', `${file}: ${what} needs the ONNX model itself, not its results JSON`, { file });

const isModelFile = (f: File) => /\.onnx$/i.test(f.name);

/** The model file among the given ones: the one .onnx file, else the first file. */
function modelFile(files: readonly File[]): File | undefined {
  const models = files.filter(isModelFile);
  if (models.length > 1) {
    const names = models.map((f) => f.name);
    throw new WeightlensError(
      'USAGE',
      `${models.length} .onnx files were given (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}): open one model with its external-data files`,
    );
  }
  return models[0] ?? files[0];
}

/** The files given beside the model: where its external data is looked up. */
const externalFiles = (files: readonly File[]) => files.filter((f) => f !== modelFile(files));

function sourceOf(input: AnalysisInput): { source: ModelSource; open: Pick<OpenOptions, 'fileName' | 'externalData'> } {
  switch (input.kind) {
    case 'url':
      return { source: input.url, open: {} };
    case 'bytes':
      return { source: new Uint8Array(input.bytes), open: { fileName: input.name } };
    case 'files': {
      const model = modelFile(input.files);
      if (!model) throw new WeightlensError('USAGE', 'no file was given to analyse');
      return { source: model, open: { fileName: model.name, externalData: filesSource(externalFiles(input.files)) } };
    }
    default:
      throw new WeightlensError('USAGE', `unknown model input kind "${(input as { kind?: string }).kind}"`);
  }
}
