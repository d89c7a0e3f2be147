// Where the page meets the analysis Worker: the handles elements create analyse there and keep their
// weights there, <cle-compare> equalizes there, <quant-plan> plans and quantizes there and <model-compare> compares there, <compressibility-plot> measures compressibility there, unless a test or an app passes its own analyzer.
import type { Analyzer } from '../pipeline/analyzer.js';
import { analyzeInWorker, workerWeights } from '../worker/client.js';
import { ModelHandle } from './model-handle.js';

export { compressInWorker, diffInWorker, equalizeInWorker, planInWorker, quantizeInWorker } from '../worker/client.js';

/** A handle analysing with `analyzer` (default: in the page's Worker), reading weights where they were kept. */
export function workerModelHandle(analyzer: Analyzer = analyzeInWorker): ModelHandle {
  return new ModelHandle(analyzer, workerWeights);
}
