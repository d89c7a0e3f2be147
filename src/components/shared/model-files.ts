// A model an element computed (equalized, quantized) as the files it is saved as, saving them as the
// browser's downloads, and the row that offers saving (into a folder where the browser can): one way for
// every element that hands back a model.
import { html, nothing, type TemplateResult } from 'lit';
import { WeightlensError } from '../../errors.js';
import { dataFileLength, isCopiedRange, type DataPart } from '../../onnx/export/data-file.js';
import { megabytes } from '../../text/megabytes.js';
import { errorAlert } from './status.js';
import type { SaveState } from './folder-save.js';

/** A file the download button saves. */
export interface SavedFile {
  name: string;
  blob: Blob;
}

/** A model written by the kit in the page: its bytes, its new external-data files, every location it reads. */
export interface ExportedModel {
  bytes: Uint8Array;
  dataFiles: Map<string, DataPart[]>;
  dataLocations: string[];
  /** In a browser, the OPFS folder holding spilled parts of `dataFiles` (pipeline/spill-folders.ts). */
  spillFolder?: string;
}

/** `model.onnx` -> `model.<suffix>.onnx` (the last path segment of `file`, `.onnx` dropped if present). */
export function exportedFileName(file: string, suffix: string): string {
  const base = file.split(/[?#]/)[0]!.split(/[\\/]/).pop() || 'model';
  return `${base.replace(/\.onnx$/i, '')}.${suffix}.onnx`;
}

/**
 * The model and its new external-data files (named by their location), as they are saved. Each data file
 * is one Blob composed of its parts (new bytes, spilled Blobs, slices of the user's Files): it is never
 * assembled in this page's memory. `file` names the input in errors; `what` says what the model is
 * ("equalized", "quantized").
 */
export function modelFiles(exported: ExportedModel, name: string, file: string, what: string): SavedFile[] {
  const type = 'application/octet-stream';
  return [
    { name, blob: new Blob([exported.bytes as Uint8Array<ArrayBuffer>], { type }) },
    ...[...exported.dataFiles].map(([location, parts]) => ({
      name: location,
      blob: new Blob(
        parts.map((p) => {
          // The pipeline turns the ranges it copies from the user's Files into slices of them; a range left
          // here came from files this page cannot read.
          if (isCopiedRange(p)) {
            throw new WeightlensError(
              'USAGE',
              `${file}: the ${what} data file "${location}" copies bytes of "${p.location}", which this page cannot read: open the model from its files`,
              { file },
            );
          }
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

  save(files: readonly SavedFile[]): void {
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

/** What the download row can do: save to a folder (where the browser can), download, cancel a save. */
export interface DownloadActions {
  /** The browser has File System Access: save into a picked folder, else through downloads. */
  canSave: boolean;
  save: SaveState | undefined;
  onSave(): void;
  onCancel(): void;
  onDownload(): void;
}

/**
 * The save (or download) button for the model file `name`, what it saves and how, and how the last save
 * went. `what` says what the model is ("equalized", "quantized").
 */
export function renderModelSave(
  exported: ExportedModel,
  name: string,
  what: string,
  actions: DownloadActions,
): TemplateResult {
  const data = [...exported.dataFiles.keys()];
  const size = exported.bytes.byteLength + data.reduce((n, k) => n + dataFileLength(exported.dataFiles.get(k)!), 0);
  const { save } = actions;
  const button = actions.canSave
    ? html`<button part="save" type="button" class="primary" ?disabled=${save?.kind === 'saving'} @click=${actions.onSave}>
        Save ${name} to a folder…
      </button>`
    : html`<button part="download" type="button" class="primary" @click=${actions.onDownload}>Download ${name}</button>`;
  return html`<div class="download-row">
      ${button}
      <span part="download-note" class="download-note muted">${megabytes(size)} MB${data.length ? ` with ${data.join(', ')}` : ''}. ${
        actions.canSave
          ? `Saved into a folder you choose, where no file is ever overwritten.`
          : `Your browser saves through downloads: the ${data.length ? 'files arrive one by one' : 'file arrives'} in your downloads folder${
              data.length ? '. Keep them together and keep their names (the model finds its data by name)' : ''
            }.`
      }${keptNote(exported, what)}</span>
    </div>
    ${save ? renderSave(save, what, actions.onCancel) : nothing}`;
}

/** The input's data files the model still reads (a model opened by URL is not relocated). */
function keptNote(exported: ExportedModel, what: string): string {
  const kept = exported.dataLocations.filter((l) => !exported.dataFiles.has(l));
  if (!kept.length) return '';
  return ` The ${what} model still reads its unchanged tensors from the original data ${kept.length === 1 ? 'file' : 'files'} (${kept.join(', ')}): put it in the folder that holds ${kept.length === 1 ? 'that file' : 'them'}.`;
}

function renderSave(save: SaveState, what: string, cancel: () => void): TemplateResult {
  switch (save.kind) {
    case 'saving': {
      const percent = save.total ? Math.floor((save.written / save.total) * 100) : 0;
      return html`<div part="save-status" class="status" role="status">
        <progress part="save-progress" max="100" value=${percent} aria-label="Saving the ${what} model">${percent}%</progress>
        <span>Saving… ${megabytes(save.written)} of ${megabytes(save.total)} MB</span>
        <button part="save-cancel" type="button" @click=${cancel}>Cancel</button>
      </div>`;
    }
    case 'saved':
      return html`<div part="save-status" class="status" role="status">Saved ${save.names.join(' and ')} in the folder "${save.folder}".</div>`;
    case 'error':
      return errorAlert(save.error.message, 'save-status error');
  }
}
