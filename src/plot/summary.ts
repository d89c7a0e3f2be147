// The summary of a layer's relative ranges (AIMET prints the same figures): mean, std, min, quartiles, max.
import { quantile, tukeyFence } from '../analysis/relative-range.js';
import type { LayerReport } from '../report/stats-report.js';

export interface Summary {
  count: number;
  mean: number;
  /** Population standard deviation (ddof = 0). */
  std: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Summary of the finite values; null when there is none. Quartiles interpolate linearly (numpy). */
export function summarize(values: readonly (number | null)[]): Summary | null {
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  let total = 0;
  for (const v of sorted) total += v;
  const mean = total / n;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  return {
    count: n,
    mean,
    std: Math.sqrt(squares / n),
    min: sorted[0]!,
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: sorted[n - 1]!,
  };
}

export interface SummaryRow {
  label: string;
  value: number;
}

/** The rows of the relative-range summary table, in AIMET's order, plus the fence and outlier count. */
export function relativeRangeSummary(layer: LayerReport): SummaryRow[] {
  const s = summarize(layer.relativeRange);
  if (!s) return [];
  const fence = tukeyFence(layer.relativeRange)!;
  return [
    { label: 'channels', value: s.count },
    { label: 'mean', value: s.mean },
    { label: 'std', value: s.std },
    { label: 'min', value: s.min },
    { label: 'Q1 (25%)', value: s.q1 },
    { label: 'median', value: s.median },
    { label: 'Q3 (75%)', value: s.q3 },
    { label: 'max', value: s.max },
    { label: 'Tukey fence (Q3 + 1.5·IQR)', value: fence.upper },
    { label: 'outlier channels', value: layer.outliers.length },
  ];
}
