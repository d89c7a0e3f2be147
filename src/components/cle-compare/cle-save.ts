// <cle-compare>'s "Save to folder…": picks a folder, writes the equalized files into it (save-to-folder.ts)
// with progress and cancel, and remembers how the last save of the shown outcome ended.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WeightlensError, asWeightlensError } from '../../errors.js';
import type { CleOutcome } from '../../report/cle-report.js';
import { equalizedFiles } from './cle-download.js';
import { directoryPicker, saveToFolder } from './save-to-folder.js';

export type SaveState =
  | { kind: 'saving'; written: number; total: number }
  | { kind: 'saved'; folder: string; names: string[] }
  | { kind: 'error'; error: WeightlensError };

export class FolderSave implements ReactiveController {
  private last: { outcome: CleOutcome; state: SaveState } | undefined;
  private running: AbortController | undefined;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  /** How saving `outcome` stands: undefined when it was never saved (or a newer outcome replaced it). */
  stateOf(outcome: CleOutcome): SaveState | undefined {
    return this.last?.outcome === outcome ? this.last.state : undefined;
  }

  /**
   * Asks for a folder and saves `outcome`'s files there. Resolves when done, refused, failed or cancelled
   * (the state says which); a dismissed picker changes nothing.
   */
  async save(outcome: CleOutcome): Promise<void> {
    const pick = directoryPicker();
    if (!pick || this.running) return;
    let folder: FileSystemDirectoryHandle;
    try {
      folder = await pick({ id: 'weightlens-cle', mode: 'readwrite' });
    } catch (e) {
      if ((e as DOMException).name === 'AbortError') return; // the user closed the picker
      const why = `no folder to save into: ${(e as Error).message}`;
      return this.fail(outcome, new WeightlensError('IO', why, { file: outcome.report.file, cause: e }));
    }
    const running = (this.running = new AbortController());
    try {
      const files = equalizedFiles(outcome);
      this.set(outcome, { kind: 'saving', written: 0, total: files.reduce((n, f) => n + f.blob.size, 0) });
      await saveToFolder(folder, files, {
        signal: running.signal,
        onProgress: (written, total) => this.set(outcome, { kind: 'saving', written, total }),
      });
      this.set(outcome, { kind: 'saved', folder: folder.name, names: files.map((f) => f.name) });
    } catch (e) {
      this.fail(outcome, e);
    } finally {
      this.running = undefined;
    }
  }

  /** Shows why saving `outcome` another way (as downloads) failed. */
  fail(outcome: CleOutcome, e: unknown): void {
    this.set(outcome, { kind: 'error', error: asWeightlensError(e, outcome.report.file) });
  }

  /** Stops a save under way; the files it created are removed. */
  cancel(): void {
    this.running?.abort();
  }

  hostDisconnected(): void {
    this.cancel();
  }

  private set(outcome: CleOutcome, state: SaveState): void {
    this.last = { outcome, state };
    this.host.requestUpdate();
  }
}
