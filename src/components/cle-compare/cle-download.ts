// <cle-compare>'s download: the equalized model and its new external-data files as files to save
// (shared/model-files.ts), and the row that offers saving them.
import { html, type TemplateResult } from 'lit';
import type { CleOutcome, CleReport } from '../../report/cle-report.js';
import {
  exportedFileName,
  modelFiles,
  renderModelSave,
  type DownloadActions,
  type SavedFile,
} from '../shared/model-files.js';

/** A file the download button saves. */
export type EqualizedFile = SavedFile;

/** `model.onnx` -> `model.cle.onnx` (the last path segment of `file`, `.onnx` dropped if present). */
export const equalizedFileName = (file: string): string => exportedFileName(file, 'cle');

/**
 * The equalized model and its new external-data files (named by their location), as they are saved. Each
 * data file is one Blob composed of its parts (new bytes, spilled Blobs, slices of the user's Files): it is
 * never assembled in this page's memory.
 */
export const equalizedFiles = (outcome: CleOutcome): EqualizedFile[] =>
  modelFiles(outcome, equalizedFileName(outcome.report.file), outcome.report.file, 'equalized');

/** The save (or download) button, what it saves and how, and how the last save went; for results without the model, why there is none. */
export function renderDownload(
  report: CleReport,
  /** The outcome and its save row's actions; undefined for results JSON. */
  saved: { outcome: CleOutcome; actions: DownloadActions } | undefined,
): TemplateResult {
  if (!saved)
    return html`<p part="download-note" class="download-note muted">Results only: no equalized model to download.</p>`;
  return renderModelSave(saved.outcome, equalizedFileName(report.file), 'equalized', saved.actions);
}
