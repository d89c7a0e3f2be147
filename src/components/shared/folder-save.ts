// "Save to a folder…" of an element that hands back a model: picks a folder, writes the model's files into
// it (save-to-folder.ts) with progress and cancel, and remembers how the last save of the shown result ended.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WeightlensError, asWeightlensError } from '../../errors.js';
import type { DownloadActions, SavedFile } from './model-files.js';
import { directoryPicker, saveToFolder } from './save-to-folder.js';

export type SaveState =
  | { kind: 'saving'; written: number; total: number }
  | { kind: 'saved'; folder: string; names: string[] }
  | { kind: 'error'; error: WeightlensError };

export interface FolderSaveOptions<T> {
  /** The files a result is saved as. */
  files: (result: T) => SavedFile[];
  /** The input's file, named in errors. */
  file: (result: T) => string;
  /** The picker's id: the browser remembers the last folder per id. */
  pickerId: string;
}

export class FolderSave<T extends object> implements ReactiveController {
  private last: { result: T; state: SaveState } | undefined;
  private running: AbortController | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: FolderSaveOptions<T>,
  ) {
    host.addController(this);
  }

  /**
   * The save row's actions for `result` (model-files.ts renderModelSave): save into a picked folder where the
   * browser can, cancel that, or `download` (whose failure shows as the save's).
   */
  actionsFor(result: T, download: () => unknown): DownloadActions {
    return {
      canSave: directoryPicker() !== undefined,
      save: this.stateOf(result),
      onSave: () => void this.save(result),
      onCancel: () => this.cancel(),
      onDownload: () => {
        try {
          download();
        } catch (e) {
          this.fail(result, e);
        }
      },
    };
  }

  /** How saving `result` stands: undefined when it was never saved (or a newer result replaced it). */
  stateOf(result: T): SaveState | undefined {
    return this.last?.result === result ? this.last.state : undefined;
  }

  /**
   * Asks for a folder and saves `result`'s files there. Resolves when done, refused, failed or cancelled
   * (the state says which); a dismissed picker changes nothing.
   */
  async save(result: T): Promise<void> {
    const pick = directoryPicker();
    if (!pick || this.running) return;
    let folder: FileSystemDirectoryHandle;
    try {
      folder = await pick({ id: this.options.pickerId, mode: 'readwrite' });
    } catch (e) {
      if ((e as DOMException).name === 'AbortError') return; // the user closed the picker
      const why = `no folder to save into: ${(e as Error).message}`;
      return this.fail(result, new WeightlensError('IO', why, { file: this.options.file(result), cause: e }));
    }
    const running = (this.running = new AbortController());
    try {
      const files = this.options.files(result);
      this.set(result, { kind: 'saving', written: 0, total: files.reduce((n, f) => n + f.blob.size, 0) });
      await saveToFolder(folder, files, {
        signal: running.signal,
        onProgress: (written, total) => this.set(result, { kind: 'saving', written, total }),
      });
      this.set(result, { kind: 'saved', folder: folder.name, names: files.map((f) => f.name) });
    } catch (e) {
      this.fail(result, e);
    } finally {
      this.running = undefined;
    }
  }

  /** Shows why saving `result` another way (as downloads) failed. */
  fail(result: T, e: unknown): void {
    this.set(result, { kind: 'error', error: asWeightlensError(e, this.options.file(result)) });
  }

  /** Stops a save under way; the files it created are removed. */
  cancel(): void {
    this.running?.abort();
  }

  hostDisconnected(): void {
    this.cancel();
  }

  private set(result: T, state: SaveState): void {
    this.last = { result, state };
    this.host.requestUpdate();
  }
}
