// The messages between the page (src/worker/client.ts) and the analysis Worker (worker-main.ts).
// Everything here survives structured cloning; model bytes are transferred, never copied.
import { WeightlensError, asWeightlensError, type WeightlensErrorCode } from '../errors.js';
import type { AnalysisInput } from '../pipeline/model-input.js';
import type { Progress } from '../progress.js';
import type { StatsReport } from '../report/stats-report.js';
import type { CleOptions, CleOutcome } from '../report/cle-report.js';
import type { HistogramRequest, LayerHistogram } from '../report/weight-histogram.js';
import type { DiffReport } from '../report/diff-report.js';
import type { CompressReport } from '../report/compress-report.js';
import type {
  CompressJobOptions,
  PlanJobOptions,
  PlanOutcome,
  QuantizedOutcome,
  QuantizeJobOptions,
} from '../pipeline/analyze.js';

export type WorkerRequest =
  /** `url` input must be absolute: the Worker's base URL is a blob: URL. */
  /** With `session`, the Worker keeps the decoded model for 'histogram' jobs until 'release'. */
  | { type: 'analyze'; id: number; input: AnalysisInput; session?: number }
  | { type: 'equalize'; id: number; input: AnalysisInput; options: CleOptions }
  /** The data-free planner for a budget (with the page's statistics, not measured again). */
  | { type: 'plan'; id: number; input: AnalysisInput; options: PlanJobOptions }
  /** Weight-only quantization by a plan into a QDQ model. */
  | { type: 'quantize'; id: number; input: AnalysisInput; job: QuantizeJobOptions }
  /** Two models compared weight by weight (diffModels); both inputs' bytes are transferred. */
  | { type: 'diff'; id: number; input: AnalysisInput; after: AnalysisInput }
  /** Compressibility (compressibility()), with the page's statistics for the INT8/INT4 references. */
  | { type: 'compress'; id: number; input: AnalysisInput; options: CompressJobOptions }
  | { type: 'histogram'; id: number; session: number; request: HistogramRequest }
  | { type: 'release'; session: number }
  | { type: 'cancel'; id: number };

export interface SerializedError {
  /** INTERNAL for anything that was not a WeightlensError (a bug, an engine failure). */
  code: WeightlensErrorCode;
  message: string;
  file?: string;
  tensor?: string;
  field?: string;
}

export type WorkerReply =
  /** Sent once when the Worker's module has loaded: until then a job's bytes are not transferred. */
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; report: StatsReport }
  /** The equalized model's buffer is transferred, not copied. */
  | { type: 'equalized'; id: number; outcome: CleOutcome }
  | { type: 'planned'; id: number; outcome: PlanOutcome }
  /** The quantized model's buffer is transferred, not copied. */
  | { type: 'quantized'; id: number; outcome: QuantizedOutcome }
  | { type: 'histogram'; id: number; histogram: LayerHistogram }
  | { type: 'diffed'; id: number; report: DiffReport }
  | { type: 'compressed'; id: number; report: CompressReport }
  | ({ type: 'error'; id: number } & SerializedError);

/** `file` names the job's model in an INTERNAL error (a bug knows nothing of the file it was reading). */
export function serializeError(e: unknown, file: string | undefined): SerializedError {
  const { code, message, file: named, tensor, field } = asWeightlensError(e, file);
  return {
    code,
    message,
    ...(named === undefined ? {} : { file: named }),
    ...(tensor === undefined ? {} : { tensor }),
    ...(field === undefined ? {} : { field }),
  };
}

/** The page-side twin of a Worker's error: a WeightlensError with the same fields. */
export function deserializeError(s: SerializedError): WeightlensError {
  const { file, tensor, field } = s;
  return new WeightlensError(s.code, s.message, { file, tensor, field });
}
