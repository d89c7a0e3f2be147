// <cle-compare>'s download: the equalized model and its new external-data files as files to save, and
// saving them from the page.
import { html, nothing, type TemplateResult } from 'lit';
import { dataFileLength, isCopiedRange } from '../../onnx/export/data-file.js';
import type { CleOutcome, CleReport } from '../../report/cle-report.js';
import { plural } from '../../text/plural.js';
import { megabytes } from '../../text/megabytes.js';

/** A file the download button saves. */
export interface EqualizedFile {
  name: string;
  blob: Blob;
}

/** `model.onnx` -> `model.cle.onnx` (the last path segment of `file`, `.onnx` dropped if present). */
export function equalizedFileName(file: string): string {
  const base = file.split(/[?#]/)[0]!.split(/[\\/]/).pop() || 'model';
  return `${base.replace(/\.onnx$/i, '')}.cle.onnx`;
}

/** The equalized model and its new external-data files (named by their location), as the download saves them. */
export function equalizedFiles(outcome: CleOutcome): EqualizedFile[] {
  const type = 'application/octet-stream';
  return [
    {
      name: equalizedFileName(outcome.report.file),
      blob: new Blob([outcome.bytes as Uint8Array<ArrayBuffer>], { type }),
    },
    ...[...outcome.dataFiles].map(([location, parts]) => ({
      name: location,
      // The page's CLE never copies the input's data through (relocateExternal): its parts are new bytes.
      blob: new Blob(
        parts.map((p) => {
          if (isCopiedRange(p)) throw new Error(`the page's CLE copied "${p.location}" through`);
          return p as Uint8Array<ArrayBuffer> | Blob;
        }),
        { type },
      ),
    })),
  ];
}

/** Saves files as the browser's downloads, keeping each object URL until the browser has read it. */
export class FileDownloads {
  private urls: string[] = [];

  save(files: readonly EqualizedFile[]): void {
    for (const file of files) {
      const url = URL.createObjectURL(file.blob);
      this.urls.push(url);
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      a.rel = 'noopener';
      a.click();
      // Revoked later, not at once: the browser reads the blob after click() returns.
      setTimeout(() => this.revoke(url), 60_000);
    }
  }

  /** Lets go of every URL still held (the element left the page). */
  revokeAll(): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }

  private revoke(url: string): void {
    URL.revokeObjectURL(url);
    this.urls = this.urls.filter((u) => u !== url);
  }
}

/** The download button and what it saves; for results without the model, why there is none. */
export function renderDownload(
  report: CleReport,
  outcome: CleOutcome | undefined,
  download: () => void,
): TemplateResult {
  if (!outcome)
    return html`<p part="download-note" class="download-note muted">Results only: no equalized model to download.</p>`;
  const data = [...outcome.dataFiles.keys()];
  const size = outcome.bytes.byteLength + data.reduce((n, k) => n + dataFileLength(outcome.dataFiles.get(k)!), 0);
  return html`<div class="download-row">
    <button part="download" type="button" class="primary" @click=${download}>Download ${equalizedFileName(report.file)}</button>
    <span part="download-note" class="download-note muted">${megabytes(size)} MB${
      data.length
        ? html` — also downloads ${plural(data.length, 'external-data file')} (${data.join(', ')}): keep ${data.length === 1 ? 'it' : 'them'} beside the model`
        : nothing
    }</span>
  </div>`;
}
