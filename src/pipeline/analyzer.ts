// What computes reports for the page, as the page-side handle (src/binding/model-handle.ts) needs it: the
// Worker (src/worker/client.ts) provides both, tests provide stand-ins.
import type { Progress } from '../progress.js';
import type { StatsReport } from '../report/stats-report.js';
import type { HistogramRequest, LayerHistogram } from '../report/weight-histogram.js';
import type { AnalysisInput } from './model-input.js';

/**
 * Computes a report for an input. Given a `session`, it keeps the decoded model for ModelWeights until
 * that session is released.
 */
export type Analyzer = (
  input: AnalysisInput,
  options: { signal: AbortSignal; onProgress: (p: Progress) => void; session?: number },
) => Promise<StatsReport>;

/** Reads the weights of models an Analyzer kept. */
export interface ModelWeights {
  histogram(session: number, request: HistogramRequest, signal: AbortSignal): Promise<LayerHistogram>;
  release(session: number): void;
}
