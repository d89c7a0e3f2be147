// What can be analysed: a model by URL, files or bytes, or results made earlier, and the file it names.
import type { StatsReport } from '../report/stats-report.js';

export type ModelInput =
  /** An .onnx file or a results JSON (`weightlens stats --json`), told apart by content. */
  | { kind: 'url'; url: string }
  /** The model file plus any external-data files, e.g. from a file input or a drop. */
  | { kind: 'files'; files: File[] }
  | { kind: 'bytes'; bytes: ArrayBuffer; name: string }
  /** Results made earlier: nothing to compute. */
  | { kind: 'report'; report: StatsReport };

/** The file an input is, as messages name it: the .onnx among files, the URL's last segment. */
export function modelInputName(input: ModelInput): string {
  if (input.kind === 'bytes') return input.name;
  if (input.kind === 'report') return input.report.file;
  if (input.kind === 'files')
    return (input.files.find((f) => /\.onnx$/i.test(f.name)) ?? input.files[0])?.name ?? 'the model';
  const last = input.url.split(/[?#]/)[0]!.split('/').pop() || '';
  try {
    return decodeURIComponent(last) || input.url;
  } catch {
    return last; // a stray '%' in the URL
  }
}

/** What the pipeline analyses: every ModelInput except ready-made results. */
export type AnalysisInput = Exclude<ModelInput, { kind: 'report' }>;
